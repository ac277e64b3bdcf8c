"""Journal cost: orders/s through the executor on the mock, SQLite journal vs memory.

``memory`` is the journal-off baseline (nothing durable, what the executor did before
the journal). Both executors run in one event loop, alternating chunk by chunk, so a
slow moment on a shared machine hits both alike. The SQLite journal keeps its full
durability: the intent of every order is committed (``synchronous=FULL``, fsync'd)
before the order reaches the mock. Measured one order at a time (each waits for its
own commit) and with CONCURRENCY orders in flight (their commits are grouped), and
once with ``synchronous=NORMAL`` (safe against a SIGKILL, not a power cut) to show
what the fsync costs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fks_exec import Executor, Order, PluginRegistry
from fks_exec.journal import MemoryJournal, SqliteJournal
from fks_exec.journal.sqlite import Synchronous
from fks_exec.mock import MockPlugin

N_ORDERS = 4_000
CHUNK = 200
CONCURRENCY = 64
ROUNDS = 3


def _executor(journal: Any) -> Executor:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin()
    plugin.use_env = False
    registry.register("mock", plugin)
    return Executor(
        registry, default="mock", configs={"mock": {"prices": {"X": "100"}}}, journal=journal
    )


async def _chunk(executor: Executor, orders: list[Order], concurrency: int) -> float:
    began = time.perf_counter()
    for start in range(0, len(orders), concurrency):
        batch = orders[start : start + concurrency]
        results = await asyncio.gather(*(executor.execute(o) for o in batch))
        if any(r.status.value != "filled" for r in results):
            raise RuntimeError(f"benchmark orders failed: {results[0]}")
    return time.perf_counter() - began


async def _round(folder: Path, concurrency: int, sync: Synchronous) -> tuple[float, float, float]:
    """Orders/s with memory and with SQLite, interleaved, and the mean number of
    writes (claims, results) SQLite committed per transaction."""
    spent = {"memory": 0.0, "sqlite": 0.0}
    path = folder / f"bench-{concurrency}-{time.monotonic_ns()}.sqlite3"
    executors = {
        "memory": _executor(MemoryJournal()),
        "sqlite": _executor(SqliteJournal(path, synchronous=sync)),
    }
    for executor in executors.values():
        await executor.start()
    try:
        for _ in range(0, N_ORDERS, CHUNK):
            for name, executor in executors.items():
                orders = [Order.market("X", "buy", 1) for _ in range(CHUNK)]
                spent[name] += await _chunk(executor, orders, concurrency)
        journal = executors["sqlite"].journal
        assert isinstance(journal, SqliteJournal)
        sizes = journal.batch_sizes
        per_batch = sum(size * n for size, n in sizes.items()) / max(1, sum(sizes.values()))
    finally:
        for executor in executors.values():
            await executor.close()
    return N_ORDERS / spent["memory"], N_ORDERS / spent["sqlite"], per_batch


def _measure(concurrency: int, sync: Synchronous) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        runs = [asyncio.run(_round(Path(folder), concurrency, sync)) for _ in range(ROUNDS)]
    memory = statistics.median(m for m, _, _ in runs)
    sqlite = statistics.median(s for _, s, _ in runs)
    ratio = statistics.median(s / m for m, s, _ in runs)
    per_batch = statistics.median(b for _, _, b in runs)
    return memory, sqlite, ratio, per_batch


def run() -> list[dict[str, Any]]:
    rows = []
    cases: list[tuple[int, Synchronous, str]] = [
        (CONCURRENCY, "full", ">= 0.5"),
        (1, "full", "info"),
        (CONCURRENCY, "normal", "info"),
    ]
    for concurrency, sync, goal in cases:
        memory, sqlite, ratio, per_batch = _measure(concurrency, sync)
        durable = "fsync'd" if sync == "full" else "in the WAL (no fsync)"
        rows.append(
            {
                "name": f"SQLite journal ({sync}) vs off, {concurrency} in flight (mock)",
                "value": ratio,
                "unit": "x",
                "goal": goal,
                "baseline": f"journal off (memory) {memory:,.0f} orders/s; SQLite "
                f"{sqlite:,.0f} orders/s, every intent {durable} before sending; "
                f"{per_batch:.1f} writes per transaction",
            }
        )
    return rows + _postgres_rows()


# ------------------------------------------------------------ PostgreSQL (issue 19)
# The same measurement against a throwaway local server started for this run (fsync
# and synchronous_commit on: every intent is on the server's disk before sending).
# Cost kept low by batching queued claims/updates into one transaction and one
# array (unnest) statement each, sent pipelined, as prepared statements.


def _pg_cluster() -> Any:
    path = Path(__file__).parents[1] / "tests" / "journal_pg" / "pg_cluster.py"
    spec = importlib.util.spec_from_file_location("fks_bench_pg_cluster", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PgCluster(durable=True).start()


async def _pg_round(url: str, concurrency: int, n_orders: int) -> tuple[float, float]:
    """Orders/s with memory and with PostgreSQL, interleaved."""
    from fks_exec.journal.postgres import PostgresJournal

    spent = {"memory": 0.0, "postgresql": 0.0}
    executors = {
        "memory": _executor(MemoryJournal()),
        "postgresql": _executor(PostgresJournal(url)),
    }
    for executor in executors.values():
        await executor.start()
    try:
        for _ in range(0, n_orders, CHUNK):
            for name, executor in executors.items():
                orders = [Order.market("X", "buy", 1) for _ in range(CHUNK)]
                spent[name] += await _chunk(executor, orders, concurrency)
    finally:
        for executor in executors.values():
            await executor.close()
    return n_orders / spent["memory"], n_orders / spent["postgresql"]


def _postgres_rows() -> list[dict[str, Any]]:
    try:
        import psycopg
    except ImportError:
        return [{"name": "PostgreSQL journal", "value": 0, "unit": "-", "goal": "info",
                 "baseline": "skipped: pip install 'fks-exec[postgres]'"}]  # fmt: skip
    cluster = _pg_cluster()
    rows = []
    try:
        # One at a time is fsync-bound (a commit per order): fewer orders suffice.
        for concurrency, goal, n_orders in [(CONCURRENCY, ">= 0.5", N_ORDERS), (1, "info", 800)]:
            runs = []
            for k in range(ROUNDS):
                schema = f"bench_{concurrency}_{k}"
                with psycopg.connect(cluster.url(), autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                url = cluster.url(search_path=schema)
                runs.append(asyncio.run(_pg_round(url, concurrency, n_orders)))
            memory = statistics.median(m for m, _ in runs)
            postgres = statistics.median(p for _, p in runs)
            rows.append(
                {
                    "name": f"PostgreSQL journal vs off, {concurrency} in flight (mock)",
                    "value": statistics.median(p / m for m, p in runs),
                    "unit": "x",
                    "goal": goal,
                    "baseline": f"journal off (memory) {memory:,.0f} orders/s; PostgreSQL "
                    f"{postgres:,.0f} orders/s (local server, Unix socket), every intent "
                    "committed before sending",
                }
            )
    finally:
        cluster.stop()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
