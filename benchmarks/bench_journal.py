"""Journal cost: orders/s through the executor on the mock, durable journals vs memory.

``memory`` is the journal-off baseline (nothing durable, what the executor did before
the journal). Every variant of a case has its own executor on its own mock, all in one
event loop, and they run interleaved in rounds: a round is one chunk of orders through
each variant (the order of the variants rotates from round to round), so a slow moment
on a shared machine hits every variant of that round alike. A row is the median of the
per-round ratios (variant orders/s / memory orders/s of the same round), with the
10th-90th percentile range of those ratios.

The durable variants keep full durability: the intent of every order is committed
(SQLite ``synchronous=FULL``: fsync'd; PostgreSQL: fsync and synchronous_commit on)
before the order reaches the mock. ``synchronous=NORMAL`` (safe against a SIGKILL,
not a power cut) is shown to separate the fsync from the rest.

Why the disk decides the 64-in-flight figure: the orders of a chunk go out in waves of
CONCURRENCY (``asyncio.gather``), and no order of a wave may be sent before its intent
is on disk, so each wave waits for at least one fsync. The same rounds therefore time
``fdatasync`` of 4 KiB written over a file next to the journal (what a reused
write-ahead log pays; appending, which also commits the file's new size, is shown too),
and the row shows the best ratio any journal could reach with that fsync: memory's
time per wave / (memory's time per wave + the median fsync). CPU per order
(``time.process_time``: the event loop and the journal's writer thread; not the
PostgreSQL server) is shown for each variant: it is the journal's own cost, which the
fsync wait is not, and on busy cores memory's CPU / the journal's caps the ratio too.

Any order that is not filled stops the benchmark (:class:`BenchmarkFailed`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fks_exec import Executor, Order, PluginRegistry
from fks_exec.journal import Journal, MemoryJournal, SqliteJournal
from fks_exec.journal.sqlite import Synchronous
from fks_exec.mock import MockPlugin

CONCURRENCY = 64
LIVES = 3
"""Fresh executors (and journal files) this many times per case."""
FSYNC_PROBES = 3
"""fdatasync timings taken per round."""


class BenchmarkFailed(RuntimeError):
    """An order in the benchmark did not fill: its figures would mean nothing."""


@dataclass(frozen=True)
class Case:
    """One comparison: its variants run interleaved against ``memory``."""

    concurrency: int
    chunk: int
    rounds_per_life: int
    variants: tuple[str, ...]


CASES = (
    Case(CONCURRENCY, 192, 20, ("memory", "sqlite-full", "sqlite-normal", "postgresql")),
    Case(1, 40, 10, ("memory", "sqlite-full", "postgresql")),
)


@dataclass
class Figures:
    """What the rounds of one case measured, per variant."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    loop_cpu: dict[str, list[float]] = field(default_factory=dict)
    """CPU seconds of the event loop's thread alone (time.thread_time)."""
    writer_cpu: dict[str, list[float]] = field(default_factory=dict)
    """CPU seconds of the SQLite journal's writer thread (its own CPU clock)."""
    fsync: list[float] = field(default_factory=list)
    fsync_append: list[float] = field(default_factory=list)
    writes_per_transaction: list[float] = field(default_factory=list)


def _executor(journal: Journal) -> Executor:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin()
    plugin.use_env = False
    registry.register("mock", plugin)
    return Executor(
        registry, default="mock", configs={"mock": {"prices": {"X": "100"}}}, journal=journal
    )


def _writer_cpu_s(journal: Journal) -> float | None:
    """CPU seconds the SQLite journal's writer thread has used (found by the name it
    gives its thread), or None (another backend, or a platform without thread clocks)."""
    if not isinstance(journal, SqliteJournal) or not hasattr(time, "pthread_getcpuclockid"):
        return None
    name = f"fks-exec-journal-{journal.path.name}"
    for thread in threading.enumerate():
        if thread.name == name and thread.ident is not None:
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return None


async def _chunk(
    executor: Executor, size: int, concurrency: int
) -> tuple[float, float, float, float | None]:
    """Wall, process CPU, loop-thread CPU and writer-thread CPU (None without one)
    seconds for ``size`` fresh orders in waves of ``concurrency``."""
    orders = [Order.market("X", "buy", 1) for _ in range(size)]
    writer = _writer_cpu_s(executor.journal)
    loop, cpu, began = time.thread_time(), time.process_time(), time.perf_counter()
    for start in range(0, size, concurrency):
        wave = orders[start : start + concurrency]
        results = await asyncio.gather(*(executor.execute(o) for o in wave))
        failed = [r for r in results if r.status.value != "filled"]
        if failed:
            raise BenchmarkFailed(f"{len(failed)} benchmark orders failed: {failed[0]}")
    encode = getattr(executor.journal, "encode_queued_results", None)
    if encode is not None:  # this variant's work, not the next round's variant's
        encode()
    wall, cpu, loop = (
        time.perf_counter() - began,
        time.process_time() - cpu,
        time.thread_time() - loop,
    )
    after = _writer_cpu_s(executor.journal)
    return wall, cpu, loop, None if writer is None or after is None else after - writer


def _fsync_s(path: Path, *, append: bool) -> float:
    """Seconds one fdatasync of 4 KiB written to ``path`` takes: appended, or over the
    file's first 4 KiB (the file is made 64 KiB long first)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < 65536:
            os.pwrite(fd, b"\0" * 65536, 0)
            os.fsync(fd)
        offset = os.fstat(fd).st_size if append else 0
        os.pwrite(fd, b"\1" * 4096, offset)
        began = time.perf_counter()
        os.fdatasync(fd)
        return time.perf_counter() - began
    finally:
        os.close(fd)


def _writes_per_transaction(journal: Journal) -> float | None:
    if not isinstance(journal, SqliteJournal):
        return None
    sizes = journal.batch_sizes
    return sum(size * n for size, n in sizes.items()) / max(1, sum(sizes.values()))


async def _life(case: Case, journals: dict[str, Journal], folder: Path, figures: Figures) -> None:
    executors = {name: _executor(journal) for name, journal in journals.items()}
    for executor in executors.values():
        await executor.start()
    try:
        names = list(executors)
        for round_no in range(case.rounds_per_life):
            turn = round_no % len(names)
            for name in names[turn:] + names[:turn]:
                wall, cpu, loop, writer = await _chunk(
                    executors[name], case.chunk, case.concurrency
                )
                figures.wall.setdefault(name, []).append(wall)
                figures.cpu.setdefault(name, []).append(cpu)
                figures.loop_cpu.setdefault(name, []).append(loop)
                if writer is not None:
                    figures.writer_cpu.setdefault(name, []).append(writer)
            for _ in range(FSYNC_PROBES):
                figures.fsync.append(_fsync_s(folder / "fsync-over", append=False))
                figures.fsync_append.append(_fsync_s(folder / "fsync-append", append=True))
        per_transaction = _writes_per_transaction(journals.get("sqlite-full", MemoryJournal()))
        if per_transaction is not None:
            figures.writes_per_transaction.append(per_transaction)
    finally:
        for executor in executors.values():
            await executor.close()


def _measure(case: Case, postgres_url: Callable[[str], str] | None) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for life in range(LIVES):
            journals: dict[str, Journal] = {}
            for variant in case.variants:
                journal = _journal(variant, folder, f"{case.concurrency}_{life}", postgres_url)
                if journal is not None:
                    journals[variant] = journal
            asyncio.run(_life(case, journals, folder, figures))
    return figures


def _journal(
    variant: str, folder: Path, tag: str, postgres_url: Callable[[str], str] | None
) -> Journal | None:
    if variant == "memory":
        return MemoryJournal()
    if variant.startswith("sqlite-"):
        sync: Synchronous = "full" if variant == "sqlite-full" else "normal"
        return SqliteJournal(folder / f"bench-{tag}-{sync}.sqlite3", synchronous=sync)
    if postgres_url is None:
        return None
    from fks_exec.journal.postgres import PostgresJournal

    return PostgresJournal(postgres_url(f"bench_{tag}"))


def _quantile_range(values: list[float], scale: float = 1.0) -> str:
    """The 10th-90th percentile range of ``values`` (times ``scale``), as text."""
    if len(values) < 2:
        return f"{values[0] * scale:.2f}"
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return f"{deciles[0] * scale:.2f}-{deciles[-1] * scale:.2f}"


_DURABLE = {
    "sqlite-full": ("SQLite journal (full)", "every intent fsync'd before sending"),
    "sqlite-normal": (
        "SQLite journal (normal)",
        "every intent in the WAL (no fsync) before sending",
    ),
    "postgresql": (
        "PostgreSQL journal",
        "every intent committed (local server, Unix socket) before sending",
    ),
}


def _rows(case: Case, figures: Figures) -> list[dict[str, Any]]:
    rows = []
    memory_wall, memory_cpu = figures.wall["memory"], figures.cpu["memory"]
    memory_rate = case.chunk / statistics.median(memory_wall)
    fsync_ms = statistics.median(figures.fsync) * 1e3
    wave_ms = statistics.median(memory_wall) / (case.chunk / case.concurrency) * 1e3
    bound = wave_ms / (wave_ms + fsync_ms)
    for variant in case.variants[1:]:
        if variant not in figures.wall:
            rows.append(_skipped(variant, case))
            continue
        wall, cpu = figures.wall[variant], figures.cpu[variant]
        ratios = [m / v for m, v in zip(memory_wall, wall, strict=True)]
        cpu_ratio = statistics.median(c / m for m, c in zip(memory_cpu, cpu, strict=True))
        label, durable = _DURABLE[variant]
        per_order_us = statistics.median(cpu) / case.chunk * 1e6
        us = 1e6 / case.chunk
        loop_us = statistics.median(figures.loop_cpu[variant]) * us
        memory_loop_us = statistics.median(figures.loop_cpu["memory"]) * us
        split = f"event loop {loop_us:.0f} us (journal off {memory_loop_us:.0f})"
        if variant in figures.writer_cpu:
            split += f", writer thread {statistics.median(figures.writer_cpu[variant]) * us:.0f} us"
        detail = (
            f"median of {len(ratios)} interleaved rounds, range {_quantile_range(ratios)} "
            f"(p10-p90); journal off (memory) {memory_rate:,.0f} orders/s, "
            f"{statistics.median(memory_cpu) / case.chunk * 1e6:.0f} us CPU/order; "
            f"{label.split(' ')[0]} {case.chunk / statistics.median(wall):,.0f} orders/s, "
            f"{per_order_us:.0f} us CPU/order ({cpu_ratio:.2f}x; {split}); {durable}"
        )
        if variant == "sqlite-full" and figures.writes_per_transaction:
            detail += (
                f"; {statistics.median(figures.writes_per_transaction):.1f} writes per transaction"
            )
        if variant != "sqlite-normal":
            appended = statistics.median(figures.fsync_append) * 1e3
            detail += (
                f"; fdatasync here {fsync_ms:.2f} ms median "
                f"({_quantile_range(figures.fsync, 1e3)} ms p10-p90; {appended:.2f} ms "
                f"appending), which caps any fsync-per-wave journal at {bound:.2f}x; "
                f"CPU alone caps it at {1 / cpu_ratio:.2f}x on busy cores"
            )
        goal = ">= 0.5" if case.concurrency > 1 and variant != "sqlite-normal" else "info"
        name = f"{label} vs off, {case.concurrency} in flight (mock)"
        rows.append({"name": name, "value": statistics.median(ratios), "unit": "x",
                     "goal": goal, "baseline": detail})  # fmt: skip
    return rows


def _skipped(variant: str, case: Case) -> dict[str, Any]:
    label, _ = _DURABLE[variant]
    name = f"{label} vs off, {case.concurrency} in flight (mock)"
    why = "skipped: pip install 'fks-exec[postgres]' (and PostgreSQL's server)"
    return {"name": name, "value": 0, "unit": "-", "goal": "info", "baseline": why}


def _pg_cluster() -> Any:
    """A throwaway local server (fsync and synchronous_commit on), or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None
    path = Path(__file__).parents[1] / "tests" / "journal_pg" / "pg_cluster.py"
    spec = importlib.util.spec_from_file_location("fks_bench_pg_cluster", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PgCluster(durable=True).start()


def _schema_maker(cluster: Any) -> Callable[[str], str]:
    import psycopg

    def url(schema: str) -> str:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return str(cluster.url(search_path=schema))

    return url


def run() -> list[dict[str, Any]]:
    cluster = _pg_cluster()
    try:
        maker = None if cluster is None else _schema_maker(cluster)
        return [row for case in CASES for row in _rows(case, _measure(case, maker))]
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    for row in run():
        print(row)
