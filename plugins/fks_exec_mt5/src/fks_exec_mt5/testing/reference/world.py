"""Driving the fake from a test: build the world, move prices and time, inject faults.

These methods are not part of the MetaTrader5 package; they stand for what happens
outside the Python API — the broker's quotes, the clock, other programs and manual
trades on the same account, the Algo Trading button, a lost link to the terminal.
Every method is thread-safe (one lock with the API calls).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fks_exec_mt5.testing.reference.account import AccountSpec, TerminalSpec
from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.execution import execute
from fks_exec_mt5.testing.reference.faults import FaultState
from fks_exec_mt5.testing.reference.rules import PENDING_TYPES
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Deal, Order, ServerClock
from fks_exec_mt5.testing.reference.symbols import Quote, SymbolSpec, default_symbols
from fks_exec_mt5.testing.reference.triggers import run_market

__all__ = ["DEFAULT_QUOTES", "WorldControls"]

PriceLike = Decimal | str | float | int

DEFAULT_QUOTES: Mapping[str, tuple[str, str]] = {
    "EURUSD": ("1.10000", "1.10010"),
    "USDJPY": ("150.000", "150.010"),
    "XAUUSD": ("2400.00", "2400.30"),
    "GER40": ("18000.0", "18001.0"),
}
"""Bid/ask the default symbols start at."""


def _dec(value: PriceLike) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class WorldControls:
    """The test-side controls of :class:`~.terminal.FakeMetaTrader5` (see module doc)."""

    def __init__(
        self,
        *,
        account: AccountSpec,
        terminal: TerminalSpec,
        symbols: Iterable[SymbolSpec] | None,
        server_utc_offset: timedelta,
        start_utc: datetime | None,
        reconnect_requires_initialize: bool,
        truncate_long_comments: bool,
    ) -> None:
        """Set up the server with ``symbols`` (default: :func:`default_symbols`)."""
        self._lock = threading.RLock()
        self._server = TradeServer(
            account=account,
            terminal=terminal,
            clock=ServerClock(server_utc_offset, start_utc),
            balance=account.balance,
            truncate_long_comments=truncate_long_comments,
        )
        self._faults = FaultState()
        self._reconnect_requires_initialize = reconnect_requires_initialize
        self._initialized = False
        self._last_error: tuple[int, str] = (C.RES_S_OK, "Success")
        self._day = self._server.now_msc() // 86_400_000
        self._deposit(account.balance)
        for spec in default_symbols() if symbols is None else symbols:
            bid, ask = DEFAULT_QUOTES.get(spec.name, ("0", "0"))
            self.add_symbol(spec, bid=bid, ask=ask)

    # -- world ---------------------------------------------------------------------

    def add_symbol(
        self, spec: SymbolSpec, *, bid: PriceLike = 0, ask: PriceLike = 0, selected: bool = True
    ) -> None:
        """Offer ``spec`` (replacing one of that name) with a first tick if bid/ask > 0."""
        with self._lock:
            self._server.specs[spec.name] = spec
            self._server.quotes[spec.name] = Quote(selected=selected)
            if _dec(bid) > 0 and _dec(ask) > 0:
                self._set_quote(spec.name, _dec(bid), _dec(ask), None)

    def update_symbol(self, name: str, **changes: Any) -> None:
        """Change fields of a symbol's :class:`SymbolSpec`; raises ``KeyError`` if unknown."""
        from dataclasses import replace

        with self._lock:
            self._server.specs[name] = replace(self._server.specs[name], **changes)

    def set_tick(
        self, symbol: str, bid: PriceLike, ask: PriceLike, last: PriceLike | None = None
    ) -> None:
        """A new tick: prices move, then pending orders, SL/TP and expirations run."""
        bid_d, ask_d = _dec(bid), _dec(ask)
        if bid_d <= 0 or ask_d < bid_d:
            raise ValueError("a tick needs 0 < bid <= ask")
        with self._lock:
            self._set_quote(symbol, bid_d, ask_d, None if last is None else _dec(last))
            self._run_market()

    def set_market_open(self, symbol: str, is_open: bool) -> None:
        """Open or close the symbol's trading session (closed: 10018, nothing triggers)."""
        with self._lock:
            self._server.quotes[symbol].market_open = is_open

    def advance_time(self, seconds: float) -> None:
        """Let time pass (day orders and specified expirations may expire)."""
        with self._lock:
            self._server.clock.advance(seconds)
            self._run_market(prices_moved=False)

    def now_utc(self) -> datetime:
        """The fake world's UTC time."""
        with self._lock:
            return self._server.clock.now_utc()

    @property
    def server_utc_offset(self) -> timedelta:
        """Trade server time minus UTC."""
        return self._server.clock.offset

    def set_server_utc_offset(self, offset: timedelta) -> None:
        """Change the trade server's zone (a daylight-saving switch); times reported
        from now on use it, times already recorded keep the reading they had."""
        with self._lock:
            self._server.clock.offset = offset

    def update_account(self, **changes: Any) -> None:
        """Change account settings, e.g. ``trade_allowed=False`` (investor password)."""
        with self._lock:
            self._server.account = self._server.account.with_changes(**changes)

    def update_terminal(self, **changes: Any) -> None:
        """Change terminal settings: ``trade_allowed`` (Algo Trading button),
        ``tradeapi_disabled`` (the Python API switch), ``connected`` (trade server link)."""
        with self._lock:
            self._server.terminal = self._server.terminal.with_changes(**changes)

    def net_volume(self, symbol: str, magic: int | None = None) -> Decimal:
        """Signed open volume of ``symbol`` (buy +, sell -), optionally of one magic."""
        with self._lock:
            return self._server.net_volume(symbol, magic)

    @property
    def balance(self) -> Decimal:
        """Account balance (realized profit included)."""
        with self._lock:
            return self._server.balance

    # -- other programs and manual trading -----------------------------------------------

    def add_position(
        self,
        symbol: str,
        order_type: int,
        volume: PriceLike,
        *,
        price: PriceLike | None = None,
        magic: int = 0,
        sl: PriceLike = 0,
        tp: PriceLike = 0,
        comment: str = "",
        reason: int = C.ORDER_REASON_CLIENT,
    ) -> int:
        """A deal by someone else on this account — a manual trade (magic 0, reason
        CLIENT) or another program (its magic, ORDER_REASON_EXPERT) — executed at
        ``price`` or the market; on netting it merges into the symbol's position like
        any deal. Returns the position ticket it opened or changed."""
        if order_type not in (C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL):
            raise ValueError("order_type must be ORDER_TYPE_BUY or ORDER_TYPE_SELL")
        with self._lock:
            quote = self._server.quotes[symbol]
            fill = (
                _dec(price)
                if price is not None
                else (quote.ask if order_type == C.ORDER_TYPE_BUY else quote.bid)
            )
            order = self._foreign_order(
                symbol, order_type, _dec(volume), fill, magic, comment, reason
            )
            order.sl, order.tp = _dec(sl), _dec(tp)
            order.state = C.ORDER_STATE_FILLED
            execute(self._server, order, order.volume_initial, fill)
            order.volume_current = Decimal(0)
            order.time_done_msc = self._server.now_msc()
            self._server.book.history_orders[order.ticket] = order
            self._run_market()
            return order.position_id

    def add_pending_order(
        self,
        symbol: str,
        order_type: int,
        volume: PriceLike,
        price: PriceLike,
        *,
        stoplimit: PriceLike = 0,
        magic: int = 0,
        sl: PriceLike = 0,
        tp: PriceLike = 0,
        comment: str = "",
        type_time: int = C.ORDER_TIME_GTC,
        expiration: int = 0,
        reason: int = C.ORDER_REASON_CLIENT,
    ) -> int:
        """A pending order someone else placed (unchecked); returns its ticket."""
        if order_type not in PENDING_TYPES:
            raise ValueError("order_type must be a pending ORDER_TYPE_*")
        with self._lock:
            order = self._foreign_order(
                symbol, order_type, _dec(volume), _dec(price), magic, comment, reason
            )
            order.sl, order.tp, order.price_stoplimit = _dec(sl), _dec(tp), _dec(stoplimit)
            order.type_time, order.time_expiration = type_time, expiration
            order.type_filling = C.ORDER_FILLING_RETURN
            self._server.book.orders[order.ticket] = order
            self._run_market()
            return order.ticket

    # -- FaultInjection (src/fks_exec/testing/faults.py) -------------------------------

    def refuse_next(self) -> None:
        """The next order_send fails at the IPC link: None, last_error -10004."""
        with self._lock:
            self._faults.refuse_next += 1

    def lose_next_answer(self, *, after_broker_acted: bool) -> None:
        """The next order_send returns None with -10005 'IPC timeout'; the server acted
        on it only if ``after_broker_acted``."""
        with self._lock:
            self._faults.queue_loss(after_broker_acted=after_broker_acted)

    def disconnect(self) -> None:
        """The terminal goes away: every call fails with -10004 until :meth:`reconnect`."""
        with self._lock:
            self._faults.disconnected = True

    def reconnect(self) -> None:
        """The terminal is back (call ``initialize()`` again, see faults.py)."""
        with self._lock:
            self._faults.disconnected = False
            if self._reconnect_requires_initialize:
                self._initialized = False

    def fail_next(self, function: str, code: int) -> None:
        """The next call of API ``function`` (e.g. ``"order_send"``) returns None/False
        with last_error ``code`` (one of the RES_* values); nothing reaches the server.
        Raises ``ValueError`` for a code the package does not define."""
        from fks_exec_mt5.testing.reference.errors import LAST_ERROR_MESSAGES

        if code not in LAST_ERROR_MESSAGES or code == C.RES_S_OK:
            raise ValueError(f"{code} is not a failure code of the MetaTrader5 package")
        with self._lock:
            self._faults.script(function, code)

    def set_latency(self, seconds: float) -> None:
        """Delay every API call by ``seconds``; raises ``ValueError`` if negative."""
        self._faults.set_latency(seconds)

    def order_arrivals(self) -> Mapping[str, int]:
        """Orders that reached the server, counted by their comment (31 chars max)."""
        with self._lock:
            return dict(self._server.arrivals)

    # -- internals -----------------------------------------------------------------------

    def _set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal | None) -> None:
        quote = self._server.quotes[symbol]
        quote.bid, quote.ask = bid, ask
        quote.last = bid if last is None else last
        quote.time_msc = self._server.now_msc()

    def _deposit(self, amount: Decimal) -> None:
        # The account's history starts with its deposit: a DEAL_TYPE_BALANCE deal with no
        # symbol, order or volume (DEAL_TYPE_BALANCE in ENUM_DEAL_TYPE,
        # https://www.mql5.com/en/docs/constants/tradingconstants/dealproperties); a day
        # before the fake's start (**inferred** time). Code reading deals must skip it.
        server = self._server
        deal = Deal(
            ticket=server.book.new_ticket(),
            order=0,
            time_msc=server.now_msc() - 86_400_000,
            type=C.DEAL_TYPE_BALANCE,
            entry=C.DEAL_ENTRY_IN,
            magic=0,
            position_id=0,
            reason=C.DEAL_REASON_CLIENT,
            volume=Decimal(0),
            price=Decimal(0),
            profit=amount,
            symbol="",
            comment="",
        )
        server.book.deals[deal.ticket] = deal

    def _run_market(self, *, prices_moved: bool = True) -> None:
        self._day = run_market(self._server, self._day, prices_moved=prices_moved)

    def _foreign_order(
        self,
        symbol: str,
        order_type: int,
        volume: Decimal,
        price: Decimal,
        magic: int,
        comment: str,
        reason: int,
    ) -> Order:
        if symbol not in self._server.specs:
            raise KeyError(f"unknown symbol {symbol!r}: add_symbol() it first")
        now = self._server.now_msc()
        return Order(
            ticket=self._server.book.new_ticket(),
            symbol=symbol,
            type=order_type,
            state=C.ORDER_STATE_PLACED,
            volume_initial=volume,
            volume_current=volume,
            price_open=price,
            price_stoplimit=Decimal(0),
            sl=Decimal(0),
            tp=Decimal(0),
            type_time=C.ORDER_TIME_GTC,
            type_filling=C.ORDER_FILLING_FOK,
            time_expiration=0,
            magic=magic,
            comment=comment,
            reason=reason,
            time_setup_msc=now,
        )
