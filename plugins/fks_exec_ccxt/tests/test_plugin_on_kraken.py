"""The plugin against the reference fake Kraken (written from Kraken's docs, not from the
plugin): stops placed, found and cancelled, partial fills, margin positions in the base
currency, the client id as ccxt sends it (``cl_ord_id``), under every setting of the
fake's inferred behaviours (``Rules``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus
from fks_exec.plugin import Capability
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.kraken import FakeKraken, Rules

BTC = "BTC/USD"

RULE_SETTINGS = [
    Rules(),
    Rules(cl_ord_id_unique_among="all"),
    Rules(market_remainder="rest"),
    Rules(post_only_crossing="reject"),
    Rules(trigger_already_reached="reject"),
    Rules(reduce_only_overflow="reject"),
    Rules(opposite_margin_closes_first=False),
    Rules(default_fee_currency="by_side"),
    Rules(query_unknown_txid="omit"),
    Rules(unset_userref=None),
    Rules(nonce_window_ms=5_000),
]


@pytest.fixture(params=RULE_SETTINGS, ids=lambda r: repr(r)[6:60])
def venue(request: pytest.FixtureRequest) -> FakeKraken:
    fake = FakeKraken(rules=request.param)
    fake.set_price("XBTUSD", "60000", "60000.1")
    return fake


@pytest.fixture
async def kraken(venue: FakeKraken) -> AsyncIterator[CcxtPlugin]:
    plugin = CcxtPlugin(exchange=venue.exchange())
    plugin.use_env = False
    await plugin.init()
    yield plugin
    await plugin.close()


async def test_kraken_instance_declares_what_ccxt_says(kraken: CcxtPlugin) -> None:
    assert kraken.supports(Capability.STOP_ORDERS) and kraken.supports(Capability.GET_ORDER)
    # ccxt's kraken features have no attached stop loss / take profit for spot.
    assert not kraken.supports(Capability.BRACKET_ORDERS)


@pytest.mark.parametrize(
    "order",
    [
        Order.stop(BTC, "sell", "0.01", "58000"),
        Order.stop_limit(BTC, "buy", "0.01", stop_price="61000", price="61100"),
    ],
)
async def test_a_stop_is_placed_found_and_cancelled(
    kraken: CcxtPlugin, venue: FakeKraken, order: Order
) -> None:
    placed = await kraken.execute_order(order)
    assert placed.status is OrderStatus.ACCEPTED and placed.order_id, placed.error
    found = await kraken.get_order(order.client_order_id)
    assert found is not None and found.order_id == placed.order_id
    assert found.status is OrderStatus.ACCEPTED
    canceled = await kraken.cancel_order(placed.order_id)
    assert canceled.status is OrderStatus.CANCELED, canceled.error
    assert venue.order_arrivals() == {order.client_order_id: 1}


async def test_a_stop_fires_the_way_its_side_means(kraken: CcxtPlugin, venue: FakeKraken) -> None:
    order = Order.stop(BTC, "sell", "0.01", "58000")
    await kraken.execute_order(order)
    venue.set_price("XBTUSD", "59000", "59000.1")  # above the trigger: a sell stop waits
    waiting = await kraken.get_order(order.client_order_id)
    assert waiting is not None and waiting.status is OrderStatus.ACCEPTED
    venue.set_price("XBTUSD", "57900", "57900.1")  # through it: it fires and fills
    fired = await kraken.get_order(order.client_order_id)
    assert fired is not None and fired.status is OrderStatus.FILLED
    assert fired.filled_quantity == Decimal("0.01")


async def test_a_partial_fill_is_reported_then_completed(
    kraken: CcxtPlugin, venue: FakeKraken
) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.004")
    order = Order.limit(BTC, "buy", "0.01", "60000.1")
    placed = await kraken.execute_order(order)
    assert placed.status is OrderStatus.PARTIALLY_FILLED, placed
    assert placed.filled_quantity == Decimal("0.004") and placed.quantity == Decimal("0.01")
    venue.set_price("XBTUSD", "59990", "59990.1")  # the rest fills as the ask moves down
    done = await kraken.get_order(order.client_order_id)
    assert done is not None and done.status is OrderStatus.FILLED
    assert done.filled_quantity == Decimal("0.01")


async def test_a_margin_position_is_in_the_base_currency(
    kraken: CcxtPlugin, venue: FakeKraken
) -> None:
    opened = await kraken.execute_order(Order.market(BTC, "sell", "0.02", params={"leverage": 2}))
    assert opened.status is OrderStatus.FILLED, opened.error
    (position,) = await kraken.positions()
    assert (position.symbol, position.quantity, position.unit) == (BTC, Decimal("-0.02"), "base")
    assert position.contract_size is None


async def test_the_client_id_comes_back_as_sent(kraken: CcxtPlugin, venue: FakeKraken) -> None:
    order = Order.limit(BTC, "buy", "0.01", "50000")
    placed = await kraken.execute_order(order)
    (held,) = venue.orders()
    assert held.spec.cl_ord_id == order.client_order_id  # ccxt sends it as cl_ord_id
    other = CcxtPlugin(exchange=venue.exchange())  # a new process, with the journal's hints
    other.use_env = False
    await other.init()
    try:
        found = await other.find_order(order.client_order_id, kraken.lookup_hints(order, placed))
    finally:
        await other.close()
    assert found is not None and found.order_id == placed.order_id


async def test_market_orders_are_valued_at_their_own_side_cached_per_side(
    venue: FakeKraken,
) -> None:
    plugin = CcxtPlugin(exchange=venue.exchange())
    plugin.use_env = False
    await plugin.init({"ticker_cache_ms": 60_000})
    try:
        for side in ("buy", "buy", "sell", "sell"):
            result = await plugin.execute_order(Order.market(BTC, side, "0.01"))
            assert result.status is OrderStatus.FILLED, result.error
        tickers = [r for r in plugin.exchange.session.requests if r.path.endswith("/Ticker")]
    finally:
        await plugin.close()
    # Kraken has a minimum cost, so each market order is valued at a fresh ticker: the
    # ask for buys, the bid for sells, each reused for ticker_cache_ms.
    assert len(tickers) == 2
    assert plugin._tickers.get((BTC, "buy")) == Decimal("60000.1")
    assert plugin._tickers.get((BTC, "sell")) == Decimal("60000")


async def test_an_id_the_venue_already_holds_is_answered_with_that_order(
    kraken: CcxtPlugin, venue: FakeKraken
) -> None:
    # A second process without the journal sends an id whose order is open at Kraken: the
    # venue refuses the duplicate with a text ccxt does not classify (a bare
    # ExchangeError). The order exists and may fill: the answer is that order, never
    # "rejected".
    order = Order.limit(BTC, "buy", "0.01", "50000")
    first = await kraken.execute_order(order)
    assert first.status is OrderStatus.ACCEPTED, first.error
    other = CcxtPlugin(exchange=venue.exchange())
    other.use_env = False
    await other.init()
    try:
        again = await other.execute_order(order)
    finally:
        await other.close()
    assert again.status is OrderStatus.ACCEPTED, again.error
    assert again.order_id == first.order_id
    assert len(venue.orders()) == 1  # the venue refused the second; one order exists
