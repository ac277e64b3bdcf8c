from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing.reference import FakeMetaTrader5


class _Mt5Conformance(PluginConformance):
    account = "hedging"

    async def make_target(self) -> ConformanceTarget:
        terminal = getattr(FakeMetaTrader5, self.account)()
        terminal.set_market_open("GER40", False)
        plugin = Mt5Plugin(mt5=terminal)
        plugin.use_env = False
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="EURUSD",
            quantity=Decimal("0.01"),
            resting_limit_price=lambda side: Decimal("1.0" if side is OrderSide.BUY else "1.2"),
            stop_price=lambda side: Decimal("1.2" if side is OrderSide.BUY else "1.0"),
            rejected_order=lambda: Order.market("GER40", "buy", "1"),
            expected_rejection=ErrorCode.MARKET_CLOSED,
            faults=terminal,
        )


class TestMt5HedgingConformance(_Mt5Conformance):
    account = "hedging"


class TestMt5NettingConformance(_Mt5Conformance):
    account = "netting"
