"""The plugin under the core conformance suite, on the reference fakes of OKX and Kraken,
under every setting of the behaviours each fake infers (its ``Rules``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.testing.kraken import Rules as KrakenRules
from fks_exec_ccxt.testing.okx import FakeOkx, Rules


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


class TestKrakenSpotConformance(PluginConformance):
    """The reference fake Kraken (its documented defaults), spot BTC/USD."""

    rules = KrakenRules()

    async def make_target(self) -> ConformanceTarget:
        venue = FakeKraken(balances={"ZUSD": "10000", "XXBT": "1"}, rules=self.rules)
        venue.set_price("XBTUSD", "60000", "60000.1", "60000")
        plugin = CcxtPlugin(exchange=venue.exchange())
        plugin.use_env = False
        await plugin.init()
        return ConformanceTarget(
            plugin=plugin,
            symbol="BTC/USD",
            quantity=Decimal("0.01"),
            resting_limit_price=lambda side: Decimal(30000 if side is OrderSide.BUY else 90000),
            stop_price=lambda side: Decimal(90000 if side is OrderSide.BUY else 30000),
            rejected_order=lambda: Order.market("BTC/USD", "buy", "100"),
            expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
            faults=venue,
        )


class TestKrakenConformanceIdsUniqueForever(TestKrakenSpotConformance):
    """Inferred behaviours switched: cl_ord_id unique among all orders, market
    remainders rest, post-only refused, reached triggers refused."""

    rules = KrakenRules(
        cl_ord_id_unique_among="all",
        market_remainder="rest",
        post_only_crossing="reject",
        trigger_already_reached="reject",
    )


class TestKrakenConformanceOtherInferences(TestKrakenSpotConformance):
    """Inferred behaviours switched: unknown txids omitted, unset userref null, fees by
    side, reduce-only overflow refused, margin orders kept apart."""

    rules = KrakenRules(
        query_unknown_txid="omit",
        unset_userref=None,
        default_fee_currency="by_side",
        reduce_only_overflow="reject",
        opposite_margin_closes_first=False,
        nonce_window_ms=5_000,
    )
