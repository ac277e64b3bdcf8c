"""A reduce-only order below the minimum order value is sent where the venue exempts it.

Binance USD-M futures, "Minimum order notional limit rule": "'Reduce-Only' order is not
affected" (binance.com/en/support/articles/360033161972); its error -4164 reads "Order's
notional must be no smaller than 5 (unless you choose reduce only)". Bybit derivatives
(help center, "Derivatives Trading Rules", 3. Minimum Notional Value/Order Size):
"Closing orders are exempt from notional value but still adhere to minimum size".
Binance COIN-M and OKX document no such exemption: there the minimum still applies, and
the refusal says so. The Binance venue below answers as its USD-M docs show ("New Order
(TRADE)", "Symbol Order Book Ticker", "Position Information V3"), through real ccxt.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from fake_venues import started
from markets import ccxt_market, exchange_with
from static_harness import exchange_for, load

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt.limits import REDUCE_ONLY_MIN_COST_EXEMPT, limit_refusal, min_cost_exempt
from fks_exec_ccxt.mapping import Denial, Request, _check_limits, build_request
from fks_exec_ccxt.rules import MarketRules, market_rules
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, HttpResponse, attach_session

SWAP = "BTC/USDT:USDT"
PRICE = Decimal(60000)


def _usdm(symbol: str = SWAP, **fields: Any) -> dict[str, Any]:
    # BTCUSDT on USD-M: LOT_SIZE minQty 0.001, tick 0.1, MIN_NOTIONAL notional 100 (the
    # exchangeInfo filters ccxt binance.py reads into limits).
    fields.setdefault("id", "BTCUSDT")
    kinds = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"]
    fields.setdefault("info", {"symbol": fields["id"], "orderTypes": kinds})
    limits = {"amount": {"min": 0.001, "max": 1000}, "cost": {"min": 100}}
    return ccxt_market(symbol, amount=0.001, price=0.1, limits=limits, **fields)


class BinanceUsdm:
    """Binance USD-M as its docs show it: a long of 0.001 BTC, a book at 59999.9 / 60000."""

    def __init__(self) -> None:
        self.orders: list[HttpRequest] = []

    async def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path == "/fapi/v1/order" and request.method == "POST":
            self.orders.append(request)
            fields = {**request.query, **dict(_form(request.body))}
            return HttpResponse.json(
                {
                    "orderId": 22542179,
                    "symbol": "BTCUSDT",
                    "status": "FILLED",
                    "clientOrderId": fields.get("newClientOrderId", "x"),
                    "price": "0",
                    "avgPrice": "59999.9",
                    "origQty": fields.get("quantity"),
                    "executedQty": fields.get("quantity"),
                    "cumQuote": "59.9999",
                    "timeInForce": "GTC",
                    "type": "MARKET",
                    "reduceOnly": fields.get("reduceOnly") == "true",
                    "closePosition": False,
                    "side": fields.get("side"),
                    "positionSide": "BOTH",
                    "stopPrice": "0",
                    "workingType": "CONTRACT_PRICE",
                    "origType": "MARKET",
                    "updateTime": 1700000000000,
                }
            )
        if path == "/fapi/v1/ticker/24hr":  # "24hr Ticker Price Change Statistics"
            return HttpResponse.json(
                {"symbol": "BTCUSDT", "lastPrice": "59999.9", "closeTime": 1700000000000}
            )
        if "positionRisk" in path:  # "Position Information V3"
            return HttpResponse.json([_position()])
        if path == "/fapi/v1/leverageBracket":  # "Notional and Leverage Brackets"
            bracket = {"bracket": 1, "initialLeverage": 125, "notionalCap": 50000}
            bracket |= {"notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0}
            return HttpResponse.json([{"symbol": "BTCUSDT", "brackets": [bracket]}])
        if path == "/fapi/v1/symbolConfig":  # "Symbol Configuration"
            config = {"symbol": "BTCUSDT", "marginType": "CROSSED", "isAutoAddMargin": "false"}
            return HttpResponse.json([config | {"leverage": 20, "maxNotionalValue": "1000000"}])
        return HttpResponse.text("Not Found", 404)


def _form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body or "", keep_blank_values=True)


def _position() -> dict[str, Any]:
    return {
        "symbol": "BTCUSDT",
        "positionSide": "BOTH",
        "positionAmt": "0.001",
        "entryPrice": "60000.0",
        "breakEvenPrice": "60024.0",
        "markPrice": "60000.0",
        "unRealizedProfit": "0.0",
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": "60.0",
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": "3.0",
        "maintMargin": "0.24",
        "positionInitialMargin": "3.0",
        "openOrderInitialMargin": "0",
        "adl": 1,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": 1700000000000,
    }


def _binance(venue: BinanceUsdm, exchange_id: str = "binance") -> Any:
    exchange = exchange_with(
        exchange_id,
        _usdm(),
        apiKey="fks-test-key",
        secret="fks-test-secret-value",
        options={"defaultType": "swap"},
    )
    attach_session(exchange, venue.handle)
    return exchange


@pytest.mark.parametrize("exchange_id", ["binance", "binanceusdm"])
async def test_binance_usdm_sends_a_reduce_only_close_below_the_minimum_notional(
    exchange_id: str,
) -> None:
    venue = BinanceUsdm()
    plugin = await started(_binance(venue, exchange_id))
    try:
        small = Order.market(SWAP, "sell", "0.001", reduce_only=True)
        closed = await plugin.execute_order(small)
        opening = await plugin.execute_order(Order.market(SWAP, "sell", "0.001"))
    finally:
        await plugin.close()
    assert closed.status is OrderStatus.FILLED and closed.sent, closed.error
    assert len(venue.orders) == 1  # the opening one was refused before sending
    sent = {**venue.orders[0].query, **dict(_form(venue.orders[0].body))}
    assert (sent["side"], sent["quantity"], sent["reduceOnly"]) == ("SELL", "0.001", "true")
    assert (opening.error_code, opening.sent) == (ErrorCode.INVALID_ORDER, False)
    assert "order value 59.9999 is below BTC/USDT:USDT's minimum 100" in (opening.error or "")


async def test_binance_close_position_below_the_minimum_notional_is_sent() -> None:
    venue = BinanceUsdm()
    plugin = await started(_binance(venue))
    try:
        results = await plugin.close_position(SWAP)
    finally:
        await plugin.close()
    assert [(r.status, r.filled_quantity) for r in results] == [
        (OrderStatus.FILLED, Decimal("0.001"))
    ]
    assert len(venue.orders) == 1


def _rules(exchange_id: str, market: dict[str, Any], **options: Any) -> MarketRules:
    exchange = exchange_with(exchange_id, market, options=options)
    return market_rules(exchange, exchange.markets[market["symbol"]])


def test_which_markets_are_exempt() -> None:
    assert min_cost_exempt(_rules("binance", _usdm(), defaultType="swap"))
    assert min_cost_exempt(_rules("binance", _usdm("BTC/USDT:USDT-250627")))
    coinm = _rules("binance", _usdm("BTC/USD:BTC", id="BTCUSD_PERP"))
    assert not min_cost_exempt(coinm)  # COIN-M: no exemption documented
    spot = _rules("binance", _usdm("BTC/USDT"))
    assert not min_cost_exempt(spot)
    assert min_cost_exempt(_rules("bybit", _usdm(), defaultType="swap"))
    assert min_cost_exempt(_rules("bybit", _usdm("BTC/USD:BTC", id="BTCUSD")))
    assert not min_cost_exempt(_rules("bybit", _usdm("BTC/USDT")))
    assert not min_cost_exempt(_rules("kucoinfutures", _usdm(id="XBTUSDTM")))
    assert set(REDUCE_ONLY_MIN_COST_EXEMPT) == {"binance", "binanceusdm", "bybit"}


def test_a_reduce_only_order_on_an_exempt_market_keeps_the_amount_limits() -> None:
    rules = _rules("bybit", _usdm(), defaultType="swap")
    assert limit_refusal(rules, Decimal("0.001"), PRICE, True) is None  # 60 < 100
    below = limit_refusal(rules, Decimal("0.0009"), PRICE, True)
    assert below == "quantity 0.0009 is below BTC/USDT:USDT's minimum 0.001 contracts"
    above = limit_refusal(rules, Decimal(1001), PRICE, True)
    assert above == "quantity 1001 is above BTC/USDT:USDT's maximum 1000 contracts"
    assert limit_refusal(rules, Decimal("0.001"), PRICE, False) == (
        "order value 60.000 is below BTC/USDT:USDT's minimum 100"
    )
    assert limit_refusal(rules, Decimal("0.001"), None, False) is None  # not valued


def test_elsewhere_a_reduce_only_order_below_the_minimum_is_refused_and_says_why() -> None:
    okx = exchange_for("okx")
    load("okx", "markets")
    rules = market_rules(okx, okx.markets[SWAP])
    costly = dataclasses.replace(rules, min_cost=Decimal(1000))  # 1 contract: 0.01 BTC = 600
    denial = build_request(
        okx, costly, Order.limit(SWAP, "sell", "1", "60000", reduce_only=True), None
    )
    assert isinstance(denial, Denial) and denial.code is ErrorCode.INVALID_ORDER
    assert denial.message == (
        "order value 600.00 is below BTC/USDT:USDT's minimum 1000, and okx refuses a "
        "reduce-only order below its minimum too (it documents no exemption): close the "
        "remainder on okx itself"
    )
    # at the minimum exactly, and above it, it goes
    at_minimum = dataclasses.replace(rules, min_cost=Decimal(600))
    order = Order.limit(SWAP, "sell", "1", "60000", reduce_only=True)
    assert isinstance(build_request(okx, at_minimum, order, None), Request)
    coinm = _rules("binance", _usdm("BTC/USD:BTC", id="BTCUSD_PERP"))
    refused = _check_limits(coinm, Decimal("0.001"), PRICE, True)
    assert refused is not None and "binance refuses a reduce-only order" in refused.message
    assert _check_limits(coinm, Decimal("0.001"), PRICE) == Denial(
        ErrorCode.INVALID_ORDER, "order value 60.000 is below BTC/USD:BTC's minimum 100"
    )
