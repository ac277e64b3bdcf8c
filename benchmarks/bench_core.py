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
ROUNDS = 7


def _orders(n: int) -> list[Order]:
    return [Order.market("BTC/USDT", "buy" if i % 2 else "sell", "0.001") for i in range(n)]


async def _direct_rate(orders: list[Order]) -> float:
    plugin = MockPlugin()
    await plugin.init({"prices": {"BTC/USDT": "50000"}})
    started = time.perf_counter()
    for order in orders:
        await plugin.execute_order(order)
    return len(orders) / (time.perf_counter() - started)


async def _executor_rate(orders: list[Order]) -> float:
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    executor = Executor(
        registry, default="mock", configs={"mock": {"prices": {"BTC/USDT": "50000"}}}
    )
    async with executor:
        started = time.perf_counter()
        for order in orders:
            await executor.execute(order)
        return len(orders) / (time.perf_counter() - started)


def _paired_rates() -> tuple[float, float, float]:
    """Median direct rate, median routed rate, median of the per-round ratios.

    The two are measured alternately and compared round by round, so a slow moment
    on a shared machine hits both sides of a ratio alike.
    """
    direct, routed, ratios = [], [], []
    for _ in range(ROUNDS):
        d = asyncio.run(_direct_rate(_orders(N_ORDERS)))
        r = asyncio.run(_executor_rate(_orders(N_ORDERS)))
        direct.append(d)
        routed.append(r)
        ratios.append(d / r)
    return statistics.median(direct), statistics.median(routed), statistics.median(ratios)


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
