"""A venue's own "server timeout / internal error" answer is ``unknown``, never ``rejected``.

Each fake below answers from the venue's docs, through ccxt's own request code and error
mapping (``attach_session``):

* KuCoin: ``{"code": "408000", "msg": "Network timeout, please try again later"}`` (KuCoin
  error codes, https://www.kucoin.com/docs-new/error-code; ccxt kucoin.py raises it as
  ``BadRequest``).
* Bybit v5 (https://bybit-exchange.github.io/docs/v5/error): ``retCode`` 10000 "Server
  Timeout", 10016 "Internal server error; Service is restarting", 170001 "Internal
  error"; 5004 "Server Timeout" is the answer quoted in ccxt bybit.py. Every answer is
  HTTP 200 with ``retCode`` (v5 "Integration Guidance").
* Binance USD-M: HTTP 5xx "the execution status is UNKNOWN and could have been a success"
  (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes);
  ``-1008`` "Server is currently overloaded" is a failure the venue says may be resent
  (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).

Whether the venue already lists an order it is still processing is not documented: the
fakes' ``lookup`` setting answers the client-id search with nothing, or fails it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from markets import ccxt_market, exchange_with

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse, attach_session

Answer = Callable[[HttpRequest], HttpResponse | None]
LOOKUPS = ["empty", "fails"]


async def _plugin(exchange: Any, handler: Answer, seen: list[HttpRequest]) -> CcxtPlugin:
    async def handle(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        answer = handler(request)
        return answer if answer is not None else HttpResponse.text("not here", 404)

    attach_session(exchange, handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    return plugin


def _bybit_ok(result: Any) -> HttpResponse:
    body = {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1}
    return HttpResponse.json(body)


def _bybit(code: int, message: str, lookup: str, on: str) -> Answer:
    def answer(request: HttpRequest) -> HttpResponse | None:
        path = request.path
        if path == "/v5/user/query-api":  # user/apikey-info: a unified account
            return _bybit_ok({"id": "1", "readOnly": 0, "uta": 1, "unified": 0})
        if path == "/v5/account/info":
            return _bybit_ok({"unifiedMarginStatus": 5, "marginMode": "REGULAR_MARGIN"})
        if path == on:
            body = {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}}
            return HttpResponse.json(body | {"time": 1})
        if path in ("/v5/order/realtime", "/v5/order/history"):
            if lookup == "fails":
                return HttpResponse.json({"retCode": 10016, "retMsg": "Service is restarting"})
            return _bybit_ok({"category": "linear", "list": [], "nextPageCursor": ""})
        return None

    return answer


def _bybit_exchange() -> Any:
    market = ccxt_market("BTC/USDT:USDT", id="BTCUSDT", amount=0.001, price=0.1)
    return exchange_with("bybit", market, apiKey="k" * 18, secret="s" * 36)


BYBIT_CODES = [
    (10000, "Server Timeout"),
    (10016, "Internal server error."),
    (5004, "Server Timeout"),
    (170001, "Internal error."),
]


@pytest.mark.parametrize("lookup", LOOKUPS)
@pytest.mark.parametrize(("code", "message"), BYBIT_CODES)
async def test_a_bybit_server_timeout_is_unknown_and_never_rejected(
    code: int, message: str, lookup: str
) -> None:
    seen: list[HttpRequest] = []
    handler = _bybit(code, message, lookup, on="/v5/order/create")
    plugin = await _plugin(_bybit_exchange(), handler, seen)
    try:
        order = Order.limit("BTC/USDT:USDT", "buy", "0.01", "50000", client_order_id="bb1")
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN, result.error
    assert result.sent is None and result.error_code is ErrorCode.UNKNOWN
    assert [r.path for r in seen].count("/v5/order/create") == 1  # never resent


@pytest.mark.parametrize(("code", "message"), BYBIT_CODES[:2])
async def test_a_bybit_cancel_answered_with_a_server_timeout_is_unknown(
    code: int, message: str
) -> None:
    seen: list[HttpRequest] = []
    handler = _bybit(code, message, "empty", on="/v5/order/cancel")
    plugin = await _plugin(_bybit_exchange(), handler, seen)
    try:
        result = await plugin.cancel_order("1789", symbol="BTC/USDT:USDT")
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN and result.sent is None, result.error


@pytest.mark.parametrize("lookup", LOOKUPS)
async def test_kucoin_408000_network_timeout_is_unknown(lookup: str) -> None:
    seen: list[HttpRequest] = []

    def answer(request: HttpRequest) -> HttpResponse | None:
        if request.method == "POST" and request.path.endswith("/orders"):
            body = {"code": "408000", "msg": "Network timeout, please try again later"}
            return HttpResponse.json(body)
        if request.method == "GET" and lookup == "empty":
            page = {"currentPage": 1, "pageSize": 50, "totalNum": 0, "totalPage": 0, "items": []}
            return HttpResponse.json({"code": "200000", "data": page})
        return None

    market = ccxt_market("LTC/USDT", id="LTC-USDT", amount=0.0001, price=0.001)
    exchange = exchange_with(
        "kucoin", market, apiKey="k" * 24, secret="x" * 36, password="pass phrase"
    )
    exchange.options["uta"] = False
    plugin = await _plugin(exchange, answer, seen)
    try:
        order = Order.limit("LTC/USDT", "buy", "0.1", "55", client_order_id="kc1")
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN, result.error
    assert result.sent is None and result.error_code is ErrorCode.UNKNOWN


def _binance(status: int, code: int, message: str, lookup: str) -> Answer:
    def answer(request: HttpRequest) -> HttpResponse | None:
        if request.path in ("/fapi/v1/order", "/fapi/v1/algoOrder") and request.method in (
            "POST",
            "DELETE",
        ):
            return HttpResponse.json({"code": code, "msg": message}, status=status)
        if request.method == "GET" and lookup == "empty":
            return HttpResponse.json([])
        return None

    return answer


def _binance_exchange() -> Any:
    market = ccxt_market(
        "BTC/USDT:USDT",
        id="BTCUSDT",
        amount=0.001,
        price=0.1,
        # USD-M exchangeInfo: each symbol lists its orderTypes (ccxt binance.py checks them)
        info={"symbol": "BTCUSDT", "contractType": "PERPETUAL", "orderTypes": ["LIMIT"]},
    )
    return exchange_with("binance", market, apiKey="k" * 64, secret="x" * 64)


@pytest.mark.parametrize("lookup", LOOKUPS)
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_binance_5xx_is_unknown_whatever_class_ccxt_gives_its_body(
    status: int, lookup: str
) -> None:
    seen: list[HttpRequest] = []
    handler = _binance(status, -1016, "This service is no longer available.", lookup)
    plugin = await _plugin(_binance_exchange(), handler, seen)
    try:
        order = Order.limit("BTC/USDT:USDT", "buy", "0.01", "50000", client_order_id="bn1")
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN, result.error
    assert result.sent is None and result.error_code is ErrorCode.UNKNOWN


async def test_a_binance_cancel_answered_with_a_5xx_is_unknown() -> None:
    seen: list[HttpRequest] = []
    handler = _binance(500, -1016, "This service is no longer available.", "empty")
    plugin = await _plugin(_binance_exchange(), handler, seen)
    try:
        result = await plugin.cancel_order("42", symbol="BTC/USDT:USDT")
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN and result.sent is None, result.error


def test_binance_1008_overloaded_keeps_the_verdict_of_ccxts_class() -> None:
    # Binance's derivatives docs: -1008 at HTTP 503 is a failure that may be resent, so
    # the 5xx rule leaves it to ccxt's class (ccxt 4.5.90 raises OperationFailed for it on
    # USD-M: unknown; where it raises a bare ExchangeError the order is searched for).
    import ccxt.async_support as ccxt_async

    from fks_exec_ccxt.errors import SendProbe, classify

    body = json.dumps({"code": -1008, "msg": "Server is currently overloaded"})
    probe = SendProbe(statuses=[503], last_body=body)
    verdict = classify(ccxt_async.ExchangeError("binance " + body), probe, "binance")
    assert (verdict.code, verdict.sent) == (ErrorCode.REJECTED, True)
    other = json.dumps({"code": -1016, "msg": "This service is no longer available."})
    probe = SendProbe(statuses=[503], last_body=other)
    verdict = classify(ccxt_async.BadRequest("binance " + other), probe, "binance")
    assert (verdict.code, verdict.sent) == (ErrorCode.UNKNOWN, None)


def test_the_venue_code_is_read_from_the_answer_only() -> None:
    from fks_exec_ccxt.unknown_answers import outcome_unknown

    bybit = json.dumps({"retCode": 10000, "retMsg": "Server Timeout"})
    assert outcome_unknown("bybit", 200, bybit) is not None
    assert outcome_unknown("bybit", 200, json.dumps({"retCode": 10001})) is None
    assert outcome_unknown("bybit", 200, "not json") is None
    assert outcome_unknown("bybit", 200, None) is None
    assert outcome_unknown("okx", 200, bybit) is None
    assert outcome_unknown("kucoin", 200, json.dumps({"code": "408000"})) is not None
    assert outcome_unknown("okx", 599, "") is not None
    assert outcome_unknown("okx", 600, "") is None
    assert outcome_unknown("okx", 499, "") is None
    assert outcome_unknown("binanceusdm", 503, json.dumps({"code": -1008})) is None
    assert outcome_unknown("binance", 503, json.dumps({"code": -1001})) is not None
    assert outcome_unknown("okx", 503, json.dumps({"code": -1008})) is not None
    assert outcome_unknown("bybit", 200, json.dumps([1])) is None
