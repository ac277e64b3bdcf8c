"""A Bybit cancel is read back the way ccxt documents, and reports what filled.

Bybit v5 (https://bybit-exchange.github.io/docs/v5/), every answer
``{"retCode": 0, "retMsg": "OK", "result": ..., "retExtInfo": {}, "time": ms}``:

* POST ``/v5/order/cancel`` (order/cancel-order): ``result`` is ``{orderId, orderLinkId}``
  only, nothing of a fill;
* GET ``/v5/order/history`` (order/order-list): closed orders, ``orderStatus``
  ``Cancelled`` with ``cumExecQty``;
* GET ``/v5/order/realtime`` (order/open-order): open orders. Whether it also lists one
  just cancelled depends on ``openOnly`` and the account (the page's "query recent 500
  closed status records"): the fake's ``realtime_lists_closed`` holds both readings.

ccxt bybit.py ``fetch_order`` raises ArgumentsRequired on a unified account unless
``params["acknowledged"]`` ("we suggest to use fetchOpenOrder or fetchClosedOrder").
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from markets import ccxt_market, exchange_with

from fks_exec import Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse, attach_session

SWAP = "BTC/USDT:USDT"


def _ok(result: Any) -> HttpResponse:
    body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1}
    return HttpResponse.json(body)


class Bybit:
    """One linear order, placed then cancelled, having filled ``filled_before`` first."""

    def __init__(
        self, filled_before: str, realtime_lists_closed: bool, cancel_at_once: bool = True
    ) -> None:
        self.filled_before = filled_before
        self.realtime_lists_closed = realtime_lists_closed
        self.cancel_at_once = cancel_at_once
        """False: the cancel is only accepted (cancel-order answers with the ids "once the
        request is accepted"), the order still open when read back."""
        self.order: dict[str, Any] | None = None
        self.paths: list[str] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        self.paths.append(request.path)
        path = request.path
        if path == "/v5/user/query-api":
            return _ok({"id": "1", "readOnly": 0, "uta": 1, "unified": 0})
        if path == "/v5/account/info":
            return _ok({"unifiedMarginStatus": 5, "marginMode": "REGULAR_MARGIN"})
        if path == "/v5/order/create":
            body = request.json()
            self.order = {
                "orderId": "1789",
                "orderLinkId": body.get("orderLinkId", ""),
                "symbol": body["symbol"],
                "price": body.get("price", "0"),
                "qty": body["qty"],
                "side": body["side"],
                "orderType": body["orderType"],
                "timeInForce": body.get("timeInForce", "GTC"),
                "orderStatus": "New",
                "avgPrice": "",
                "leavesQty": body["qty"],
                "cumExecQty": "0",
                "cumExecValue": "0",
                "cumExecFee": "0",
                "createdTime": "1700000000000",
                "updatedTime": "1700000000000",
            }
            return _ok({"orderId": "1789", "orderLinkId": self.order["orderLinkId"]})
        if path == "/v5/order/cancel" and self.order is not None and not self.cancel_at_once:
            return _ok({"orderId": "1789", "orderLinkId": self.order["orderLinkId"]})
        if path == "/v5/order/cancel" and self.order is not None:
            qty = self.order["qty"]
            self.order |= {"orderStatus": "Cancelled", "cumExecQty": self.filled_before}
            self.order["leavesQty"] = "0"
            self.order["avgPrice"] = "50000" if self.filled_before != "0" else ""
            self.order["qty"] = qty
            return _ok({"orderId": "1789", "orderLinkId": self.order["orderLinkId"]})
        if path in ("/v5/order/realtime", "/v5/order/history"):
            return _ok({"category": "linear", "list": self._list(path), "nextPageCursor": ""})
        return HttpResponse.json({"retCode": 10005, "retMsg": "Permission denied"})

    def _list(self, path: str) -> list[dict[str, Any]]:
        if self.order is None:
            return []
        live = self.order["orderStatus"] == "New"
        if path == "/v5/order/history":
            return [] if live else [self.order]
        return [self.order] if live or self.realtime_lists_closed else []


@pytest.mark.parametrize("realtime_lists_closed", [False, True])
@pytest.mark.parametrize("filled_before", ["0", "0.004"])
async def test_a_bybit_cancel_reports_canceled_with_what_filled(
    filled_before: str, realtime_lists_closed: bool
) -> None:
    venue = Bybit(filled_before, realtime_lists_closed)
    market = ccxt_market(SWAP, id="BTCUSDT", amount=0.001, price=0.1)
    exchange = exchange_with("bybit", market, apiKey="k" * 18, secret="x" * 36)
    attach_session(exchange, venue.handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    try:
        placed = await plugin.execute_order(
            Order.limit(SWAP, "buy", "0.01", "50000", client_order_id="bb-cancel")
        )
        assert placed.order_id == "1789", placed.error
        result = await plugin.cancel_order("1789", symbol=SWAP)
    finally:
        await plugin.close()
    assert result.success, result.error
    assert result.filled_quantity == Decimal(filled_before)
    if filled_before == "0":
        assert result.status is OrderStatus.CANCELED
    assert venue.paths.count("/v5/order/cancel") == 1


async def test_a_bybit_cancel_only_accepted_is_not_confirmed() -> None:
    venue = Bybit("0", realtime_lists_closed=False, cancel_at_once=False)
    market = ccxt_market(SWAP, id="BTCUSDT", amount=0.001, price=0.1)
    exchange = exchange_with("bybit", market, apiKey="k" * 18, secret="x" * 36)
    attach_session(exchange, venue.handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    try:
        await plugin.execute_order(
            Order.limit(SWAP, "buy", "0.01", "50000", client_order_id="bb-pending")
        )
        mark = len(venue.paths)
        result = await plugin.cancel_order("1789", symbol=SWAP)
    finally:
        await plugin.close()
    # Still open in the venue's open orders, absent from its history: not cancelled yet.
    assert result.status is OrderStatus.UNKNOWN and not result.success, result
    assert "not confirmed" in (result.error or "")
    # read among closed orders (not there), then among open ones (there, still New)
    after = venue.paths[mark:]
    assert after[0] == "/v5/order/cancel" and after[-1] == "/v5/order/realtime", after
    assert "/v5/order/history" in after
