"""One dedicated thread for every MetaTrader5 call.

The package keeps one global connection and is not safe to call from several threads;
its calls also block. :class:`Mt5Worker` runs each call on the same worker thread and
awaits it, so the event loop never blocks and the package never sees two threads.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["Mt5Worker"]


class Mt5Worker:
    """Runs calls on the module ``mt5`` on a single thread named ``fks-exec-mt5``."""

    def __init__(self, mt5: Any) -> None:
        self.mt5 = mt5
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fks-exec-mt5")

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``await worker.call("order_send", request)``: ``mt5.order_send(request)``."""
        function = functools.partial(getattr(self.mt5, name), *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, function)

    async def run(self, function: Any, *args: Any) -> Any:
        """Run several module calls as one unit on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, function, *args)

    def close(self) -> None:
        """Stop the thread once queued calls are done."""
        self._pool.shutdown(wait=True)
