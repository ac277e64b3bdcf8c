"""The running event loop, found without a system call when it is already known.

Shared by the executor and the plugin kit (:func:`fks_exec.kit.running_loop`); kept
out of the kit package so the core does not import the kit to use it.

On Python 3.10-3.11 :func:`asyncio.get_running_loop` checks the process id (a
``getpid()`` system call, ~240 ns on a VM) on every call. Code on a hot path that
keeps the loop it saw last asks :func:`running_loop` instead: asyncio's own loops
record the thread that runs them (``_thread_id``, set by ``run_forever`` and cleared
when it returns), and a loop running on this thread is the running loop.
"""

from __future__ import annotations

from asyncio import AbstractEventLoop, get_running_loop
from threading import get_ident
from typing import TypeGuard

__all__ = ["running_loop", "runs_here"]


def running_loop(kept: AbstractEventLoop | None) -> AbstractEventLoop:
    """The event loop running the caller: ``kept`` when it says it runs on this thread.

    Otherwise (None, a loop that stopped or runs elsewhere, or a loop that does not say,
    such as uvloop's) asyncio's own answer. Raises :class:`RuntimeError` when no event
    loop runs on this thread, as :func:`asyncio.get_running_loop` does.
    """
    if runs_here(kept):
        return kept
    return get_running_loop()


def runs_here(loop: AbstractEventLoop | None) -> TypeGuard[AbstractEventLoop]:
    """Whether ``loop`` says it runs on this thread (so it is the running loop there).

    False for None, a loop that stopped or runs on another thread, and a loop that does
    not say (no ``_thread_id``, such as uvloop's). Never raises, on any thread.
    """
    return loop is not None and getattr(loop, "_thread_id", None) == get_ident()
