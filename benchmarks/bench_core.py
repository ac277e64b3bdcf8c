"""Core benchmarks: executor overhead on the mock, how it scales with executed ids,
memory per remembered id, throughput, import + discovery cost.

The executor and the direct plugin call each get their own mock, run in one event loop
and alternate every CHUNK orders. Time is the process's CPU time (``process_time``):
nothing here waits on I/O, and on a shared machine wall time mostly measures the other
processes. Garbage collection stays on; its full collections are few and land on
whichever side crosses the threshold, so a ratio is the sum of each side's time over
every round, not a median of per-round ratios (which a single collection decides).
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from fks_exec import Executor, Order, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin

N_ORDERS = 20_000
ROUNDS = 5
CHUNK = 500
PRICES = {"prices": {"BTC/USDT": "50000"}}
MAX_IDS = int(os.environ.get("BENCH_CORE_MAX_IDS", "100000"))
"""Executed-ids marks go up to this (1e4, 1e5, 1e6): ``BENCH_CORE_MAX_IDS=1000000``."""
MOCK_HISTORY = 1_000
"""Finished orders each mock keeps in the executed-ids runs, so what grows is the
executor's memory, not the simulator's (the mock's own scaling is in bench_mock)."""


def _orders(n: int) -> list[Order]:
    return [Order.market("BTC/USDT", "buy" if i % 2 else "sell", "0.001") for i in range(n)]


def _check(results: list[Any]) -> None:
    if any(r.status.value != "filled" for r in results):  # a fast failure is no order
        raise RuntimeError(f"benchmark orders failed: {results[0]}")


async def _sides(history: int = 100_000) -> tuple[MockPlugin, Executor]:
    direct = MockPlugin(broker=MockBroker(history_limit=history))
    direct.use_env = False
    await direct.init(PRICES)
    registry = PluginRegistry(discover=False)
    routed = MockPlugin(broker=MockBroker(history_limit=history))
    routed.use_env = False
    registry.register("mock", routed)
    executor = Executor(registry, default="mock", configs={"mock": PRICES}, journal="memory")
    await executor.start()
    return direct, executor


async def _alternate(direct: MockPlugin, executor: Executor, n: int) -> tuple[float, float]:
    """CPU seconds for ``n`` orders direct and ``n`` through the executor, chunk by chunk."""
    direct_orders, routed_orders = _orders(n), _orders(n)
    spent_direct = spent_routed = 0.0
    for start in range(0, n, CHUNK):
        chunk = direct_orders[start : start + CHUNK]
        began = time.process_time()
        done = [await direct.execute_order(order) for order in chunk]
        spent_direct += time.process_time() - began
        _check(done)
        chunk = routed_orders[start : start + CHUNK]
        began = time.process_time()
        done = [await executor.execute(order) for order in chunk]
        spent_routed += time.process_time() - began
        _check(done)
    return spent_direct, spent_routed


async def _interleaved(n: int) -> tuple[float, float]:
    """Seconds per order, direct and through the executor, on fresh mocks."""
    direct, executor = await _sides()
    try:
        spent_direct, spent_routed = await _alternate(direct, executor, n)
    finally:
        await executor.close()
        await direct.close()
    return spent_direct / n, spent_routed / n


def _paired_rates() -> tuple[float, float, float, list[float]]:
    """Direct rate, routed rate and ratio over ROUNDS runs (sums), and per-round ratios."""
    runs = [asyncio.run(_interleaved(N_ORDERS)) for _ in range(ROUNDS)]
    direct = sum(d for d, _ in runs)
    routed = sum(r for _, r in runs)
    return ROUNDS / direct, ROUNDS / routed, routed / direct, [r / d for d, r in runs]


async def _executed_ids(marks: list[int], window: int) -> list[tuple[int, float]]:
    """After each mark of ids executed on both sides: the executor's CPU time over a
    direct call's, over the next ``window`` orders (GC on)."""
    direct, executor = await _sides(MOCK_HISTORY)
    rows, done = [], 0
    try:
        for mark in marks:
            while done < mark:  # both sides age alike
                step = min(CHUNK * 10, mark - done)
                await _alternate(direct, executor, step)
                done += step
            spent_direct, spent_routed = await _alternate(direct, executor, window)
            done += window
            rows.append((mark, spent_routed / spent_direct))
    finally:
        await executor.close()
        await direct.close()
    return rows


async def _bytes_per_remembered_id(n: int = 20_000) -> float:
    """Traced bytes the executor keeps per settled id (its window and the memory
    journal), beyond what the same orders keep when sent directly."""
    direct, executor = await _sides(MOCK_HISTORY)
    try:
        await _alternate(direct, executor, 2_000)  # warm up: caches, first allocations
        grown = {}
        for name, send in (("direct", direct.execute_order), ("executor", executor.execute)):
            orders = _orders(n)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for order in orders:
                await send(order)
            del orders
            gc.collect()
            grown[name] = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
    finally:
        await executor.close()
        await direct.close()
    return (grown["executor"] - grown["direct"]) / n


def _fresh_import_seconds(code: str, runs: int = 7) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> list[dict[str, Any]]:
    direct, routed, overhead, per_round = _paired_rates()
    rows: list[dict[str, Any]] = [
        {
            "name": "executor.execute vs plugin.execute_order (mock)",
            "value": overhead,
            "unit": "x",
            "goal": "<= 1.15",
            "baseline": f"direct plugin.execute_order on the mock, {direct:,.0f} orders/s "
            f"(CPU); rounds {min(per_round):.2f}-{max(per_round):.2f}x, GC on",
        },
        {
            "name": "orders/s through the executor (mock, 1 core)",
            "value": routed,
            "unit": "orders/s",
            "goal": ">= 50000",
            "baseline": f"direct plugin {direct:,.0f} orders/s",
        },
    ]
    marks = [m for m in (10_000, 100_000, 1_000_000) if m <= MAX_IDS]
    for mark, ratio in asyncio.run(_executed_ids(marks, 10_000)):
        rows.append(
            {
                "name": f"executor vs direct after {mark:,} ids (mock)",
                "value": ratio,
                "unit": "x",
                "goal": "<= 1.15",
                "baseline": f"GC on; the executor remembers 10,000 settled ids, each mock "
                f"keeps {MOCK_HISTORY:,} finished orders",
            }
        )
    per_id = asyncio.run(_bytes_per_remembered_id())
    rows.append(
        {
            "name": "executor memory per remembered id",
            "value": per_id,
            "unit": "bytes",
            "goal": "info",
            "baseline": "traced, order memory + memory journal, beyond a direct call",
        }
    )
    empty = _fresh_import_seconds("pass")
    pydantic = _fresh_import_seconds("import pydantic") - empty
    discover = (
        _fresh_import_seconds("import fks_exec; fks_exec.PluginRegistry().discover()") - empty
    )
    full = (
        _fresh_import_seconds("from fks_exec import Executor, Order; Executor(default='mock')")
        - empty
    )
    rows += [
        {
            "name": "import fks_exec + discover() vs import pydantic",
            "value": discover / pydantic,
            "unit": "x",
            "goal": "<= 1.3",
            "baseline": f"import pydantic {pydantic * 1000:.0f} ms (fresh interpreter)",
        },
        {
            "name": "import Executor+Order, build one vs pydantic",
            "value": full / pydantic,
            "unit": "x",
            "goal": "info",
            "baseline": f"import pydantic {pydantic * 1000:.0f} ms; this {full * 1000:.0f} ms",
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
