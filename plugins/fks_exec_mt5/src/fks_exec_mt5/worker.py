"""One dedicated thread for every MetaTrader5 call.

The package keeps one global connection and is not safe to call from several threads;
its calls also block. :class:`Mt5Worker` runs each call on the same thread and awaits
it, so the event loop never blocks and the package never sees two threads. It is a
plain thread fed by a queue (one ``call_soon_threadsafe`` back per job), about half
the cost of ``run_in_executor``'s concurrent-futures machinery.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Mt5Worker"]

_Job = tuple[Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop, asyncio.Future[Any]]


class Mt5Worker:
    """Runs calls on the module ``mt5`` on a single thread named ``fks-exec-mt5``."""

    def __init__(self, mt5: Any) -> None:
        self.mt5 = mt5
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="fks-exec-mt5", daemon=True)
        self._thread.start()

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``await worker.call("order_send", request)``: ``mt5.order_send(request)``."""
        function = getattr(self.mt5, name)
        return await self.run(lambda: function(*args, **kwargs))

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` on the worker thread (several module calls as one
        unit); its exception is raised here. Raises ``RuntimeError`` after close."""
        if not self._thread.is_alive():
            raise RuntimeError("the MetaTrader 5 worker thread is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((function, args, loop, future))
        return await future

    def close(self) -> None:
        """Stop the thread once queued calls are done."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            function, args, loop, future = job
            try:
                value = function(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                loop.call_soon_threadsafe(_settle, future, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, value, None)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
