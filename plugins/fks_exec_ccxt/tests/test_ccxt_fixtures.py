"""Against ccxt's own offline fixtures (../shared/fixtures/ccxt, see SOURCE.md there).

The parsed markets in those files come from an older ccxt; the durable parts are the
exchanges' raw payloads. So markets are built by the installed ccxt from the raw
``info`` entries (served as the exchange's market listing), and the raw HTTP bodies
of orders are served to the installed ccxt and read through the plugin.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.mapping import to_decimal, to_result
from fks_exec_ccxt.testing import FakeBinance, FakeBybit, binance_symbol_info, fake_exchange


def raw_infos(fixture_json: Any, exchange: str, predicate: Any) -> list[dict[str, Any]]:
    markets = fixture_json("markets", exchange)
    return [m["info"] for m in markets.values() if predicate(m)]


def fixture_step(exchange: str, value: Any) -> Decimal:
    # The fixtures' binance precision predates tick sizes: 5 meant 0.00001.
    number = Decimal(str(value))
    return Decimal(1).scaleb(-int(number)) if exchange == "binance" else number


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
async def test_installed_ccxt_builds_the_fixture_markets_from_raw_info(
    exchange: str, ccxt_fixture: Any
) -> None:
    fixture = ccxt_fixture("markets", exchange)
    if exchange == "binance":
        venue: Any = FakeBinance(raw_infos(ccxt_fixture, "binance", lambda m: m["type"] == "spot"))
        wanted = [s for s, m in fixture.items() if m["type"] == "spot"]
    else:
        venue = FakeBybit(
            raw_infos(ccxt_fixture, "bybit", lambda m: m.get("linear") and m["type"] == "swap"),
            spot=raw_infos(ccxt_fixture, "bybit", lambda m: m["type"] == "spot"),
        )
        wanted = [
            s
            for s, m in fixture.items()
            if m["type"] == "spot" or (m["type"] == "swap" and m.get("linear"))
        ]
    ccxt_exchange = fake_exchange(venue, options={"fetchMarkets": {"types": ["spot", "linear"]}})
    markets = await ccxt_exchange.load_markets()
    await ccxt_exchange.close()
    assert set(wanted) <= set(markets)
    for symbol in wanted:
        new, old = markets[symbol], fixture[symbol]
        assert new["id"] == old["id"]
        for limit in ("amount", "cost"):
            old_min = to_decimal(old["limits"][limit]["min"])
            if old_min is not None:  # the newer ccxt may know limits the old one did not
                assert to_decimal(new["limits"][limit]["min"]) == old_min, (symbol, limit)
        for kind in ("amount", "price"):
            assert Decimal(str(new["precision"][kind])) == fixture_step(
                exchange, old["precision"][kind]
            ), (symbol, kind)


async def test_binance_create_order_body_from_the_fixture(ccxt_fixture: Any) -> None:
    case = ccxt_fixture("response", "binance")["methods"]["createOrder"][0]
    symbol, _kind, side, amount, price, _ = case["input"]
    venue = FakeBinance(
        [binance_symbol_info("SOL", "USDT", tick="0.01", step="0.001", min_qty="0.001")]
    )
    venue.set_price("SOLUSDT", "240", "241")
    plugin = CcxtPlugin(exchange=fake_exchange(venue))
    await plugin.init()
    venue.fail_next("http", status=200, body=json.dumps(case["httpResponse"]), path="/api/v3/order")
    order = Order.limit(
        symbol, side, str(amount), str(price), client_order_id=case["httpResponse"]["clientOrderId"]
    )
    result = await plugin.execute_order(order)
    await plugin.close()
    parsed = case["parsedResponse"]
    assert (result.order_id, result.client_order_id, result.symbol) == (
        parsed["id"],
        parsed["clientOrderId"],
        parsed["symbol"],
    )
    assert result.status is OrderStatus.ACCEPTED and result.filled_quantity == 0
    assert result.quantity == Decimal("0.05")


async def test_bybit_create_acknowledgement_from_the_fixture(ccxt_fixture: Any) -> None:
    case = ccxt_fixture("response", "bybit")["methods"]["createOrder"][0]
    venue = FakeBybit()
    venue.set_price("BTCUSDT", "65000", "65001")
    plugin = CcxtPlugin(exchange=fake_exchange(venue))
    await plugin.init()
    venue.fail_next(
        "http", status=200, body=json.dumps(case["httpResponse"]), path="/v5/order/create"
    )
    order = Order.limit(
        "BTC/USDT:USDT",
        "buy",
        "0.01",
        "60000",
        client_order_id=case["httpResponse"]["result"]["orderLinkId"],
    )
    result = await plugin.execute_order(order)
    await plugin.close()
    # An acknowledgement only (ids, no state): accepted, never a fill.
    assert result.order_id == case["parsedResponse"]["id"]
    assert (result.status, result.filled_quantity) == (OrderStatus.ACCEPTED, 0)


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_every_fixture_order_maps_to_a_consistent_result(exchange: str, ccxt_fixture: Any) -> None:
    methods = ccxt_fixture("response", exchange)["methods"]
    orders = []
    for name in (
        "createOrder",
        "fetchOrder",
        "fetchOpenOrders",
        "fetchOpenOrder",
        "fetchClosedOrders",
        "fetchClosedOrder",
        "fetchOrders",
    ):
        for case in methods.get(name, []):
            parsed = case["parsedResponse"]
            orders += parsed if isinstance(parsed, list) else [parsed]
    assert orders
    expected = {
        "open": (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED),
        "closed": (OrderStatus.FILLED,),
        "canceled": (OrderStatus.CANCELED,),
        None: (OrderStatus.ACCEPTED,),
    }
    for raw in orders:
        result = to_result(raw, plugin="ccxt", symbol=raw.get("symbol"))
        ExecutionResult.model_validate(result.model_dump())
        assert result.status in expected[raw.get("status")], raw.get("status")
        assert result.filled_quantity == (to_decimal(raw.get("filled")) or 0)
        if result.filled_quantity:
            assert result.average_price is not None
