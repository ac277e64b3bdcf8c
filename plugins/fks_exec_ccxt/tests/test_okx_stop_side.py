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
    assert (result.error or "").lower().count("nothing was sent") == 1  # said once
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


class _Ticker:
    """An exchange object whose only read is ``fetch_ticker`` (what the check uses)."""

    id = "okx"

    def __init__(self, answer: dict[str, object] | Exception) -> None:
        self.answer = answer

    async def fetch_ticker(self, symbol: str) -> dict[str, object]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("side", "stop", "refused"),
    [
        ("buy", "99.5", True),
        ("buy", "100.5", False),
        ("sell", "99.5", True),
        ("sell", "98.5", False),
    ],
)
async def test_without_a_last_price_a_stop_is_checked_against_its_own_side_of_the_book(
    side: str, stop: str, refused: bool
) -> None:
    from fks_exec.errors import OrderDenied
    from fks_exec_ccxt.stop_side import check_stop_side

    exchange = _Ticker({"last": None, "bid": 99, "ask": 100})  # a buy meets the ask
    order = Order.stop(LINEAR, side, "1", stop)
    if refused:
        with pytest.raises(OrderDenied, match=f"last price {100 if side == 'buy' else 99}:"):
            await check_stop_side(exchange, LINEAR, order)
    else:
        await check_stop_side(exchange, LINEAR, order)


async def test_a_failed_ticker_read_sends_nothing_and_says_why() -> None:
    from fks_exec_ccxt.stop_side import check_stop_side

    exchange = _Ticker(TimeoutError("read timed out"))
    with pytest.raises(BrokerUnavailable, match=r"no price for .* \(read timed out\); nothing"):
        await check_stop_side(exchange, LINEAR, Order.stop(LINEAR, "sell", "1", "59000"))
