"""The deadlines of the order waits (:mod:`fks_exec_ninja.tracking`), behind one timer."""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fks_exec_ninja.tracking import _Waiter as Waiter

__all__ = ["TIMED_OUT", "Deadlines"]

TIMED_OUT = "timed_out"
"""How a wait ends when its deadline comes first."""


class Deadlines:
    """The deadlines of every waiting order, behind one timer armed at or before the
    earliest.

    A queue of waiters in deadline order: waits of one length (the usual case) start in
    deadline order and are appended; a shorter one is inserted in its place. A waiter
    that finishes first in the queue (answered in the order placed: the usual case)
    leaves it at once; another finished one stays until its deadline comes up, or until
    the queue holds more than twice the waits in progress and 64 more (then the finished
    ones are swept out), so it stays bounded by the waits in progress. The timer is
    armed again only for a deadline earlier than the one it is armed for; when it fires
    it drops the finished and expired waits at the front and is armed for the next.
    """

    __slots__ = ("_queue", "_timer", "_when")

    def __init__(self) -> None:
        self._queue: deque[Waiter] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._when = 0.0
        """The time the timer is armed for (while it is)."""

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, waiter: Waiter) -> None:
        """Queue ``waiter`` in deadline order; arm the timer when its deadline is the
        earliest and earlier than the time the timer is armed for."""
        queue, deadline = self._queue, waiter.deadline
        if queue and deadline < queue[-1].deadline:  # a shorter wait than one queued
            queue.insert(bisect.bisect_right(queue, deadline, key=_deadline_of), waiter)
        else:
            queue.append(waiter)
        if queue[0] is waiter and (self._timer is None or deadline < self._when):
            self._arm(deadline)  # the earliest now, before the time the timer is armed for

    def finished(self, waiter: Waiter, live: int) -> None:
        """``waiter``'s wait ended, ``live`` waits are still in progress: it leaves the
        queue at once when first in it, else the finished ones are swept out once the
        queue holds more than twice ``live`` and 64 more (amortized O(1) a wait)."""
        queue = self._queue
        if queue and queue[0] is waiter:  # answered in the order placed: out at once
            queue.popleft()
        elif len(queue) > 2 * live + 64:
            self.sweep()

    def sweep(self) -> None:
        """Drop the finished waits."""
        self._queue = deque(waiter for waiter in self._queue if not waiter.future.done())

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._when = when
        self._timer = asyncio.get_running_loop().call_at(when, self._expire)

    def _expire(self) -> None:
        self._timer = None
        now, queue = asyncio.get_running_loop().time(), self._queue
        while queue and (queue[0].deadline <= now or queue[0].future.done()):
            queue.popleft().resolve(TIMED_OUT)  # a no-op for a finished one
        if queue:
            self._arm(queue[0].deadline)


def _deadline_of(waiter: Waiter) -> float:
    return waiter.deadline
