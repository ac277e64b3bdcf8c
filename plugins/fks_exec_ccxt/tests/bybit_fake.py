"""A fake of the Bybit v5 endpoints a spot order through ccxt reaches, recording each.

Written from Bybit's v5 API documentation (https://bybit-exchange.github.io/docs/v5/),
never from the fks-exec plugin. Imported by name (conftest puts this folder on the path).

* every answer is ``{"retCode": 0, "retMsg": "OK", "result": ..., "retExtInfo": {},
  "time": ms}`` (v5 "Integration Guidance");
* GET ``/v5/market/tickers`` (market/tickers): ``list`` of ``{symbol, lastPrice,
  bid1Price, ask1Price, ...}``;
* GET ``/v5/user/query-api`` (user/apikey-info) and ``/v5/account/info``
  (account/account-info): the account kind ccxt asks before its first order (``uta``
  1: a unified account);
* POST ``/v5/order/create`` (order/create-order): ``triggerPrice`` makes an order
  conditional; ``triggerDirection`` is "valid for linear & inverse" only, ``orderFilter``
  ``StopOrder`` (a spot conditional order) for spot only; answers ``{orderId,
  orderLinkId}``;
* GET ``/v5/order/realtime`` (order/open-order): open orders by ``orderId``,
  ``orderLinkId`` or ``symbol``, ``orderFilter`` narrowing the kind; each order carries
  its ``triggerDirection`` (1 rise, 2 fall) and ``lastPriceOnCreated`` ("last price when
  place the order"); GET ``/v5/order/history`` (order/order-list) the same, closed too.

Signatures are not checked. Which way a spot conditional order fires is not documented:
:attr:`BybitSpot.direction` holds both readings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse

Direction = Literal["from_last", "by_side"]


@dataclass
class SpotStop:
    """A conditional order the venue took: what came in and which way it fires."""

    order_id: str
    body: dict[str, Any]
    last_on_created: Decimal
    fires_on_rise: bool


@dataclass
class BybitSpot:
    """Bybit v5 for one spot symbol (``BTCUSDT``) quoted at ``last`` / ``bid`` / ``ask``.

    ``direction`` (inferred): ``from_last`` fires a spot conditional order on a rise
    when its trigger is above the last price at creation, else on a fall; ``by_side``
    fires a buy on a rise and a sell on a fall, wherever the market was.
    """

    last: str = "60000"
    bid: str = "59999.9"
    ask: str = "60000.1"
    direction: Direction = "from_last"
    requests: list[HttpRequest] = field(default_factory=list)
    stops: list[SpotStop] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def creates(self) -> list[dict[str, Any]]:
        """The bodies of every ``/v5/order/create`` that reached the venue."""
        return [json.loads(r.body or "{}") for r in self.requests if r.path == "/v5/order/create"]

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request (the handler ccxt's session calls)."""
        self.requests.append(request)
        path = request.path
        if path == "/v5/market/tickers":
            row = {"symbol": "BTCUSDT", "lastPrice": self.last}
            row |= {"bid1Price": self.bid, "ask1Price": self.ask}
            return _ok({"category": "spot", "list": [row]})
        if path == "/v5/user/query-api":
            return _ok({"id": "1", "readOnly": 0, "uta": 1, "unified": 0})
        if path == "/v5/account/info":
            return _ok({"unifiedMarginStatus": 5, "marginMode": "REGULAR_MARGIN"})
        if path == "/v5/order/create":
            return _ok(self._create(json.loads(request.body or "{}")))
        if path in ("/v5/order/realtime", "/v5/order/history"):
            return _ok(
                {"category": "spot", "list": self._list(request.query), "nextPageCursor": ""}
            )
        return HttpResponse.json({"retCode": 10005, "retMsg": "Permission denied"})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        order_id = str(1_000_000 + len(self.orders))
        trigger = body.get("triggerPrice")
        last = Decimal(self.last)
        direction = 0
        if trigger is not None:
            rise = (
                Decimal(trigger) > last if self.direction == "from_last" else body["side"] == "Buy"
            )
            self.stops.append(SpotStop(order_id, body, last, rise))
            direction = 1 if rise else 2
        self.orders.append(
            {
                "orderId": order_id,
                "orderLinkId": body.get("orderLinkId", ""),
                "symbol": body["symbol"],
                "price": body.get("price", "0"),
                "qty": body["qty"],
                "side": body["side"],
                "orderStatus": "Untriggered" if trigger is not None else "New",
                "avgPrice": "",
                "leavesQty": body["qty"],
                "cumExecQty": "0",
                "cumExecValue": "0",
                "cumExecFee": "0",
                "timeInForce": body.get("timeInForce", "GTC"),
                "orderType": body["orderType"],
                "stopOrderType": "Stop" if trigger is not None else "",
                "triggerPrice": trigger or "0",
                "triggerDirection": direction,
                "lastPriceOnCreated": self.last,
                "orderFilter": body.get("orderFilter", "Order"),
                "createdTime": "1700000000000",
                "updatedTime": "1700000000000",
            }
        )
        return {"orderId": order_id, "orderLinkId": body.get("orderLinkId", "")}

    def _list(self, query: dict[str, str]) -> list[dict[str, Any]]:
        found = []
        for order in self.orders:
            if "orderId" in query and order["orderId"] != query["orderId"]:
                continue
            if "orderLinkId" in query and order["orderLinkId"] != query["orderLinkId"]:
                continue
            if "orderFilter" in query and order["orderFilter"] != query["orderFilter"]:
                continue
            found.append({k: v for k, v in order.items() if k != "orderFilter"})
        return found


def _ok(result: Any) -> HttpResponse:
    return HttpResponse.json(
        {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1700000000000}
    )
