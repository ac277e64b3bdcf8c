"""Mock broker benchmarks: a full book, an empty one against a floor, and how both scale.

Every figure is a ratio measured in one run, from CPU time (``time.process_time``: a
busy shared machine slows a process's wall clock, much less its CPU time). The variants
compared in a row run **interleaved in rounds**: each round sends one chunk of orders
to every variant in turn, so a slow moment hits all of them alike; the row is the
median of the per-round ratios, and the spread of those ratios (10th-90th percentile)
is printed with it. Executors use the ``memory`` journal (the journal's own cost is in
bench_journal.py). Every chunk checks that each of its orders filled, and a book that
lost a resting order stops the run: a benchmark whose orders fail raises instead of
reporting a fast failure.

- The **floor** is the least a paper broker behind an ``await`` can do: a dict of
  orders, a loop-free fill at the touch, positions and cash, and a validated
  ``ExecutionResult``.
- **Resting orders** are limit orders far from the market (buys below, sells above),
  on the symbol being traded: the book a grid strategy or a backtest builds. Every
  book size is measured in the same rounds against one shared empty-book baseline.
- **Executed ids**: executor and direct-plugin orders/s after 1e4, 1e5 (and, with
  ``BENCH_MOCK_MAX_IDS=1000000``, 1e6) orders; the mock keeps its default 100,000
  finished orders and the executor its 10,000 ids.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from itertools import count
from typing import Any

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin

SYMBOL = "BTC/USDT"
BID, ASK = Decimal(49_999), Decimal(50_001)
CHUNK = 250
RESTING_SIZES = (0, 100, 1_000, 10_000, 100_000)
MAX_IDS = int(os.environ.get("BENCH_MOCK_MAX_IDS", "100000"))

Submit = Callable[[Order], Awaitable[ExecutionResult]]


class FloorBroker:
    """A dict-and-loop paper broker: the least any simulator behind an await does."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.positions: dict[str, Decimal] = {}
        self.cash = Decimal(10) ** 12
        self._ids = count(1)

    async def execute(self, order: Order) -> ExecutionResult:
        self.orders[order.client_order_id] = order
        price = ASK if order.side.value == "buy" else BID
        signed = order.side.sign * order.quantity
        self.positions[order.symbol] = self.positions.get(order.symbol, Decimal(0)) + signed
        self.cash -= signed * price
        return ExecutionResult(
            plugin="floor",
            status=OrderStatus.FILLED,
            client_order_id=order.client_order_id,
            order_id=f"F{next(self._ids)}",
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            filled_quantity=order.quantity,
            average_price=price,
        )


# --------------------------------------------------------------------------- measuring


def _market_orders(n: int) -> list[Order]:
    return [Order.market(SYMBOL, "buy" if i % 2 else "sell", "0.001") for i in range(n)]


def _check(results: Sequence[ExecutionResult]) -> None:
    failed = [r for r in results if r.status is not OrderStatus.FILLED]
    if failed:  # a fast failure is no order
        raise RuntimeError(f"benchmark orders failed ({len(failed)}): {failed[0]}")


async def _chunk(submit: Submit, orders: list[Order]) -> float:
    """CPU seconds to send ``orders`` one after another (every one must fill)."""
    began = time.process_time()
    results = [await submit(order) for order in orders]
    spent = time.process_time() - began
    _check(results)
    return spent


async def _chunk_concurrent(submit: Submit, orders: list[Order], tasks: int) -> float:
    async def strategy(mine: list[Order]) -> list[ExecutionResult]:
        return [await submit(order) for order in mine]

    began = time.process_time()
    batches = await asyncio.gather(*(strategy(orders[i::tasks]) for i in range(tasks)))
    spent = time.process_time() - began
    _check([r for batch in batches for r in batch])
    return spent


class Rounds:
    """CPU seconds per round of each variant; rates and per-round ratios from them."""

    def __init__(self, chunk: int) -> None:
        self.chunk = chunk
        self.spent: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        self.spent.setdefault(name, []).append(max(seconds, 1e-9))

    def rate(self, name: str) -> float:
        """Median orders/s of CPU over the rounds."""
        return self.chunk / statistics.median(self.spent[name])

    def ratios(self, name: str, base: str) -> list[float]:
        """Per round: orders/s of ``name`` over orders/s of ``base`` (> 1: faster)."""
        return [b / n for n, b in zip(self.spent[name], self.spent[base], strict=True)]

    def ratio(self, name: str, base: str) -> tuple[float, str]:
        """The median per-round ratio, and its 10th-90th percentile spread as text."""
        values = self.ratios(name, base)
        return statistics.median(values), _spread(values)


def _spread(values: list[float]) -> str:
    if len(values) < 5:
        return f"rounds {min(values):.2f}-{max(values):.2f}x"
    deciles = statistics.quantiles(values, n=10)
    return f"rounds p10-p90 {deciles[0]:.2f}-{deciles[-1]:.2f}x (n={len(values)})"


async def _interleaved(sides: dict[str, Submit], rounds: int, chunk: int = CHUNK) -> Rounds:
    """Each round: one chunk of market orders to every side in turn."""
    measured = Rounds(chunk)
    for _ in range(rounds):
        for name, submit in sides.items():
            measured.add(name, await _chunk(submit, _market_orders(chunk)))
    return measured


# --------------------------------------------------------------------------- set-up


def _broker() -> MockBroker:
    broker = MockBroker(cash=Decimal(10) ** 12)
    broker.set_price(SYMBOL, bid=BID, ask=ASK)
    return broker


def _resting_orders(n: int) -> list[Order]:
    return [
        Order.limit(SYMBOL, "buy", "0.001", 40_000 - i % 5_000)
        if i % 2
        else Order.limit(SYMBOL, "sell", "0.001", 60_000 + i % 5_000)
        for i in range(n)
    ]


def _place(broker: MockBroker, orders: list[Order]) -> float:
    """CPU seconds to put ``orders`` on the book (each must rest)."""
    began = time.process_time()
    for order in orders:
        if broker.submit(order).status is not OrderStatus.ACCEPTED:
            raise RuntimeError(f"resting order refused: {broker.find(order.client_order_id)}")
    return time.process_time() - began


def _bytes_per_resting_order(n: int) -> float:
    """What the mock holds per resting order, the caller's Order objects not counted."""
    broker = _broker()
    orders = _resting_orders(n)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    _place(broker, orders)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


async def _executor_on(broker: MockBroker) -> Executor:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=broker)
    plugin.use_env = False
    registry.register("mock", plugin)
    executor = Executor(registry, default="mock", journal="memory")
    await executor.start()
    return executor


# --------------------------------------------------------------------------- measurements


async def _empty_vs_floor(rounds: int) -> Rounds:
    floor = FloorBroker()
    broker = _broker()
    executor = await _executor_on(_broker())
    plugin = MockPlugin(broker=_broker())
    await plugin.init()

    async def direct(order: Order) -> ExecutionResult:
        return broker.submit(order)

    try:
        return await _interleaved(
            {
                "floor": floor.execute,
                "broker.submit": direct,
                "plugin": plugin.execute_order,
                "executor": executor.execute,
            },
            rounds,
        )
    finally:
        await executor.close()
        await plugin.close()


async def _resting_books(rounds: int) -> tuple[Rounds, dict[int, float]]:
    """Every book size in the same rounds, through one executor each; and the CPU
    seconds each book took to build."""
    brokers = {size: _broker() for size in RESTING_SIZES}
    built = {size: _place(b, _resting_orders(size)) for size, b in brokers.items()}
    executors = {size: await _executor_on(b) for size, b in brokers.items()}
    try:
        measured = await _interleaved({str(s): e.execute for s, e in executors.items()}, rounds)
    finally:
        for executor in executors.values():
            await executor.close()
    for size, broker in brokers.items():
        if len(broker.open_orders) != size:
            raise RuntimeError(f"the {size:,} resting orders did not stay on the book")
    return measured, built


def _timed_build(n: int) -> float:
    """CPU seconds to build an ``n``-order book on a fresh broker, GC on.

    The orders are made first and a full collection runs before the clock starts, so
    every build starts from the same heap: whether a full collection of the whole
    process falls inside a build then depends on what the build itself allocates, not
    on what an earlier row left for the collector.
    """
    broker, orders = _broker(), _resting_orders(n)
    gc.collect()
    return _place(broker, orders)


def _build_rounds(rounds: int) -> tuple[list[float], list[float], list[float]]:
    """Per round: a 1,000-order build, a 10,000-order build and another 1,000-order
    build, in turn; returns each round's ratio of the 10,000 build over the mean of its
    two 1,000 builds, and the CPU seconds of the 1,000 and 10,000 builds."""
    ratios, small, large = [], [], []
    for _ in range(rounds):
        before = _timed_build(1_000)
        ten_k = _timed_build(10_000)
        after = _timed_build(1_000)
        ratios.append(ten_k / max((before + after) / 2, 1e-9))
        small.extend((before, after))
        large.append(ten_k)
    return ratios, small, large


async def _concurrent(tasks: int, rounds: int) -> Rounds:
    """One strategy task and ``tasks`` at once, interleaved, on two executors."""
    one, many = await _executor_on(_broker()), await _executor_on(_broker())
    chunk = CHUNK * 4
    measured = Rounds(chunk)
    try:
        for _ in range(rounds):
            measured.add("one", await _chunk(one.execute, _market_orders(chunk)))
            orders = _market_orders(chunk)
            measured.add("many", await _chunk_concurrent(many.execute, orders, tasks))
    finally:
        await one.close()
        await many.close()
    return measured


async def _executed_ids(marks: list[int], rounds: int) -> list[tuple[int, Rounds, float]]:
    """After each mark of executed orders: executor and direct plugin rates over the
    next rounds (interleaved), and the process's RSS in MiB (GC on)."""
    broker = _broker()
    executor = await _executor_on(broker)
    direct = MockPlugin(broker=_broker())
    await direct.init()
    rows = []
    done = 0
    try:
        for mark in marks:
            while done < mark:  # both sides age alike
                step = min(CHUNK * 4, mark - done)
                await _chunk(executor.execute, _market_orders(step))
                await _chunk(direct.execute_order, _market_orders(step))
                done += step
            sides = {"executor": executor.execute, "direct": direct.execute_order}
            measured = await _interleaved(sides, rounds)
            done += rounds * CHUNK
            rows.append((mark, measured, _rss_mib()))
    finally:
        await executor.close()
        await direct.close()
    return rows


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- rows


def _floor_row() -> dict[str, Any]:
    measured = asyncio.run(_empty_vs_floor(rounds=48))
    ratio, spread = measured.ratio("executor", "floor")
    submit, _ = measured.ratio("broker.submit", "floor")
    us = {k: 1e6 / measured.rate(k) for k in measured.spent}
    return {
        "name": "mock, empty book, via executor vs floor",
        "value": ratio,
        "unit": "x",
        "goal": ">= 0.4",
        "baseline": f"floor {measured.rate('floor'):,.0f}/s ({us['floor']:.1f} us); executor "
        f"{us['executor']:.1f} us, plugin {us['plugin']:.1f} us, broker.submit "
        f"{us['broker.submit']:.1f} us ({submit:.2f}x the floor); CPU time, {spread}",
    }


def _resting_rows() -> list[dict[str, Any]]:
    measured, built = asyncio.run(_resting_books(rounds=24))
    none = measured.rate("0")
    rows = []
    ratio, spread = measured.ratio("10000", "0")
    rows.append(
        {
            "name": "mock: 10,000 resting vs none, via executor",
            "value": ratio,
            "unit": "x",
            "goal": ">= 0.7",
            "baseline": f"none {none:,.0f}/s; 10,000 resting {measured.rate('10000'):,.0f}/s "
            f"(CPU time, one shared baseline per round; {spread})",
        }
    )
    build, small, large = _build_rounds(15)
    rows.append(
        {
            "name": "mock: build 10,000-order book vs 1,000",
            "value": statistics.median(build),
            "unit": "x",
            "goal": "<= 12",
            "baseline": f"1,000 in {statistics.median(small) * 1000:.1f} ms, 10,000 in "
            f"{statistics.median(large) * 1000:.1f} ms of CPU, medians (broker.submit, GC "
            f"on, each build from a collected heap; median of per-round ratios, "
            f"{_spread(build)})",
        }
    )
    for size in RESTING_SIZES[1:]:
        ratio, spread = measured.ratio(str(size), "0")
        per_order = _bytes_per_resting_order(min(size, 10_000))  # 100,000: as 10,000
        rows.append(
            {
                "name": f"mock scaling: {size:,} resting",
                "value": measured.rate(str(size)),
                "unit": "orders/s",
                "goal": "info",
                "baseline": f"{ratio:.2f}x of none ({none:,.0f}/s, same rounds; {spread}); "
                f"built in {built[size]:.2f} s CPU; {per_order:,.0f} B traced per resting "
                "order",
            }
        )
    return rows


def _concurrency_row(tasks: int) -> dict[str, Any]:
    measured = asyncio.run(_concurrent(tasks, rounds=12))
    ratio, spread = measured.ratio("many", "one")
    return {
        "name": f"mock scaling: {tasks} strategy tasks vs 1",
        "value": ratio,
        "unit": "x",
        "goal": "info",
        "baseline": f"1 task {measured.rate('one'):,.0f}/s; {tasks} tasks "
        f"{measured.rate('many'):,.0f}/s (executor, CPU time; {spread})",
    }


def _executed_id_rows() -> list[dict[str, Any]]:
    marks = [m for m in (10_000, 100_000, 1_000_000) if m <= MAX_IDS]
    rows = []
    for mark, measured, rss in asyncio.run(_executed_ids(marks, rounds=16)):
        speed, spread = measured.ratio("executor", "direct")
        rows.append(
            {
                "name": f"executor vs direct plugin after {mark:,} ids",
                "value": 1 / speed,
                "unit": "x",
                "goal": "<= 1.15",
                "baseline": f"GC on, CPU time; direct {measured.rate('direct'):,.0f}/s, "
                f"executor {measured.rate('executor'):,.0f}/s ({spread}, executor/direct "
                f"speed); RSS {rss:,.0f} MiB",
            }
        )
    return rows


def run() -> list[dict[str, Any]]:
    rows = [_floor_row(), *_resting_rows(), _concurrency_row(100)]
    rows.extend(_executed_id_rows())
    return rows


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']:<48} {row['value']:>12,.3f} {row['unit']:<9} {row['goal']:<8} "
            f"{row['baseline']}"
        )
