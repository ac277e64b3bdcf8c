"""The ``mock`` plugin: the :class:`MockBroker` simulator behind the plugin interface."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from fks_exec.config import PluginConfig
from fks_exec.errors import BrokerUnavailable
from fks_exec.mock.broker import MockBroker
from fks_exec.mock.threads import bind_to_loop
from fks_exec.models import ExecutionResult, HealthStatus, MarketData, Order, Position
from fks_exec.plugin import Capability, ExecutionPlugin

__all__ = ["MockConfig", "MockPlugin"]


class MockConfig(PluginConfig):
    """Settings of the mock broker (``FKS_EXEC_MOCK_<FIELD>``)."""

    cash: Decimal = Field(default=Decimal(1_000_000), ge=0, le=10**15, allow_inf_nan=False)
    """Starting cash in ``currency``."""
    currency: str = "USD"
    """Account (quote) currency, for display."""
    slippage_bps: Decimal = Field(default=Decimal(0), ge=0, le=10_000, allow_inf_nan=False)
    """Market and triggered-stop fills move this many basis points against the order."""
    maker_fee_bps: Decimal = Field(default=Decimal(0), ge=0, le=10_000, allow_inf_nan=False)
    """Fee on fills of resting orders, in basis points of the fill's value."""
    taker_fee_bps: Decimal = Field(default=Decimal(0), ge=0, le=10_000, allow_inf_nan=False)
    """Fee on fills that take liquidity, in basis points of the fill's value."""
    leverage: Decimal = Field(default=Decimal(1), gt=0, le=1_000, allow_inf_nan=False)
    """Buying power is equity times this."""
    latency_ms: float = Field(default=0.0, ge=0, le=60_000, allow_inf_nan=False)
    """Fixed delay of every broker call."""
    latency_jitter_ms: float = Field(default=0.0, ge=0, le=60_000, allow_inf_nan=False)
    """Extra random delay, up to this much, drawn from ``seed``."""
    seed: int = 0
    """Seed of the latency jitter, so runs repeat."""
    prices: dict[str, Annotated[Decimal, Field(gt=0, le=10**15, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    """Starting quotes as ``{symbol: last price}`` (JSON in the variable)."""
    history_limit: int = Field(default=100_000, ge=1, le=10_000_000)
    """Finished orders and fills remembered; older ones are forgotten."""


class MockPlugin(ExecutionPlugin[MockConfig]):
    """A paper broker for tests and demos; its simulator is :attr:`broker`.

    Drive it from tests through ``plugin.broker`` (``set_price``, ``reject_next``,
    ``fail_next_with``, ``disconnect``, records of orders and fills). Pass ``broker=``
    to share a simulator you built yourself.

    The broker is safe to drive from another thread once the plugin has connected:
    its public methods called from a thread other than the event loop's run on the
    loop's thread (see :mod:`fks_exec.mock.threads`), so quotes may move from a
    thread while a :class:`~fks_exec.SyncExecutor` sends orders.
    """

    name: ClassVar[str] = "mock"
    config_model: ClassVar[type[MockConfig]] = MockConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self, broker: MockBroker | None = None) -> None:
        super().__init__()
        self.broker = broker if broker is not None else MockBroker()

    async def _connect(self, config: MockConfig) -> None:
        broker = self.broker
        # Only what was set (keyword or variable) is applied, so a broker a test built
        # and configured itself keeps its own cash, fees and quotes.
        given = config.model_fields_set
        if "cash" in given and not broker.fills:
            broker.cash = config.cash
        for name in (
            "currency",
            "slippage_bps",
            "maker_fee_bps",
            "taker_fee_bps",
            "leverage",
            "history_limit",
        ):
            if name in given:
                setattr(broker, name, getattr(config, name))
        if given & {"latency_ms", "latency_jitter_ms", "seed"}:
            broker.set_latency(
                config.latency_ms / 1000, config.latency_jitter_ms / 1000, seed=config.seed
            )
        for symbol, price in config.prices.items():
            broker.set_price(symbol, last=price)
        broker.reconnect()
        bind_to_loop(broker, asyncio.get_running_loop())

    async def _delay(self) -> None:
        delay = self.broker.next_delay()
        if delay:
            await asyncio.sleep(delay)

    async def _execute_order(self, order: Order) -> ExecutionResult:
        broker = self.broker
        # The class's methods, not the thread-safe wrappers bind_to_loop put on the
        # instance: this runs on the loop's thread, where the wrappers call them anyway.
        kind = type(broker)
        delay = kind.next_delay(broker)
        if delay:
            await asyncio.sleep(delay)
        return kind.submit(broker, order)

    async def _fetch_data(self, symbol: str) -> MarketData:
        await self._delay()
        self.broker.require_connected()
        try:
            return self.broker.quote(symbol)
        except KeyError as exc:
            raise BrokerUnavailable(str(exc.args[0])) from None

    async def _health_check(self) -> HealthStatus:
        await self._delay()
        if not self.broker.connected:
            return HealthStatus(healthy=False, detail="disconnected")
        return HealthStatus(
            healthy=True, detail=f"equity {self.broker.equity():.2f} {self.broker.currency}"
        )

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        await self._delay()
        return self.broker.cancel(order_id)

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        await self._delay()
        self.broker.require_connected()
        record = self.broker.find(client_order_id)
        return None if record is None else self.broker.result(record)

    async def _positions(self) -> list[Position]:
        await self._delay()
        self.broker.require_connected()
        return self.broker.positions()

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        await self._delay()
        self.broker.require_connected()
        held = next((p.quantity for p in self.broker.positions() if p.symbol == symbol), None)
        if not held:
            return []
        size = abs(held) if quantity is None else min(quantity, abs(held))
        side = "sell" if held > 0 else "buy"
        return [await self.execute_order(Order.market(symbol, side, size, reduce_only=True))]

    def _broker_says_paper(self) -> bool:
        return True  # a simulator never trades real money
