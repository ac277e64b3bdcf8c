"""The plugin's conformance suite against the reference Kraken fake (issue 16).

The fake was written from Kraken's docs, not from the plugin; here the shipped
:class:`fks_exec.testing.PluginConformance` drives the plugin on it, faults included.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.kraken import FakeKraken, Rules


async def _kraken_target(rules: Rules) -> ConformanceTarget:
    venue = FakeKraken(balances={"ZUSD": "10000", "XXBT": "1"}, rules=rules)
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


class TestKrakenSpotConformance(PluginConformance):
    """The reference fake Kraken, its documented defaults, BTC/USD spot."""

    rules = Rules()

    async def make_target(self) -> ConformanceTarget:
        return await _kraken_target(self.rules)


class TestKrakenSpotConformanceInferredSwitched(TestKrakenSpotConformance):
    """Inferred behaviour switched: ids unique for ever, unknown txids omitted, no userref 0."""

    rules = Rules(cl_ord_id_unique_among="all", query_unknown_txid="omit", unset_userref=None,
                  market_remainder="rest", post_only_crossing="reject")  # fmt: skip
