"""Market orders on hyperliquid carry a price (ccxt hyperliquid.py create_order_request:
"market orders require price to calculate the max slippage price", 5 % by default):
the plugin gives ccxt the ask (a buy) or the bid (a sell), and a market stop its own
trigger, so the triggered order's cap is measured from where it fires."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest
from markets import ccxt_market, exchange_with

from fks_exec import Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse, attach_session

SYMBOL = "BTC/USDC:USDC"
MARKET = ccxt_market(SYMBOL, amount=0.00001, price=1.0, id="0", baseId=0, info={"szDecimals": "5"})
FILLED = {
    "status": "ok",
    "response": {
        "type": "order",
        "data": {"statuses": [{"filled": {"totalSz": "0.01", "avgPx": "60000", "oid": 1}}]},
    },
}


async def _sent(order: Order, ticker: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    exchange = exchange_with(
        "hyperliquid", MARKET, walletAddress="0x" + "11" * 20, privateKey="0x" + "22" * 32
    )
    orders: list[Any] = []

    async def handle(request: Any) -> HttpResponse:
        body = json.loads(request.body or "{}")
        if body.get("action", {}).get("type") == "order":
            orders.append(body["action"]["orders"][0])
        return HttpResponse.json(FILLED)

    attach_session(exchange, handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})

    async def fetch_ticker(symbol: str, params: Any = None) -> dict[str, Any]:
        if ticker is None:
            raise ccxt_async.NetworkError("no ticker")
        return {"symbol": symbol, **ticker}

    plugin.exchange.fetch_ticker = fetch_ticker
    try:
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    return result, orders


@pytest.mark.parametrize(
    ("side", "cap"),
    [
        ("buy", Decimal("63000")),
        ("sell", Decimal("56991")),
    ],  # ask 60000 x 1.05, bid 59990 x 0.95 (ccxt rounds it to the tick)
)
async def test_a_market_order_goes_out_capped_from_its_side_of_the_book(
    side: str, cap: Decimal
) -> None:
    result, orders = await _sent(
        Order.market(SYMBOL, side, "0.01"), {"ask": 60000, "bid": 59990, "last": 59995}
    )
    assert result.sent and result.status is not OrderStatus.REJECTED, result.error
    assert len(orders) == 1 and Decimal(orders[0]["p"]) == cap


async def test_a_market_stop_is_capped_from_its_trigger() -> None:
    result, orders = await _sent(Order.stop(SYMBOL, "sell", "0.01", "55000"), None)
    assert result.sent, result.error
    assert len(orders) == 1 and Decimal(orders[0]["p"]) == Decimal("52250")  # 55000 x 0.95
    assert Decimal(orders[0]["t"]["trigger"]["triggerPx"]) == 55000


async def test_without_a_price_a_market_order_is_refused_before_sending() -> None:
    with pytest.raises(Exception, match="no price"):
        await _sent(Order.market(SYMBOL, "buy", "0.01"), None)
