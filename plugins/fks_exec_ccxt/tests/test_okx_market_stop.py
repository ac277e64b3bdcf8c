"""An OKX stop at the market price is read back, before and after it fires.

OKX writes ``ordPx`` ``-1`` for a trigger order at the market price; ccxt turns it into
``price`` -1 and a negative ``cost``, which is "no price", not a broken number. A fired
algo order is ``effective`` and names the order it placed (``ordId``): its fill and
price are read from that order.
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt
import pytest
from fake_venues import quoted_okx, started

from fks_exec import Order, OrderStatus
from fks_exec.errors import BrokerUnavailable
from fks_exec_ccxt.mapping import to_result

LINEAR = "BTC/USDT:USDT"


def test_the_market_price_marker_is_no_price() -> None:
    info = {"algoId": "1", "ordPx": "-1", "state": "live", "px": ""}
    raw = {"id": "1", "status": "open", "amount": 2.0, "filled": 0.0, "price": -1.0}
    result = to_result({**raw, "cost": -0.0, "info": info}, plugin="ccxt", venue="okx")
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.ACCEPTED,
        0,
        None,
    )


async def test_a_live_market_stop_reads_back_accepted() -> None:
    venue = quoted_okx()
    plugin = await started(venue.exchange())
    try:
        placed = await plugin.execute_order(
            Order.stop(LINEAR, "sell", "2", "59000", client_order_id="st1")
        )
        found = await plugin.get_order("st1")
    finally:
        await plugin.close()
    assert placed.status is OrderStatus.ACCEPTED
    assert found is not None and found.status is OrderStatus.ACCEPTED, found


async def test_a_fired_market_stop_reports_the_fill_of_the_order_it_placed() -> None:
    venue = quoted_okx()
    plugin = await started(venue.exchange())
    restarted = await started(venue.exchange())
    try:
        placed = await plugin.execute_order(
            Order.stop(LINEAR, "sell", "2", "59000", client_order_id="st2")
        )
        venue.set_price("BTC-USDT-SWAP", "58900", "58900.1", "58900")
        assert venue.position("BTC-USDT-SWAP") == -2  # it fired and filled
        found = await plugin.get_order("st2")
        again = await restarted.find_order("st2", {"symbol": LINEAR})
    finally:
        await plugin.close()
        await restarted.close()
    for result in (found, again):
        assert result is not None and result.status is OrderStatus.FILLED, result
        assert result.filled_quantity == 2 and result.average_price == 58900
        assert result.order_id == placed.order_id  # the stop's own id, as placed
        assert result.client_order_id == "st2"


async def test_a_fired_stop_whose_order_cannot_be_read_is_no_fill() -> None:
    venue = quoted_okx()
    plugin = await started(venue.exchange())
    try:
        await plugin.execute_order(Order.stop(LINEAR, "sell", "2", "59000", client_order_id="st3"))
        venue.set_price("BTC-USDT-SWAP", "58900", "58900.1", "58900")

        async def lost(*args: Any) -> Any:
            raise ccxt.NetworkError("okx GET /api/v5/trade/order: connection reset")

        plugin.exchange.fetch_order = lost  # the placed order's read fails
        with pytest.raises(BrokerUnavailable):
            await plugin.get_order("st3")  # never a fill ccxt inferred, without a price
    finally:
        await plugin.close()
