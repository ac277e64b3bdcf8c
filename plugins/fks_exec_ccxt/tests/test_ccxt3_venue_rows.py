"""Client ids that must reach the venue, and reduce-only where nothing shows it is honoured.

* Crypto.com Exchange API v1 ``private/create-order``
  (https://exchange-developer.crypto.com/exchange/v1/rest-ws/index.html#private-create-order):
  ``client_oid`` "Optional Client order ID (Maximum 36 characters)"; the answer is
  ``{"id", "method", "code": 0, "result": {"client_oid", "order_id"}}``;
  ``private/get-open-orders`` answers ``result.data``, a list of orders each with its
  ``client_oid``; ``private/get-order-detail`` one order. Every answer has ``code`` 0 on
  success (the v1 "Response Format").
* Coinone v2.1 order (https://docs.coinone.co.kr/reference/order-v21), as ccxt
  coinone.py sends it: no client id field reaches the venue, so orders are refused there.
* Reduce-only on cryptocom, bigone, bullish, gemini, lbank, whitebit: ccxt's create-order
  code of each never reads ``reduceOnly`` (merged raw into the request), so the venue may
  ignore it: refused before sending. Binance keeps it (ccxt binance.py sends reduceOnly;
  Binance USD-M new order documents ``reduceOnly``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from markets import ccxt_market, exchange_with

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.plugin import Capability
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse, attach_session

PERP = "BTC/USD:USD"


class Cryptocom:
    """Crypto.com v1 for one instrument, keeping every order it took."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.orders: list[dict[str, Any]] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        method = request.path.rsplit("/", 2)[-2] + "/" + request.path.rsplit("/", 1)[-1]
        params = (json.loads(request.body or "{}") or {}).get("params", {})
        if method == "private/create-order":
            order = {
                "order_id": str(1000 + len(self.orders)),
                "client_oid": params.get("client_oid", ""),
                "instrument_name": params["instrument_name"],
                "side": params["side"],
                "order_type": params["type"],
                "quantity": params["quantity"],
                "limit_price": params.get("price", "0"),
                "status": "ACTIVE",
                "cumulative_quantity": "0",
                "cumulative_value": "0",
                "avg_price": "0",
                "create_time": 1700000000000,
                "update_time": 1700000000000,
            }
            self.orders.append(order)
            ids = {k: order[k] for k in ("client_oid", "order_id")}
            return self._ok(method, ids)
        if method == "private/get-order-detail":
            found = [o for o in self.orders if o["order_id"] == str(params.get("order_id"))]
            return self._ok(method, found[0]) if found else self._error(method, 40401)
        if method in ("private/get-open-orders", "private/get-order-history"):
            return self._ok(method, {"data": list(self.orders)})
        return self._error(method, 40004)

    @staticmethod
    def _ok(method: str, result: Any) -> HttpResponse:
        return HttpResponse.json({"id": 1, "method": method, "code": 0, "result": result})

    @staticmethod
    def _error(method: str, code: int) -> HttpResponse:
        return HttpResponse.json({"id": 1, "method": method, "code": code, "message": "x"}, 400)

    def created(self) -> list[dict[str, Any]]:
        """The params of every create-order that reached the venue."""
        return [
            json.loads(r.body or "{}")["params"]
            for r in self.requests
            if r.path.endswith("private/create-order")
        ]


async def _plugin(exchange: Any, handle: Any) -> CcxtPlugin:
    attach_session(exchange, handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    return plugin


def _cryptocom_exchange() -> Any:
    market = ccxt_market(PERP, id="BTCUSD-PERP", amount=0.0001, price=0.1)
    return exchange_with("cryptocom", market, apiKey="k" * 24, secret="x" * 24)


async def test_cryptocom_sends_the_client_id_as_client_oid_and_finds_the_order_by_it() -> None:
    venue = Cryptocom()
    plugin = await _plugin(_cryptocom_exchange(), venue.handle)
    try:
        order = Order.limit(PERP, "buy", "0.01", "50000", client_order_id="myid42")
        placed = await plugin.execute_order(order)
        found = await plugin.get_order("myid42")
    finally:
        await plugin.close()
    assert placed.status is OrderStatus.ACCEPTED, placed.error
    (params,) = venue.created()
    assert params["client_oid"] == "myid42"
    assert found is not None and found.order_id == placed.order_id


async def test_cryptocom_takes_a_36_character_client_id_as_it_is() -> None:
    venue = Cryptocom()
    plugin = await _plugin(_cryptocom_exchange(), venue.handle)
    long_id = "a-_" * 12  # the longest id the Order model allows, and Crypto.com
    try:
        await plugin.execute_order(
            Order.limit(PERP, "buy", "0.01", "50000", client_order_id=long_id)
        )
        found = await plugin.get_order(long_id)
    finally:
        await plugin.close()
    (params,) = venue.created()
    assert params["client_oid"] == long_id
    assert found is not None


@pytest.mark.parametrize("key", ["client_oid"])
async def test_order_params_may_not_set_the_venues_client_id_field(key: str) -> None:
    venue = Cryptocom()
    plugin = await _plugin(_cryptocom_exchange(), venue.handle)
    order = Order.limit(PERP, "buy", "0.01", "50000", client_order_id="c1", params={key: "x"})
    try:
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert result.error_code is ErrorCode.INVALID_ORDER
    assert key in (result.error or "")
    assert venue.created() == []


async def test_coinone_orders_are_refused_before_sending() -> None:
    seen: list[HttpRequest] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        body = {"result": "success", "error_code": "0", "order_id": "8a82c561"}
        return HttpResponse.json(body)

    market = ccxt_market("BTC/KRW", id="BTC", amount=0.0001, price=1000.0)
    exchange = exchange_with("coinone", market, apiKey="k" * 24, secret="x" * 24)
    plugin = await _plugin(exchange, handle)
    try:
        result = await plugin.execute_order(
            Order.limit("BTC/KRW", "buy", "0.01", "50000000", client_order_id="c1")
        )
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert result.error_code is ErrorCode.NOT_SUPPORTED
    assert "client order id cannot reach" in (result.error or "")
    assert [r for r in seen if r.method == "POST"] == []


UNMAPPED = ["cryptocom", "bigone", "bullish", "gemini", "lbank", "whitebit"]


@pytest.mark.parametrize("exchange_id", UNMAPPED)
async def test_reduce_only_is_refused_where_ccxt_never_reads_it(exchange_id: str) -> None:
    seen: list[HttpRequest] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse.text("no", 500)

    market = ccxt_market("BTC/USDT:USDT", id="BTCUSDT", amount=0.0001, price=0.1)
    exchange = exchange_with(exchange_id, market, apiKey="k" * 24, secret="x" * 24)
    plugin = await _plugin(exchange, handle)
    order = Order.limit(
        "BTC/USDT:USDT", "sell", "0.01", "50000", client_order_id="r1", reduce_only=True
    )
    try:
        result = await plugin.execute_order(order)
        declared = plugin.supports(Capability.REDUCE_ONLY)
    finally:
        await plugin.close()
    # Not declared, so the executor's capability gate refuses it before the plugin runs.
    assert declared is False
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert result.error_code is ErrorCode.NOT_SUPPORTED
    assert "reduce_only" in (result.error or "")
    rules = plugin.rules_of(market)
    assert rules.reduce_only_refused is not None
    assert "never reads reduceOnly" in rules.reduce_only_refused
    assert [r for r in seen if r.method in ("POST", "PUT")] == []


async def test_reduce_only_is_kept_on_binance_usdm_where_it_is_documented() -> None:
    bodies: list[str] = []

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == "/fapi/v1/order" and request.method == "POST":
            bodies.append(request.raw_query + (request.body or ""))
            return HttpResponse.json({"code": -2022, "msg": "ReduceOnly Order is rejected."}, 400)
        return HttpResponse.json([])

    market = ccxt_market(
        "BTC/USDT:USDT",
        id="BTCUSDT",
        amount=0.001,
        price=0.1,
        info={"symbol": "BTCUSDT", "contractType": "PERPETUAL", "orderTypes": ["LIMIT"]},
    )
    exchange = exchange_with("binance", market, apiKey="k" * 64, secret="x" * 64)
    plugin = await _plugin(exchange, handle)
    order = Order.limit(
        "BTC/USDT:USDT", "sell", "0.01", "50000", client_order_id="r2", reduce_only=True
    )
    try:
        await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert len(bodies) == 1 and "reduceOnly=true" in bodies[0]
