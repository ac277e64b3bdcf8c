"""A partly filled order that then ended is canceled with its fill, never ``filled``.

ccxt's unified order status ``closed`` only means "no longer open" (ccxt Manual, Order
structure: ``filled``/``remaining`` say how much traded). ccxt bybit.py
``parse_order_status`` maps Bybit's ``PartiallyFilledCanceled`` to ``closed``; Bybit v5
"Enum Definitions", orderStatus: "PartiallyFilledCanceled: Only spot has this order
status" (the rest of the order was cancelled). The venue below answers as Bybit's v5 docs
show ("Place Order": ids only; "Get Open & Closed Orders", /v5/order/realtime, lists
recent closed orders too), through a real ccxt bybit object.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fake_venues import started
from markets import ccxt_market, exchange_with

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec_ccxt.mapping import _status, to_result
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse, attach_session

SPOT = "BTC/USDT"


def _bybit_order(**fields: Any) -> dict[str, Any]:
    # One order of Bybit's "Get Open & Closed Orders" list (v5), an IOC limit sell of 1
    # BTC that took 0.4 at an average 50010 before the rest was cancelled.
    order = {
        "orderId": "1789",
        "orderLinkId": "ioc1",
        "symbol": "BTCUSDT",
        "price": "50000",
        "qty": "1",
        "side": "Sell",
        "orderStatus": "PartiallyFilledCanceled",
        "avgPrice": "50010",
        "cumExecQty": "0.4",
        "cumExecValue": "20004",
        "cumExecFee": "20.004",
        "leavesQty": "0",
        "leavesValue": "0",
        "timeInForce": "IOC",
        "orderType": "Limit",
        "isLeverage": "0",
        "positionIdx": 0,
        "reduceOnly": False,
        "createdTime": "1700000000000",
        "updatedTime": "1700000000100",
        "triggerPrice": "0",
        "takeProfit": "0",
        "stopLoss": "0",
        "cancelType": "UNKNOWN",
        "rejectReason": "EC_NoError",
    }
    order.update(fields)
    return order


class BybitSpot:
    """Bybit v5 as its docs show it: /v5/order/create acknowledges with ids only, the
    order lists answer with the order as it ended."""

    def __init__(self, order: dict[str, Any]) -> None:
        self.order = order
        self.created: list[HttpRequest] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        def ok(result: dict[str, Any]) -> HttpResponse:
            body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}}
            return HttpResponse.json({**body, "time": 1700000000200})

        if request.method == "POST" and request.path == "/v5/order/create":
            self.created.append(request)
            return ok({"orderId": self.order["orderId"], "orderLinkId": self.order["orderLinkId"]})
        if request.path in ("/v5/order/realtime", "/v5/order/history"):
            return ok({"list": [self.order], "nextPageCursor": "", "category": "spot"})
        return HttpResponse.text("Not Found", 404)


def _exchange(venue: BybitSpot) -> Any:
    market = ccxt_market(
        SPOT,
        amount=0.000001,
        price=0.01,
        id="BTCUSDT",
        limits={"amount": {"min": 0.000048, "max": 71}, "cost": {"min": 1, "max": 2000000}},
    )
    exchange = exchange_with(
        "bybit",
        market,
        apiKey="fks-test-key",
        secret="fks-test-secret-value",
        # what ccxt would learn from /v5/user/query-api: a unified trading account
        options={"enableUnifiedAccount": True, "enableUnifiedMargin": False},
    )
    attach_session(exchange, venue.handle)
    return exchange


async def test_a_bybit_ioc_that_filled_in_part_is_canceled_with_its_fill() -> None:
    venue = BybitSpot(_bybit_order())
    plugin = await started(_exchange(venue))
    try:
        order = Order.limit(SPOT, "sell", "1", "50000", time_in_force="ioc", client_order_id="ioc1")
        placed = await plugin.execute_order(order)
        looked_up = await plugin.get_order("ioc1")
    finally:
        await plugin.close()
    assert len(venue.created) == 1
    for result in (placed, looked_up):
        assert result.status is OrderStatus.CANCELED, result
        assert (result.quantity, result.filled_quantity) == (Decimal(1), Decimal("0.4"))
        assert result.average_price == Decimal(50010)
        assert result.remaining_quantity == Decimal("0.6") and result.sent and result.success


async def test_a_bybit_order_that_filled_whole_is_still_filled() -> None:
    whole = _bybit_order(orderStatus="Filled", cumExecQty="1", cumExecValue="50010")
    venue = BybitSpot(whole)
    plugin = await started(_exchange(venue))
    try:
        order = Order.limit(SPOT, "sell", "1", "50000", time_in_force="ioc", client_order_id="ioc1")
        placed = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert (placed.status, placed.filled_quantity) == (OrderStatus.FILLED, Decimal(1))


def _closed(**fields: Any) -> dict[str, Any]:
    return {"id": "9", "symbol": SPOT, "side": "sell", "status": "closed", **fields}


def test_closed_short_of_its_amount_is_canceled_and_keeps_its_fill_and_price() -> None:
    # ccxt kucoin.py maps KuCoin's '6' ("partial canceled") to closed, as bybit does.
    result = to_result(_closed(amount=1, filled=0.4, average=50010), plugin="ccxt")
    assert result.status is OrderStatus.CANCELED
    assert (result.filled_quantity, result.average_price) == (Decimal("0.4"), Decimal(50010))
    ExecutionResult.model_validate(result.model_dump())
    whole = to_result(_closed(amount=1, filled=1, average=50010), plugin="ccxt")
    assert whole.status is OrderStatus.FILLED
    # the amount from the order sent, when ccxt has none
    order = Order.limit(SPOT, "sell", "2", "50000")
    short = to_result(_closed(filled=1, average=50010), plugin="ccxt", order=order)
    assert (short.status, short.quantity) == (OrderStatus.CANCELED, Decimal(2))
    # no amount anywhere: nothing to fall short of
    bare = to_result(_closed(filled=1, average=50010), plugin="ccxt", symbol=SPOT)
    assert bare.status is OrderStatus.FILLED


def test_a_buy_by_quote_cost_that_closed_is_filled_whatever_its_base_fill() -> None:
    # A market buy sent as a quote cost: its base fill moves with the price, so a fill
    # below the base amount asked is no shortfall (mapping.to_result's quote_cost).
    raw = _closed(side="buy", amount=1, filled=0.99, average=60000)
    result = to_result(raw, plugin="ccxt", quote_cost=Decimal(60000))
    assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, Decimal("0.99"))
    assert to_result(raw, plugin="ccxt").status is OrderStatus.CANCELED


def test_the_status_rule_itself() -> None:
    one, two = Decimal(1), Decimal(2)
    assert _status("closed", one, two) is OrderStatus.CANCELED
    assert _status("closed", one, two, True) is OrderStatus.FILLED
    assert _status("closed", two, two) is OrderStatus.FILLED
    assert _status("closed", Decimal(0), two, True) is OrderStatus.CANCELED
    assert _status("closed", one, None) is OrderStatus.FILLED
    assert _status("CLOSED", one, two) is OrderStatus.CANCELED
