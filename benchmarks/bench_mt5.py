"""mt5 plugin: an order through the plugin vs a direct order_send on the same fake.

The fake is the reference fake (written from MetaQuotes' documentation) on a netting
account, alternating buys and sells of 0.01 lots (a position opened, then closed).
Four variants run interleaved, in rounds, in one event loop on one fake:

- ``routed``: ``await plugin.execute_order(order)`` from the loop (wall time);
- ``direct+tick``: on the plugin's worker thread, ``symbol_info_tick`` then
  ``order_send`` with a prepared request (the least any caller must do: a market
  request needs the price);
- ``direct``: ``order_send`` alone (the tick read before the clock starts);
- ``hop``: an empty call through the same worker thread (wall time);
- ``hopped``: the tick read and ``order_send`` of ``direct+tick``, one order per hop
  to the worker (what the thread design alone costs a caller: the hop, and the fake's
  calls no longer running back to back with warm caches).

The added latency of a round is median(routed) - median(direct+tick) (and, shown
too, - median(direct)); the row is the median over the rounds, with the range.
routed - hopped is the plugin's and the core's own part. The
same rounds give CPU time per order of each variant (``time.process_time`` over the
block: both threads), so the added figure splits into the plugin's CPU work and the
time spent waiting for a thread to wake, which on an idle machine is most of the hop.

The same rounds run a second time with the whole process pinned to one CPU (both
threads; Linux): on a VM, a wake-up of an idle virtual CPU costs more than the rest of
a hop, and the pinned figure takes it out (an information row).

Orders are built outside the timed region, round by round, and the cyclic collector
runs as in any program. Nothing is frozen: ``gc.freeze()`` of pre-built orders made
the collections the plugin's allocations trigger cheaper than a real program gets.
Any order that is not filled (or answer that is not DONE) stops the benchmark.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

ORDERS_PER_ROUND = 200
ROUNDS = 15
WARM_UP = 200


class BenchmarkFailed(RuntimeError):
    """An order in the benchmark did not fill: its figures would mean nothing."""


def _spread(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}"


async def _run() -> dict[str, list[float]]:
    # A plugin (and its worker thread) of its own per call: a pinned run's thread
    # inherits the pinning.
    from fks_exec import Order
    from fks_exec_mt5 import Mt5Plugin
    from fks_exec_mt5 import constants as c
    from fks_exec_mt5.testing.reference import FakeMetaTrader5

    terminal = FakeMetaTrader5.netting(account_options={"balance": Decimal(10**12)})
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    await plugin.init()
    worker = plugin.worker
    sequence = 0

    def request(buy: bool, price: float) -> dict[str, Any]:
        nonlocal sequence
        sequence += 1
        return {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": "EURUSD",
            "volume": 0.01,
            "type": c.ORDER_TYPE_BUY if buy else c.ORDER_TYPE_SELL,
            "price": price,
            "deviation": 10,
            "magic": plugin.magic,
            "comment": f"d{sequence}",
            "type_filling": c.ORDER_FILLING_FOK,
            "type_time": c.ORDER_TIME_GTC,
        }

    def checked(result: Any) -> None:
        if result is None or result.retcode != c.TRADE_RETCODE_DONE:
            raise BenchmarkFailed(f"direct order_send failed: {result}")

    def direct_with_tick(buy: bool) -> float:
        began = time.perf_counter()
        tick = terminal.symbol_info_tick("EURUSD")
        result = terminal.order_send(request(buy, tick.ask if buy else tick.bid))
        spent = time.perf_counter() - began
        checked(result)
        return spent

    def direct_alone(buy: bool) -> float:
        tick = terminal.symbol_info_tick("EURUSD")
        prepared = request(buy, tick.ask if buy else tick.bid)
        began = time.perf_counter()
        result = terminal.order_send(prepared)
        spent = time.perf_counter() - began
        checked(result)
        return spent

    def block_of(function: Callable[[bool], float], count: int) -> list[float]:
        # On the worker: ``count`` direct orders in a row (for CPU time without hops).
        return [function(i % 2 == 0) for i in range(count)]

    async def routed(count: int) -> list[float]:
        orders = [
            Order.market("EURUSD", "buy" if i % 2 == 0 else "sell", "0.01") for i in range(count)
        ]
        spent = []
        for order in orders:
            began = time.perf_counter()
            result = await plugin.execute_order(order)
            spent.append(time.perf_counter() - began)
            if result.status.value != "filled":  # a fast failure is not a fast order
                raise BenchmarkFailed(f"benchmark order failed: {result}")
        return spent

    async def hops(count: int) -> list[float]:
        spent = []
        for _ in range(count):
            began = time.perf_counter()
            await worker.run(_nothing)
            spent.append(time.perf_counter() - began)
        return spent

    async def direct_hopped(count: int) -> list[float]:
        # One hop per order, as the plugin makes, running only the tick read and
        # order_send: the thread design's own cost, without the plugin's work.
        spent = []
        for i in range(count):
            began = time.perf_counter()
            await worker.run(direct_with_tick, i % 2 == 0)
            spent.append(time.perf_counter() - began)
        return spent

    async def direct_tick_wall(count: int) -> list[float]:
        return await worker.run(block_of, direct_with_tick, count)  # type: ignore[no-any-return]

    async def direct_wall(count: int) -> list[float]:
        return await worker.run(block_of, direct_alone, count)  # type: ignore[no-any-return]

    variants = {
        "routed": routed,
        "direct+tick": direct_tick_wall,
        "direct": direct_wall,
        "hop": hops,
        "hopped": direct_hopped,
    }
    await routed(WARM_UP)
    figures: dict[str, list[float]] = {
        f"{name} {kind}": [] for name in variants for kind in ("us", "cpu", "mean")
    }
    names = list(variants)
    for round_number in range(ROUNDS):
        # Rotate which variant goes first, so none always runs on a cooler cache.
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            cpu_began, wall_began = time.process_time(), time.perf_counter()
            spent = await variants[name](ORDERS_PER_ROUND)
            cpu, wall = time.process_time() - cpu_began, time.perf_counter() - wall_began
            figures[f"{name} us"].append(statistics.median(spent) * 1e6)
            figures[f"{name} cpu"].append(cpu / ORDERS_PER_ROUND * 1e6)
            figures[f"{name} mean"].append(wall / ORDERS_PER_ROUND * 1e6)
    await plugin.close()
    return figures


def _nothing() -> None:
    return None


def run() -> list[dict[str, Any]]:
    """The mt5 rows of ``make bench`` (nothing when the plugin is not installed).

    Raises :class:`BenchmarkFailed` when an order of the benchmark does not fill.
    """
    try:
        import fks_exec_mt5  # noqa: F401
    except ImportError:
        return []
    gc.collect()
    f = asyncio.run(_run())
    return [*_rows(f), *_pinned_rows()]


def _pinned_rows() -> list[dict[str, Any]]:
    if not hasattr(os, "sched_setaffinity"):
        return []
    everywhere = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everywhere)})
    try:
        gc.collect()
        f = asyncio.run(_run())
    finally:
        os.sched_setaffinity(0, everywhere)
    rounds = range(ROUNDS)
    added = [f["routed us"][i] - f["direct+tick us"][i] for i in rounds]
    own = [f["routed us"][i] - f["hopped us"][i] for i in rounds]
    med = statistics.median
    return [
        {
            "name": "mt5: added per order, pinned to one CPU",
            "value": med(added),
            "unit": "us",
            "goal": "info",
            "baseline": (
                f"as the row above with both threads on one CPU, range {_spread(added)}; "
                f"the hop {med(f['hop us']):.0f} us (CPU {med(f['hop cpu']):.0f} us); over "
                f"the same calls one hop each {med(own):.0f} us"
            ),
        }
    ]


def _rows(f: dict[str, list[float]]) -> list[dict[str, Any]]:
    rounds = range(ROUNDS)
    added = [f["routed us"][i] - f["direct+tick us"][i] for i in rounds]
    added_bare = [f["routed us"][i] - f["direct us"][i] for i in rounds]
    cpu_added = [f["routed cpu"][i] - f["direct+tick cpu"][i] for i in rounds]
    mean_added = [f["routed mean"][i] - f["direct+tick mean"][i] for i in rounds]
    hop, hop_cpu = f["hop us"], f["hop cpu"]
    own = [f["routed us"][i] - f["hopped us"][i] for i in rounds]
    own_cpu = [f["routed cpu"][i] - f["hopped cpu"][i] for i in rounds]
    med = statistics.median
    return [
        {
            "name": "mt5: added per order vs direct order_send",
            "value": med(added),
            "unit": "us",
            "goal": "<= 100",
            "baseline": (
                f"median of {ROUNDS} rounds (range {_spread(added)}) over tick read + "
                f"order_send on the fake, {med(f['direct+tick us']):.0f} us; over order_send "
                f"alone ({med(f['direct us']):.0f} us): {med(added_bare):.0f} us"
            ),
        },
        {
            "name": "mt5: of it, CPU per order",
            "value": med(cpu_added),
            "unit": "us",
            "goal": "info",
            "baseline": (
                f"process CPU (both threads), routed - direct+tick, range {_spread(cpu_added)}; "
                f"mean wall added {med(mean_added):.0f} us, so ~"
                f"{max(0.0, med(mean_added) - med(cpu_added)):.0f} us off the CPU (a thread's "
                "wake-up, or a core taken by other work); the hop's "
                f"own CPU {med(hop_cpu):.0f} us"
            ),
        },
        {
            "name": "mt5: of it, the hop to the worker thread",
            "value": med(hop),
            "unit": "us",
            "goal": "info",
            "baseline": (
                f"an empty call through the same worker thread, range {_spread(hop)}; "
                f"its CPU {med(hop_cpu):.0f} us (mean wall {med(f['hop mean']):.0f} us)"
            ),
        },
        {
            "name": "mt5: added over the same calls, one hop each",
            "value": med(own),
            "unit": "us",
            "goal": "info",
            "baseline": (
                f"routed - (tick read + order_send through one hop per order, "
                f"{med(f['hopped us']):.0f} us), range {_spread(own)}: the plugin's and the "
                f"core's work with the thread design taken out; its CPU {med(own_cpu):.0f} us "
                f"(range {_spread(own_cpu)})"
            ),
        },
    ]
