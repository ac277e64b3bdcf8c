from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit, fake_exchange


class TestBinanceSpotConformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        venue = FakeBinance(balances={"USDT": "10000"})
        venue.set_price("BTCUSDT", "65000", "65001")
        plugin = CcxtPlugin(exchange=fake_exchange(venue))
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="BTC/USDT",
            quantity=Decimal("0.001"),
            resting_limit_price=lambda side: Decimal(30000 if side is OrderSide.BUY else 90000),
            stop_price=lambda side: Decimal(90000 if side is OrderSide.BUY else 30000),
            rejected_order=lambda: Order.market("BTC/USDT", "buy", "1"),
            expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
        )

    def test_stop_order_accepted_or_denied_before_sending(self) -> None:
        # Binance spot has no stop-market orders: ccxt refuses them before sending.
        async def scenario(t: ConformanceTarget) -> None:
            result = await t.plugin.execute_order(
                Order.stop_limit(t.symbol, "buy", t.quantity, stop_price=90000, price=90100)
            )
            assert result.status.value == "accepted"

        self._run(scenario)


class TestBybitLinearConformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        venue = FakeBybit(usdt="1000")
        venue.set_price("BTCUSDT", "65000", "65001")
        plugin = CcxtPlugin(exchange=fake_exchange(venue))
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="BTC/USDT:USDT",
            quantity=Decimal("0.01"),
            resting_limit_price=lambda side: Decimal(30000 if side is OrderSide.BUY else 90000),
            stop_price=lambda side: Decimal(90000 if side is OrderSide.BUY else 30000),
            rejected_order=lambda: Order.market("BTC/USDT:USDT", "buy", "1"),
            expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
        )
