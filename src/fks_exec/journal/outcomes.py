"""What the SQLite journal's writer thread hands back: each job's value or error, to
the event loop its caller waits on (:mod:`fks_exec.journal.worker`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any, TypeVar

__all__ = ["Outcome", "deliver", "pair", "rollback", "settle"]

logger = logging.getLogger("fks_exec.journal")

Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]
"""A waiting caller's future, and the value or the exception to give it."""
T = TypeVar("T")


def rollback(conn: sqlite3.Connection) -> None:
    """End a failed batch's transaction, if one is open (a failing rollback too is
    left to the next batch, which then fails with its own error)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def pair(tasks: Sequence[T], values: list[Any]) -> list[tuple[T, Any, BaseException | None]]:
    """Pair each task with its value, or with the exception the handler returned for it."""
    paired: list[tuple[T, Any, BaseException | None]] = []
    for task, value in zip(tasks, values, strict=True):
        failed = isinstance(value, Exception)
        paired.append((task, None if failed else value, value if failed else None))
    return paired


def deliver(
    outcomes: Sequence[tuple[asyncio.Future[Any] | None, str, Any, BaseException | None]],
) -> None:
    """(On the writer thread) settle each ``(future, label, value, error)``'s future on
    its loop, one call into each loop; an error of a job nobody waits for (no future)
    is logged with its label."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for future, label, value, exc in outcomes:
        if future is None:
            if exc is not None:
                logger.error("journal: queued %s failed: %s", label, exc)
            continue
        by_loop.setdefault(future.get_loop(), []).append((future, value, exc))
    for loop, settled in by_loop.items():
        # RuntimeError: the loop closed while waiting; nobody is listening.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, settled)


def settle(outcomes: list[Outcome]) -> None:
    """(On the loop) give each future its value or exception, unless it is done."""
    for future, value, exc in outcomes:
        if future.done():
            continue
        if exc is None:
            future.set_result(value)
        else:
            future.set_exception(exc)
