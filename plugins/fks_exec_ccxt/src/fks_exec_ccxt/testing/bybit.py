"""A fake Bybit v5 API for linear (USDT) perpetuals, as ccxt's ``bybit`` class uses it.

Private requests must carry ``X-BAPI-API-KEY`` and a valid ``X-BAPI-SIGN`` (HMAC-SHA256
of timestamp + key + recv window + query or body). Answers use Bybit's envelope
(``retCode``, ``retMsg``, ``result``) and its error codes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.engine import Engine, EngineError, FakeOrder, MarketSpec, now_ms
from fks_exec_ccxt.testing.transport import FakeVenue, RecordedRequest, Response

__all__ = ["FakeBybit", "bybit_linear_info"]

_ERRORS = {
    "symbol": (10001, "params error: symbol invalid"),
    "order_type": (10001, "params error: orderType invalid"),
    "lot_size": (10001, "The number of contracts exceeds minimum limit allowed"),
    "price_filter": (10001, "params error: price invalid"),
    "notional": (110094, "Order does not meet minimum order value 5USDT"),
    "funds": (110007, "ab not enough for new order"),
    "duplicate": (110072, "OrderLinkedID is duplicate"),
    "would_trigger": (110020, "not allowed to have more than 1 order"),
    "reduce_only": (110017, "Reduce-only rule not satisfied"),
    "not_found": (110001, "order not exists or too late to cancel"),
    "api_key": (10003, "API key is invalid."),
    "signature": (10004, "error sign! origin_string[...]"),
    "timestamp": (
        10002,
        "invalid request, please check your server timestamp or recv_window param",
    ),
}

_STATUS = {
    "new": "New",
    "untriggered": "Untriggered",
    "partially_filled": "PartiallyFilled",
    "filled": "Filled",
    "canceled": "Cancelled",
    "expired": "Cancelled",
    "rejected": "Rejected",
}


def bybit_linear_info(
    base: str,
    *,
    tick: str,
    step: str,
    min_qty: str,
    max_qty: str = "1000",
    min_notional: str = "5",
) -> dict[str, Any]:
    """A linear perpetual in Bybit's ``instruments-info`` format."""
    return {
        "symbol": f"{base}USDT",
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USDT",
        "launchTime": "1584230400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
        "lotSizeFilter": {
            "maxOrderQty": max_qty,
            "minOrderQty": min_qty,
            "qtyStep": step,
            "postOnlyMaxOrderQty": max_qty,
            "maxMktOrderQty": max_qty,
            "minNotionalValue": min_notional,
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": "USDT",
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "displayName": "",
    }


DEFAULT_LINEAR = [
    bybit_linear_info("BTC", tick="0.10", step="0.001", min_qty="0.001"),
    bybit_linear_info("ETH", tick="0.01", step="0.01", min_qty="0.01"),
]


def _spec(info: dict[str, Any]) -> MarketSpec:
    lot, price = info["lotSizeFilter"], info["priceFilter"]
    return MarketSpec(
        id=info["symbol"],
        base=info["baseCoin"],
        quote=info.get("settleCoin", "USDT"),
        tick=Decimal(price["tickSize"]),
        step=Decimal(lot["qtyStep"]),
        min_qty=Decimal(lot["minOrderQty"]),
        max_qty=Decimal(lot["maxOrderQty"]),
        min_notional=Decimal(lot.get("minNotionalValue") or "0"),
        order_types=frozenset({"market", "limit"}),
    )


class FakeBybit(FakeVenue):
    """Bybit unified account trading linear perpetuals (``category=linear``)."""

    exchange_id = "bybit"

    def __init__(
        self,
        linear: list[dict[str, Any]] | None = None,
        spot: list[dict[str, Any]] | None = None,
        *,
        usdt: str | Decimal = "100000",
        api_key: str = "test-key",
        secret: str = "test-secret",
    ) -> None:
        super().__init__(api_key, secret)
        self.linear = [i for i in (linear or DEFAULT_LINEAR) if i.get("status") == "Trading"]
        self.spot = spot or []
        self.engine = Engine(
            mode="linear",
            markets={i["symbol"]: _spec(i) for i in self.linear},
            balances={"USDT": Decimal(usdt)},
        )

    def set_price(self, symbol: str, bid: str | Decimal, ask: str | Decimal) -> None:
        """Quote ``symbol`` (``BTCUSDT``) and fill what the new quote crosses."""
        self.engine.set_price(symbol, Decimal(bid), Decimal(ask))

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: RecordedRequest, raw_query: str) -> Response:
        """Answer one Bybit v5 REST request."""
        path, p = request.path, request.params
        if path == "/v5/market/instruments-info":
            listing = {"linear": self.linear, "spot": self.spot}.get(p.get("category", ""), [])
            if p.get("status") == "PreLaunch":
                listing = []
            return self._ok({"category": p.get("category"), "list": listing, "nextPageCursor": ""})
        if path == "/v5/market/time":
            now = now_ms()
            return self._ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})
        if path == "/v5/market/tickers":
            return self._ticker(p.get("symbol", ""))
        denial = self._authenticate(request, raw_query)
        if denial is not None:
            return denial
        try:
            return self._private(request)
        except EngineError as exc:
            return self._error(exc.reason)

    def _private(self, request: RecordedRequest) -> Response:
        path, p = request.path, request.params
        engine = self.engine
        if path == "/v5/asset/coin/query-info":
            return self._ok({"rows": []})
        if path == "/v5/user/query-api":
            return self._ok(
                {
                    "id": "1",
                    "readOnly": 0,
                    "uta": 1,
                    "unified": 0,
                    "permissions": {"ContractTrade": ["Order", "Position"]},
                }
            )
        if path == "/v5/account/info":
            return self._ok({"unifiedMarginStatus": 4, "marginMode": "REGULAR_MARGIN"})
        if path == "/v5/order/create":
            order = self._create(p)
            return self._ok({"orderId": order.id, "orderLinkId": order.client_id})
        if path == "/v5/order/cancel":
            order = engine.cancel(p.get("orderId"), p.get("orderLinkId"))
            return self._ok({"orderId": order.id, "orderLinkId": order.client_id})
        if path in ("/v5/order/realtime", "/v5/order/history"):
            want_open = path.endswith("realtime")
            rows = [
                self._order_json(o)
                for o in engine.orders.values()
                if o.is_open == want_open
                and p.get("symbol") in (None, o.symbol)
                and p.get("orderLinkId") in (None, o.client_id)
            ]
            return self._ok({"category": "linear", "list": rows, "nextPageCursor": ""})
        if path == "/v5/position/list":
            return self._ok({"category": "linear", "list": self._positions(), "nextPageCursor": ""})
        if path == "/v5/account/wallet-balance":
            usdt = str(engine.balances.get("USDT", Decimal(0)))
            return self._ok(
                {
                    "list": [
                        {
                            "accountType": "UNIFIED",
                            "totalEquity": usdt,
                            "coin": [
                                {
                                    "coin": "USDT",
                                    "walletBalance": usdt,
                                    "equity": usdt,
                                    "locked": "0",
                                    "availableToWithdraw": usdt,
                                }
                            ],
                        }
                    ]
                }
            )
        return Response.json(
            {
                "retCode": 10005,
                "retMsg": f"fake bybit has no {path}",
                "result": {},
                "retExtInfo": {},
                "time": now_ms(),
            },
            404,
        )

    def _ok(self, result: Any) -> Response:
        return Response.json(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms()}
        )

    def _error(self, reason: str) -> Response:
        code, message = _ERRORS[reason]
        return Response.json(
            {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": now_ms()}
        )

    def _authenticate(self, request: RecordedRequest, raw_query: str) -> Response | None:
        headers = request.headers
        if headers.get("X-BAPI-API-KEY") != self.api_key:
            return self._error("api_key")
        stamp, window = (
            headers.get("X-BAPI-TIMESTAMP", "0"),
            headers.get("X-BAPI-RECV-WINDOW", "5000"),
        )
        payload = request.body if request.method == "POST" else raw_query
        if self.sign(stamp + self.api_key + window + (payload or "")) != headers.get("X-BAPI-SIGN"):
            return self._error("signature")
        if abs(now_ms() - int(stamp)) > int(window):
            return self._error("timestamp")
        return None

    def _ticker(self, symbol: str) -> Response:
        if symbol not in self.engine.markets:
            return self._error("symbol")
        q = self.engine.quote(symbol)
        row = {
            "symbol": symbol,
            "lastPrice": str(q.last),
            "indexPrice": str(q.last),
            "markPrice": str(q.last),
            "prevPrice24h": str(q.last),
            "price24hPcnt": "0",
            "highPrice24h": str(q.ask),
            "lowPrice24h": str(q.bid),
            "volume24h": str(q.volume),
            "turnover24h": "0",
            "bid1Price": str(q.bid),
            "bid1Size": "1",
            "ask1Price": str(q.ask),
            "ask1Size": "1",
            "fundingRate": "0.0001",
            "openInterest": "0",
        }
        return self._ok({"category": "linear", "list": [row]})

    def _create(self, p: dict[str, str]) -> FakeOrder:
        if p.get("category") != "linear" or p.get("symbol") not in self.engine.markets:
            raise EngineError("symbol", "symbol invalid")
        order = FakeOrder(
            id="",
            client_id=p.get("orderLinkId") or f"bybit-{now_ms()}",
            symbol=p["symbol"],
            side="buy" if p.get("side") == "Buy" else "sell",
            type="market" if p.get("orderType") == "Market" else "limit",
            quantity=Decimal(p.get("qty", "0")),
            price=Decimal(p["price"]) if p.get("price") else None,
            trigger=Decimal(p["triggerPrice"]) if p.get("triggerPrice") else None,
            tif=p.get("timeInForce", "GTC"),
            reduce_only=str(p.get("reduceOnly", "")).lower() == "true",
            created_ms=now_ms(),
        )
        order.stop_loss = Decimal(p["stopLoss"]) if p.get("stopLoss") else None
        order.take_profit = Decimal(p["takeProfit"]) if p.get("takeProfit") else None
        return self.engine.place(order)

    def _order_json(self, o: FakeOrder) -> dict[str, Any]:
        return {
            "orderId": o.id,
            "orderLinkId": o.client_id,
            "blockTradeId": "",
            "symbol": o.symbol,
            "price": str(o.price or "0"),
            "qty": str(o.quantity),
            "side": "Buy" if o.side == "buy" else "Sell",
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": _STATUS[o.status],
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": str(o.average or ""),
            "leavesQty": str(o.quantity - o.filled),
            "leavesValue": "0",
            "cumExecQty": str(o.filled),
            "cumExecValue": str(o.cost),
            "cumExecFee": str(o.fee),
            "timeInForce": o.tif,
            "orderType": "Market" if o.type == "market" else "Limit",
            "stopOrderType": "Stop" if o.trigger is not None else "",
            "orderIv": "",
            "triggerPrice": str(o.trigger or ""),
            "takeProfit": str(o.take_profit or ""),
            "stopLoss": str(o.stop_loss or ""),
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "LastPrice" if o.trigger else "",
            "lastPriceOnCreated": "",
            "reduceOnly": o.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "tpslMode": "",
            "createdTime": str(o.created_ms),
            "updatedTime": str(o.updated_ms),
        }

    def _positions(self) -> list[dict[str, Any]]:
        rows = []
        for symbol in sorted(self.engine.positions):
            quantity, entry = self.engine.position(symbol)
            if quantity == 0:
                continue
            mark = self.engine.quote(symbol).last
            rows.append(
                {
                    "positionIdx": 0,
                    "riskId": 1,
                    "symbol": symbol,
                    "side": "Buy" if quantity > 0 else "Sell",
                    "size": str(abs(quantity)),
                    "avgPrice": str(entry),
                    "positionValue": str(abs(quantity) * mark),
                    "tradeMode": 0,
                    "autoAddMargin": 0,
                    "positionStatus": "Normal",
                    "leverage": str(self.engine.leverage),
                    "markPrice": str(mark),
                    "liqPrice": "",
                    "positionIM": "0",
                    "positionMM": "0",
                    "takeProfit": "0",
                    "stopLoss": "0",
                    "trailingStop": "0",
                    "unrealisedPnl": str((mark - (entry or mark)) * quantity),
                    "cumRealisedPnl": "0",
                    "createdTime": str(now_ms()),
                    "updatedTime": str(now_ms()),
                    "seq": 1,
                }
            )
        return rows
