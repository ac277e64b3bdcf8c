"""A fake Binance spot API (``/api/v3``) that ccxt's ``binance`` class talks to.

It checks the ``X-MBX-APIKEY`` header and the HMAC signature of every private request,
the request's ``timestamp`` against ``recvWindow``, and the symbol's filters
(``LOT_SIZE``, ``PRICE_FILTER``, ``NOTIONAL``, order types) as Binance does, and
answers with Binance's own error codes and messages.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.engine import Engine, EngineError, FakeOrder, MarketSpec, now_ms
from fks_exec_ccxt.testing.transport import FakeVenue, RecordedRequest, Response

__all__ = ["FakeBinance", "binance_symbol_info"]

# reason -> (http status, code, message), as Binance answers them
_ERRORS = {
    "symbol": (400, -1121, "Invalid symbol."),
    "order_type": (400, -1116, "Invalid orderType."),
    "lot_size": (400, -1013, "Filter failure: LOT_SIZE"),
    "price_filter": (400, -1013, "Filter failure: PRICE_FILTER"),
    "notional": (400, -1013, "Filter failure: NOTIONAL"),
    "funds": (400, -2010, "Account has insufficient balance for requested action."),
    "duplicate": (400, -2010, "Duplicate order sent."),
    "would_trigger": (400, -2010, "Order would immediately trigger."),
    "reduce_only": (400, -2010, "Order would immediately trigger."),
    "not_found": (400, -2013, "Order does not exist."),
    "cancel_unknown": (400, -2011, "Unknown order sent."),
    "api_key": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "signature": (400, -1022, "Signature for this request is not valid."),
    "timestamp": (400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "rate_limit": (
        429,
        -1003,
        "Too much request weight used; current limit is 6000 request "
        "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
        "polling the API.",
    ),
}

_STATUS = {
    "new": "NEW",
    "untriggered": "NEW",
    "partially_filled": "PARTIALLY_FILLED",
    "filled": "FILLED",
    "canceled": "CANCELED",
    "expired": "EXPIRED",
    "rejected": "REJECTED",
}


def binance_symbol_info(
    base: str,
    quote: str,
    *,
    tick: str,
    step: str,
    min_qty: str,
    max_qty: str = "9000",
    min_notional: str = "5",
) -> dict[str, Any]:
    """A spot symbol in Binance's ``exchangeInfo`` format (what ccxt parses markets from)."""
    return {
        "symbol": f"{base}{quote}",
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty, "stepSize": step},
            {
                "filterType": "NOTIONAL",
                "minNotional": min_notional,
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


DEFAULT_SYMBOLS = [
    binance_symbol_info("BTC", "USDT", tick="0.01", step="0.00001", min_qty="0.00001"),
    binance_symbol_info("ETH", "USDT", tick="0.01", step="0.0001", min_qty="0.0001"),
]


def _spec(info: dict[str, Any]) -> MarketSpec:
    filters = {f["filterType"]: f for f in info.get("filters", [])}
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    order_types = set()
    for kind in info.get("orderTypes", []):
        order_types.add("market" if kind == "MARKET" else "limit")
    return MarketSpec(
        id=info["symbol"],
        base=info["baseAsset"],
        quote=info["quoteAsset"],
        tick=Decimal(filters.get("PRICE_FILTER", {}).get("tickSize", "0.00000001")),
        step=Decimal(lot.get("stepSize", "0.00000001")),
        min_qty=Decimal(lot.get("minQty", "0")),
        max_qty=Decimal(lot.get("maxQty", "1e12")),
        min_notional=Decimal(notional.get("minNotional", "0")),
        order_types=frozenset(order_types),
    )


class FakeBinance(FakeVenue):
    """Binance spot. ``symbols`` are raw ``exchangeInfo`` entries (default: BTC and ETH)."""

    exchange_id = "binance"

    def __init__(
        self,
        symbols: list[dict[str, Any]] | None = None,
        *,
        balances: dict[str, str | Decimal] | None = None,
        api_key: str = "test-key",
        secret: str = "test-secret",
    ) -> None:
        super().__init__(api_key, secret)
        self.symbols = [s for s in (symbols or DEFAULT_SYMBOLS) if s.get("status") == "TRADING"]
        self.engine = Engine(
            mode="spot",
            markets={s["symbol"]: _spec(s) for s in self.symbols},
            balances={k: Decimal(v) for k, v in (balances or {"USDT": "100000"}).items()},
        )
        self.order_types = {s["symbol"]: set(s.get("orderTypes", [])) for s in self.symbols}

    def set_price(self, symbol: str, bid: str | Decimal, ask: str | Decimal) -> None:
        """Quote ``symbol`` (``BTCUSDT``) and fill what the new quote crosses."""
        self.engine.set_price(symbol, Decimal(bid), Decimal(ask))

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: RecordedRequest, raw_query: str) -> Response:
        """Answer one Binance REST request."""
        path, method, p = request.path, request.method, request.params
        public: dict[str, Callable[[], Any]] = {
            "/api/v3/exchangeInfo": lambda: {
                "timezone": "UTC",
                "serverTime": now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": self.symbols,
            },
            "/api/v3/time": lambda: {"serverTime": now_ms()},
            "/api/v3/ping": lambda: {},
            "/sapi/v1/system/status": lambda: {"status": 0, "msg": "normal"},
            "/fapi/v1/exchangeInfo": lambda: {"serverTime": now_ms(), "symbols": []},
            "/dapi/v1/exchangeInfo": lambda: {"serverTime": now_ms(), "symbols": []},
        }
        if path in public:
            return Response.json(public[path]())
        if path == "/api/v3/ticker/24hr":
            return self._ticker(p["symbol"])
        denial = self._authenticate(request, raw_query)
        if denial is not None:
            return denial
        try:
            if path in (
                "/sapi/v1/capital/config/getall",
                "/sapi/v1/margin/allPairs",
                "/sapi/v1/margin/isolated/allPairs",
            ):
                return Response.json([])
            if path == "/api/v3/order" and method == "POST":
                return Response.json(self._order_json(self._create(p), full=True))
            if path == "/api/v3/order" and method == "GET":
                order = self.engine.find(p.get("orderId"), p.get("origClientOrderId"))
                return Response.json(self._order_json(order))
            if path == "/api/v3/order" and method == "DELETE":
                try:
                    order = self.engine.cancel(p.get("orderId"), p.get("origClientOrderId"))
                except EngineError:
                    return self._error("cancel_unknown")
                return Response.json(self._order_json(order))
            if path == "/api/v3/openOrders":
                return Response.json(
                    [
                        self._order_json(o)
                        for o in self.engine.orders.values()
                        if o.is_open and p.get("symbol") in (None, o.symbol)
                    ]
                )
            if path == "/api/v3/allOrders":
                return Response.json(
                    [
                        self._order_json(o)
                        for o in self.engine.orders.values()
                        if o.symbol == p.get("symbol")
                    ]
                )
            if path == "/api/v3/account":
                return Response.json(self._account())
        except EngineError as exc:
            return self._error(exc.reason)
        return Response.json({"code": -1000, "msg": f"fake binance has no {method} {path}"}, 404)

    def _error(self, reason: str) -> Response:
        status, code, message = _ERRORS[reason]
        return Response.json({"code": code, "msg": message}, status)

    def _authenticate(self, request: RecordedRequest, raw_query: str) -> Response | None:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self._error("api_key")
        payload = request.body if request.method == "POST" else raw_query
        signed, _, signature = (payload or "").rpartition("&signature=")
        if not signature or self.sign(signed) != signature:
            return self._error("signature")
        window = int(request.params.get("recvWindow", "5000"))
        if abs(now_ms() - int(request.params.get("timestamp", "0"))) > window:
            return self._error("timestamp")
        return None

    def _ticker(self, symbol: str) -> Response:
        if symbol not in self.engine.markets:
            return self._error("symbol")
        q = self.engine.quote(symbol)
        return Response.json(
            {
                "symbol": symbol,
                "priceChange": "0",
                "priceChangePercent": "0",
                "weightedAvgPrice": str(q.last),
                "prevClosePrice": str(q.last),
                "lastPrice": str(q.last),
                "lastQty": "0",
                "bidPrice": str(q.bid),
                "bidQty": "1",
                "askPrice": str(q.ask),
                "askQty": "1",
                "openPrice": str(q.last),
                "highPrice": str(q.ask),
                "lowPrice": str(q.bid),
                "volume": str(q.volume),
                "quoteVolume": "0",
                "openTime": now_ms() - 86_400_000,
                "closeTime": now_ms(),
                "firstId": 1,
                "lastId": 1,
                "count": 1,
            }
        )

    def _create(self, p: dict[str, str]) -> FakeOrder:
        symbol, kind = p.get("symbol", ""), p.get("type", "")
        if symbol not in self.engine.markets:
            raise EngineError("symbol", "Invalid symbol.")
        if kind not in self.order_types[symbol]:
            raise EngineError("order_type", "Invalid orderType.")
        return self.engine.place(
            FakeOrder(
                id="",
                client_id=p.get("newClientOrderId") or f"x-{now_ms()}",
                symbol=symbol,
                side="buy" if p.get("side") == "BUY" else "sell",
                type="market" if kind in ("MARKET", "STOP_LOSS", "TAKE_PROFIT") else "limit",
                quantity=Decimal(p.get("quantity", "0")),
                price=Decimal(p["price"]) if "price" in p else None,
                trigger=Decimal(p["stopPrice"]) if "stopPrice" in p else None,
                tif=p.get("timeInForce", "GTC"),
                reduce_only=False,
                created_ms=now_ms(),
            )
        )

    def _order_json(self, o: FakeOrder, *, full: bool = False) -> dict[str, Any]:
        kind = "MARKET" if o.type == "market" else "LIMIT"
        if o.trigger is not None:
            kind = "STOP_LOSS_LIMIT" if o.type == "limit" else "STOP_LOSS"
        data: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": int(o.id),
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "price": str(o.price or Decimal(0)),
            "origQty": str(o.quantity),
            "executedQty": str(o.filled),
            "cummulativeQuoteQty": str(o.cost),
            "status": _STATUS[o.status],
            "timeInForce": o.tif,
            "type": kind,
            "side": o.side.upper(),
            "stopPrice": str(o.trigger or Decimal(0)),
            "workingTime": o.created_ms,
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        if full:
            data["transactTime"] = o.updated_ms
            data["fills"] = (
                []
                if not o.filled
                else [
                    {
                        "price": str(o.average),
                        "qty": str(o.filled),
                        "commission": str(o.fee),
                        "commissionAsset": self.engine.markets[o.symbol].quote,
                        "tradeId": int(o.id),
                    }
                ]
            )
        else:
            data.update(
                {
                    "time": o.created_ms,
                    "updateTime": o.updated_ms,
                    "isWorking": True,
                    "icebergQty": "0",
                    "origQuoteOrderQty": "0",
                }
            )
        return data

    def _account(self) -> dict[str, Any]:
        locked: dict[str, Decimal] = {}
        for o in self.engine.orders.values():
            if o.is_open and o.reserved:
                market = self.engine.markets[o.symbol]
                asset = market.quote if o.side == "buy" else market.base
                locked[asset] = locked.get(asset, Decimal(0)) + o.reserved
        assets = sorted(set(self.engine.balances) | set(locked))
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "updateTime": now_ms(),
            "accountType": "SPOT",
            "permissions": ["SPOT"],
            "balances": [
                {
                    "asset": a,
                    "free": str(self.engine.balances.get(a, Decimal(0))),
                    "locked": str(locked.get(a, Decimal(0))),
                }
                for a in assets
            ],
        }
