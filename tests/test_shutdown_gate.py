"""The shutdown gate's own edges (issue 12): a cut-off caller is left as if never
cancelled, a close that had nothing to cut logs nothing, and a send that will not stop
is named while the close goes on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import pytest

import fks_exec._shutdown as shutdown_module
from fks_exec import ExecutionResult, Executor, HealthStatus, MarketData, Order, OrderStatus
from fks_exec.mock import MockPlugin
from fks_exec.plugin import ExecutionPlugin
from fks_exec.testing import isolated_registry

BOUND_S = 10.0  # a hang fails the test; never a timing check


def _executor(latency_s: float, **kwargs: Any) -> Executor:
    plugin = MockPlugin()
    plugin.broker.set_price("X", bid=100, ask=100.5)
    plugin.broker.set_latency(latency_s)
    return Executor(isolated_registry(mock=plugin), default="mock", journal="memory", **kwargs)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_caller_cut_off_at_close_is_answered_and_not_left_cancelling() -> None:
    executor = _executor(latency_s=30.0, close_timeout_s=0.05)
    await executor.start()

    async def caller() -> tuple[ExecutionResult, int]:
        result = await executor.execute(Order.market("X", "buy", 1))
        task = asyncio.current_task()
        assert task is not None
        cancelling = getattr(task, "cancelling", lambda: 0)()  # Python 3.11+
        await asyncio.sleep(0)  # the task goes on like any other
        return result, cancelling

    call = asyncio.ensure_future(caller())
    await asyncio.sleep(0.01)
    await asyncio.wait_for(executor.close(), BOUND_S)
    result, cancelling = await asyncio.wait_for(call, BOUND_S)
    assert result.status is OrderStatus.UNKNOWN and "closed after" in (result.error or "")
    assert cancelling == 0  # the cut-off was taken back (uncancel): no pending request


async def test_closing_with_nothing_left_to_cut_logs_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="fks_exec.executor")
    idle = _executor(latency_s=0.0)
    await idle.start()
    await asyncio.wait_for(idle.close(), BOUND_S)  # nothing in flight
    busy = _executor(latency_s=0.05, close_timeout_s=5.0)
    await busy.start()
    calls = [asyncio.ensure_future(busy.execute(Order.market("X", "buy", 1))) for _ in range(3)]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(busy.close(), BOUND_S)  # they finish in time
    assert [c.result().status for c in calls] == [OrderStatus.FILLED] * 3
    assert _warnings(caplog) == []


class Stubborn(ExecutionPlugin):
    """Swallows the cancellation that cuts its send off and answers later."""

    name: ClassVar[str] = "stubborn"

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def _connect(self, config: Any) -> None:
        return None

    async def _execute_order(self, order: Order) -> ExecutionResult:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await self.release.wait()  # keeps going: a plugin that does not stop
        return self.result_for(order, OrderStatus.ACCEPTED, order_id="S1")

    async def _fetch_data(self, symbol: str) -> MarketData:
        raise AssertionError("no quotes here")

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)


async def test_a_send_that_will_not_stop_is_named_and_the_close_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutdown_module, "_GRACE_S", 0.05)
    caplog.set_level(logging.WARNING, logger="fks_exec.executor")
    plugin = Stubborn()
    registry = isolated_registry(stubborn=plugin)
    executor = Executor(registry, default="stubborn", journal="memory", close_timeout_s=0.05)
    await executor.start()
    call = asyncio.ensure_future(executor.execute(Order.limit("X", "buy", 1, 50)))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(executor.close(), BOUND_S)
    assert not plugin.is_initialized  # closed although the send is still running
    warned = _warnings(caplog)
    assert any("1 order(s) still in flight" in w for w in warned)
    assert any("1 call(s) still running; closing anyway" in w for w in warned)
    plugin.release.set()
    result = await asyncio.wait_for(call, BOUND_S)
    assert result.status in (OrderStatus.ACCEPTED, OrderStatus.UNKNOWN)


async def test_a_cut_off_send_that_does_stop_is_not_named_as_still_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="fks_exec.executor")
    executor = _executor(latency_s=30.0, close_timeout_s=0.05)
    await executor.start()
    call = asyncio.ensure_future(executor.execute(Order.market("X", "buy", 1)))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(executor.close(), BOUND_S)
    assert (await call).status is OrderStatus.UNKNOWN
    warned = _warnings(caplog)
    assert any("still in flight" in w for w in warned)
    assert not any("still running" in w for w in warned)


async def test_the_running_task_is_found_as_asyncio_finds_it() -> None:
    from fks_exec._shutdown import _CurrentTasks, running_tasks

    async def found() -> tuple[object, object, object]:
        loop = asyncio.get_running_loop()
        return running_tasks.get(loop), _CurrentTasks().get(loop), asyncio.current_task()

    task = asyncio.ensure_future(found())
    inline, fallback, asyncio_says = await task
    assert inline is fallback is asyncio_says is task
    if asyncio.current_task.__module__ == "asyncio.tasks":  # 3.10/3.11: asyncio's own map
        assert running_tasks is asyncio.tasks._current_tasks  # type: ignore[attr-defined]
    else:
        assert isinstance(running_tasks, _CurrentTasks)


def test_the_running_task_map_is_asyncios_only_where_current_task_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept: dict[object, object] = {}
    monkeypatch.setattr(asyncio.tasks, "_current_tasks", kept)

    def plain() -> None: ...

    plain.__module__ = "asyncio.tasks"  # what a pure-Python current_task says
    monkeypatch.setattr(asyncio, "current_task", plain)
    assert shutdown_module._running_tasks() is kept
    monkeypatch.setattr(asyncio.tasks, "_current_tasks", None)  # no such map
    assert isinstance(shutdown_module._running_tasks(), shutdown_module._CurrentTasks)
    monkeypatch.setattr(asyncio.tasks, "_current_tasks", kept)
    plain.__module__ = "_asyncio"  # current_task in C (3.12+): keeps its own state
    assert isinstance(shutdown_module._running_tasks(), shutdown_module._CurrentTasks)
