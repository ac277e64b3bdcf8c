"""ccxt plugin: an order through the plugin vs the same exchange's create_order.

Both sides use one real ccxt okx object served in-process by the reference OKX fake
(so ccxt's own request building, signing and parsing is in both), alternating in
chunks, with the rate limiter off on both sides (issue 21: it sleeps on every call and
would dilute the ratio).

OKX acknowledges a placement with ids only (``ordId``, ``sCode``), so the plugin reads
the order back once to report its state; the raw side does the same work a caller
needing the state must do: ``create_order`` then ``fetch_order``. The orders are IOC
limits far from the market, so each ends canceled; each side of each chunk gets a
fresh venue, since the fake's checks walk every order it ever took (its cost would
otherwise grow through the run and dilute the ratio). Times are this process's CPU
time (everything, venue included, runs in it), so other load on the machine does not
skew the ratio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

ORDERS = 1_500
CHUNK = 100
ROUNDS = 5
SYMBOL = "BTC/USDT:USDT"


async def _run() -> tuple[float, float]:
    from fks_exec import Order
    from fks_exec_ccxt import CcxtPlugin
    from fks_exec_ccxt.testing.okx import FakeOkx

    def fresh_venue() -> FakeOkx:
        venue = FakeOkx(balances={"USDT": "1000000000000"})
        venue.set_price("BTC-USDT-SWAP", "65000", "65000.1")
        return venue

    exchange = fresh_venue().exchange()
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init()
    await exchange.load_markets()
    exchange.enableRateLimit = False  # the plugin turns it on at init
    prices = [str(30000 + i % 1000) for i in range(ORDERS)]
    orders = [Order.limit(SYMBOL, "buy", "1", p, time_in_force="ioc") for p in prices]
    ioc = {"timeInForce": "IOC"}
    direct = routed = 0.0
    for start in range(0, ORDERS, CHUNK):
        fresh_venue().attach(exchange)
        began = time.process_time()
        for price in prices[start : start + CHUNK]:
            placed = await exchange.create_order(SYMBOL, "limit", "buy", 1, float(price), ioc)
            state = await exchange.fetch_order(placed["id"], SYMBOL)
        direct += time.process_time() - began
        if state["status"] != "canceled":
            raise RuntimeError(f"benchmark orders did not end canceled: {state}")
        fresh_venue().attach(exchange)
        began = time.process_time()
        results = [await plugin.execute_order(o) for o in orders[start : start + CHUNK]]
        routed += time.process_time() - began
        failed = [r for r in results if r.status.value != "canceled"]
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
            "name": "ccxt: plugin.execute_order vs create_order + fetch_order",
            "value": ratio,
            "unit": "x",
            "goal": "<= 1.10",
            "baseline": (
                f"create_order + fetch_order on the reference fake okx, {direct_us:,.0f} us/order"
            ),
        }
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
