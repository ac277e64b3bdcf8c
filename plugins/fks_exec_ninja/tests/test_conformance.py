from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.testing import FakeNinjaTrader


class TestNinjaConformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        server = FakeNinjaTrader()
        await server.start()
        plugin = NinjaPlugin()
        plugin.use_env = False
        await plugin.init({"port": server.port, "order_timeout_s": 1})
        return ConformanceTarget(
            plugin=plugin,
            symbol="ES 12-25",
            quantity=Decimal(1),
            resting_limit_price=lambda side: Decimal(4000 if side is OrderSide.BUY else 6000),
            stop_price=lambda side: Decimal(6000 if side is OrderSide.BUY else 4000),
            rejected_order=lambda: Order.market("NOPE 12-25", "buy", 1),
            expected_rejection=ErrorCode.REJECTED,
            cleanup=server.stop,
        )
