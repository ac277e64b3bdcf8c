"""One dedicated thread for a blocking SDK: :class:`SerialWorker`.

A hop to the thread and back is two wake-ups at the least: the worker's, then the
event loop's. Where Linux has ``eventfd`` each side is woken by a write the waker
makes with the GIL released, so the woken thread finds the GIL free instead of waking
once more for it (a plain queue's ``put`` wakes the worker while the loop still holds
the GIL: two to three more thread switches per call). The answer goes back through a
second eventfd the loop watches with ``add_reader``; a loop without ``add_reader``
(Windows' Proactor, where MetaTrader5 runs) gets it through
``call_soon_threadsafe``, and a system without ``eventfd`` feeds the thread through a
:class:`queue.SimpleQueue`. Every path keeps the same guarantees: one thread, calls
run in the order they were made, :meth:`SerialWorker.close` runs what was queued.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from fks_exec._loops import running_loop

__all__ = ["SerialWorker", "WorkerClosed"]

T = TypeVar("T")
_STOP = object()
_HAS_EVENTFD = hasattr(os, "eventfd")
"""Linux (Python 3.10+): the doorbells below; elsewhere a queue and the loop's own."""


class WorkerClosed(RuntimeError):
    """The worker was closed; the call was not run."""


class SerialWorker:
    """Runs blocking calls one at a time on its own thread, awaited from asyncio.

    For SDKs that keep global state and must never see two threads (MetaTrader5). Start
    is lazy (first call); :meth:`close` runs what was queued, then stops the thread.
    How a call is handed over and answered is in the module docstring.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._running: tuple[threading.Thread, _Inbox] | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._outbox: _Outbox | None = None
        self._readerless: asyncio.AbstractEventLoop | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the worker thread; its result or its exception.

        Raises :class:`WorkerClosed` after :meth:`close`. A cancelled caller does not
        stop a call that already started (the SDK call cannot be interrupted).
        """
        outbox = self._outbox
        loop = running_loop(None if outbox is None else outbox.loop)
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise WorkerClosed(f"worker {self.name!r} is closed")
            outbox = self._outbox
            if outbox is None or outbox.loop is not loop:
                # Under the lock: two loops' first calls must not both watch one eventfd.
                outbox = self._outbox_for(loop)
            running = self._running or self._start()
            running[1].put((function, args, future, outbox))
        return await future

    def _start(self) -> tuple[threading.Thread, _Inbox]:
        inbox = _EventfdInbox() if _HAS_EVENTFD else _QueueInbox()
        thread = threading.Thread(target=self._loop, args=(inbox,), name=self.name, daemon=True)
        thread.start()
        self._running = (thread, inbox)
        return self._running

    def _outbox_for(self, loop: asyncio.AbstractEventLoop) -> _Outbox | None:
        """The eventfd ``loop`` watches for answers (made, or moved from a closed loop,
        here); None when they must go through ``loop.call_soon_threadsafe``. Called
        with the lock held."""
        if not _HAS_EVENTFD or loop is self._readerless:
            return None
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = _Outbox()
        elif outbox.loop is not None and not outbox.loop.is_closed():
            return None  # it serves another loop, which still lives
        if not outbox.watch(loop):
            self._readerless = loop
            return None
        return outbox

    def _loop(self, inbox: _Inbox) -> None:
        while True:
            job = inbox.take()
            if job is _STOP:
                return
            function, args, future, outbox = job
            try:
                value, error = function(*args), None
            except BaseException as exc:
                value, error = None, exc
            if outbox is not None:
                outbox.post(future, value, error)
            else:
                _answer_threadsafe(future, value, error)

    def close(self, timeout_s: float = 10.0) -> None:
        """Run the queued calls, then stop the thread (waiting up to ``timeout_s``).

        Their answers reach their callers (on their loops, as always). A call still
        running after ``timeout_s`` keeps what it needs to answer when it ends.
        """
        with self._lock:
            self._closed = True
            running = self._running
            if running is None:
                return
            thread, inbox = running
            inbox.put(_STOP)
        thread.join(timeout_s)
        if thread.is_alive():
            return
        with self._lock:
            if self._running is not running:
                return  # another close() got here first
            self._running = None
            outbox, self._outbox = self._outbox, None
        inbox.close()
        if outbox is not None:
            outbox.close()


class _EventfdInbox:
    """Calls for the thread: a deque, and an eventfd the thread blocks on."""

    def __init__(self) -> None:
        self._jobs: deque[Any] = deque()
        self._fd = os.eventfd(0, os.EFD_CLOEXEC)

    def put(self, job: Any) -> None:
        self._jobs.append(job)
        os.eventfd_write(self._fd, 1)  # the GIL is released while the thread wakes

    def take(self) -> Any:
        jobs = self._jobs
        while not jobs:
            os.eventfd_read(self._fd)
        return jobs.popleft()

    def close(self) -> None:
        os.close(self._fd)


class _QueueInbox:
    """Calls for the thread where there is no eventfd: a SimpleQueue."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.put = self._queue.put
        self.take = self._queue.get

    def close(self) -> None:
        """Nothing to release."""


_Inbox = _EventfdInbox | _QueueInbox


class _Outbox:
    """Answers for one event loop: a deque, and an eventfd the loop reads when ready."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._done: deque[tuple[asyncio.Future[Any], Any, BaseException | None]] = deque()
        self._fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)

    def watch(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Have ``loop`` deliver the answers; False when it has no ``add_reader``."""
        try:
            loop.add_reader(self._fd, self._deliver)
        except NotImplementedError:
            return False
        self.loop = loop
        return True

    def post(self, future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
        """On the worker thread: queue an answer and wake the loop."""
        self._done.append((future, value, error))
        os.eventfd_write(self._fd, 1)

    def _deliver(self) -> None:
        # try/except, not contextlib.suppress: no context manager per answer.
        try:  # noqa: SIM105
            os.eventfd_read(self._fd)
        except BlockingIOError:  # answers already taken by an earlier read
            pass
        done, loop = self._done, self.loop
        while done:
            future, value, error = done.popleft()
            # Not left by a loop that closed, nor cancelled: _answer, written out (this
            # runs for every call's answer).
            if future.get_loop() is loop and not future.done():
                if error is None:
                    future.set_result(value)
                else:
                    future.set_exception(error)

    def close(self) -> None:
        """Once the thread is gone: deliver what is left, stop watching, free the fd."""
        loop = self.loop
        if loop is None or loop.is_closed():
            os.close(self._fd)
        elif loop.is_running() and _running_loop() is not loop:
            loop.call_soon_threadsafe(self.close)
        else:
            self._deliver()
            loop.remove_reader(self._fd)
            os.close(self._fd)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _answer(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def _answer_threadsafe(
    future: asyncio.Future[Any], value: Any, error: BaseException | None
) -> None:
    with suppress(RuntimeError):  # the caller's loop is closed: nobody waits for it
        future.get_loop().call_soon_threadsafe(_answer, future, value, error)
