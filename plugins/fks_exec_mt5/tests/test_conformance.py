from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing import FakeMetaTrader5


class TestMt5Conformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        plugin = Mt5Plugin(mt5=FakeMetaTrader5())
        plugin.use_env = False
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="EURUSD",
            quantity=Decimal("0.01"),
            resting_limit_price=lambda side: Decimal("1.0" if side is OrderSide.BUY else "1.2"),
            stop_price=lambda side: Decimal("1.2" if side is OrderSide.BUY else "1.0"),
            rejected_order=lambda: Order.market("US500", "buy", "1"),
            expected_rejection=ErrorCode.MARKET_CLOSED,
        )
