"""Closing with orders in flight: nothing new starts, nothing in flight is lost, no
caller is left blocked, and nothing fills after ``close()`` returned."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
    SyncExecutor,
)
from fks_exec.errors import ConfigurationError
from fks_exec.mock import MockBroker, MockPlugin


def _registry(latency_s: float) -> tuple[PluginRegistry, MockPlugin]:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=MockBroker())
    plugin.use_env = False
    plugin.broker.set_price("X", bid=100, ask=100.5)
    plugin.broker.set_latency(latency_s)
    registry.register("mock", plugin)
    return registry, plugin


async def test_close_awaits_the_orders_in_flight_and_nothing_fills_afterwards() -> None:
    registry, plugin = _registry(latency_s=0.2)
    executor = Executor(registry, default="mock", journal="memory")
    await executor.start()
    calls = [
        asyncio.ensure_future(executor.execute(Order.market("X", "buy", 1))) for _ in range(50)
    ]
    await asyncio.sleep(0.05)  # all fifty are inside the plugin now
    await executor.close()
    filled_at_close = len(plugin.broker.fills)
    assert all(call.done() for call in calls)
    assert [c.result().status for c in calls] == [OrderStatus.FILLED] * 50
    await asyncio.sleep(0.3)
    assert len(plugin.broker.fills) == filled_at_close == 50
    assert not plugin.is_initialized  # the plugins closed after the sends


async def test_sends_unresolved_at_the_timeout_are_unknown_and_never_fill() -> None:
    registry, plugin = _registry(latency_s=5.0)
    executor = Executor(registry, default="mock", journal="memory", close_timeout_s=0.2)
    await executor.start()
    orders = [Order.market("X", "sell", 1) for _ in range(10)]
    calls = [asyncio.ensure_future(executor.execute(order)) for order in orders]
    await asyncio.sleep(0.05)
    await executor.close()
    results: list[ExecutionResult] = [c.result() for c in calls]
    assert {r.status for r in results} == {OrderStatus.UNKNOWN}
    assert all(r.sent is None and "closed" in (r.error or "") for r in results)
    assert [r.client_order_id for r in results] == [o.client_order_id for o in orders]
    await asyncio.sleep(0.2)
    assert len(plugin.broker.fills) == 0


async def test_no_new_send_starts_once_close_has_begun() -> None:
    registry, plugin = _registry(latency_s=0.3)
    executor = Executor(registry, default="mock", journal="memory")
    await executor.start()
    first = asyncio.ensure_future(executor.execute(Order.market("X", "buy", 1)))
    await asyncio.sleep(0.05)
    closing = asyncio.ensure_future(executor.close())
    await asyncio.sleep(0.05)
    late = Order.market("X", "buy", 2)
    with pytest.raises(BrokerUnavailable, match=r"closing.*was not sent"):
        await executor.execute(late)
    with pytest.raises(BrokerUnavailable, match="closing"):
        await executor.close_position("X")
    await closing
    assert (await first).status is OrderStatus.FILLED
    assert late.client_order_id not in plugin.broker.order_arrivals()


async def test_an_executor_started_again_sends_again() -> None:
    registry, _ = _registry(latency_s=0.0)
    executor = Executor(registry, default="mock", journal="memory")
    async with executor:
        pass
    async with executor:
        result = await executor.execute(Order.market("X", "buy", 1))
    assert result.status is OrderStatus.FILLED


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0, 1e300])
def test_close_timeout_must_be_finite_and_in_range(bad: float) -> None:
    with pytest.raises(ConfigurationError, match="close_timeout_s"):
        Executor(PluginRegistry(discover=False), default="mock", close_timeout_s=bad)


def _in_threads(target: Any, count: int) -> tuple[list[threading.Thread], list[Any]]:
    outcomes: list[Any] = []

    def run() -> None:
        try:
            outcomes.append(target())
        except BaseException as exc:  # the outcome under test
            outcomes.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def _wait_for_calls(sync: SyncExecutor, count: int) -> None:
    # Until ``count`` execute() calls are inside the executor (the gate counts them).
    deadline = time.monotonic() + 10
    while sync.executor._shutdown.calls < count:
        assert time.monotonic() < deadline, "the callers never got in"
        time.sleep(0.01)


def _joined(threads: list[threading.Thread]) -> bool:
    for thread in threads:
        thread.join(timeout=10)
    return not any(t.is_alive() for t in threads)


def test_sync_close_gives_four_blocked_callers_their_results() -> None:
    registry, _ = _registry(latency_s=0.5)
    sync = SyncExecutor(registry, default="mock", journal="memory")
    sync.start()
    threads, outcomes = _in_threads(lambda: sync.execute(Order.market("X", "buy", 1)), 4)
    _wait_for_calls(sync, 4)  # the four are blocked inside execute()
    sync.close()
    assert _joined(threads), "a caller was left blocked"
    assert [o.status for o in outcomes] == [OrderStatus.FILLED] * 4
    with pytest.raises(RuntimeError, match="closed"):
        sync.execute(Order.market("X", "buy", 1))


def test_sync_close_wakes_callers_that_cannot_finish_with_a_clear_answer() -> None:
    registry, _ = _registry(latency_s=30.0)
    sync = SyncExecutor(registry, default="mock", journal="memory", close_timeout_s=0.1)
    sync.start()
    senders, sent = _in_threads(lambda: sync.execute(Order.market("X", "buy", 1)), 2)
    readers, read = _in_threads(lambda: sync.fetch_data("X"), 2)
    _wait_for_calls(sync, 2)
    time.sleep(0.2)  # the readers are waiting for the quote
    sync.close()
    assert _joined(senders + readers), "a caller was left blocked"
    assert [r.status for r in sent] == [OrderStatus.UNKNOWN] * 2
    assert len(read) == 2
    assert all(isinstance(e, RuntimeError) and "close" in str(e) for e in read)


def test_call_in_loop_runs_on_the_loop_thread() -> None:
    registry, plugin = _registry(latency_s=0.0)
    with SyncExecutor(registry, default="mock", journal="memory") as sync:
        where = sync.call_in_loop(threading.current_thread)
        sync.call_in_loop(plugin.broker.set_price, "X", bid=Decimal(200), ask=Decimal(201))
        assert sync.fetch_data("X").ask == Decimal(201)
    assert where.name == "fks-exec-sync-loop"


async def test_an_order_cut_off_by_close_stays_open_in_the_journal(tmp_path: Any) -> None:
    from fks_exec.journal import JournalState

    journal = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    registry, plugin = _registry(latency_s=5.0)
    executor = Executor(registry, default="mock", journal=journal, close_timeout_s=0.1)
    await executor.start()
    order = Order.market("X", "buy", 1)
    call = asyncio.ensure_future(executor.execute(order))
    await asyncio.sleep(0.05)
    await executor.close()
    assert (await call).status is OrderStatus.UNKNOWN
    plugin.broker.set_latency(0.0)
    again = Executor(registry, default="mock", journal=journal)
    async with again:
        recorded = await again.journal.get(order.client_order_id)
        assert recorded is not None and recorded.state is not JournalState.NOT_SENT
        repeat = await again.execute(order)  # answered from the journal, never resent
    assert repeat.client_order_id == order.client_order_id
    assert plugin.broker.order_arrivals().get(order.client_order_id, 0) <= 1


def _with_spare(latency_s: float, fallback: bool) -> tuple[PluginRegistry, dict[str, Any]]:
    """The mock, and when ``fallback`` a spare one it falls back to, so each order takes
    the dispatcher's path (fallbacks to consider) instead of the executor's own."""
    registry, _ = _registry(latency_s)
    spare = MockPlugin(broker=MockBroker())
    spare.use_env = False
    registry.register("spare", spare)
    pair = {"mock": ["spare"]}
    return registry, ({"fallbacks": pair, "allow_paper_fallback": pair} if fallback else {})


@pytest.mark.parametrize("fallback", [False, True])
async def test_a_send_cut_off_at_close_is_unknown_on_either_path(fallback: bool) -> None:
    registry, kwargs = _with_spare(5.0, fallback)
    executor = Executor(registry, default="mock", journal="memory", close_timeout_s=0.1, **kwargs)
    await executor.start()
    call = asyncio.ensure_future(executor.execute(Order.market("X", "buy", 1)))
    await asyncio.sleep(0.05)
    await executor.close()
    result = call.result()
    assert (result.status, result.plugin) == (OrderStatus.UNKNOWN, "mock")
    assert "closed" in (result.error or "")


@pytest.mark.parametrize("fallback", [False, True])
async def test_a_caller_cancelling_its_own_send_is_cancelled_on_either_path(
    fallback: bool,
) -> None:
    registry, kwargs = _with_spare(5.0, fallback)
    async with Executor(registry, default="mock", journal="memory", **kwargs) as executor:
        order = Order.market("X", "buy", 1)
        call = asyncio.ensure_future(executor.execute(order))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not executor._shutdown.sends  # nothing tracked is left behind
        entry = await executor.journal.get(order.client_order_id)
        assert entry is not None and entry.result is not None
        assert entry.result.status is OrderStatus.UNKNOWN


@pytest.mark.parametrize("fallback", [False, True])
async def test_a_task_cut_off_once_is_its_own_again_after_a_restart(fallback: bool) -> None:
    registry, kwargs = _with_spare(5.0, fallback)
    executor = Executor(registry, default="mock", journal="memory", close_timeout_s=0.1, **kwargs)
    await executor.start()
    first_sent = asyncio.Event()
    answers: list[ExecutionResult] = []

    async def two_sends() -> None:  # one task: cut off at close, then cancelled by us
        first = asyncio.ensure_future(executor.execute(Order.market("X", "buy", 1)))
        first_sent.set()
        answers.append(await first)
        await executor.start()
        answers.append(await executor.execute(Order.market("X", "buy", 1)))

    worker = asyncio.ensure_future(two_sends())
    await first_sent.wait()
    await asyncio.sleep(0.05)
    await executor.close()  # cuts the first send off: unknown
    await asyncio.sleep(0.05)  # the task is in its second send now
    assert not executor._shutdown.cut  # a cut-off task is no longer marked once it left
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):  # its own cancellation, not a cut-off
        await worker
    assert [a.status for a in answers] == [OrderStatus.UNKNOWN]
    await executor.close()


@pytest.mark.parametrize("fallback", [False, True])
async def test_a_start_while_a_close_runs_waits_for_it_and_keeps_its_plugins(
    fallback: bool,
) -> None:
    # Otherwise the close, still closing plugins and the journal, undoes the start.
    registry, kwargs = _with_spare(0.0, fallback)
    executor = Executor(registry, default="mock", journal="memory", **kwargs)
    await executor.start()
    closing = asyncio.ensure_future(executor.close())
    await asyncio.sleep(0)  # the close has begun
    await asyncio.wait_for(executor.start(), 5.0)
    assert closing.done()
    try:
        result = await executor.execute(Order.market("X", "buy", 1))
        assert result.status is OrderStatus.FILLED, result.error
        assert registry.is_initialized("mock")
    finally:
        await executor.close()
