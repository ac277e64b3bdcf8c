"""The ``mt5`` plugin: MetaTrader 5 through the MetaTrader5 package (or our bridge)."""

from __future__ import annotations

import logging
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from fks_exec.errors import BrokerUnavailable, OrderDenied, PluginInitError
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.exposure import Ticket, net
from fks_exec_mt5.mapping import comment_for, rounded_volume
from fks_exec_mt5.prechecks import check_freeze, to_decimal
from fks_exec_mt5.results import from_history, from_send
from fks_exec_mt5.retcodes import Fate, last_error_of, retcode_of
from fks_exec_mt5.session import LinkDown, Mt5Session, NotSent
from fks_exec_mt5.worker import Mt5Worker

__all__ = ["Mt5Plugin", "import_module"]

T = TypeVar("T")

_INIT_HINTS = {
    c.RES_E_INTERNAL_FAIL_INIT: "is MetaTrader 5 installed and running? Set FKS_EXEC_MT5_PATH "
    "to terminal64.exe if it is not found",
    c.RES_E_AUTH_FAILED: "check FKS_EXEC_MT5_LOGIN, FKS_EXEC_MT5_PASSWORD and FKS_EXEC_MT5_SERVER",
    c.RES_E_INTERNAL_FAIL_CONNECT: "the terminal (or the bridge) is not reachable; start it",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "the terminal did not answer in time; raise "
    "FKS_EXEC_MT5_TIMEOUT_MS",
}


def import_module(config: Mt5Config) -> Any:
    """The MetaTrader5 module (or the bridge to one) the config asks for.

    Raises :class:`PluginInitError` saying how to get one when it is not installed.
    """
    if config.bridge == "fks":
        from fks_exec_mt5.bridge.client import BridgeModule

        if config.bridge_secret is None:
            raise PluginInitError(
                "FKS_EXEC_MT5_BRIDGE=fks needs FKS_EXEC_MT5_BRIDGE_SECRET, the secret the "
                "bridge server was started with"
            )
        return BridgeModule(
            config.host,
            config.port,
            config.bridge_secret.get_secret_value(),
            timeout_s=config.bridge_timeout_s,
        )
    try:
        import MetaTrader5  # type: ignore[import-not-found]
    except ImportError:
        if sys.platform != "win32":
            raise PluginInitError(
                "the MetaTrader5 package exists for Windows only. On Linux or macOS run the "
                "terminal under Wine with this plugin's bridge (docs/plugins/mt5.md, "
                "FKS_EXEC_MT5_BRIDGE=fks), or pass Mt5Plugin(mt5=<a compatible module>)"
            ) from None
        raise PluginInitError("install the MetaTrader5 package: pip install MetaTrader5") from None
    return MetaTrader5


def derived_magic(name: str, login: int, server: str) -> int:
    """A stable nonzero magic for plugin ``name`` on account ``login``@``server``."""
    return zlib.crc32(f"fks-exec|{name}|{login}|{server}".encode()) & 0x7FFFFFFF or 1


class Mt5Plugin(ExecutionPlugin):
    """Trades through a MetaTrader 5 terminal; every call runs on one worker thread.

    ``Mt5Plugin(mt5=module)`` uses the given module or API-compatible object (the
    bridge client, or :class:`fks_exec_mt5.testing.reference.FakeMetaTrader5`);
    otherwise ``init`` imports the MetaTrader5 package (or the bridge the config names).
    Netting and hedging accounts: see docs/plugins/mt5.md.
    """

    name: ClassVar[str] = "mt5"
    config_model: ClassVar[type[Mt5Config]] = Mt5Config
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self, mt5: Any = None) -> None:
        super().__init__()
        self._module = mt5
        self._worker: Mt5Worker | None = None
        self._session: Mt5Session | None = None
        self._init_kwargs: dict[str, Any] = {}
        self._stale = False
        self._trade_mode = c.ACCOUNT_TRADE_MODE_REAL
        self.login = 0
        """The connected account number (after init)."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def worker(self) -> Mt5Worker:
        """The worker thread's handle. Raises :class:`BrokerUnavailable` before init."""
        if self._worker is None:
            raise BrokerUnavailable("plugin 'mt5' is not initialized; call init()")
        return self._worker

    @property
    def session(self) -> Mt5Session:
        """The account state (mode, magic, clock). Raises :class:`BrokerUnavailable`
        before init."""
        if self._session is None:
            raise BrokerUnavailable("plugin 'mt5' is not initialized; call init()")
        return self._session

    @property
    def hedging(self) -> bool:
        """True on a retail hedging account (positions per ticket)."""
        return self.session.hedging

    @property
    def magic(self) -> int:
        """The magic stamped on this plugin's orders."""
        return self.session.magic

    async def _connect(self, config: Mt5Config) -> None:
        module = self._module if self._module is not None else import_module(config)
        worker = Mt5Worker(module)
        kwargs: dict[str, Any] = {"timeout": config.timeout_ms}
        if config.path:
            kwargs["path"] = config.path
        if config.login is not None:
            kwargs["login"] = config.login
            if config.password is not None:
                kwargs["password"] = config.password.get_secret_value()
            if config.server:
                kwargs["server"] = config.server
        self._init_kwargs = kwargs
        try:
            account = await worker.run(_start, module, kwargs)
        except BaseException:
            await _quietly_shutdown(worker)
            raise
        self.login = int(account.login)
        self._trade_mode = int(account.trade_mode)
        magic = config.magic or derived_magic(self.name, self.login, str(account.server))
        self._session = Mt5Session(
            module,
            config,
            magic=magic,
            hedging=account.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
            fifo=bool(getattr(account, "fifo_close", False)),
        )
        self._worker = worker

    def _broker_says_paper(self) -> bool | None:
        return self._trade_mode in (c.ACCOUNT_TRADE_MODE_DEMO, c.ACCOUNT_TRADE_MODE_CONTEST)

    async def _close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await _quietly_shutdown(worker)

    async def _job(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` on the worker, re-initializing first after a lost link.

        Raises :class:`BrokerUnavailable` when the link is down (nothing was sent).
        """
        try:
            return await self.worker.run(self._on_worker, function, *args)  # type: ignore[no-any-return]
        except LinkDown as exc:
            self._stale = True
            raise BrokerUnavailable(f"MetaTrader 5: {exc}; nothing was sent") from None

    def _on_worker(self, function: Callable[..., T], *args: Any) -> T:
        if self._stale:
            mt5 = self.session.mt5
            mt5.shutdown()
            if not mt5.initialize(**self._init_kwargs):
                code, text = mt5.last_error()
                raise LinkDown(f"reconnecting failed ({code}, {text})")
            self._stale = False
            self.log.info("reconnected to MetaTrader 5")
        return function(*args)

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        self._check_account(order)
        try:
            placed = await self._job(self.session.place, order)
        except NotSent as exc:
            meaning = last_error_of(exc.code)
            if meaning.fate is Fate.UNAVAILABLE:
                self._stale = True
                raise BrokerUnavailable(
                    f"MetaTrader 5 IPC failed before sending ({exc.code}, {exc.text}): "
                    f"{meaning.hint}; nothing was sent"
                ) from None
            raise OrderDenied(
                f"order_send refused it ({exc.code}, {exc.text}): {meaning.hint}",
                meaning.code.value,
            ) from None
        answers = placed.answers
        if any(a.lost is not None for a in answers):
            self._stale = True
        first = answers[0].sent
        if (
            len(answers) == 1
            and first is not None
            and int(first.retcode) == c.TRADE_RETCODE_CONNECTION
        ):
            raise BrokerUnavailable(
                f"{first.retcode} {first.comment}: the terminal is not connected to the "
                "trade server; nothing was sent"
            )
        return from_send(answers, order, placed.volume, plugin=self.name)

    def _check_account(self, order: Order) -> None:
        wanted = order.account
        if wanted is None:
            return
        mine = self.config.account if isinstance(self.config, Mt5Config) else None
        if wanted not in {str(self.login), mine}:
            raise OrderDenied(
                f"order names account {wanted!r} but this plugin is connected to account "
                f"{self.login}; route it to the instance of that account"
            )

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        """One reduce-only market order for this program's net position (or ``quantity``).

        On hedging it closes tickets by number, oldest first; it never opens or grows
        exposure. Returns [] when this program holds nothing in ``symbol``.
        """
        session = self.session
        mine = session.mine(await self._job(session.tickets, symbol))
        held = net(mine)
        if held == 0:
            return []
        side = "sell" if held > 0 else "buy"
        order = Order.market(symbol, side, quantity or abs(held), reduce_only=True)
        if quantity is not None:
            rules = await self._job(session.rules, symbol)
            try:
                exact = rounded_volume(quantity, rules) == quantity
            except OrderDenied as exc:
                return [self._denied(order, ErrorCode.INVALID_ORDER, f"{exc}; nothing was sent")]
            if not exact:
                return [
                    self._denied(
                        order,
                        ErrorCode.INVALID_ORDER,
                        f"{quantity} is not a multiple of the volume step {rules.step} of "
                        f"{symbol}; close_position closes exactly what it is asked: "
                        "nothing was sent",
                    )
                ]
        return [await self.execute_order(order)]

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        try:
            ticket = int(order_id)
        except ValueError:
            raise ValueError(f"MT5 order ids are ticket numbers, not {order_id!r}") from None
        outcome, record, answer = await self._job(self._cancel_on_worker, ticket)
        where = symbol or (record.symbol if record is not None else "?")

        def result(status: OrderStatus, **fields: Any) -> ExecutionResult:
            return ExecutionResult.for_cancel(
                plugin=self.name, status=status, order_id=order_id, symbol=where, **fields
            )

        if outcome == "missing":
            return result(
                OrderStatus.REJECTED,
                sent=False,
                error_code=ErrorCode.INVALID_ORDER,
                error=f"no working order {order_id} (filled, canceled or unknown); "
                "nothing was sent",
            )
        if outcome == "lost":
            code, text = answer
            meaning = last_error_of(code)
            if meaning.fate is Fate.UNAVAILABLE:
                self._stale = True
                raise BrokerUnavailable(f"MetaTrader 5 IPC failed before sending ({code}, {text})")
            if meaning.fate is Fate.DENIED:
                return result(
                    OrderStatus.REJECTED,
                    sent=False,
                    error_code=meaning.code,
                    error=f"{code} {text}: {meaning.hint}",
                )
            self._stale = True
            return result(
                OrderStatus.UNKNOWN,
                error_code=ErrorCode.NETWORK,
                error=f"no answer to the cancel ({code}, {text}); check the order with get_order",
            )
        if int(answer.retcode) == c.TRADE_RETCODE_DONE:
            return result(OrderStatus.CANCELED)
        meaning_r = retcode_of(answer.retcode)
        return result(
            OrderStatus.UNKNOWN
            if meaning_r.status is OrderStatus.UNKNOWN
            else OrderStatus.REJECTED,
            error_code=meaning_r.code or ErrorCode.REJECTED,
            error=f"{answer.retcode} {answer.comment}",
        )

    def _cancel_on_worker(self, ticket: int) -> tuple[str, Any, Any]:
        session = self.session
        record = session.find_working(ticket)
        if record is None:
            return "missing", None, None
        if int(record.magic) != session.magic and not session.cfg.manage_other_positions:
            raise OrderDenied(
                f"order {ticket} carries magic {record.magic}, not this plugin's "
                f"{session.magic}: it belongs to another program or a manual trade",
                "rejected",
            )
        rules = session.rules(str(record.symbol))
        tick = session.tick(str(record.symbol))
        check_freeze(rules, record, to_decimal(tick.bid), to_decimal(tick.ask))
        sent = session.mt5.order_send({"action": c.TRADE_ACTION_REMOVE, "order": ticket})
        if sent is None:
            return "lost", record, session.mt5.last_error()
        return "sent", record, sent

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await self._find_order(client_order_id, {})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        """Find the order by its comment (and magic) among working and past orders.

        Never answers ``sent=False``: the terminal's history is bounded by
        ``history_days``, so absence proves nothing.
        """
        comment = hints.get("comment") or comment_for(client_order_id)
        records, deals = await self._job(self._history_on_worker, comment)
        if not records:
            return None
        return from_history(
            records,
            deals,
            plugin=self.name,
            client_order_id=client_order_id,
            clock=self.session.clock,
        )

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        hints = {"comment": comment_for(order.client_order_id), "login": str(self.login)}
        if self._session is not None:
            hints["magic"] = str(self._session.magic)
        if result is not None and result.order_id:
            hints["ticket"] = result.order_id
        return hints

    def _history_on_worker(self, comment: str) -> tuple[list[Any], list[Any]]:
        session = self.session
        mt5 = session.mt5
        others = session.cfg.manage_other_positions

        def ours(record: Any) -> bool:
            return bool(record.comment == comment and (others or record.magic == session.magic))

        working = mt5.orders_get()
        if working is None:
            raise session.fail("orders_get")
        found = {int(r.ticket): r for r in working if ours(r)}
        since, until = session.history_window()
        past = mt5.history_orders_get(since, until)
        if past is None:
            code, _ = mt5.last_error()
            if code != c.RES_S_OK:
                raise session.fail("history_orders_get")
            past = ()
        for record in past:
            if ours(record):
                found.setdefault(int(record.ticket), record)
        deals: list[Any] = []
        for ticket in sorted(found):
            deals.extend(mt5.history_deals_get(ticket=ticket) or ())
        return [found[t] for t in sorted(found)], deals

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        session = self.session
        try:
            await self._job(session.rules, symbol)
        except OrderDenied as exc:
            raise BrokerUnavailable(str(exc)) from None
        tick = await self._job(session.tick, symbol)

        def price(value: float) -> Decimal | None:
            return to_decimal(value) if value and value > 0 else None

        return MarketData(
            symbol=symbol,
            bid=price(tick.bid),
            ask=price(tick.ask),
            last=price(tick.last),
            volume=to_decimal(tick.volume_real) if tick.volume_real else None,
            timestamp=session.clock.to_utc(tick.time_msc / 1000),
        )

    async def _health_check(self) -> HealthStatus:
        terminal, account = await self._job(self._health_on_worker)
        latency = terminal.ping_last / 1000 if terminal.ping_last else None
        problems = []
        if not terminal.connected:
            problems.append("terminal not connected to the trade server")
        if not terminal.trade_allowed:
            problems.append("Algo Trading is off in the terminal")
        if getattr(terminal, "tradeapi_disabled", False):
            problems.append("trading through the Python API is disabled in the terminal options")
        if not account.trade_allowed:
            problems.append(f"account {account.login} may not trade (investor password?)")
        if not getattr(account, "trade_expert", True):
            problems.append(f"account {account.login} may not trade from programs")
        checked = (
            "checked: terminal connected, terminal trade_allowed, tradeapi_disabled, "
            "account trade_allowed, account trade_expert"
        )
        if problems:
            return HealthStatus(
                healthy=False, latency_ms=latency, detail="; ".join(problems) + f" ({checked})"
            )
        mode = "hedging" if self.session.hedging else "netting"
        return HealthStatus(
            healthy=True,
            latency_ms=latency,
            detail=f"{terminal.company}, build {terminal.build}, account {account.login} "
            f"({mode}); {checked}",
        )

    def _health_on_worker(self) -> tuple[Any, Any]:
        mt5 = self.session.mt5
        terminal = mt5.terminal_info()
        if terminal is None:
            raise self.session.fail("terminal_info")
        account = mt5.account_info()
        if account is None:
            raise self.session.fail("account_info")
        return terminal, account

    async def tickets(self, symbol: str | None = None) -> list[Ticket]:
        """This program's open position tickets (all programs' with
        ``manage_other_positions``), oldest first. On netting, at most one per symbol.

        Raises :class:`BrokerUnavailable` when the terminal cannot be asked.
        """
        self._require_initialized()
        session = self.session
        found = await self._read(self._job(session.tickets, symbol), "read tickets")
        return sorted(session.mine(found), key=lambda t: t.age_key)

    async def _positions(self) -> list[Position]:
        """One net position per symbol, of this program's tickets (see ``tickets``)."""
        session = self.session
        grouped: dict[str, list[Ticket]] = defaultdict(list)
        for ticket in session.mine(await self._job(session.tickets, None)):
            grouped[ticket.symbol].append(ticket)
        result = []
        for symbol, items in sorted(grouped.items()):
            quantity = net(items)
            if quantity == 0:
                continue
            side = [t for t in items if t.buy == (quantity > 0)]
            size = sum((t.volume for t in side), Decimal(0))
            average = sum((t.volume * t.price_open for t in side), Decimal(0)) / size
            result.append(
                Position(
                    symbol=symbol,
                    quantity=quantity,
                    average_price=average,
                    unrealized_pnl=sum((t.profit for t in items), Decimal(0)),
                    account=str(self.login),
                )
            )
        return result

    async def symbol_info(self, name: str) -> Any:
        """The broker's SymbolInfo for ``name`` (selected into Market Watch if needed),
        or None when the broker has no such symbol.

        Raises :class:`BrokerUnavailable` when the terminal cannot be asked.
        """
        self._require_initialized()
        try:
            rules = await self._job(self.session.rules, name)
        except OrderDenied:
            return None
        return rules.info


def _start(mt5: Any, kwargs: dict[str, Any]) -> Any:
    """On the worker: initialize and check the account may trade; its AccountInfo."""
    if not mt5.initialize(**kwargs):
        code, text = mt5.last_error()
        hint = _INIT_HINTS.get(code, "see the terminal's journal")
        raise PluginInitError(f"MetaTrader 5 did not start ({code}, {text}): {hint}")
    account = mt5.account_info()
    terminal = mt5.terminal_info()
    if account is None or terminal is None:
        code, text = mt5.last_error()
        raise PluginInitError(f"MetaTrader 5 gave no account or terminal ({code}, {text})")
    if not terminal.trade_allowed:
        raise PluginInitError(
            "Algo Trading is off in the terminal: press 'Algo Trading' in its toolbar "
            "(and allow algorithmic trading in Tools > Options > Expert Advisors)"
        )
    if getattr(terminal, "tradeapi_disabled", False):
        raise PluginInitError(
            "trading through the Python API is disabled: untick 'Disable automatic trading "
            "via external Python API' in Tools > Options > Expert Advisors"
        )
    if not account.trade_allowed:
        raise PluginInitError(
            f"account {account.login} may not trade: logged in with the investor "
            "(read-only) password?"
        )
    return account


async def _quietly_shutdown(worker: Mt5Worker) -> None:
    try:
        await worker.call("shutdown")
    except Exception as exc:  # closing must not fail, whatever the terminal does
        logging.getLogger("fks_exec.plugins.mt5").warning("MetaTrader 5 shutdown failed: %r", exc)
    worker.close()
