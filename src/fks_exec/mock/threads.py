"""Driving the mock broker from another thread, safely: :func:`bind_to_loop`.

The :class:`~fks_exec.mock.MockBroker` is plain synchronous code that the mock plugin
calls on its event loop's thread. A test or script that moves quotes from another
thread (typically beside a :class:`~fks_exec.SyncExecutor`, whose loop runs on a
background thread) would otherwise interleave with an order being matched and leave
records that disagree with the answers given. Once the plugin has connected, every
public method of its broker called from a thread other than the loop's runs on the
loop's thread instead, and the calling thread waits for its return value (or its
exception). Calls on the loop's thread, or when no loop is running, run directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["FOREIGN_CALL_TIMEOUT_S", "bind_to_loop"]

FOREIGN_CALL_TIMEOUT_S = 30.0
"""How long a call from another thread waits for the loop before it fails."""


def bind_to_loop(broker: object, loop: asyncio.AbstractEventLoop) -> None:
    """Make every public method of ``broker`` run on ``loop``'s thread when called
    from another thread while ``loop`` runs (see the module docstring). Binding again
    (a reconnect, another loop) replaces the earlier binding.
    Raises ``TypeError`` for an object whose methods cannot be replaced (``__slots__``).
    """
    owner = threading.get_ident()
    for name, function in inspect.getmembers(type(broker), inspect.isfunction):
        if name.startswith("_"):
            continue
        method = function.__get__(broker)
        try:
            setattr(broker, name, _on_loop(method, loop, owner))
        except AttributeError:
            raise TypeError(
                f"cannot make {type(broker).__name__}.{name} thread-safe (no instance "
                "attributes); drive it with SyncExecutor.call_in_loop instead"
            ) from None


def _on_loop(
    method: Callable[..., Any], loop: asyncio.AbstractEventLoop, owner: int
) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() == owner or loop.is_closed() or not loop.is_running():
            return method(*args, **kwargs)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(method(*args, **kwargs))
                except BaseException as exc:  # handed to the calling thread
                    future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        try:
            return future.result(FOREIGN_CALL_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RuntimeError(
                f"MockBroker.{method.__name__} called from another thread got no turn on "
                f"the event loop in {FOREIGN_CALL_TIMEOUT_S:g}s (is the loop blocked?)"
            ) from None

    return call
