"""Core benchmarks: executor overhead on the mock, throughput, import + discovery cost."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from fks_exec import Executor, Order, PluginRegistry
from fks_exec.mock import MockPlugin

N_ORDERS = 20_000
ROUNDS = 5


def _orders(n: int) -> list[Order]:
    return [Order.market("BTC/USDT", "buy" if i % 2 else "sell", "0.001") for i in range(n)]


CHUNK = 500


async def _interleaved(n: int) -> tuple[float, float]:
    """Seconds per order, direct and through the executor, measured chunk by chunk.

    Both sides run in one event loop, alternating every CHUNK orders, so a slow
    moment on a shared machine hits both alike; each side has its own mock.
    """
    direct = MockPlugin()
    await direct.init({"prices": {"BTC/USDT": "50000"}})
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    executor = Executor(
        registry, default="mock", configs={"mock": {"prices": {"BTC/USDT": "50000"}}}
    )
    direct_orders, routed_orders = _orders(n), _orders(n)
    spent_direct = spent_routed = 0.0
    async with executor:
        for start in range(0, n, CHUNK):
            chunk = direct_orders[start : start + CHUNK]
            began = time.perf_counter()
            for order in chunk:
                await direct.execute_order(order)
            spent_direct += time.perf_counter() - began
            chunk = routed_orders[start : start + CHUNK]
            began = time.perf_counter()
            results = [await executor.execute(order) for order in chunk]
            spent_routed += time.perf_counter() - began
            if any(r.status.value != "filled" for r in results):  # a fast failure is no order
                raise RuntimeError(f"benchmark orders failed: {results[0]}")
    await direct.close()
    return spent_direct / n, spent_routed / n


def _paired_rates() -> tuple[float, float, float]:
    """Median direct rate, median routed rate and median ratio over ROUNDS runs."""
    runs = [asyncio.run(_interleaved(N_ORDERS)) for _ in range(ROUNDS)]
    direct = statistics.median(1 / d for d, _ in runs)
    routed = statistics.median(1 / r for _, r in runs)
    ratio = statistics.median(r / d for d, r in runs)
    return direct, routed, ratio


def _fresh_import_seconds(code: str, runs: int = 7) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> list[dict[str, Any]]:
    direct, routed, overhead = _paired_rates()
    empty = _fresh_import_seconds("pass")
    pydantic = _fresh_import_seconds("import pydantic") - empty
    discover = (
        _fresh_import_seconds("import fks_exec; fks_exec.PluginRegistry().discover()") - empty
    )
    full = (
        _fresh_import_seconds("from fks_exec import Executor, Order; Executor(default='mock')")
        - empty
    )
    return [
        {
            "name": "executor.execute vs plugin.execute_order (mock)",
            "value": overhead,
            "unit": "x",
            "goal": "<= 1.25",
            "baseline": f"direct plugin.execute_order on the mock, {direct:,.0f} orders/s",
        },
        {
            "name": "orders/s through the executor (mock, 1 core)",
            "value": routed,
            "unit": "orders/s",
            "goal": ">= 50000",
            "baseline": f"direct plugin {direct:,.0f} orders/s",
        },
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
