"""A stop the market has already crossed is refused on OKX, whichever way OKX turns out
to fire a ``trigger`` order (the fake's inferred ``Rules.trigger_direction``).

docs/plugins/ccxt.md, *Stops*: OKX's trigger order has no direction, so a sell stop
above the last price could sell on a rise. The plugin refuses such a stop before
sending; every stop it does place fires in the stop's own direction.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_plugin_on_okx import LINEAR, quote, started

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec_ccxt.testing.okx import FakeOkx, Rules

DIRECTIONS = ["from_last", "by_side"]


def venue_with(rule: str, last: str = "60000") -> FakeOkx:
    fake = FakeOkx(balances={"USDT": "100000", "BTC": "10"}, rules=Rules(trigger_direction=rule))  # type: ignore[arg-type]
    quote(fake, last)
    return fake


@pytest.mark.parametrize("rule", DIRECTIONS)
@pytest.mark.parametrize(
    ("side", "stop"),
    [("sell", "60500"), ("sell", "60000"), ("buy", "59500"), ("buy", "60000")],
)
async def test_a_stop_already_crossed_is_refused_before_sending(
    rule: str, side: str, stop: str
) -> None:
    venue = venue_with(rule)
    plugin = await started(venue)
    try:
        result = await plugin.execute_order(Order.stop(LINEAR, side, "1", stop))
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED and result.sent is False
    assert result.error_code is ErrorCode.INVALID_ORDER
    assert "last price 60000" in (result.error or "")
    assert f"a {side} stop must be {'below' if side == 'sell' else 'above'}" in (result.error or "")
    assert venue.algo_orders() == [] and venue.orders() == []


@pytest.mark.parametrize("rule", DIRECTIONS)
async def test_a_stop_short_of_the_market_is_placed_and_fires_its_own_way(rule: str) -> None:
    venue = venue_with(rule)
    plugin = await started(venue)
    try:
        sell = await plugin.execute_order(Order.stop(LINEAR, "sell", "1", "59000"))
        buy = await plugin.execute_order(Order.stop(LINEAR, "buy", "1", "61000"))
    finally:
        await plugin.close()
    assert sell.status is buy.status is OrderStatus.ACCEPTED, (sell.error, buy.error)
    fires = {a.side: a.fires_on_rise for a in venue.algo_orders()}
    assert fires == {"sell": False, "buy": True}


async def test_no_price_to_check_against_sends_nothing() -> None:
    venue = FakeOkx(balances={"USDT": "100000"})  # nothing quoted: no last price
    plugin = await started(venue)
    try:
        with pytest.raises(BrokerUnavailable, match=r"no last price .* nothing was sent"):
            await plugin.execute_order(Order.stop(LINEAR, "sell", "1", "59000"))
    finally:
        await plugin.close()
    assert venue.algo_orders() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule=st.sampled_from(DIRECTIONS),
    side=st.sampled_from(["buy", "sell"]),
    offset=st.integers(-300, 300),
)
def test_every_stop_placed_fires_in_its_own_direction(rule: str, side: str, offset: int) -> None:
    """Stops a little either side of the last price: each is refused, or placed so that
    OKX fires it on a rise for a buy and on a fall for a sell."""
    import asyncio

    async def scenario() -> None:
        venue = venue_with(rule)
        plugin = await started(venue)
        try:
            stop = Decimal(60000 + offset * 10)
            result = await plugin.execute_order(Order.stop(LINEAR, side, "1", stop))
        finally:
            await plugin.close()
        placed = venue.algo_orders()
        if result.sent is False:
            assert placed == []
            assert (stop <= 60000) if side == "buy" else (stop >= 60000)
        else:
            assert [a.fires_on_rise for a in placed] == [side == "buy"]

    asyncio.run(scenario())
