"""Core benchmarks: executor overhead on the mock, how it scales with executed ids,
memory per remembered id, throughput, import + discovery cost.

The executor and the direct plugin call each get their own mock and run in one event
loop, in rounds: each round sends ROUND_ORDERS orders on one side, then as many on the
other (which side goes first alternates), and its ratio is the executor's CPU time
(``process_time``: nothing here waits on I/O, and on a shared machine wall time mostly
measures the other processes) over the direct side's. A row reports the median of the
per-round ratios and prints their spread (10th-90th percentile), so one round a garbage
collection or another process lands on cannot decide it. GC stays on: what the
executor keeps per id and what that costs the collector is part of its price. Every
answer is checked; a benchmark whose orders failed raises instead of reporting.
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
from collections.abc import Awaitable, Callable
from typing import Any

from fks_exec import ExecutionResult, Executor, Order, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin

ROUNDS = 21
"""Rounds per measured row (an odd count: the median is one round's ratio)."""
ROUND_ORDERS = 2_000
"""Orders per side per round: a round spans several young-generation collections."""
WARM_ORDERS = 2_000
PRICES = {"prices": {"BTC/USDT": "50000"}}
MAX_IDS = int(os.environ.get("BENCH_CORE_MAX_IDS", "100000"))
"""Executed-ids marks go up to this (1e4, 1e5, 1e6): ``BENCH_CORE_MAX_IDS=1000000``."""
MOCK_HISTORY = 1_000
"""Finished orders each mock keeps, so what grows with executed ids is the executor's
memory, not the simulator's (the mock's own scaling is in bench_mock)."""

Send = Callable[[Order], Awaitable[ExecutionResult]]


def _orders(n: int) -> list[Order]:
    return [Order.market("BTC/USDT", "buy" if i % 2 else "sell", "0.001") for i in range(n)]


def _check(results: list[ExecutionResult]) -> None:
    failed = [r for r in results if r.status.value != "filled"]
    if failed:  # a fast failure is no order: never report it as speed
        raise RuntimeError(f"{len(failed)} benchmark orders failed, e.g. {failed[0]!r}")


async def _sides(history: int = MOCK_HISTORY) -> tuple[MockPlugin, Executor]:
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


async def _timed(send: Send, orders: list[Order]) -> float:
    """CPU seconds to send ``orders`` one after another (answers checked after)."""
    began = time.process_time()
    done = [await send(order) for order in orders]
    spent = time.process_time() - began
    _check(done)
    return spent


async def _advance(direct: MockPlugin, executor: Executor, n: int) -> None:
    """Send ``n`` orders on each side, unmeasured (both sides age alike)."""
    for start in range(0, n, ROUND_ORDERS):
        step = min(ROUND_ORDERS, n - start)
        await _timed(direct.execute_order, _orders(step))
        await _timed(executor.execute, _orders(step))


async def _rounds(direct: MockPlugin, executor: Executor, rounds: int) -> list[tuple[float, float]]:
    """Per round: CPU seconds per order direct and through the executor."""
    spent: list[tuple[float, float]] = []
    for i in range(rounds):
        if i % 2:  # the direct side first in odd rounds, the executor in even ones
            d = await _timed(direct.execute_order, _orders(ROUND_ORDERS))
            r = await _timed(executor.execute, _orders(ROUND_ORDERS))
        else:
            r = await _timed(executor.execute, _orders(ROUND_ORDERS))
            d = await _timed(direct.execute_order, _orders(ROUND_ORDERS))
        spent.append((d / ROUND_ORDERS, r / ROUND_ORDERS))
    return spent


def _summary(spent: list[tuple[float, float]]) -> tuple[float, float, float, str]:
    """Median ratio, median direct and routed rates, and the ratios' spread as text."""
    ratios = sorted(r / d for d, r in spent)
    deciles = statistics.quantiles(ratios, n=10)
    direct = 1 / statistics.median(d for d, _ in spent)
    routed = 1 / statistics.median(r for _, r in spent)
    spread = f"rounds p10-p90 {deciles[0]:.2f}-{deciles[-1]:.2f}x ({len(ratios)} rounds)"
    return statistics.median(ratios), direct, routed, spread


async def _overhead() -> list[tuple[float, float]]:
    direct, executor = await _sides()
    try:
        await _advance(direct, executor, WARM_ORDERS)
        return await _rounds(direct, executor, ROUNDS)
    finally:
        await executor.close()
        await direct.close()


async def _executed_ids(marks: list[int]) -> list[tuple[int, list[tuple[float, float]]]]:
    """After each mark of ids executed on both sides, ROUNDS measured rounds."""
    direct, executor = await _sides()
    rows, done = [], 0
    try:
        for mark in marks:
            if mark > done:
                await _advance(direct, executor, mark - done)
                done = mark
            rows.append((mark, await _rounds(direct, executor, ROUNDS)))
            done += ROUNDS * ROUND_ORDERS
    finally:
        await executor.close()
        await direct.close()
    return rows


async def _bytes_per_remembered_id(n: int = 20_000) -> float:
    """Traced bytes the executor keeps per settled id (its window and the memory
    journal), beyond what the same orders keep when sent directly."""
    direct, executor = await _sides()
    try:
        await _advance(direct, executor, WARM_ORDERS)  # warm up: caches, first allocations
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


def _fresh_import_rounds(codes: dict[str, str], rounds: int = 11) -> list[dict[str, float]]:
    """Seconds each snippet takes in a fresh interpreter, the snippets interleaved round by
    round (so a slower minute of the machine lands on all of them, not on one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    measured = []
    for _ in range(rounds):
        times = {}
        for name, code in codes.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times[name] = time.perf_counter() - started
        measured.append(times)
    return measured


def run() -> list[dict[str, Any]]:
    overhead, direct, routed, spread = _summary(asyncio.run(_overhead()))
    rows: list[dict[str, Any]] = [
        {
            "name": "executor.execute vs plugin.execute_order (mock)",
            "value": overhead,
            "unit": "x",
            "goal": "<= 1.15",
            "baseline": f"direct plugin.execute_order on the mock, {direct:,.0f} orders/s "
            f"(CPU, GC on); median of per-round ratios, {spread}",
        },
        {
            "name": "orders/s through the executor (mock, 1 core)",
            "value": routed,
            "unit": "orders/s",
            "goal": ">= 50000",
            "baseline": f"CPU time, median round; direct plugin {direct:,.0f} orders/s",
        },
    ]
    marks = [m for m in (10_000, 100_000, 1_000_000) if m <= MAX_IDS]
    for mark, spent in asyncio.run(_executed_ids(marks)):
        ratio, direct, routed, spread = _summary(spent)
        rows.append(
            {
                "name": f"executor vs direct after {mark:,} ids (mock)",
                "value": ratio,
                "unit": "x",
                "goal": "<= 1.15",
                "baseline": f"GC on; direct {direct:,.0f}/s, executor {routed:,.0f}/s (CPU); "
                f"{spread}; the executor remembers 10,000 settled ids, each mock keeps "
                f"{MOCK_HISTORY:,} finished orders",
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
    measured = _fresh_import_rounds(
        {
            "empty": "pass",
            "pydantic": "import pydantic",
            "discover": "import fks_exec; fks_exec.PluginRegistry().discover()",
            "full": "from fks_exec import Executor, Order; Executor(default='mock')",
        }
    )
    own = [{k: t[k] - t["empty"] for k in ("pydantic", "discover", "full")} for t in measured]
    ratios = sorted(t["discover"] / t["pydantic"] for t in own)
    pydantic = statistics.median(t["pydantic"] for t in own)
    full = statistics.median(t["full"] / t["pydantic"] for t in own)
    spread = f"rounds {ratios[1]:.2f}-{ratios[-2]:.2f}x (n={len(ratios)}, interleaved)"
    rows += [
        {
            "name": "import fks_exec + discover() vs import pydantic",
            "value": statistics.median(ratios),
            "unit": "x",
            "goal": "<= 1.3",
            "baseline": f"import pydantic {pydantic * 1000:.0f} ms (fresh interpreter, "
            f"interpreter start-up taken out); median of per-round ratios, {spread}",
        },
        {
            "name": "import Executor+Order, build one vs pydantic",
            "value": full,
            "unit": "x",
            "goal": "info",
            "baseline": f"import pydantic {pydantic * 1000:.0f} ms; this "
            f"{full * pydantic * 1000:.0f} ms (median of per-round ratios)",
        },
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
