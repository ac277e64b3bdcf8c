from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit, fake_exchange
from fks_exec_ccxt.testing.okx import FakeOkx, Rules


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


def _okx_target(
    plugin: CcxtPlugin, venue: FakeOkx, symbol: str, quantity: str
) -> ConformanceTarget:
    return ConformanceTarget(
        plugin=plugin,
        symbol=symbol,
        quantity=Decimal(quantity),
        resting_limit_price=lambda side: Decimal(30000 if side is OrderSide.BUY else 90000),
        stop_price=lambda side: Decimal(90000 if side is OrderSide.BUY else 30000),
        rejected_order=lambda: Order.market(symbol, "buy", "100000"),
        expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
        faults=venue,
    )


async def _okx_plugin(rules: Rules, **config: Any) -> tuple[CcxtPlugin, FakeOkx]:
    venue = FakeOkx(balances={"USDT": "10000", "BTC": "1"}, rules=rules)
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"):
        venue.set_price(inst_id, "60000", "60000.1", "60000")
    plugin = CcxtPlugin(exchange=venue.exchange(**config))
    plugin.use_env = False
    await plugin.init()
    return plugin, venue


class TestOkxSwapConformance(PluginConformance):
    """The reference fake OKX (its documented defaults), USDT-margined perpetual."""

    rules = Rules()

    async def make_target(self) -> ConformanceTarget:
        plugin, venue = await _okx_plugin(self.rules)
        return _okx_target(plugin, venue, "BTC/USDT:USDT", "1")


class TestOkxSwapConformanceTriggersBySide(TestOkxSwapConformance):
    """Inferred behaviour switched: a trigger fires by side, not from the last price."""

    rules = Rules(trigger_direction="by_side", reduce_only_overflow="clip")


class TestOkxSwapConformanceIdsUniqueForever(TestOkxSwapConformance):
    """Inferred behaviour switched: a client id may never be used again."""

    rules = Rules(client_id_unique_among="all", cancel_market_remainder=False)


class TestOkxSpotConformance(PluginConformance):
    """OKX spot only: holdings are balances, so no reduce-only and no close_position."""

    async def make_target(self) -> ConformanceTarget:
        plugin, venue = await _okx_plugin(Rules(), options={"fetchMarkets": {"types": ["spot"]}})
        return _okx_target(plugin, venue, "BTC/USDT", "0.01")
