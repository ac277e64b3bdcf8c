"""ccxt plugin: an order through the plugin vs the same order straight through ccxt.

For each reference venue (OKX, Kraken) two real ccxt objects are served in-process by
the venue's fake: one handed to the plugin (which hooks it: number bounds on every
answer, send probes), one left as ccxt made it. The rate limiter is off on both (issue
21: it sleeps on every call and would dilute the ratio).

Both venues acknowledge a placement with ids only, so the plugin reads the order back
once to report its state; the direct side does what a caller needing the state must do:
``create_order`` with the same client id parameter, then ``fetch_order``. The orders are
IOC limits far from the market, so each ends canceled, and every one is checked (a fast
failure is not a fast order: the run fails loudly).

The variants alternate order by order (which goes first alternates too), so load on the
machine falls on both alike; each round starts both on fresh venues, which then grow
alike (the fakes' checks walk every order they ever took). Each order is timed in this
thread's CPU time; the figure is the median of the per-round ratios (plugin time over
direct time), and the spread of those ratios is printed with it.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ROUNDS = 21  # odd: the median is one round's ratio
CHUNK = 60
WARMUP = 40


@dataclass(frozen=True)
class _Venue:
    name: str
    symbol: str
    amount: str
    fresh: Callable[[], Any]


def _okx() -> Any:
    from fks_exec_ccxt.testing.okx import FakeOkx

    venue = FakeOkx(balances={"USDT": "1000000000000"})
    venue.set_price("BTC-USDT-SWAP", "65000", "65000.1")
    return venue


def _kraken() -> Any:
    from fks_exec_ccxt.testing.kraken import FakeKraken

    venue = FakeKraken(balances={"ZUSD": "1000000000000", "XXBT": "10"})
    venue.set_price("XBTUSD", "65000", "65000.1", "65000")
    return venue


VENUES = (
    _Venue("okx", "BTC/USDT:USDT", "1", _okx),
    _Venue("kraken", "BTC/USD", "0.01", _kraken),
)


async def _measure(spec: _Venue) -> tuple[list[float], float]:
    from fks_exec import Order
    from fks_exec_ccxt import CcxtPlugin
    from fks_exec_ccxt.client_ids import venue_client_id

    routed_exchange = spec.fresh().exchange()
    plugin = CcxtPlugin(exchange=routed_exchange)
    plugin.use_env = False
    await plugin.init()
    await routed_exchange.load_markets()
    routed_exchange.enableRateLimit = False  # the plugin turns it on at init
    direct = spec.fresh().exchange()
    await direct.load_markets()
    direct.enableRateLimit = False
    rules = plugin.rules_of(await plugin.market(spec.symbol))
    client_param = rules.client_id.param  # the parameter the plugin sends the id in
    ioc = {"timeInForce": "IOC"}
    serial = iter(range(10**9))

    def orders(count: int) -> list[Any]:
        return [
            Order.limit(
                spec.symbol,
                "buy",
                spec.amount,
                str(30000 + next(serial) % 1000),
                time_in_force="ioc",
            )
            for _ in range(count)
        ]

    async def through_ccxt(order: Any) -> None:
        params = {client_param: venue_client_id(order.client_order_id, rules.client_id), **ioc}
        placed = await direct.create_order(
            spec.symbol, "limit", "buy", float(order.quantity), float(order.price), params
        )
        state = await direct.fetch_order(placed["id"], spec.symbol)
        if state["status"] != "canceled":
            raise RuntimeError(f"{spec.name}: a direct order did not end canceled: {state}")

    async def through_plugin(order: Any) -> None:
        result = await plugin.execute_order(order)
        if result.status.value != "canceled":
            raise RuntimeError(f"{spec.name}: a plugin order did not end canceled: {result}")

    clock = time.thread_time

    async def one_round(count: int, plugin_first: bool) -> tuple[float, float]:
        spec.fresh().attach(direct)  # each side on a fresh venue, both growing alike
        spec.fresh().attach(routed_exchange)
        pairs = list(zip(orders(count), orders(count), strict=True))
        gc.collect()
        alone = routed = 0.0
        for index, (mine, theirs) in enumerate(pairs):
            # Adjacent in time, first one then the other: load hits both alike.
            for side in (0, 1) if (index % 2 == 0) is plugin_first else (1, 0):
                began = clock()
                if side == 0:
                    await through_plugin(mine)
                    routed += clock() - began
                else:
                    await through_ccxt(theirs)
                    alone += clock() - began
        return routed, alone

    await one_round(WARMUP, True)
    ratios, direct_times = [], []
    for round_ in range(ROUNDS):
        routed, alone = await one_round(CHUNK, round_ % 2 == 0)
        ratios.append(routed / alone)
        direct_times.append(alone / CHUNK)
    await plugin.close()
    await direct.close()
    return ratios, statistics.median(direct_times)


def run() -> list[dict[str, Any]]:
    try:
        import fks_exec_ccxt  # noqa: F401
    except ImportError:
        return []
    rows = []
    for spec in VENUES:
        ratios, direct_s = asyncio.run(_measure(spec))
        low, high = min(ratios), max(ratios)
        quartiles = statistics.quantiles(ratios, n=4)
        rows.append(
            {
                "name": f"ccxt ({spec.name}): plugin.execute_order vs create_order + fetch_order",
                "value": statistics.median(ratios),
                "unit": "x",
                "goal": "<= 1.10",
                "baseline": (
                    f"ccxt {spec.name} on its reference fake, same client id param, "
                    f"{direct_s * 1e6:,.0f} us/order (CPU); {ROUNDS} rounds of {CHUNK}, "
                    f"ratios {low:.3f}-{high:.3f}, middle half "
                    f"{quartiles[0]:.3f}-{quartiles[2]:.3f}"
                ),
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
