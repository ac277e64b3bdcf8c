"""A market order's IOC / FOK is sent where ccxt and the venue take it, else refused.

What each venue documents for a market order's time in force, and what ccxt sends:

* Binance spot "New order (TRADE)": a MARKET order takes quantity or quoteOrderQty, no
  timeInForce (ccxt binance.py sends timeInForce only for the limit types): refused.
* Bybit v5 "Place Order", timeInForce: "Market order will always use IOC"; ccxt
  bybit.py sends timeInForce for a market order too: IOC sent, FOK refused.
* Gate v4 spot orders: a market order takes only ioc or fok (ccxt gate.py: "timeInForce
  for market order can only be FOK or IOC", sent as time_in_force); Gate futures: a
  market order is price 0 with tif ioc: IOC sent there, FOK refused.
* OKX v5 ordType ``optimal_limit_ioc``: "Market order with immediate-or-cancel order
  (applicable only to Expiry Futures and Perpetual Futures)", which ccxt okx.py sends
  for a contract market IOC; a spot market IOC goes out plain, a market FOK as a
  priceless ``fok``: refused.

Requests are built by real ccxt objects on ccxt's static markets (../shared, skipped when
absent) or on markets written from the venue's docs; the wire is a loopback fake.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fake_venues import started
from markets import ccxt_market, exchange_with
from static_harness import body_of, exchange_for, load, plugin_on

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt.market_tif import MARKET_TIME_IN_FORCE, market_tif_refusal
from fks_exec_ccxt.rules import market_rules
from fks_exec_ccxt.testing.aiohttp_transport import (
    HttpRequest,
    HttpResponse,
    TransportFault,
    attach_session,
)


class Recorder:
    """Records the order requests; answers Binance's "New order" with an order that
    expired part filled, as a MARKET order does when the book runs out."""

    def __init__(self) -> None:
        self.orders: list[HttpRequest] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path == "/api/v3/order":
            self.orders.append(request)
            answer = {"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "f1", "price": "0"}
            answer |= {"origQty": "0.01", "executedQty": "0.01", "cummulativeQuoteQty": "600"}
            answer |= {"status": "FILLED", "timeInForce": "GTC", "type": "MARKET"}
            return HttpResponse.json(answer | {"side": "SELL", "transactTime": 1700000000000})
        if request.method == "POST":
            self.orders.append(request)
        if request.path == "/api/v3/ticker/24hr":
            return HttpResponse.json({"symbol": "BTCUSDT", "lastPrice": "60000", "closeTime": 1})
        raise TransportFault("reset")


def _binance() -> tuple[Any, Recorder]:
    info = {"symbol": "BTCUSDT", "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"]}
    market = ccxt_market("BTC/USDT", amount=0.00001, price=0.01, id="BTCUSDT", info=info)
    exchange = exchange_with("binance", market, apiKey="fks-test-key", secret="fks-test-secret")
    venue = Recorder()
    attach_session(exchange, venue.handle)
    return exchange, venue


@pytest.mark.parametrize("tif", ["fok", "ioc"])
async def test_binance_refuses_a_market_order_with_a_time_in_force(tif: str) -> None:
    exchange, venue = _binance()
    plugin = await started(exchange)
    try:
        result = await plugin.execute_order(
            Order.market("BTC/USDT", "sell", "0.01", time_in_force=tif)
        )
        plain = await plugin.execute_order(Order.market("BTC/USDT", "sell", "0.01"))
    finally:
        await plugin.close()
    assert (result.status, result.error_code, result.sent) == (
        OrderStatus.REJECTED,
        ErrorCode.NOT_SUPPORTED,
        False,
    )
    assert result.error == (
        f"binance takes no {tif.upper()} on a market order on BTC/USDT through ccxt (it would "
        f"go out without it and could fill in part); send a limit order with "
        f"time_in_force={tif} at the worst price you accept; nothing was sent"
    )
    assert plain.status is OrderStatus.FILLED  # a gtc market order goes, with no tif
    (sent,) = venue.orders
    assert "timeInForce" not in body_of(sent)


async def _sent(exchange_id: str, order: Order, prices: dict[str, Any]) -> Any:
    """The plugin on ccxt's static markets of ``exchange_id``: the first order request's
    fields, or the refusal."""
    plugin, wire = await plugin_on(exchange_id, load(exchange_id, "request"), prices)
    try:
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    posts = [r for r in wire.requests if r.method == "POST"]
    return body_of(posts[0]) if posts else result


@pytest.mark.parametrize("tif", ["fok", "ioc"])
async def test_gate_spot_sends_a_market_orders_fok_or_ioc(tif: str) -> None:
    order = Order.market("BTC/USDT", "sell", "0.001", time_in_force=tif)
    body = await _sent("gate", order, {"BTC/USDT": 60000})
    assert (body["type"], body["time_in_force"]) == ("market", tif)


async def test_gate_futures_send_a_market_ioc_and_refuse_a_market_fok() -> None:
    swap = "LTC/USDT:USDT"
    ioc = await _sent("gate", Order.market(swap, "sell", "1", time_in_force="ioc"), {swap: 70})
    assert (ioc["price"], ioc["tif"]) == ("0", "ioc")
    fok = await _sent("gate", Order.market(swap, "sell", "1", time_in_force="fok"), {swap: 70})
    assert fok.error_code is ErrorCode.NOT_SUPPORTED and not fok.sent
    assert fok.error.startswith("gate takes no FOK on a market order on LTC/USDT:USDT")


async def test_okx_sends_a_contract_market_ioc_as_optimal_limit_ioc_and_refuses_the_rest() -> None:
    swap, prices = "BTC/USDT:USDT", {"BTC/USDT:USDT": 40000, "BTC/USDT": 40000}
    body = await _sent("okx", Order.market(swap, "sell", "1", time_in_force="ioc"), prices)
    (request,) = body if isinstance(body, list) else [body]
    assert request["ordType"] == "optimal_limit_ioc"
    for order in (
        Order.market(swap, "sell", "1", time_in_force="fok"),
        Order.market("BTC/USDT", "sell", "0.001", time_in_force="ioc"),
    ):
        refused = await _sent("okx", order, prices)
        assert refused.error_code is ErrorCode.NOT_SUPPORTED and not refused.sent


def _bybit_exchange(symbol: str, wire: list[HttpRequest]) -> Any:
    market = ccxt_market(symbol, amount=0.001, price=0.1, id="BTCUSDT")
    options = {"enableUnifiedAccount": True, "enableUnifiedMargin": False}
    if ":" in symbol:
        options["defaultType"] = "swap"
    exchange = exchange_with(
        "bybit", market, apiKey="fks-test-key", secret="fks-test-secret", options=options
    )

    async def handle(request: HttpRequest) -> HttpResponse:
        if request.path == "/v5/market/tickers":
            row = {"symbol": "BTCUSDT", "bid1Price": "59999.9", "ask1Price": "60000"}
            result = {"category": "linear", "list": [row | {"lastPrice": "60000"}]}
            return HttpResponse.json({"retCode": 0, "retMsg": "OK", "result": result})
        wire.append(request)
        raise TransportFault("reset")

    attach_session(exchange, handle)
    return exchange


@pytest.mark.parametrize("symbol", ["BTC/USDT:USDT", "BTC/USDT"])
async def test_bybit_sends_a_market_ioc_and_refuses_a_market_fok(symbol: str) -> None:
    wire: list[HttpRequest] = []
    plugin = await started(_bybit_exchange(symbol, wire))
    try:
        fok = await plugin.execute_order(Order.market(symbol, "sell", "0.01", time_in_force="fok"))
        assert not wire and fok.error_code is ErrorCode.NOT_SUPPORTED
        await plugin.execute_order(Order.market(symbol, "sell", "0.01", time_in_force="ioc"))
    finally:
        await plugin.close()
    create = next(r for r in wire if r.path == "/v5/order/create")
    assert (body_of(create)["orderType"], body_of(create)["timeInForce"]) == ("Market", "IOC")


def test_a_listed_time_in_force_still_needs_ccxts_features() -> None:
    gate = exchange_for("gate")
    rules = market_rules(gate, gate.markets["BTC/USDT"])
    assert market_tif_refusal(rules, "FOK") is None and market_tif_refusal(rules, "IOC") is None
    without = dataclasses.replace(rules, time_in_force=frozenset({"GTC"}))
    assert market_tif_refusal(without, "IOC") == (
        "gate takes no IOC on a market order on BTC/USDT through ccxt (it would go out "
        "without it and could fill in part); send a limit order with time_in_force=ioc at "
        "the worst price you accept"
    )
    assert market_tif_refusal(dataclasses.replace(rules, exchange_id="kraken"), "IOC")
    assert MARKET_TIME_IN_FORCE[("gate", False)] == frozenset({"IOC", "FOK"})
    assert MARKET_TIME_IN_FORCE[("okx", True)] == frozenset({"IOC"})
    assert ("okx", False) not in MARKET_TIME_IN_FORCE
