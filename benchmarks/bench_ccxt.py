"""ccxt plugin: an order through the plugin vs the same exchange's create_order.

Both sides use one real ccxt binance object served by the same fake venue (so ccxt's
own request building, signing and parsing is in both), alternating in chunks.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

ORDERS = 1_500
CHUNK = 100
ROUNDS = 3


async def _run() -> tuple[float, float]:
    from fks_exec import Order
    from fks_exec_ccxt import CcxtPlugin
    from fks_exec_ccxt.testing import FakeBinance, fake_exchange

    venue = FakeBinance(balances={"USDT": "1000000000"})
    venue.set_price("BTCUSDT", "65000", "65001")
    exchange = fake_exchange(venue)
    plugin = CcxtPlugin(exchange=exchange)
    await plugin.init()
    await exchange.load_markets()
    # Issue 21: the rate limiter off on both sides (the plugin turns it on at init; the
    # fake's 1 ms pace sleeps on every call and would dilute the ratio).
    exchange.enableRateLimit = False
    prices = [str(30000 + i % 1000) for i in range(ORDERS)]
    orders = [Order.limit("BTC/USDT", "buy", "0.001", p) for p in prices]
    direct = routed = 0.0
    for start in range(0, ORDERS, CHUNK):
        began = time.perf_counter()
        for price in prices[start : start + CHUNK]:
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, float(price))
        direct += time.perf_counter() - began
        began = time.perf_counter()
        results = [await plugin.execute_order(o) for o in orders[start : start + CHUNK]]
        routed += time.perf_counter() - began
        failed = [r for r in results if r.status.value != "accepted"]
        if failed:  # a fast failure is not a fast order
            raise RuntimeError(f"benchmark orders failed: {failed[0]}")
    await plugin.close()
    return direct / ORDERS, routed / ORDERS


def run() -> list[dict[str, Any]]:
    try:
        import fks_exec_ccxt  # noqa: F401
    except ImportError:
        return []
    runs = [asyncio.run(_run()) for _ in range(ROUNDS)]
    ratio = statistics.median(r / d for d, r in runs)
    direct_us = statistics.median(d for d, _ in runs) * 1e6
    return [
        {
            "name": "ccxt: plugin.execute_order vs create_order",
            "value": ratio,
            "unit": "x",
            "goal": "<= 1.10",
            "baseline": f"exchange.create_order on the fake binance, {direct_us:,.0f} us/order",
        }
    ]
