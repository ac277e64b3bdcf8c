"""Mock broker benchmarks: a full book, an empty one against a floor, and how both scale.

Every figure is a ratio against a baseline measured in the same run, in one event loop,
alternating chunk by chunk so a slow moment on a shared machine hits both sides alike.
Executors use the ``memory`` journal (the journal's own cost is in bench_journal.py).
Every chunk checks that each of its orders filled; a benchmark whose orders fail stops
with an error instead of reporting a fast failure.

- The **floor** is the least a paper broker behind an ``await`` can do: a dict of
  orders, a loop-free fill at the touch, positions and cash, and a validated
  ``ExecutionResult``.
- **Resting orders** are limit orders far from the market (buys below, sells above),
  on the symbol being traded: the book a grid strategy or a backtest builds.
- **Executed ids**: orders/s over a window after 1e4, 1e5 (and, with
  ``BENCH_MOCK_MAX_IDS=1000000``, 1e6) orders through one executor; the mock keeps its
  default 100,000 finished orders and the executor its 10,000 ids.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from decimal import Decimal
from itertools import count
from typing import Any

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin

SYMBOL = "BTC/USDT"
BID, ASK = Decimal(49_999), Decimal(50_001)
CHUNK = 250
ROUNDS = 3
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


def _market_orders(n: int) -> list[Order]:
    return [Order.market(SYMBOL, "buy" if i % 2 else "sell", "0.001") for i in range(n)]


def _check(results: list[ExecutionResult]) -> None:
    failed = [r for r in results if r.status is not OrderStatus.FILLED]
    if failed:  # a fast failure is no order
        raise RuntimeError(f"benchmark orders failed ({len(failed)}): {failed[0]}")


async def _chunk(submit: Submit, orders: list[Order]) -> float:
    began = time.perf_counter()
    results = [await submit(order) for order in orders]
    spent = time.perf_counter() - began
    _check(results)
    return spent


async def _chunk_concurrent(submit: Submit, orders: list[Order], tasks: int) -> float:
    async def strategy(mine: list[Order]) -> list[ExecutionResult]:
        return [await submit(order) for order in mine]

    began = time.perf_counter()
    batches = await asyncio.gather(*(strategy(orders[i::tasks]) for i in range(tasks)))
    spent = time.perf_counter() - began
    _check([r for batch in batches for r in batch])
    return spent


async def _interleaved(sides: dict[str, Submit], n: int) -> dict[str, float]:
    """Orders/s of each side, alternating CHUNK orders at a time."""
    spent = dict.fromkeys(sides, 0.0)
    for _ in range(0, n, CHUNK):
        for name, submit in sides.items():
            spent[name] += await _chunk(submit, _market_orders(CHUNK))
    return {name: n / seconds for name, seconds in spent.items()}


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


def _rest(broker: MockBroker, n: int) -> float:
    """Put ``n`` limit orders on the book, far from the market; seconds taken."""
    return _place(broker, _resting_orders(n))


def _place(broker: MockBroker, orders: list[Order]) -> float:
    began = time.perf_counter()
    for order in orders:
        if broker.submit(order).status is not OrderStatus.ACCEPTED:
            raise RuntimeError(f"resting order refused: {broker.find(order.client_order_id)}")
    return time.perf_counter() - began


def _build_ratio() -> tuple[float, float, float]:
    """Median over ROUNDS of: seconds to build a 10,000-order book over the median
    seconds of ten 1,000-order builds made just before it (GC on)."""
    ratios, small, large = [], [], []
    for _ in range(ROUNDS):
        one_k = statistics.median(_rest(_broker(), 1_000) for _ in range(10))
        ten_k = _rest(_broker(), 10_000)
        ratios.append(ten_k / one_k)
        small.append(one_k)
        large.append(ten_k)
    return statistics.median(ratios), statistics.median(small), statistics.median(large)


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


async def _empty_vs_floor(n: int) -> dict[str, float]:
    floor = FloorBroker()
    broker = _broker()
    executor = await _executor_on(broker)
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
            n,
        )
    finally:
        await executor.close()
        await plugin.close()


async def _resting_vs_none(resting: int, n: int) -> tuple[float, float, float]:
    """(orders/s with none, with ``resting``, seconds to build the book)."""
    full = _broker()
    built = _rest(full, resting)
    executors = {"none": await _executor_on(_broker()), "full": await _executor_on(full)}
    try:
        rates = await _interleaved({k: e.execute for k, e in executors.items()}, n)
    finally:
        for executor in executors.values():
            await executor.close()
    if len(full.open_orders) != resting:
        raise RuntimeError("the resting orders did not stay on the book")
    return rates["none"], rates["full"], built


async def _concurrent(tasks: int, n: int) -> tuple[float, float]:
    """Orders/s with one strategy task and with ``tasks`` at once, interleaved."""
    one, many = await _executor_on(_broker()), await _executor_on(_broker())
    spent = {"one": 0.0, "many": 0.0}
    try:
        for _ in range(0, n, CHUNK * 4):
            spent["one"] += await _chunk(one.execute, _market_orders(CHUNK * 4))
            orders = _market_orders(CHUNK * 4)
            spent["many"] += await _chunk_concurrent(many.execute, orders, tasks)
    finally:
        await one.close()
        await many.close()
    return n / spent["one"], n / spent["many"]


async def _executed_ids(marks: list[int], window: int) -> list[tuple[int, float, float, float]]:
    """After each mark of executed orders: executor and direct plugin orders/s over the
    next ``window`` orders (interleaved), and traced memory in MiB (GC on)."""
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
            rates = await _interleaved(
                {"executor": executor.execute, "direct": direct.execute_order}, window
            )
            done += window
            rows.append((mark, rates["executor"], rates["direct"], _rss_mib()))
    finally:
        await executor.close()
        await direct.close()
    return rows


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --------------------------------------------------------------------------- rows


def _median_runs(make: Callable[[], Any], rounds: int = ROUNDS) -> list[Any]:
    return [asyncio.run(make()) for _ in range(rounds)]


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    floor_runs = _median_runs(lambda: _empty_vs_floor(6_000))
    med = {k: statistics.median(r[k] for r in floor_runs) for k in floor_runs[0]}
    ratio = statistics.median(r["executor"] / r["floor"] for r in floor_runs)
    rows.append(
        {
            "name": "mock, empty book, via executor vs floor",
            "value": ratio,
            "unit": "x",
            "goal": ">= 0.4",
            "baseline": f"floor {med['floor']:,.0f}/s; executor {med['executor']:,.0f}/s, "
            f"plugin {med['plugin']:,.0f}/s, broker.submit {med['broker.submit']:,.0f}/s",
        }
    )
    per_size: dict[int, tuple[float, float, float]] = {}
    for resting in RESTING_SIZES[1:]:
        n = 3_000 if resting < 100_000 else 2_000
        runs = [
            asyncio.run(_resting_vs_none(resting, n)) for _ in range(1 if resting > 10_000 else 2)
        ]
        none = statistics.median(r[0] for r in runs)
        full = statistics.median(r[1] for r in runs)
        built = statistics.median(r[2] for r in runs)
        per_size[resting] = (none, full, built)
    none, full, _ = per_size[10_000]
    rows.append(
        {
            "name": "mock: 10,000 resting vs none, via executor",
            "value": full / none,
            "unit": "x",
            "goal": ">= 0.7",
            "baseline": f"none {none:,.0f}/s; 10,000 resting {full:,.0f}/s",
        }
    )
    build, one_k, ten_k = _build_ratio()
    rows.append(
        {
            "name": "mock: build 10,000-order book vs 1,000",
            "value": build,
            "unit": "x",
            "goal": "<= 12",
            "baseline": f"1,000 in {one_k * 1000:.0f} ms, 10,000 in {ten_k * 1000:.0f} ms "
            "(broker.submit, GC on)",
        }
    )
    for resting in RESTING_SIZES[1:]:
        none, full, built = per_size[resting]
        per_order = _bytes_per_resting_order(min(resting, 10_000))  # 100,000: as 10,000
        rows.append(
            {
                "name": f"mock scaling: {resting:,} resting",
                "value": full,
                "unit": "orders/s",
                "goal": "info",
                "baseline": f"{full / none:.2f}x of none ({none:,.0f}/s); built in "
                f"{built:.2f} s; {per_order:,.0f} B traced per resting order",
            }
        )
    for tasks in (100,):
        pairs = [asyncio.run(_concurrent(tasks, 4_000)) for _ in range(ROUNDS)]
        one = statistics.median(r[0] for r in pairs)
        many = statistics.median(r[1] for r in pairs)
        rows.append(
            {
                "name": f"mock scaling: {tasks} strategy tasks vs 1",
                "value": many / one,
                "unit": "x",
                "goal": "info",
                "baseline": f"1 task {one:,.0f}/s; {tasks} tasks {many:,.0f}/s (executor)",
            }
        )
    marks = [m for m in (10_000, 100_000, 1_000_000) if m <= MAX_IDS]
    for mark, routed, direct, rss in asyncio.run(_executed_ids(marks, 4_000)):
        rows.append(
            {
                "name": f"executor vs direct plugin after {mark:,} ids",
                "value": direct / routed,
                "unit": "x",
                "goal": "<= 1.15",
                "baseline": f"GC on; direct {direct:,.0f}/s, executor {routed:,.0f}/s; "
                f"RSS {rss:,.0f} MiB",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']:<48} {row['value']:>12,.3f} {row['unit']:<9} {row['goal']:<8} "
            f"{row['baseline']}"
        )
