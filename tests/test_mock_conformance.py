from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.testing import ConformanceTarget, PluginConformance


class TestMockConformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        broker = MockBroker(cash=100_000)
        broker.set_price("BTC/USDT", bid=64_990, ask=65_010)
        plugin = MockPlugin(broker=broker)
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="BTC/USDT",
            quantity=Decimal("0.01"),
            resting_limit_price=lambda side: Decimal(1000 if side is OrderSide.BUY else 1_000_000),
            stop_price=lambda side: Decimal(1_000_000 if side is OrderSide.BUY else 1000),
            rejected_order=lambda: Order.market("BTC/USDT", "buy", 100),
            expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
            faults=broker,
        )
