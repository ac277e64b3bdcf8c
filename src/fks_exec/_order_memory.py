"""What an executor remembers of client order ids in RAM: :class:`OrderMemory`.

A bounded window: every id in flight (never forgotten: a repeat must join it, not send
again) plus the newest ``size`` settled ones, oldest forgotten first in O(1). The
journal is the long memory; this window only saves a journal read for recent repeats
and finds the plugin that took an order for ``cancel`` and ``get_order``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping

from fks_exec.models import ExecutionResult, Order

__all__ = ["OrderMemory", "RememberedOrder"]


class RememberedOrder:
    """One client order id: its order, the plugin that took it, and its latest result
    (None while the first call is still in flight)."""

    __slots__ = ("order", "plugin", "result", "waiters")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.plugin: str | None = None
        self.result: ExecutionResult | None = None
        self.waiters: list[asyncio.Future[None]] | None = None
        """Futures of repeats waiting for the first call; made only when one waits."""

    async def settled(self) -> None:
        """Wait until the call in flight for this id has ended (at once if it has)."""
        if self.result is not None:
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


class OrderMemory:
    """Client order ids in flight, and the newest (at most) ``size`` settled ones.

    Raises ``ValueError`` for ``size < 1``.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._entries: dict[str, RememberedOrder] = {}
        self.entries: Mapping[str, RememberedOrder] = self._entries
        """Every remembered id (in flight or settled), to read; ``entries.get(cid)`` is
        the hot path's lookup."""
        self._settled: deque[RememberedOrder] = deque()
        """Settled entries, oldest first; a forgotten one stays until it is popped (it
        is skipped then), so forgetting is O(1) too."""
        self._by_order_id: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, client_order_id: str) -> RememberedOrder | None:
        """The remembered order under ``client_order_id``, or None."""
        return self._entries.get(client_order_id)

    def begin(self, order: Order) -> RememberedOrder:
        """Remember ``order`` as in flight; its id must not be remembered (:meth:`get`
        said None, or it was :meth:`forget`-ten). Raises ``ValueError`` otherwise."""
        entry = RememberedOrder(order)
        if self._entries.setdefault(order.client_order_id, entry) is not entry:
            raise ValueError(f"client order id {order.client_order_id!r} is already remembered")
        return entry

    def settle(self, entry: RememberedOrder, result: ExecutionResult) -> None:
        """Give ``entry`` its (first or a later) result and wake the repeats waiting for
        it. The first result moves it into the settled window, which forgets its oldest
        entry beyond ``size``."""
        before, entry.result = entry.result, result
        cid = entry.order.client_order_id
        if self._entries.get(cid) is entry:
            if result.order_id:
                self._by_order_id[result.order_id] = cid
            if before is None:
                settled = self._settled
                settled.append(entry)
                if len(settled) > self.size:  # self._drop(the oldest), inlined
                    oldest = settled.popleft()
                    gone = oldest.order.client_order_id
                    entries = self._entries
                    if entries.get(gone) is oldest:  # not forgotten (and remembered anew)
                        del entries[gone]
                        answer = oldest.result
                        gone_id = None if answer is None else answer.order_id
                        if gone_id and self._by_order_id.get(gone_id) == gone:
                            del self._by_order_id[gone_id]
            elif before.order_id and before.order_id != result.order_id:
                self._by_order_id.pop(before.order_id, None)
        if entry.waiters:
            entry.wake()

    def forget(self, entry: RememberedOrder) -> None:
        """Forget ``entry`` (nothing was sent: a retry sends) and wake its waiters."""
        self._drop(entry)
        entry.wake()

    def _drop(self, entry: RememberedOrder) -> None:
        cid = entry.order.client_order_id
        if self._entries.get(cid) is not entry:
            return  # forgotten already, and maybe remembered anew
        del self._entries[cid]
        order_id = entry.result.order_id if entry.result is not None else None
        if order_id and self._by_order_id.get(order_id) == cid:
            del self._by_order_id[order_id]

    def by_order_id(self, order_id: str) -> RememberedOrder | None:
        """The remembered order the broker knows as ``order_id``, or None."""
        cid = self._by_order_id.get(order_id)
        return None if cid is None else self._entries.get(cid)

    def results(self) -> list[ExecutionResult]:
        """The settled results still remembered, oldest first."""
        entries = self._entries
        return [
            e.result
            for e in self._settled
            if e.result is not None and entries.get(e.order.client_order_id) is e
        ]
