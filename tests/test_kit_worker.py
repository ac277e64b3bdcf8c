"""SerialWorker on each of its hand-off paths (issue 17: the hop to the MetaTrader5 thread).

Three paths, each held to the same guarantees (one thread, calls run in the order they
were made, close runs what was queued, cancelled callers, errors handed back):

- ``eventfd``: Linux; the thread is fed through an eventfd and answers through a second
  one the loop watches with ``add_reader``;
- ``readerless``: a loop without ``add_reader`` (as Windows' Proactor): answers come
  through ``call_soon_threadsafe``;
- ``queue``: a system without ``eventfd``: a SimpleQueue feeds the thread.

Each case asserts which path it took, so a path that silently fell back fails here.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec.kit import SerialWorker, WorkerClosed
from fks_exec.kit import worker as worker_module

pytestmark = pytest.mark.skipif(not hasattr(os, "eventfd"), reason="eventfd is Linux-only")

PATHS = ("eventfd", "readerless", "queue")


class CountingLoop(asyncio.SelectorEventLoop):
    """A selector loop that counts the worker threads' wake-ups (threads named fks-*)
    and may lack ``add_reader``."""

    def __init__(self, readers: bool) -> None:
        super().__init__()
        self.readers = readers
        self.threadsafe_calls = 0
        self.reader_attempts = 0

    def add_reader(self, fd: Any, callback: Callable[..., Any], *args: Any) -> None:
        self.reader_attempts += 1
        if not self.readers:
            raise NotImplementedError  # what the Proactor loop raises
        super().add_reader(fd, callback, *args)

    def call_soon_threadsafe(self, callback: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        if threading.current_thread().name.startswith("fks-"):
            self.threadsafe_calls += 1
        return super().call_soon_threadsafe(callback, *args, **kw)


EVENTFDS: list[int] = []
"""The eventfds the worker made in the current test (see the ``path`` fixture)."""


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "queue":
        monkeypatch.setattr(worker_module, "_HAS_EVENTFD", False)
    real = os.eventfd
    EVENTFDS.clear()

    def counted(initval: int, flags: int = 0) -> int:
        fd = real(initval, flags)
        EVENTFDS.append(flags)
        return fd

    monkeypatch.setattr(os, "eventfd", counted)
    return str(request.param)


def run_on(path: str, scenario: Callable[[], Awaitable[Any]]) -> tuple[Any, CountingLoop]:
    """Run ``scenario`` on a fresh CountingLoop set up for ``path``; its value, the loop.
    Tasks left over are cancelled and awaited, then the loop closed (as asyncio.run)."""
    loop = CountingLoop(readers=path == "eventfd")
    try:
        return loop.run_until_complete(scenario()), loop
    finally:
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()


def assert_took(path: str, loop: CountingLoop, answers: int) -> None:
    """The answers came the way ``path`` says (and not by a silent fallback): the
    thread's doorbell blocks, the loop's does not; the queue path makes none."""
    blocking, nonblocking = os.EFD_CLOEXEC, os.EFD_CLOEXEC | os.EFD_NONBLOCK
    assert ([] if path == "queue" else [nonblocking, blocking]) == EVENTFDS
    if path == "eventfd":
        assert loop.threadsafe_calls == 0
        assert loop.reader_attempts == 1
    else:
        assert loop.threadsafe_calls >= answers
        assert loop.reader_attempts == (1 if path == "readerless" else 0)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# ------------------------------------------------------------------ the guarantees


def test_calls_run_on_one_thread_in_the_order_they_were_made(path: str) -> None:
    worker = SerialWorker(f"fks-order-{path}")
    seen: list[tuple[int, str]] = []

    def job(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * 3

    async def scenario() -> list[int]:
        answers = await asyncio.gather(*(worker.run(job, i) for i in range(40)))
        answers.append(await worker.run(job, 40))
        worker.close()
        return answers

    answers, loop = run_on(path, scenario)
    assert answers == [i * 3 for i in range(41)]
    assert [i for i, _ in seen] == list(range(41))
    assert {name for _, name in seen} == {f"fks-order-{path}"}
    assert_took(path, loop, 41)


def test_an_error_reaches_its_caller_and_the_worker_goes_on(path: str) -> None:
    worker = SerialWorker(f"fks-error-{path}")

    def broken() -> None:
        raise LookupError("from the SDK")

    async def scenario() -> int:
        with pytest.raises(LookupError, match="from the SDK"):
            await worker.run(broken)
        value = await worker.run(int, "7")
        worker.close()
        return value

    assert run_on(path, scenario)[0] == 7


def test_close_runs_what_was_queued_and_answers_every_caller(path: str) -> None:
    worker = SerialWorker(f"fks-close-{path}")
    ran: list[int] = []
    gate = threading.Event()

    def job(i: int) -> int:
        gate.wait(10)
        ran.append(i)
        return i

    async def scenario() -> list[int]:
        calls = [asyncio.ensure_future(worker.run(job, i)) for i in range(12)]
        await asyncio.sleep(0)  # every call handed over
        threading.Timer(0.05, gate.set).start()
        worker.close()  # on the loop's thread, with the calls still queued
        answers = await asyncio.gather(*calls)
        with pytest.raises(WorkerClosed, match=f"fks-close-{path}"):
            await worker.run(job, 99)
        return answers

    before = open_fds()
    answers, loop = run_on(path, scenario)
    assert answers == list(range(12)) and ran == list(range(12))
    assert not any(t.name == f"fks-close-{path}" for t in threading.enumerate())
    assert open_fds() <= before  # no eventfd left behind
    assert_took(path, loop, 12)


def test_a_cancelled_caller_leaves_the_call_running_and_nothing_logged(path: str) -> None:
    worker = SerialWorker(f"fks-cancel-{path}")
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    errors: list[dict[str, Any]] = []

    def slow() -> str:
        started.set()
        release.wait(10)
        finished.set()
        return "late"

    async def scenario() -> str:
        asyncio.get_running_loop().set_exception_handler(lambda _, context: errors.append(context))
        call = asyncio.ensure_future(worker.run(slow))
        await asyncio.to_thread(started.wait, 10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        release.set()
        after = await worker.run(str, "next")
        worker.close()
        await asyncio.sleep(0)
        return after

    assert run_on(path, scenario)[0] == "next"
    assert finished.is_set() and errors == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(
        st.lists(st.sampled_from(["call", "yield", "cancel"]), max_size=6), min_size=1, max_size=5
    )
)
def test_any_interleaving_of_callers_runs_in_call_order(path: str, plans: list[list[str]]) -> None:
    """Tasks make calls, yield, and cancel their own calls in any order: the worker runs
    every call in the order ``run`` was called, and each caller that stayed gets its own
    value."""
    worker = SerialWorker(f"fks-prop-{path}")
    made: list[int] = []
    ran: list[int] = []
    answered: dict[int, int] = {}

    def job(n: int) -> int:
        ran.append(n)
        return n * 10

    async def caller(plan: list[str], base: int) -> None:
        pending: list[tuple[int, asyncio.Future[int]]] = []
        for step, action in enumerate(plan):
            if action == "call":
                n = base + step
                made.append(n)
                pending.append((n, asyncio.ensure_future(worker.run(job, n))))
            elif action == "yield":
                await asyncio.sleep(0)
            elif pending:
                pending.pop(0)[1].cancel()
        for n, call in pending:
            answered[n] = await call

    async def scenario() -> None:
        await asyncio.gather(*(caller(plan, 100 * i) for i, plan in enumerate(plans)))
        worker.close()

    run_on(path, scenario)
    # A call cancelled before it reached the worker may or may not run; the rest run
    # in the order they were made, each exactly once.
    assert ran == [n for n in made if n in ran]
    assert len(ran) == len(set(ran))
    assert all(answered[n] == n * 10 for n in answered)
    assert set(answered) <= set(ran)


# ------------------------------------------------------------------ loops come and go


def test_the_worker_outlives_a_caller_loop_that_closed_mid_call(path: str) -> None:
    """asyncio.run() ending with a call in flight must not kill the thread: the next
    loop is served (on the eventfd path the doorbell moves to it)."""
    worker = SerialWorker(f"fks-outlive-{path}")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "orphan"

    async def leave_early() -> asyncio.Future[str]:
        call = asyncio.ensure_future(worker.run(slow))
        await asyncio.to_thread(started.wait, 10)
        return call

    run_on(path, leave_early)  # the loop closes with the call still running
    release.set()

    async def later() -> list[str]:
        # bounded: a thread killed by the closed loop would leave these unanswered
        answers = [await asyncio.wait_for(worker.run(str, i), 10) for i in range(3)]
        worker.close()
        return answers

    answers, loop = run_on(path, later)
    assert answers == ["0", "1", "2"]
    assert_took(path, loop, 3)


def test_two_loops_at_once_each_get_their_answers() -> None:
    """One loop holds the eventfd; a second, live loop in another thread is answered
    through call_soon_threadsafe."""
    worker = SerialWorker("fks-two-loops")
    other_ready, finish = threading.Event(), threading.Event()
    other_answers: list[int] = []
    other = CountingLoop(readers=True)

    async def in_other() -> None:
        other_answers.extend([await worker.run(int, "1") for _ in range(3)])
        other_ready.set()
        await asyncio.to_thread(finish.wait, 10)
        other_answers.append(await worker.run(int, "2"))

    async def here() -> list[int]:
        first = await worker.run(int, "5")  # this loop takes the eventfd
        thread = threading.Thread(target=other.run_until_complete, args=(in_other(),))
        thread.start()
        await asyncio.to_thread(other_ready.wait, 10)
        mine = [first, await worker.run(int, "6")]
        finish.set()
        await asyncio.to_thread(thread.join, 10)
        worker.close()
        return mine

    try:
        mine, loop = run_on("eventfd", here)
    finally:
        other.close()
    assert mine == [5, 6] and other_answers == [1, 1, 1, 2]
    assert loop.threadsafe_calls == 0
    assert other.threadsafe_calls >= 4 and other.reader_attempts == 0


def test_close_from_another_thread_answers_on_the_loop_and_frees_the_fds() -> None:
    worker = SerialWorker("fks-close-elsewhere")
    gate = threading.Event()

    def job(i: int) -> int:
        gate.wait(10)
        return -i

    async def scenario() -> list[int]:
        calls = [asyncio.ensure_future(worker.run(job, i)) for i in range(5)]
        await asyncio.sleep(0)
        closer = threading.Thread(target=worker.close, name="fks-closer")
        closer.start()
        gate.set()
        answers = await asyncio.gather(*calls)
        await asyncio.to_thread(closer.join, 10)
        await asyncio.sleep(0)  # the close handed to this loop
        return answers

    before = open_fds()
    answers, loop = run_on("eventfd", scenario)
    assert answers == [0, -1, -2, -3, -4]
    assert open_fds() <= before
    assert loop.threadsafe_calls == 1  # only the close itself was handed over


def test_close_after_its_loop_stopped_delivers_and_frees_the_fds() -> None:
    worker = SerialWorker("fks-close-stopped")
    loop = CountingLoop(readers=True)
    before = open_fds()
    try:
        future = loop.create_task(worker.run(int, "3"))
        assert loop.run_until_complete(future) == 3
        worker.close()  # the loop is not running now
    finally:
        loop.close()
    assert open_fds() <= before


def test_a_call_outlasting_the_close_timeout_still_answers() -> None:
    worker = SerialWorker("fks-close-timeout")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "after all"

    async def scenario() -> str:
        call = asyncio.ensure_future(worker.run(slow))
        await asyncio.to_thread(started.wait, 10)
        worker.close(timeout_s=0.01)  # the thread is still in slow()
        release.set()
        answer = await call
        worker.close()  # now it stops
        return answer

    assert run_on("eventfd", scenario)[0] == "after all"
    assert not any(t.name == "fks-close-timeout" for t in threading.enumerate())


def test_closing_twice_and_closing_unstarted_are_harmless(path: str) -> None:
    never = SerialWorker(f"fks-never-{path}")
    never.close()
    never.close()
    worker = SerialWorker(f"fks-twice-{path}")

    async def scenario() -> int:
        value = await worker.run(int, "4")
        worker.close()
        worker.close()
        with pytest.raises(WorkerClosed):
            await worker.run(int, "5")
        return value

    before = open_fds()
    assert run_on(path, scenario)[0] == 4
    assert open_fds() <= before
