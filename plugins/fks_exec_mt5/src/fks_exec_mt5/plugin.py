"""The ``mt5`` plugin: MetaTrader 5 through the MetaTrader5 package, called directly."""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict, defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

from fks_exec.errors import BrokerUnavailable, PluginInitError
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    OrderType,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.mapping import (
    RETCODES,
    RETRY_WITH_FRESH_PRICE,
    Denial,
    SymbolRules,
    build_request,
    comment_for,
    from_history,
    from_send,
    to_decimal,
)
from fks_exec_mt5.worker import Mt5Worker

__all__ = ["Mt5Plugin", "import_module"]

_REMEMBERED = 100_000

_INIT_HINTS = {
    c.RES_E_INTERNAL_FAIL_INIT: "is MetaTrader 5 installed and running? Set FKS_EXEC_MT5_PATH "
    "to terminal64.exe if it is not found",
    c.RES_E_AUTH_FAILED: "check FKS_EXEC_MT5_LOGIN, FKS_EXEC_MT5_PASSWORD and FKS_EXEC_MT5_SERVER",
    c.RES_E_INTERNAL_FAIL_CONNECT: "the terminal is not reachable; start it and retry",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "the terminal did not answer in time; raise "
    "FKS_EXEC_MT5_TIMEOUT_MS",
}


def import_module(config: Mt5Config) -> Any:
    """The MetaTrader5 module (or mt5linux bridge) the config asks for.

    Raises :class:`PluginInitError` saying how to get one when it is not installed.
    """
    if config.bridge == "mt5linux":
        try:
            from mt5linux import MetaTrader5  # type: ignore[import-not-found]
        except ImportError:
            raise PluginInitError(
                "FKS_EXEC_MT5_BRIDGE=mt5linux needs the bridge: pip install 'fks-exec-mt5[linux]', "
                "and its server running next to the terminal under Wine"
            ) from None
        return MetaTrader5(host=config.host, port=config.port)
    try:
        import MetaTrader5  # type: ignore[import-not-found]
    except ImportError:
        if sys.platform != "win32":
            raise PluginInitError(
                "the MetaTrader5 package exists for Windows only. On Linux or macOS run the "
                "terminal under Wine with the mt5linux bridge (pip install "
                "'fks-exec-mt5[linux]', set FKS_EXEC_MT5_BRIDGE=mt5linux), or pass "
                "Mt5Plugin(mt5=<a compatible module>)"
            ) from None
        raise PluginInitError("install the MetaTrader5 package: pip install MetaTrader5") from None
    return MetaTrader5


class Mt5Plugin(ExecutionPlugin):
    """Trades through a MetaTrader 5 terminal; every call runs on one worker thread.

    ``Mt5Plugin(mt5=module)`` uses the given module or API-compatible object (an
    mt5linux bridge, or :class:`fks_exec_mt5.testing.FakeMetaTrader5`); otherwise
    ``init`` imports the MetaTrader5 package (or the bridge the config names).
    """

    name: ClassVar[str] = "mt5"
    config_model: ClassVar[type[Mt5Config]] = Mt5Config
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self, mt5: Any = None) -> None:
        super().__init__()
        self._module = mt5
        self._worker: Mt5Worker | None = None
        self._cfg = Mt5Config()
        self._init_kwargs: dict[str, Any] = {}
        self.hedging = False
        self.real_account = False
        self._sent: OrderedDict[str, None] = OrderedDict()  # comments this instance sent
        self._symbols: dict[str, tuple[float, SymbolRules]] = {}  # touched on the worker only

    # ------------------------------------------------------------------ lifecycle

    @property
    def worker(self) -> Mt5Worker:
        """The worker thread's handle. Raises :class:`BrokerUnavailable` before init."""
        if self._worker is None:
            raise BrokerUnavailable("plugin 'mt5' is not initialized; call init()")
        return self._worker

    async def _connect(self, config: Mt5Config) -> None:
        self._cfg = config
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
            if not await worker.call("initialize", **kwargs):
                code, text = await worker.call("last_error")
                hint = _INIT_HINTS.get(code, "see the terminal's journal")
                raise PluginInitError(f"MetaTrader 5 did not start ({code}, {text}): {hint}")
            account = await worker.call("account_info")
            terminal = await worker.call("terminal_info")
            if account is None or terminal is None:
                code, text = await worker.call("last_error")
                raise PluginInitError(f"MetaTrader 5 gave no account or terminal ({code}, {text})")
            if not terminal.trade_allowed:
                raise PluginInitError(
                    "Algo Trading is off in the terminal: press 'Algo Trading' in its toolbar "
                    "(and allow algorithmic trading in Tools > Options > Expert Advisors)"
                )
            if not account.trade_allowed:
                raise PluginInitError(
                    f"account {account.login} may not trade: logged in with the investor "
                    "(read-only) password?"
                )
        except BaseException:
            await _quietly_shutdown(worker)
            raise
        self.hedging = account.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        self.real_account = account.trade_mode == c.ACCOUNT_TRADE_MODE_REAL
        self._worker = worker

    async def _close(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await _quietly_shutdown(worker)

    async def _reconnect(self) -> None:
        """Re-open the IPC connection once after the pipe broke."""
        worker = self.worker
        await worker.call("shutdown")
        if not await worker.call("initialize", **self._init_kwargs):
            code, text = await worker.call("last_error")
            self.log.warning("reconnecting to MetaTrader 5 failed: %s %s", code, text)

    # ------------------------------------------------------------------ symbols

    async def symbol_info(self, name: str) -> Any:
        """The broker's SymbolInfo for ``name`` (selected into Market Watch if needed),
        or None when the broker has no such symbol.

        Raises :class:`BrokerUnavailable` when the symbol cannot be selected.
        """
        rules = await self.worker.run(self._rules_on_worker, name)
        if rules == "unknown":
            return None
        if isinstance(rules, str):
            raise BrokerUnavailable(rules)
        return rules.info

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        position = order.params.get("position")
        if position is not None:
            position = int(position)
        elif order.reduce_only:
            denial_or_ticket = await self._reducing_position(order)
            if isinstance(denial_or_ticket, Denial):
                return self._denied(order, denial_or_ticket.code, denial_or_ticket.message)
            position = denial_or_ticket
        return await self._send(order, position)

    async def _send(self, order: Order, position: int | None) -> ExecutionResult:
        comment = comment_for(order.client_order_id)
        if comment in self._sent:
            # MT5 does not refuse a repeated comment: never send the same id twice.
            found = await self._get_order(order.client_order_id)
            if found is not None:
                return found
            return self._denied(
                order,
                ErrorCode.INVALID_ORDER,
                f"client order id {order.client_order_id} was already sent; "
                "reconcile with get_order instead of resending",
            )
        outcome, payload = await self.worker.run(self._attempt, order, position)
        if outcome == "denied":
            return self._denied(order, payload.code, payload.message)
        if outcome == "unavailable":
            raise BrokerUnavailable(payload)
        self._remember(comment)
        if outcome == "lost":
            return await self._lost(order, payload)
        sent = payload
        if sent.retcode == c.TRADE_RETCODE_CONNECTION:
            raise BrokerUnavailable(
                f"{sent.retcode} {sent.comment}: the terminal is not "
                "connected to the trade server; nothing was sent"
            )
        if sent.retcode in RETRY_WITH_FRESH_PRICE:
            self.log.info(
                "order %s still requoted after %d tries",
                order.client_order_id,
                self._cfg.requote_retries + 1,
            )
        return from_send(sent, order, plugin=self.name)

    def _attempt(self, order: Order, position: int | None) -> tuple[str, Any]:
        """Symbol, tick, request and order_send as one job on the worker thread.

        Returns ("sent", result), ("lost", last_error), ("denied", Denial) or
        ("unavailable", message). A requote (10004/10021/10020) is retried at a fresh
        price: the server has refused that request, so resending is safe.
        """
        mt5 = self.worker.mt5
        rules = self._rules_on_worker(order.symbol)
        if isinstance(rules, str):
            if rules == "unknown":
                return "denied", Denial(
                    ErrorCode.INVALID_ORDER,
                    f"the broker has no symbol {order.symbol!r}; nothing was sent",
                )
            return "unavailable", rules
        attempts = 1 + (self._cfg.requote_retries if order.type is OrderType.MARKET else 0)
        sent = None
        for _ in range(attempts):
            tick = mt5.symbol_info_tick(order.symbol)
            if tick is None:
                return "unavailable", f"no price for {order.symbol} {mt5.last_error()}"
            request = build_request(
                order,
                rules,
                tick,
                deviation=self._cfg.deviation_points,
                magic=self._cfg.magic,
                position=position,
            )
            if isinstance(request, Denial):
                return "denied", request
            sent = mt5.order_send(request)
            if sent is None:
                return "lost", mt5.last_error()
            if sent.retcode not in RETRY_WITH_FRESH_PRICE:
                break
        return "sent", sent

    def _rules_on_worker(self, name: str) -> SymbolRules | str:
        """The symbol's cached rules, read (and selected into Market Watch) when stale.

        Runs on the worker thread. Returns "unknown" for a symbol the broker lacks, or
        a message when it cannot be selected.
        """
        now = time.monotonic()
        cached = self._symbols.get(name)
        if cached is not None and now - cached[0] < self._cfg.symbol_cache_s:
            return cached[1]
        mt5 = self.worker.mt5
        info = mt5.symbol_info(name)
        if info is None:
            return "unknown"
        if not info.select:
            if not mt5.symbol_select(name, True):
                return f"cannot select {name} in Market Watch {mt5.last_error()}"
            info = mt5.symbol_info(name)
        rules = SymbolRules.of(info)
        self._symbols[name] = (now, rules)
        return rules

    def _remember(self, comment: str) -> None:
        self._sent[comment] = None
        while len(self._sent) > _REMEMBERED:
            self._sent.popitem(last=False)

    async def _lost(self, order: Order, error: tuple[int, str]) -> ExecutionResult:
        """order_send returned None: decide the order's fate from last_error()."""
        code, text = error
        if code in c.IPC_NOT_SENT:
            await self._reconnect()
            raise BrokerUnavailable(
                f"MetaTrader 5 IPC failed before sending ({code}, {text}); "
                "reconnected, nothing was sent"
            )
        if code in c.IPC_MAYBE_SENT:
            await self._reconnect()
            return self._unknown(
                order, ErrorCode.NETWORK, f"MetaTrader 5 IPC failed after sending ({code}, {text})"
            )
        if code == c.RES_E_INVALID_PARAMS:
            return self._denied(order, ErrorCode.INVALID_ORDER, f"{code} {text}")
        return self._unknown(
            order, ErrorCode.UNKNOWN, f"order_send gave no result ({code}, {text})"
        )

    async def _reducing_position(self, order: Order) -> int | Denial:
        if order.type is not OrderType.MARKET:
            return Denial(
                ErrorCode.NOT_SUPPORTED, "MT5 has no reduce-only pending orders; use a market order"
            )
        positions = await self.worker.call("positions_get", symbol=order.symbol) or ()
        closing_type = c.POSITION_TYPE_SELL if order.side.value == "buy" else c.POSITION_TYPE_BUY
        candidates = [p for p in positions if p.type == closing_type]
        fits = [p for p in candidates if to_decimal(p.volume) >= order.quantity]
        if not fits:
            held = sum((to_decimal(p.volume) for p in candidates), Decimal(0))
            return Denial(
                ErrorCode.INVALID_ORDER,
                f"reduce_only {order.side.value} {order.quantity} {order.symbol}: only "
                f"{held} lots held in one position to reduce; nothing was sent",
            )
        return int(min(fits, key=lambda p: p.volume).ticket)

    async def close_position(
        self, symbol: str, volume: Decimal | None = None
    ) -> list[ExecutionResult]:
        """Close the open position(s) in ``symbol`` (all of it, or ``volume`` lots).

        On a hedging account each position is closed by its ticket, oldest first.
        Returns one result per closing order. Raises :class:`BrokerUnavailable` when the
        terminal cannot be reached.
        """
        positions = await self.worker.call("positions_get", symbol=symbol) or ()
        left = volume
        results = []
        for p in sorted(positions, key=lambda p: p.time_msc):
            size = to_decimal(p.volume) if left is None else min(left, to_decimal(p.volume))
            if size <= 0:
                break
            side = "sell" if p.type == c.POSITION_TYPE_BUY else "buy"
            closing = Order.market(symbol, side, size, params={"position": int(p.ticket)})
            results.append(await self.execute_order(closing))
            if left is not None:
                left -= size
        return results

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        worker = self.worker
        ticket = int(order_id)
        working = await worker.call("orders_get", ticket=ticket) or ()
        if not working:
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.REJECTED,
                order_id=order_id,
                symbol=symbol or "?",
                error_code=ErrorCode.INVALID_ORDER,
                error=f"no working order {order_id} (filled, canceled or unknown)",
            )
        record = working[0]
        sent = await worker.call(
            "order_send",
            {"action": c.TRADE_ACTION_REMOVE, "order": ticket, "comment": record.comment},
        )
        if sent is None:
            code, text = await worker.call("last_error")
            status = OrderStatus.UNKNOWN if code in c.IPC_MAYBE_SENT else OrderStatus.REJECTED
            if code in c.IPC_NOT_SENT | c.IPC_MAYBE_SENT:
                await self._reconnect()
            if code in c.IPC_NOT_SENT:
                raise BrokerUnavailable(f"MetaTrader 5 IPC failed before sending ({code}, {text})")
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=status,
                order_id=order_id,
                symbol=record.symbol,
                error=f"{code} {text}",
            )
        if sent.retcode == c.TRADE_RETCODE_DONE:
            found = await self._history_result(record.comment, ticket)
            if found is not None:
                return found
        status, code = RETCODES.get(int(sent.retcode), (OrderStatus.REJECTED, ErrorCode.REJECTED))
        if status is not OrderStatus.UNKNOWN:
            status = (
                OrderStatus.CANCELED
                if sent.retcode == c.TRADE_RETCODE_DONE
                else OrderStatus.REJECTED
            )
        return ExecutionResult.for_cancel(
            plugin=self.name,
            status=status,
            order_id=order_id,
            symbol=record.symbol,
            error=None if status is OrderStatus.CANCELED else f"{sent.retcode} {sent.comment}",
            error_code=None if status is OrderStatus.CANCELED else code,
        )

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await self._history_result(
            comment_for(client_order_id), None, client_order_id=client_order_id
        )

    async def _history_result(
        self, comment: str, ticket: int | None, client_order_id: str | None = None
    ) -> ExecutionResult | None:
        """Find an order by comment (or ticket) among working and past orders."""
        worker = self.worker
        for record in await worker.call("orders_get") or ():
            if record.comment == comment or record.ticket == ticket:
                return from_history(record, [], plugin=self.name, client_order_id=client_order_id)
        now = datetime.now(timezone.utc)
        since = now - timedelta(days=self._cfg.history_days)
        history = await worker.call("history_orders_get", since, now + timedelta(days=1)) or ()
        for record in history:
            if record.comment == comment or record.ticket == ticket:
                deals = await worker.call("history_deals_get", ticket=record.ticket) or ()
                return from_history(
                    record, list(deals), plugin=self.name, client_order_id=client_order_id
                )
        return None

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        if await self.symbol_info(symbol) is None:
            raise BrokerUnavailable(f"the broker has no symbol {symbol!r}")
        tick = await self.worker.call("symbol_info_tick", symbol)
        if tick is None:
            code, text = await self.worker.call("last_error")
            raise BrokerUnavailable(f"no tick for {symbol} ({code}, {text})")

        def price(value: float) -> Decimal | None:
            return to_decimal(value) if value and value > 0 else None

        return MarketData(
            symbol=symbol,
            bid=price(tick.bid),
            ask=price(tick.ask),
            last=price(tick.last),
            volume=to_decimal(tick.volume_real) if tick.volume_real else None,
            timestamp=datetime.fromtimestamp(tick.time_msc / 1000, tz=timezone.utc),
        )

    async def _health_check(self) -> HealthStatus:
        terminal = await self.worker.call("terminal_info")
        if terminal is None:
            code, text = await self.worker.call("last_error")
            return HealthStatus(healthy=False, detail=f"no terminal ({code}, {text})")
        latency = terminal.ping_last / 1000 if terminal.ping_last else None
        if not terminal.connected:
            return HealthStatus(
                healthy=False,
                latency_ms=latency,
                detail="terminal not connected to the trade server",
            )
        if not terminal.trade_allowed:
            return HealthStatus(healthy=False, latency_ms=latency, detail="Algo Trading is off")
        return HealthStatus(
            healthy=True, latency_ms=latency, detail=f"{terminal.company}, build {terminal.build}"
        )

    async def _positions(self) -> list[Position]:
        """One netted position per symbol (hedging accounts' positions are summed)."""
        raw = await self.worker.call("positions_get") or ()
        grouped: dict[str, list[Any]] = defaultdict(list)
        for p in raw:
            grouped[p.symbol].append(p)
        result = []
        for symbol, items in sorted(grouped.items()):
            signed = [
                (to_decimal(p.volume) * (1 if p.type == c.POSITION_TYPE_BUY else -1), p)
                for p in items
            ]
            net = sum((q for q, _ in signed), Decimal(0))
            if net == 0:
                continue
            same_side = [(abs(q), p) for q, p in signed if (q > 0) == (net > 0)]
            size = sum((q for q, _ in same_side), Decimal(0))
            average = sum((q * to_decimal(p.price_open) for q, p in same_side), Decimal(0)) / size
            pnl = sum((to_decimal(p.profit) for p in items), Decimal(0))
            result.append(
                Position(symbol=symbol, quantity=net, average_price=average, unrealized_pnl=pnl)
            )
        return result


async def _quietly_shutdown(worker: Mt5Worker) -> None:
    try:
        await worker.call("shutdown")
    except Exception as exc:  # closing must not fail, whatever the terminal does
        logging.getLogger("fks_exec.plugins.mt5").warning("MetaTrader 5 shutdown failed: %r", exc)
    worker.close()
