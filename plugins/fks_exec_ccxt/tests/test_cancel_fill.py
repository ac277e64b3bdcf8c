"""A cancel's result reports what filled before it.

OKX answers a cancel with ids only, Kraken with a count: nothing of a fill. The plugin
reads the order once after the cancel, so a partly filled order is reported as such
(``canceled`` with its fill), never as ``canceled`` with 0 filled.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
from fake_venues import quoted_kraken, quoted_okx, started
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse, attach_session

_VENUES = {
    # symbol, venue id of it, quantity, the ask size unit (contracts / base)
    "okx": ("BTC/USDT:USDT", "BTC-USDT-SWAP", Decimal(5), Decimal(1)),
    "kraken": ("BTC/USD", "XBTUSD", Decimal("0.05"), Decimal("0.01")),
}


async def _cancelled(name: str, fills: int, fail_read: bool = False) -> tuple[Any, Any]:
    symbol, venue_id, quantity, unit = _VENUES[name]
    venue: Any = quoted_okx() if name == "okx" else quoted_kraken()
    size = unit * fills
    if size:
        venue.set_price(venue_id, "60000", "60000.1", "60000", ask_size=size)
    else:  # nothing at the limit: it rests unfilled
        venue.set_price(venue_id, "60010", "60010.1", "60010")
    plugin = await started(venue.exchange())
    try:
        placed = await plugin.execute_order(Order.limit(symbol, "buy", quantity, "60000.1"))
        if fail_read:

            async def lost(*args: Any) -> Any:
                raise ccxt.NetworkError("connection reset")

            plugin.exchange.fetch_order = lost
        result = await plugin.cancel_order(placed.order_id)
    finally:
        await plugin.close()
    return placed, result


@settings(max_examples=16, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(sorted(_VENUES)), fills=st.integers(0, 4))
def test_a_cancel_reports_what_filled_before_it(name: str, fills: int) -> None:
    placed, result = asyncio.run(_cancelled(name, fills))
    assert placed.filled_quantity == _VENUES[name][3] * fills
    assert result.status is OrderStatus.CANCELED and result.error is None
    assert result.filled_quantity == placed.filled_quantity
    if fills:
        assert result.average_price == Decimal("60000.1")
        assert result.quantity == placed.quantity


async def test_a_cancel_whose_outcome_cannot_be_read_is_unknown_and_says_so() -> None:
    # OKX, cancel-order: sCode 0 "only means that your cancellation request has been
    # accepted by the system server": without the read-back nothing says it ended.
    _, result = await _cancelled("okx", 2, fail_read=True)
    assert result.status is OrderStatus.UNKNOWN and result.success is False
    assert "cancel acknowledged but not confirmed" in (result.error or "")
    assert "what filled, is not known" in (result.error or "")
    assert "get_order" in (result.error or "")


async def test_a_cancel_the_venue_only_acknowledged_is_not_reported_cancelled() -> None:
    """OKX takes the cancel request and has not processed it when the plugin reads the
    order back (live): the cancel is not confirmed, and indeed the order fills later."""
    venue = quoted_okx("60010")
    exchange = venue.exchange()
    served = venue.handle

    async def acknowledge_only(request: Any) -> Any:
        if request.path == "/api/v5/trade/cancel-order":
            body = json.loads(request.body)
            data = [{"ordId": body.get("ordId", ""), "clOrdId": "", "sCode": "0", "sMsg": ""}]
            return HttpResponse.json({"code": "0", "msg": "", "data": data})
        return await served(request)

    attach_session(exchange, acknowledge_only)
    plugin = await started(exchange)
    try:
        placed = await plugin.execute_order(Order.limit("BTC/USDT:USDT", "buy", "2", "60000"))
        result = await plugin.cancel_order(placed.order_id)
        assert result.status is OrderStatus.UNKNOWN and result.success is False
        assert "okx still shows the order accepted (filled 0)" in (result.error or "")
        venue.set_price("BTC-USDT-SWAP", "59990", "60000", "59990")  # reaches the limit
        later = await plugin.get_order(placed.client_order_id)
        assert later is not None and later.status is OrderStatus.FILLED
    finally:
        await plugin.close()


async def test_a_cancelled_okx_stop_that_never_fired_filled_nothing() -> None:
    # An algo order carries no fill of its own: unfired, nothing of it filled.
    venue = quoted_okx()
    plugin = await started(venue.exchange())
    try:
        placed = await plugin.execute_order(Order.stop("BTC/USDT:USDT", "sell", "2", "59000"))
        result = await plugin.cancel_order(placed.order_id)
    finally:
        await plugin.close()
    assert (result.status, result.filled_quantity, result.error) == (
        OrderStatus.CANCELED,
        0,
        None,
    )
