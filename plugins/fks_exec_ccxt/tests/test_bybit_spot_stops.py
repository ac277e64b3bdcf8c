"""Bybit spot stops: no direction goes with them, so a stop the market has crossed is
refused before sending, whichever way Bybit turns out to fire one.

Bybit v5 place order (https://bybit-exchange.github.io/docs/v5/order/create-order):
``triggerDirection`` is "valid for linear & inverse"; a spot conditional order
(``orderFilter`` ``StopOrder``, what ccxt sends for a spot ``triggerPrice``) carries only
its trigger. Its open order shows a direction and the "last price when place the order"
(v5/order/open-order), and ccxt issue #19000 saw a sell stop placed below the market
get a ``>=`` trigger: the direction is taken from the market at placement (inferred;
the fake's ``direction`` holds both readings). Contracts keep their explicit direction.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import pytest
from bybit_fake import BybitSpot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markets import ccxt_market, exchange_with

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import attach_session

SPOT, SWAP = "BTC/USDT", "BTC/USDT:USDT"
DIRECTIONS = ["from_last", "by_side"]


def _stop(side: str, stop: str | Decimal) -> Order:
    # a spot market buy is sent by cost (ccxt's marketBuyRequiresPrice): a stop-limit
    if side == "buy":
        return Order.stop_limit(SPOT, side, "0.01", stop, stop)
    return Order.stop(SPOT, side, "0.01", stop)


async def _traded(venue: BybitSpot, *orders: Order) -> list[Any]:
    markets = [
        ccxt_market(SPOT, id="BTCUSDT", amount=0.000001, price=0.01),
        ccxt_market(SWAP, id="BTCUSDT", amount=0.001, price=0.1),
    ]
    exchange = exchange_with("bybit", *markets, apiKey="k" * 18, secret="s" * 36)
    attach_session(exchange, venue.handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    try:
        return [await plugin.execute_order(order) for order in orders]
    finally:
        await plugin.close()


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(
    ("side", "stop"), [("sell", "60500"), ("sell", "60000"), ("buy", "59500"), ("buy", "60000")]
)
async def test_a_spot_stop_the_market_crossed_is_refused_before_sending(
    direction: str, side: str, stop: str
) -> None:
    venue = BybitSpot(last="60000", direction=direction)  # type: ignore[arg-type]
    (result,) = await _traded(venue, _stop(side, stop))
    assert result.status is OrderStatus.REJECTED and result.sent is False, result.error
    assert result.error_code is ErrorCode.INVALID_ORDER
    error = result.error or ""
    assert "BTC/USDT's last price 60000" in error
    assert f"a {side} stop must be {'below' if side == 'sell' else 'above'} the last price" in error
    assert error.lower().count("nothing was sent") == 1  # said once
    assert venue.creates() == []


@pytest.mark.parametrize("direction", DIRECTIONS)
async def test_a_spot_stop_short_of_the_market_goes_without_a_direction(direction: str) -> None:
    venue = BybitSpot(last="60000", direction=direction)  # type: ignore[arg-type]
    sell, buy = await _traded(venue, _stop("sell", "59000"), _stop("buy", "61000"))
    assert sell.sent and buy.sent and OrderStatus.REJECTED not in (sell.status, buy.status)
    bodies = venue.creates()
    assert [b["orderFilter"] for b in bodies] == ["StopOrder", "StopOrder"]
    assert all("triggerDirection" not in b for b in bodies)
    assert [(s.body["side"], s.fires_on_rise) for s in venue.stops] == [
        ("Sell", False),
        ("Buy", True),
    ]


async def test_a_contract_stop_carries_its_direction_and_reads_no_ticker() -> None:
    venue = BybitSpot(last="60000")
    order = Order.stop(SWAP, "sell", "0.01", "60500")  # above the market: a contract says so
    await _traded(venue, order)
    (body,) = venue.creates()
    assert body["category"] == "linear" and body["triggerDirection"] == 2  # a fall
    assert not any(r.path == "/v5/market/tickers" for r in venue.requests)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    direction=st.sampled_from(DIRECTIONS),
    side=st.sampled_from(["buy", "sell"]),
    offset=st.integers(-300, 300),
)
def test_every_spot_stop_placed_fires_in_its_own_direction(
    direction: str, side: str, offset: int
) -> None:
    """Stops either side of the last price: each is refused, nothing sent, or placed so
    that it fires on a rise for a buy and on a fall for a sell, under either reading."""

    async def scenario() -> None:
        venue = BybitSpot(last="60000", direction=direction)  # type: ignore[arg-type]
        stop = Decimal(60000 + offset * 10)
        (result,) = await _traded(venue, _stop(side, stop))
        if result.sent is False:
            assert venue.creates() == []
            assert (stop <= 60000) if side == "buy" else (stop >= 60000)
        else:
            assert [s.fires_on_rise for s in venue.stops] == [side == "buy"]

    asyncio.run(scenario())


async def test_a_ccxt_check_failing_after_bybit_s_account_reads_is_not_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ccxt bybit.py create_order asks the account kind first (/v5/user/query-api and
    /v5/account/info), then builds the order (create_order_request), then posts it: a
    refusal in the builder is one before sending, those reads notwithstanding."""

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ccxt_async.InvalidOrder("bybit createOrder requires a price argument")

    monkeypatch.setattr(ccxt_async.bybit, "create_order_request", refuse)
    venue = BybitSpot(last="60000")
    (result,) = await _traded(venue, Order.limit(SPOT, "buy", "0.01", "59000"))
    assert result.status is OrderStatus.REJECTED and result.sent is False, result.error
    assert "(ccxt, before sending)" in (result.error or "")
    assert any(r.path == "/v5/user/query-api" for r in venue.requests)
    assert venue.creates() == []


def test_the_fake_imports_nothing_of_the_plugin() -> None:
    """Written from Bybit's docs: only the plugin-independent test transport."""
    import ast

    import bybit_fake

    tree = ast.parse(Path(bybit_fake.__file__).read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [m for m in modules if m and m.startswith("fks_exec")] == [
        "fks_exec_ccxt.testing.aiohttp_transport"
    ]
