"""The ``ninja`` plugin: NinjaTrader 8 over a TCP socket to its AT Interface."""

from __future__ import annotations

import asyncio
import contextlib
import time
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
from fks_exec_ninja.codec import COMMAND, SUBSCRIBE
from fks_exec_ninja.config import NinjaConfig
from fks_exec_ninja.connection import AtiConnection
from fks_exec_ninja.mapping import (
    FINAL_STATES,
    RESTING_STATES,
    command,
    order_id_for,
    parse_state,
    place_command,
    quantity_denial,
    result_from_values,
)

__all__ = ["NinjaPlugin"]

_MARKET_DATA = {"ask": "0", "bid": "1", "last": "2"}


class NinjaPlugin(ExecutionPlugin):
    """Trades through NinjaTrader 8's Automated Trading Interface, over TCP.

    A stock NinjaTrader 8 with "AT Interface" enabled (Tools > Options > Automated
    trading interface) needs nothing installed inside it.
    """

    name: ClassVar[str] = "ninja"
    config_model: ClassVar[type[NinjaConfig]] = NinjaConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CANCEL_ORDER,
            Capability.GET_ORDER,
            Capability.POSITIONS,
            Capability.STOP_ORDERS,
            Capability.BRACKET_ORDERS,
        }
    )

    def __init__(self, *, transcript: list[str] | None = None) -> None:
        super().__init__()
        self._transcript = transcript
        self._cfg = NinjaConfig()
        self.connection: AtiConnection | None = None
        self._orders: dict[str, Order] = {}  # order id -> the order placed under it
        self._brackets: dict[str, Order] = {}  # entry order id -> entry awaiting its exits
        self._subscribed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self, config: NinjaConfig) -> None:
        self._cfg = config
        connection = AtiConnection(
            config.host,
            config.port,
            connect_timeout_s=config.connect_timeout_s,
            confirm_orders=config.confirm_orders,
            reconnect_max_s=config.reconnect_max_s,
            on_reconnect=self._resubscribe,
        )
        connection.transcript = self._transcript
        try:
            await connection.open()
        except (OSError, asyncio.TimeoutError) as exc:
            await connection.close()
            raise PluginInitError(
                f"no ready AT Interface at {config.host}:{config.port} ({type(exc).__name__}): "
                "enable it in NinjaTrader (Tools > Options > Automated trading interface > "
                "AT Interface), check FKS_EXEC_NINJA_HOST/FKS_EXEC_NINJA_PORT (default 36973) "
                "and that NinjaTrader is running"
            ) from None
        connection.on_value = self._on_value
        self.connection = connection

    async def _close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        connection, self.connection = self.connection, None
        if connection is not None:
            for instrument in sorted(self._subscribed):
                if connection.connected:
                    try:
                        await connection.send(SUBSCRIBE, instrument, "0")
                    except (BrokerUnavailable, ConnectionError):
                        break
            await connection.close()

    @property
    def ati(self) -> AtiConnection:
        """The connection. Raises :class:`BrokerUnavailable` before init."""
        if self.connection is None:
            raise BrokerUnavailable("plugin 'ninja' is not initialized; call init()")
        return self.connection

    def instrument(self, symbol: str) -> str:
        """NinjaTrader's name for ``symbol`` (the symbol map, else the symbol itself)."""
        return self._cfg.symbols.get(symbol, symbol)

    async def _resubscribe(self) -> None:
        for instrument in sorted(self._subscribed):
            await self.ati.send(SUBSCRIBE, instrument, "1")

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        denial = quantity_denial(order)
        if denial is not None:
            return self._denied(order, *denial)
        ati = self.ati
        order_id = order_id_for(order.client_order_id)
        existing = result_from_values(ati.values, order_id, plugin=self.name, order=order)
        if existing is not None or order_id in self._orders:
            # NinjaTrader already has this id: never place it twice.
            return existing or self._unknown(order, ErrorCode.UNKNOWN, "already sent, no state yet")
        line = place_command(
            order,
            account=self._cfg.account,
            instrument=self.instrument(order.symbol),
            order_id=order_id,
            strategy=self._cfg.strategy,
        )
        self._orders[order_id] = order  # before sending: a lost answer still finds it
        try:
            await ati.send(COMMAND, line)
        except BrokerUnavailable:
            del self._orders[order_id]
            raise
        except ConnectionError as exc:
            return self._unknown(order, ErrorCode.NETWORK, f"connection lost while sending: {exc}")
        result = await self._await_state(order, order_id)
        if order.has_bracket and result.status is not OrderStatus.REJECTED:
            if result.status is OrderStatus.FILLED:
                await self._place_exits(order)
            else:
                self._brackets[order_id] = order
        return result

    async def _await_state(self, order: Order, order_id: str) -> ExecutionResult:
        ati = self.ati
        settled = FINAL_STATES if order.type is OrderType.MARKET else FINAL_STATES | RESTING_STATES
        key = f"OrderStatus|{order_id}"

        def ready(values: Any) -> bool:
            state = parse_state(values.get(key))
            return state in settled and (state != "filled" or f"AvgFillPrice|{order_id}" in values)

        try:
            await ati.wait_for(ready, self._cfg.order_timeout_s, [key, f"AvgFillPrice|{order_id}"])
        except asyncio.TimeoutError:
            pass
        except BrokerUnavailable:
            return self._unknown(
                order, ErrorCode.NETWORK, "the connection dropped before NinjaTrader answered"
            )
        result = result_from_values(ati.values, order_id, plugin=self.name, order=order)
        if result is None:
            return self._unknown(
                order,
                ErrorCode.TIMEOUT,
                f"no order state from NinjaTrader in {self._cfg.order_timeout_s}s",
            )
        return result

    def _on_value(self, key: str, value: str) -> None:
        """Place a bracket's exits once its entry is filled (called by the reader)."""
        if not key.startswith("OrderStatus|"):
            return
        order_id = key[len("OrderStatus|") :]
        entry = self._brackets.get(order_id)
        if entry is None:
            return
        state = parse_state(value)
        if state in ("cancelled", "canceled", "rejected"):
            del self._brackets[order_id]
        elif state == "filled":
            del self._brackets[order_id]
            task = asyncio.create_task(
                self._place_exits(entry), name=f"fks-exec-ninja-exits-{order_id}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._exits_done)

    def _exits_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.log.error("bracket exits not placed: %r", task.exception())

    async def _place_exits(self, entry: Order) -> None:
        """A STOPMARKET and a LIMIT exit sharing one OCO id, for the entry's quantity."""
        side = entry.side.opposite
        oco = order_id_for(entry.client_order_id, "-oco")
        exits = []
        if entry.stop_loss is not None:
            exits.append(
                (
                    Order.stop(
                        entry.symbol,
                        side,
                        entry.quantity,
                        entry.stop_loss,
                        time_in_force=entry.time_in_force,
                    ),
                    "-sl",
                )
            )
        if entry.take_profit is not None:
            exits.append(
                (
                    Order.limit(
                        entry.symbol,
                        side,
                        entry.quantity,
                        entry.take_profit,
                        time_in_force=entry.time_in_force,
                    ),
                    "-tp",
                )
            )
        for exit_order, suffix in exits:
            exit_id = order_id_for(entry.client_order_id, suffix)
            if f"OrderStatus|{exit_id}" in self.ati.values:
                continue  # placed before a reconnect
            self._orders[exit_id] = exit_order
            line = place_command(
                exit_order,
                account=self._cfg.account,
                instrument=self.instrument(entry.symbol),
                order_id=exit_id,
                oco=oco if len(exits) == 2 else "",
                strategy=self._cfg.strategy,
            )
            await self.ati.send(COMMAND, line)

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        ati = self.ati
        order = self._orders.get(order_id)
        before = parse_state(ati.values.get(f"OrderStatus|{order_id}"))
        if before in FINAL_STATES:
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.REJECTED,
                order_id=order_id,
                symbol=symbol or (order.symbol if order else "?"),
                error_code=ErrorCode.INVALID_ORDER,
                error=f"order {order_id} is already {before}; nothing sent",
            )
        await ati.send(
            COMMAND, command("CANCEL", "", "", "", "", "", "", "", "", "", order_id, "", "")
        )
        key = f"OrderStatus|{order_id}"
        with contextlib.suppress(asyncio.TimeoutError, BrokerUnavailable):
            await ati.wait_for(
                lambda v: parse_state(v.get(key)) in FINAL_STATES,
                self._cfg.order_timeout_s,
                [key],
            )
        state = parse_state(ati.values.get(key))
        name = symbol or (order.symbol if order else "?")
        if state in ("cancelled", "canceled"):
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.CANCELED,
                client_order_id=order.client_order_id if order else None,
                order_id=order_id,
                symbol=name,
            )
        if state is None:
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.REJECTED,
                order_id=order_id,
                symbol=name,
                error_code=ErrorCode.INVALID_ORDER,
                error=f"NinjaTrader knows no order {order_id}",
            )
        final = state in FINAL_STATES
        return ExecutionResult.for_cancel(
            plugin=self.name,
            status=OrderStatus.REJECTED if final else OrderStatus.UNKNOWN,
            order_id=order_id,
            symbol=name,
            error_code=ErrorCode.INVALID_ORDER if final else ErrorCode.TIMEOUT,
            error=f"order {order_id} is {state}" if final else "cancel not confirmed in time",
        )

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        order_id = order_id_for(client_order_id)
        order = self._orders.get(order_id)
        return result_from_values(
            self.ati.values,
            order_id,
            plugin=self.name,
            order=order,
            client_order_id=client_order_id,
        )

    async def close_position(self, symbol: str) -> None:
        """Flatten the account's position in ``symbol`` (``CLOSEPOSITION``).

        Raises :class:`BrokerUnavailable` when not connected.
        """
        self._require_initialized()
        await self.ati.send(
            COMMAND,
            command(
                "CLOSEPOSITION",
                self._cfg.account,
                self.instrument(symbol),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
            ),
        )

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        ati = self.ati
        instrument = self.instrument(symbol)
        if instrument not in self._subscribed:
            await ati.send(SUBSCRIBE, instrument, "1")
            self._subscribed.add(instrument)
        keys = [f"MarketData|{instrument}|{code}" for code in _MARKET_DATA.values()]
        try:
            await ati.wait_for(lambda v: any(k in v for k in keys), self._cfg.order_timeout_s, keys)
        except asyncio.TimeoutError:
            raise BrokerUnavailable(f"no market data for {instrument} from NinjaTrader") from None

        def price(kind: str) -> Decimal | None:
            text = ati.values.get(f"MarketData|{instrument}|{_MARKET_DATA[kind]}")
            try:
                value = Decimal(text) if text else None
            except ArithmeticError:
                return None
            return value if value is not None and value.is_finite() and value > 0 else None

        return MarketData(symbol=symbol, bid=price("bid"), ask=price("ask"), last=price("last"))

    async def _health_check(self) -> HealthStatus:
        ati = self.ati
        started = time.perf_counter()
        if not ati.connected:
            return HealthStatus(healthy=False, detail="not connected; reconnecting")
        if ati.values.get("ATI", "").lower() != "true":
            return HealthStatus(healthy=False, detail="connected, but ATI is not ready")
        return HealthStatus(
            healthy=True,
            latency_ms=(time.perf_counter() - started) * 1000,
            detail=f"{self._cfg.host}:{self._cfg.port}, account {self._cfg.account}",
        )

    async def _positions(self) -> list[Position]:
        account = self._cfg.account
        reverse = {v: k for k, v in self._cfg.symbols.items()}
        result = []
        for key, value in list(self.ati.values.items()):
            parts = key.split("|")
            if parts[0] != "MarketPosition" or len(parts) != 3 or parts[2] != account:
                continue
            try:
                quantity = Decimal(value)
                average = Decimal(self.ati.values.get(f"AvgEntryPrice|{parts[1]}|{account}", "0"))
            except ArithmeticError:
                continue
            if quantity:
                result.append(
                    Position(
                        symbol=reverse.get(parts[1], parts[1]),
                        quantity=quantity,
                        average_price=average if average > 0 else None,
                        account=account,
                    )
                )
        return sorted(result, key=lambda p: p.symbol)
