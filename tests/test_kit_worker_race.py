"""SerialWorker: two event loops making their first calls at the same moment.

The loop that gets the answer eventfd must be the only one that watches it. Before the
fix a second loop could start watching the same eventfd while the first was still
being set up, and the answers of one of them were then dropped (its caller waited
forever).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import pytest

from fks_exec.kit import SerialWorker
from fks_exec.kit import worker as worker_module

pytestmark = pytest.mark.skipif(not hasattr(os, "eventfd"), reason="eventfd is Linux-only")


def test_two_loops_making_their_first_calls_at_once_each_get_every_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = SerialWorker("fks-race")
    real_watch = worker_module._Outbox.watch
    first_in_watch, second_started, second_done = (threading.Event() for _ in range(3))
    watched: list[asyncio.AbstractEventLoop] = []

    def slow_watch(self: Any, loop: asyncio.AbstractEventLoop) -> bool:
        # The first loop's set-up is held open until the second loop has begun its
        # first call (the fixed code makes that call wait for the set-up to end).
        if not first_in_watch.is_set():
            first_in_watch.set()
            second_started.wait(5)
            time.sleep(0.05)  # the second call is now inside run()
        watched.append(loop)
        return real_watch(self, loop)

    monkeypatch.setattr(worker_module._Outbox, "watch", slow_watch)
    answers: dict[str, list[int]] = {}

    async def calls(name: str, first: int) -> None:
        if name == "second":
            second_started.set()
        answers[name] = [
            await asyncio.wait_for(worker.run(int, str(first + i)), 5) for i in range(3)
        ]
        if name == "second":
            second_done.set()
        else:  # the first loop lives on until the second is done (it keeps the eventfd)
            await asyncio.to_thread(second_done.wait, 10)

    def in_thread(name: str, first: int) -> None:
        try:
            asyncio.run(calls(name, first))
        except TimeoutError:
            answers.setdefault(name, [])
            second_done.set()

    first = threading.Thread(target=in_thread, args=("first", 10))
    second = threading.Thread(target=in_thread, args=("second", 20))
    first.start()
    assert first_in_watch.wait(5)
    second.start()
    first.join(15)
    second.join(15)
    worker.close()
    assert answers == {"first": [10, 11, 12], "second": [20, 21, 22]}
    assert len(watched) == 1  # one loop watches the eventfd; the other is answered threadsafe


def test_calls_from_the_loop_that_holds_the_eventfd_do_not_ask_asyncio_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """asyncio.get_running_loop() costs a getpid() on 3.11: once the answers' loop is
    known and running on this thread, a call takes it from the outbox. Another thread's
    loop (or none yet) is still asked for."""
    worker = SerialWorker("fks-own-loop")
    real = asyncio.get_running_loop
    asked: list[asyncio.AbstractEventLoop] = []

    def counted() -> asyncio.AbstractEventLoop:
        loop = real()
        asked.append(loop)
        return loop

    monkeypatch.setattr(asyncio, "get_running_loop", counted)
    monkeypatch.setattr("fks_exec._loops.get_running_loop", counted)

    async def calls() -> list[int]:
        first = await worker.run(int, "1")
        before = len(asked)
        rest = [await worker.run(int, str(i)) for i in range(2, 6)]
        assert len(asked) == before  # the outbox's loop, running here
        return [first, *rest]

    def in_other_loop() -> list[int]:
        return asyncio.run(calls_elsewhere())

    async def calls_elsewhere() -> list[int]:
        before = len(asked)
        got = [await worker.run(int, str(i)) for i in range(7, 9)]
        assert len(asked) - before >= 2  # not this thread's loop: asked every time
        return got

    assert asyncio.run(calls()) == [1, 2, 3, 4, 5]
    other: list[list[int]] = []
    thread = threading.Thread(target=lambda: other.append(in_other_loop()))
    holder = asyncio.new_event_loop()
    try:

        async def hold_then_let_the_other_call() -> None:
            await worker.run(int, "0")  # this loop now holds the eventfd, and runs
            await asyncio.to_thread(thread.start)
            await asyncio.to_thread(thread.join, 10)

        holder.run_until_complete(hold_then_let_the_other_call())
    finally:
        holder.close()
        worker.close()
    assert other == [[7, 8]]
