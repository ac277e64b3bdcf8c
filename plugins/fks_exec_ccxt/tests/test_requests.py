"""The exact requests ccxt sends for each kind of order, and what is never sent.

On the reference fakes of OKX (JSON bodies) and Kraken (form bodies), through real ccxt
objects: what left the client is read from the fake session's wire log.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fake_venues import quoted_kraken, quoted_okx, started

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin

SPOT, SWAP, BTCUSD = "BTC/USDT", "BTC/USDT:USDT", "BTC/USD"


@pytest.fixture
async def okx() -> AsyncIterator[CcxtPlugin]:
    plugin = await started(quoted_okx().exchange())
    yield plugin
    await plugin.close()


@pytest.fixture
async def kraken() -> AsyncIterator[CcxtPlugin]:
    plugin = await started(quoted_kraken().exchange())
    yield plugin
    await plugin.close()


def okx_orders(plugin: CcxtPlugin) -> list[dict[str, Any]]:
    """Every order entry that left for OKX's placement endpoints, in order."""
    sent: list[dict[str, Any]] = []
    for request in plugin.exchange.session.requests:
        if request.method == "POST" and request.path == "/api/v5/trade/batch-orders":
            sent += json.loads(request.body)
        elif request.method == "POST" and request.path == "/api/v5/trade/order-algo":
            sent.append(json.loads(request.body))
    return sent


def kraken_orders(plugin: CcxtPlugin) -> list[dict[str, str]]:
    """Every AddOrder form that left for Kraken, in order."""
    return [
        dict(parse_qsl(r.body or ""))
        for r in plugin.exchange.session.requests
        if r.path == "/0/private/AddOrder"
    ]


# ------------------------------------------------------------------ okx


async def test_okx_market_order(okx: CcxtPlugin) -> None:
    order = Order.market(SWAP, "buy", "2")
    result = await okx.execute_order(order)
    (sent,) = okx_orders(okx)
    assert {k: sent.get(k) for k in ("instId", "side", "ordType", "sz", "clOrdId", "px")} == {
        "instId": "BTC-USDT-SWAP",
        "side": "buy",
        "ordType": "market",
        "sz": "2",
        "clOrdId": order.client_order_id,
        "px": None,
    }
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.FILLED,
        Decimal(2),
        Decimal("60000.1"),
    )
    assert result.raw["info"]["feeCcy"] == "USDT"  # fees kept in raw


async def test_okx_limit_with_time_in_force_on_the_tick(okx: CcxtPlugin) -> None:
    result = await okx.execute_order(
        Order.limit(SWAP, "buy", "2", "59000.129", time_in_force="ioc")
    )
    (sent,) = okx_orders(okx)
    assert (sent["ordType"], sent["px"], sent["sz"]) == ("ioc", "59000.1", "2")
    assert result.status is OrderStatus.CANCELED and result.filled_quantity == 0  # not marketable


async def test_okx_stop_limit_goes_to_the_algo_endpoint(okx: CcxtPlugin) -> None:
    order = Order.stop_limit(SWAP, "sell", "1", stop_price="59000", price="58900")
    result = await okx.execute_order(order)
    (sent,) = okx_orders(okx)
    assert {k: sent[k] for k in ("ordType", "triggerPx", "orderPx", "side", "clOrdId")} == {
        "ordType": "trigger",
        "triggerPx": "59000",
        "orderPx": "58900",
        "side": "sell",
        "clOrdId": order.client_order_id,
    }
    assert result.status is OrderStatus.ACCEPTED


async def test_okx_attached_stop_loss_and_take_profit(okx: CcxtPlugin) -> None:
    order = Order.limit(SWAP, "buy", "1", "59000", stop_loss="55000", take_profit="70000")
    assert (await okx.execute_order(order)).status is OrderStatus.ACCEPTED
    ((attached,),) = [s["attachAlgoOrds"] for s in okx_orders(okx)]
    assert (attached["slTriggerPx"], attached["tpTriggerPx"]) == ("55000", "70000")


async def test_okx_reduce_only(okx: CcxtPlugin) -> None:
    await okx.execute_order(Order.market(SWAP, "buy", "2"))
    result = await okx.execute_order(Order.market(SWAP, "sell", "1", reduce_only=True))
    assert okx_orders(okx)[-1]["reduceOnly"] is True
    assert result.status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("order", "code", "fragment"),
    [
        (
            Order.limit(SWAP, "buy", "1", "59000", time_in_force="day"),
            ErrorCode.NOT_SUPPORTED,
            "day orders",
        ),
        (Order.market(SPOT, "sell", "0.01", reduce_only=True), ErrorCode.NOT_SUPPORTED, "spot"),
        (Order.market(SWAP, "buy", "0.001"), ErrorCode.INVALID_ORDER, "amount step"),
        (Order.limit(SWAP, "buy", "1", "0.01"), ErrorCode.INVALID_ORDER, "price"),
        (Order.market("DOGE/EUR", "buy", "1"), ErrorCode.INVALID_ORDER, "no market"),
        (
            Order.market(SWAP, "buy", "1", params={"reduceOnly": True}),
            ErrorCode.INVALID_ORDER,
            "Order.params may not set reduceOnly",
        ),
    ],
)
async def test_okx_orders_refused_before_sending(
    okx: CcxtPlugin, order: Order, code: ErrorCode, fragment: str
) -> None:
    result = await okx.execute_order(order)
    assert (result.status, result.sent) == (OrderStatus.REJECTED, False)
    assert result.error_code is code
    assert fragment in (result.error or ""), result.error
    assert okx_orders(okx) == []


# ------------------------------------------------------------------ kraken


async def test_kraken_market_order_sends_cl_ord_id(kraken: CcxtPlugin) -> None:
    order = Order.market(BTCUSD, "buy", "0.0123456")
    result = await kraken.execute_order(order)
    (sent,) = kraken_orders(kraken)
    assert {k: sent.get(k) for k in ("pair", "type", "ordertype", "volume", "cl_ord_id")} == {
        "pair": "XXBTZUSD",
        "type": "buy",
        "ordertype": "market",
        "volume": "0.0123456",
        "cl_ord_id": order.client_order_id,  # ccxt sends clientOrderId as cl_ord_id
    }
    assert "userref" not in sent  # cl_ord_id and userref are mutually exclusive
    assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, Decimal("0.0123456"))


@pytest.mark.parametrize(
    ("order", "wanted"),
    [
        (
            Order.stop(BTCUSD, "sell", "0.01", "58000"),
            {"ordertype": "stop-loss", "price": "58000", "type": "sell"},
        ),
        (
            Order.stop_limit(BTCUSD, "buy", "0.01", stop_price="61000", price="61100"),
            {"ordertype": "stop-loss-limit", "price": "61000", "price2": "61100", "type": "buy"},
        ),
        (
            Order.limit(BTCUSD, "buy", "0.01", "59000.14", time_in_force="ioc"),
            {"ordertype": "limit", "price": "59000.1", "timeinforce": "IOC"},
        ),
    ],
)
async def test_kraken_stops_and_limits(
    kraken: CcxtPlugin, order: Order, wanted: dict[str, str]
) -> None:
    result = await kraken.execute_order(order)
    (sent,) = kraken_orders(kraken)
    assert {k: sent.get(k) for k in wanted} == wanted
    assert result.sent is True and result.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED)


@pytest.mark.parametrize(
    ("order", "fragment"),
    [
        (Order.limit(BTCUSD, "buy", "0.00001", "59000"), "minimum"),
        (Order.limit(BTCUSD, "buy", "0.01", "59000", time_in_force="day"), "day orders"),
        (
            Order.market(BTCUSD, "buy", "0.01", params={"userref": 7}),
            "Order.params may not set userref",
        ),
        (  # cryptocom's client id field: the plugin sets it, never the caller
            Order.market(BTCUSD, "buy", "0.01", params={"client_oid": "mine"}),
            "Order.params may not set client_oid",
        ),
    ],
)
async def test_kraken_orders_refused_before_sending(
    kraken: CcxtPlugin, order: Order, fragment: str
) -> None:
    result = await kraken.execute_order(order)
    assert (result.status, result.sent) == (OrderStatus.REJECTED, False)
    assert fragment in (result.error or ""), result.error
    assert kraken_orders(kraken) == []
