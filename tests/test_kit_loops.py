"""fks_exec._loops.running_loop: the kept loop when it runs here, asyncio's otherwise."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from fks_exec import _loops as loops
from fks_exec._loops import running_loop


def _asyncio_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused() -> asyncio.AbstractEventLoop:
        raise AssertionError("asyncio was asked")

    monkeypatch.setattr(loops, "get_running_loop", refused)


def test_a_kept_loop_running_here_is_returned_without_asking_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def run() -> bool:
        here = asyncio.get_running_loop()
        _asyncio_refused(monkeypatch)
        try:
            return running_loop(here) is here
        finally:
            monkeypatch.undo()

    assert asyncio.run(run())


def test_nothing_kept_is_asyncios_answer() -> None:
    async def run() -> bool:
        return running_loop(None) is asyncio.get_running_loop()

    assert asyncio.run(run())


def test_a_stopped_loop_is_not_taken_for_the_running_one() -> None:
    old = asyncio.new_event_loop()
    old.run_until_complete(asyncio.sleep(0))  # ran here once, then stopped

    async def run() -> bool:
        return running_loop(old) is asyncio.get_running_loop()

    try:
        assert asyncio.run(run())
    finally:
        old.close()


def test_a_loop_running_on_another_thread_is_not_taken() -> None:
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        while not other.is_running():
            threading.Event().wait(0.001)

        async def run() -> bool:
            return running_loop(other) is asyncio.get_running_loop()

        assert asyncio.run(run())
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(5)
        other.close()


def test_a_loop_that_does_not_say_its_thread_is_asked_for() -> None:
    async def run() -> bool:
        here: Any = asyncio.get_running_loop()
        mute: Any = type("Mute", (), {})()  # as uvloop's: no _thread_id at all
        here._thread_id = None
        try:
            return running_loop(mute) is here and running_loop(here) is here
        finally:
            here._thread_id = threading.get_ident()

    assert asyncio.run(run())


def test_without_a_running_loop_it_raises_as_asyncio_does() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        running_loop(None)
    kept = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="no running event loop"):
            running_loop(kept)
    finally:
        kept.close()


def test_runs_here_says_whether_a_loop_runs_on_this_thread_and_never_raises() -> None:
    idle = asyncio.new_event_loop()
    try:
        assert not loops.runs_here(None) and not loops.runs_here(idle)  # no loop running: no error

        async def run() -> bool:
            return loops.runs_here(asyncio.get_running_loop()) and not loops.runs_here(idle)

        assert asyncio.run(run())
    finally:
        idle.close()
