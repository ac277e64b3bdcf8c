"""The callers waiting for an order's send in flight: :class:`WaitsForSend`.

A repeat of a client order id whose first send has not ended waits for it instead of
sending again. The records of an id that know this (the memory journal's
:class:`~fks_exec.journal.memory.MemoryRecord`, and the executor's own
:class:`~fks_exec._order_memory.RememberedOrder` beside an SQL journal) share this base.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

__all__ = ["WaitsForSend"]


class WaitsForSend:
    """The callers waiting for the send in flight under one id, for a record of that id
    (the memory journal's, and the executor's own beside an SQL journal).

    A subclass says what in flight means (:attr:`in_flight`); :meth:`settled` waits for
    it to end and :meth:`wake` releases the waiters. Never raises."""

    __slots__ = ("waiters",)

    waiters: list[asyncio.Future[None]] | None
    """Futures of callers waiting for the send in flight; made only when one waits."""

    if TYPE_CHECKING:

        @property
        def in_flight(self) -> bool:
            """True while the send under this id has not ended (each subclass's own)."""

    async def settled(self) -> None:
        """Wait until the send in flight under this id has ended (at once if none is)."""
        if not self.in_flight:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.waiters is None:
            self.waiters = []
        self.waiters.append(waiter)
        await waiter

    def wake(self) -> None:
        """Release every caller waiting in :meth:`settled`."""
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)
