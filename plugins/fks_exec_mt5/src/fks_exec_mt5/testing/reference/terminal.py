"""``FakeMetaTrader5``: an object with the MetaTrader5 package's module-level API.

Use it where code would ``import MetaTrader5 as mt5``: the same function names and
keyword arguments, the same constants as attributes, results that are non-pickling
struct sequences, ``None`` plus ``last_error()`` on failure
(https://www.mql5.com/en/docs/python_metatrader5). Every call is serialized by one lock,
so a worker thread (or a bridge server) may call it; an injected latency sleeps
outside the lock. Behaviour and sources: docs/plugins/mt5-reference-fake.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from fks_exec_mt5.testing.reference.account import (
    AccountSpec,
    TerminalSpec,
    account_info_record,
    terminal_info_record,
)
from fks_exec_mt5.testing.reference.constants import PACKAGE_VERSION, MetaTrader5Constants
from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.dispatch import check_result, send_result
from fks_exec_mt5.testing.reference.errors import LAST_ERROR_MESSAGES
from fks_exec_mt5.testing.reference.history import (
    history_deals,
    history_orders,
    matches_group,
    order_record,
    position_record,
    select,
)
from fks_exec_mt5.testing.reference.records import Record
from fks_exec_mt5.testing.reference.requests import RequestError, parse_request
from fks_exec_mt5.testing.reference.symbols import SymbolSpec, symbol_info_record, tick_record
from fks_exec_mt5.testing.reference.world import WorldControls

__all__ = ["FakeMetaTrader5"]

T = TypeVar("T")


class FakeMetaTrader5(MetaTrader5Constants, WorldControls):
    """A fake MetaTrader5 module backed by a fake terminal and trade server.

    Build one with :meth:`hedging` or :meth:`netting` (or pass an :class:`AccountSpec`),
    call ``initialize()`` like with the real package, then trade through
    ``order_send``. Test-side controls (ticks, time, other programs, faults) come from
    :class:`~.world.WorldControls`.
    """

    __version__ = PACKAGE_VERSION
    __author__ = "MetaQuotes Ltd."

    def __init__(
        self,
        account: AccountSpec | None = None,
        terminal: TerminalSpec | None = None,
        symbols: list[SymbolSpec] | tuple[SymbolSpec, ...] | None = None,
        *,
        server_utc_offset: timedelta = timedelta(hours=2),
        start_utc: datetime | None = None,
        reconnect_requires_initialize: bool = True,
        truncate_long_comments: bool = False,
    ) -> None:
        """A terminal logged in to ``account`` (default: a hedging demo account)."""
        super().__init__(
            account=account or AccountSpec(),
            terminal=terminal or TerminalSpec(),
            symbols=symbols,
            server_utc_offset=server_utc_offset,
            start_utc=start_utc,
            reconnect_requires_initialize=reconnect_requires_initialize,
            truncate_long_comments=truncate_long_comments,
        )

    @classmethod
    def hedging(cls, *, fifo_close: bool = False, **options: Any) -> FakeMetaTrader5:
        """A terminal on a retail hedging account (positions per ticket)."""
        account = AccountSpec(
            margin_mode=C.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
            fifo_close=fifo_close,
            **options.pop("account_options", {}),
        )
        return cls(account, **options)

    @classmethod
    def netting(cls, **options: Any) -> FakeMetaTrader5:
        """A terminal on a retail netting account (one position per symbol)."""
        account = AccountSpec(
            margin_mode=C.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
            **options.pop("account_options", {}),
        )
        return cls(account, **options)

    # -- connection --------------------------------------------------------------------

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool:
        """Attach to the terminal (and log in if ``login`` is given)."""
        self._faults.delay()
        with self._lock:
            if self._faults.disconnected:
                return self._fail(False, C.RES_E_INTERNAL_FAIL_INIT)
            if login is not None and not self._credentials_ok(login, password, server):
                return self._fail(False, C.RES_E_AUTH_FAILED)
            self._initialized = True
            return self._ok(True)

    def login(
        self,
        login: int,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        """Log in to the account (the fake knows one account)."""
        return bool(
            self._call(
                "login",
                lambda: True if self._credentials_ok(login, password, server) else None,
                failure=C.RES_E_AUTH_FAILED,
            )
        )

    def shutdown(self) -> None:
        """Detach from the terminal; later calls fail with -10004 until ``initialize``."""
        with self._lock:
            self._initialized = False
            self._last_error = (C.RES_S_OK, LAST_ERROR_MESSAGES[C.RES_S_OK])

    def last_error(self) -> tuple[int, str]:
        """``(code, message)`` of the last call."""
        with self._lock:
            return self._last_error

    def version(self) -> tuple[int, int, str] | None:
        """``(500, build, release date)`` of the terminal."""
        return self._call("version", lambda: (500, self._server.terminal.build, "12 Sep 2026"))

    # -- account, terminal, symbols ---------------------------------------------------------

    def account_info(self) -> Record | None:
        """The ``AccountInfo`` of the logged-in account."""
        server = self._server
        return self._call(
            "account_info",
            lambda: account_info_record(
                server.account, server.balance, server.floating_profit(), server.used_margin()
            ),
        )

    def terminal_info(self) -> Record | None:
        """The ``TerminalInfo``: trade_allowed, tradeapi_disabled, connected..."""
        return self._call(
            "terminal_info", lambda: terminal_info_record(self._server.terminal, True)
        )

    def symbols_total(self) -> int | None:
        """How many symbols the server offers."""
        return self._call("symbols_total", lambda: len(self._server.specs))

    def symbols_get(self, group: str | None = None) -> tuple[Record, ...] | None:
        """``SymbolInfo`` of all symbols, or of those matching ``group``."""

        def run() -> tuple[Record, ...]:
            names = [n for n in self._server.specs if group is None or matches_group(n, group)]
            return tuple(self._symbol_record(name) for name in sorted(names))

        return self._call("symbols_get", run)

    def symbol_info(self, symbol: str) -> Record | None:
        """The ``SymbolInfo`` of ``symbol``; None and -4 if unknown (**inferred** code)."""
        return self._call(
            "symbol_info",
            lambda: self._symbol_record(symbol) if symbol in self._server.specs else None,
            failure=C.RES_E_NOT_FOUND,
        )

    def symbol_info_tick(self, symbol: str) -> Record | None:
        """The last ``Tick`` of a selected symbol (server time); None if none."""

        def run() -> Record | None:
            quote = self._server.quotes.get(symbol)
            if quote is None or not quote.selected or not quote.has_prices:
                return None
            return tick_record(quote)

        return self._call("symbol_info_tick", run, failure=C.RES_E_NOT_FOUND)

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        """Show or hide ``symbol`` in Market Watch (a hidden symbol gets no quotes)."""

        def run() -> bool | None:
            quote = self._server.quotes.get(symbol)
            if quote is None:
                return None
            quote.selected = enable
            return True

        return bool(self._call("symbol_select", run, failure=C.RES_E_NOT_FOUND))

    # -- active orders and positions ---------------------------------------------------------

    def orders_total(self) -> int | None:
        """Number of active (pending) orders."""
        return self._call("orders_total", lambda: len(self._server.book.orders))

    def orders_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[Record, ...] | None:
        """Active orders, all or by ``symbol``, ``group`` or ``ticket``."""

        def run() -> tuple[Record, ...]:
            orders = self._server.book.orders.values()
            chosen = [
                o
                for o in select(orders, symbol=symbol, group=group)
                if ticket is None or o.ticket == ticket
            ]
            return tuple(order_record(self._server, o) for o in chosen)

        return self._call("orders_get", run)

    def positions_total(self) -> int | None:
        """Number of open positions."""
        return self._call("positions_total", lambda: len(self._server.book.positions))

    def positions_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[Record, ...] | None:
        """Open positions, all or by ``symbol``, ``group`` or ``ticket``."""

        def run() -> tuple[Record, ...]:
            positions = self._server.book.positions.values()
            chosen = [
                p
                for p in select(positions, symbol=symbol, group=group)
                if ticket is None or p.ticket == ticket
            ]
            return tuple(position_record(self._server, p) for p in chosen)

        return self._call("positions_get", run)

    # -- history ---------------------------------------------------------------------------

    def history_orders_total(self, date_from: object, date_to: object) -> int | None:
        """Number of history orders set up within [date_from, date_to] (server time)."""
        found = self.history_orders_get(date_from, date_to)
        return None if found is None else len(found)

    def history_orders_get(
        self,
        date_from: object = None,
        date_to: object = None,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[Record, ...] | None:
        """History orders by window (server time), ``ticket`` or ``position``."""

        return self._call(
            "history_orders_get",
            lambda: history_orders(self._server, date_from, date_to, group, ticket, position),
            failure=C.RES_E_INVALID_PARAMS,
        )

    def history_deals_total(self, date_from: object, date_to: object) -> int | None:
        """Number of deals within [date_from, date_to] (server time)."""
        found = self.history_deals_get(date_from, date_to)
        return None if found is None else len(found)

    def history_deals_get(
        self,
        date_from: object = None,
        date_to: object = None,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[Record, ...] | None:
        """Deals by window (server time), by order ``ticket`` or by ``position``."""

        return self._call(
            "history_deals_get",
            lambda: history_deals(self._server, date_from, date_to, group, ticket, position),
            failure=C.RES_E_INVALID_PARAMS,
        )

    # -- trading ---------------------------------------------------------------------------

    def order_check(self, request: object) -> Record | None:
        """Check ``request`` without sending it: ``OrderCheckResult`` (retcode 0 'Done')."""
        return self._trade("order_check", request)

    def order_send(self, request: object) -> Record | None:
        """Send ``request`` to the trade server: ``OrderSendResult``, or None (last_error)."""
        return self._trade("order_send", request)

    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None:
        """Margin for a buy/sell of ``volume`` at ``price`` (see server.py's model)."""

        def run() -> float | None:
            if symbol not in self._server.specs or action not in (0, 1):
                return None
            margin = self._server.margin_for(symbol, Decimal(repr(volume)), Decimal(repr(price)))
            return float(margin)

        return self._call("order_calc_margin", run, failure=C.RES_E_INVALID_PARAMS)

    # -- internals ---------------------------------------------------------------------------

    def _trade(self, name: str, request: object) -> Record | None:
        self._faults.delay()
        with self._lock:
            if not self._linked() or (name == "order_send" and self._faults.take_refusal()):
                return self._fail(None, C.RES_E_INTERNAL_FAIL_CONNECT)
            scripted = self._faults.take_scripted(name)
            if scripted is not None:
                return self._fail(None, scripted)
            self._run_market(prices_moved=False)
            try:
                parsed = parse_request(
                    request, truncate_long_comments=self._server.truncate_long_comments
                )
            except RequestError as exc:
                return self._fail(None, C.RES_E_INVALID_PARAMS, str(exc))
            if self._server.terminal.tradeapi_disabled:
                return self._fail(None, C.RES_E_AUTO_TRADING_DISABLED)
            if name == "order_check":
                return self._ok(check_result(self._server, parsed))
            loss = self._faults.take_loss()
            if loss == "before":
                return self._fail(None, C.RES_E_INTERNAL_FAIL_TIMEOUT)
            result = send_result(self._server, parsed)
            self._run_market()
            if loss == "after":
                return self._fail(None, C.RES_E_INTERNAL_FAIL_TIMEOUT)
            return self._ok(result)

    def _call(
        self, api: str, run: Callable[[], T | None], *, failure: int = C.RES_E_FAIL
    ) -> T | None:
        self._faults.delay()
        with self._lock:
            if not self._linked():
                return self._fail(None, C.RES_E_INTERNAL_FAIL_CONNECT)
            scripted = self._faults.take_scripted(api)
            if scripted is not None:
                return self._fail(None, scripted)
            self._run_market(prices_moved=False)
            try:
                value = run()
            except RequestError as exc:
                return self._fail(None, C.RES_E_INVALID_PARAMS, str(exc))
            if value is None:
                return self._fail(None, failure)
            return self._ok(value)

    def _linked(self) -> bool:
        return self._initialized and not self._faults.disconnected

    def _ok(self, value: T) -> T:
        self._last_error = (C.RES_S_OK, LAST_ERROR_MESSAGES[C.RES_S_OK])
        return value

    def _fail(self, value: T, code: int, message: str | None = None) -> T:
        self._last_error = (code, message or LAST_ERROR_MESSAGES[code])
        return value

    def _credentials_ok(self, login: int, password: str | None, server: str | None) -> bool:
        account = self._server.account
        return (
            login == account.login
            and (password is None or password == account.password)
            and (server is None or server == account.server)
        )

    def _symbol_record(self, name: str) -> Record:
        quote = self._server.quotes[name]
        return symbol_info_record(self._server.specs[name], quote, quote.time_msc // 1000)
