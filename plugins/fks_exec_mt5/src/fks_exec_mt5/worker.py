"""One dedicated thread for every MetaTrader5 call.

The package keeps one global connection and is not safe to call from several threads;
its calls also block. :class:`Mt5Worker` runs each call on the same thread and awaits
it, so the event loop never blocks and the package never sees two threads. The thread
is the core kit's :class:`~fks_exec.kit.SerialWorker`: on Linux a call and its answer
each cross by an eventfd (two thread switches per call), elsewhere by a queue and the
loop's own ``call_soon_threadsafe`` (see :mod:`fks_exec.kit.worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fks_exec.kit import SerialWorker

__all__ = ["Mt5Worker"]


class Mt5Worker:
    """Runs calls on the module ``mt5`` on a single thread named ``fks-exec-mt5``."""

    def __init__(self, mt5: Any) -> None:
        self.mt5 = mt5
        self._worker = SerialWorker("fks-exec-mt5")

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``await worker.call("order_send", request)``: ``mt5.order_send(request)``."""
        function = getattr(self.mt5, name)
        return await self._worker.run(lambda: function(*args, **kwargs))

    def run(self, function: Callable[..., Any], *args: Any) -> Coroutine[Any, Any, Any]:
        """``await worker.run(function, *args)``: ``function(*args)`` on the worker thread
        (several module calls as one unit); its exception is raised there. Raises
        :class:`~fks_exec.kit.WorkerClosed` (a ``RuntimeError``) after close. It hands
        back the kit worker's own coroutine: no second coroutine per call."""
        return self._worker.run(function, *args)

    def close(self) -> None:
        """Stop the thread once queued calls are done."""
        self._worker.close()
