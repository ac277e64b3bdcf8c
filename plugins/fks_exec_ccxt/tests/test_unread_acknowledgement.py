"""An order the venue acknowledged with ids only, whose read-back is lost, is ``unknown``.

OKX and Kraken answer a new order with its ids and no state; the plugin reads the order
back (by id, then by client id). When every read fails, the ids-only answer says
nothing of a fill: the result is ``unknown`` with ``sent=True`` and the venue's order id,
never ``accepted`` with 0 filled (a market order that filled would read as resting).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fake_venues import quoted_kraken, quoted_okx, started
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus

_READS = {
    # every read-back request of each venue has one of these in its path
    "okx": ("trade/order",),
    "kraken": ("QueryOrders", "OpenOrders", "ClosedOrders"),
}
_ORDERS = {
    "okx": ("BTC/USDT:USDT", "3", "BTC-USDT-SWAP"),
    "kraken": ("BTC/USD", "0.01", "XBTUSD"),
}


async def _one(venue_name: str, faults: list[tuple[str, int]]) -> tuple[Any, Any, list[Any]]:
    venue: Any = quoted_okx() if venue_name == "okx" else quoted_kraken()
    plugin = await started(venue.exchange())
    symbol, quantity, _ = _ORDERS[venue_name]
    await plugin.market(symbol)
    reads = _READS[venue_name]
    for kind, which in faults:
        venue.fail_next_request(kind, path=reads[which % len(reads)], after_venue_acted=True)
    try:
        result = await plugin.execute_order(
            Order.market(symbol, "buy", quantity, client_order_id="ack1")
        )
    finally:
        await plugin.close()
    return venue, result, venue.orders()


async def test_okx_every_read_back_lost_is_unknown_and_sent() -> None:
    venue, result, orders = await _one("okx", [("reset", 0)] * 4)
    assert venue.position("BTC-USDT-SWAP") == 3  # the venue filled it
    assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
    assert result.order_id == orders[0].ord_id
    assert "get_order('ack1')" in (result.error or "")


async def test_kraken_every_read_back_lost_is_unknown_and_sent() -> None:
    _, result, orders = await _one("kraken", [("read_timeout", i) for i in range(3)])
    assert [o.status for o in orders] == ["closed"]  # the venue filled it
    assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
    assert result.order_id is not None
    assert "get_order('ack1')" in (result.error or "")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    venue_name=st.sampled_from(sorted(_READS)),
    faults=st.lists(
        st.tuples(st.sampled_from(["reset", "read_timeout", "refused"]), st.integers(0, 2)),
        max_size=5,
    ),
)
def test_a_filled_acknowledged_order_is_never_reported_resting(
    venue_name: str, faults: list[tuple[str, int]]
) -> None:
    _, result, _ = asyncio.run(_one(venue_name, faults))
    # The venue filled the order: the result says so, or says it does not know.
    if result.status is OrderStatus.FILLED:
        assert result.filled_quantity == result.quantity
    else:
        assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True), result
        assert result.order_id is not None
