"""What an executor remembers of client order ids in RAM: :class:`OrderMemory`, or
:class:`JournaledMemory` when its journal is the in-process ``memory`` one.

:class:`OrderMemory` is a bounded window: every id in flight (never forgotten: a
repeat must join it, not send again) plus the newest ``size`` settled ones, oldest
forgotten first in O(1). The journal (SQLite, PostgreSQL) is the long memory; this
window only saves a journal read for recent repeats and finds the plugin that took an
order for ``cancel`` and ``get_order``.

:class:`JournaledMemory` keeps no record of its own: the memory journal's record of an
id is its entry (one object in one dict, one eviction window: every open id and the
newest ``max_closed`` closed ones), and claiming the id there is beginning it here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias, Union

from fks_exec._send_waiters import WaitsForSend
from fks_exec.journal.keeper import gives_hints
from fks_exec.journal.memory import _SENDING, MemoryJournal, MemoryRecord
from fks_exec.models import ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin

__all__ = ["Entry", "IdMemory", "JournaledMemory", "OrderMemory", "RememberedOrder"]


class RememberedOrder(WaitsForSend):
    """One client order id: its order, the plugin that took it, and its latest result
    (None while the first call is still in flight)."""

    __slots__ = ("order", "plugin", "result")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.plugin: str | None = None
        self.result: ExecutionResult | None = None
        self.waiters = None

    @property
    def in_flight(self) -> bool:
        """True while the first call has no result yet."""
        return self.result is None


_NO_HINTS: Mapping[str, str] = MappingProxyType({})
"""The hints of a plugin that gives none (shared, read-only)."""

Entry: TypeAlias = Union["RememberedOrder", MemoryRecord]
"""What a memory keeps per id: its own :class:`RememberedOrder`, or the memory
journal's record."""


class IdMemory(Protocol):
    """What the executor's parts use of its memory (either class below; each is only
    ever handed its own entries)."""

    @property
    def entries(self) -> Mapping[str, Entry]:
        """Every entry, to read (see :meth:`holds`)."""

    def holds(self, entry: Any) -> bool:
        """True when ``entry`` (found in :attr:`entries`) is remembered."""

    def get(self, client_order_id: str) -> Entry | None:
        """The remembered entry under ``client_order_id``, or None."""

    def settle(self, entry: Any, result: ExecutionResult) -> None:
        """Give ``entry`` its latest result and wake its waiters."""

    def forget(self, entry: Any) -> None:
        """Forget ``entry`` (nothing was sent: a retry sends) and wake its waiters."""

    def by_order_id(self, order_id: str) -> Entry | None:
        """The remembered entry the broker knows as ``order_id``, or None."""

    def results(self) -> list[ExecutionResult]:
        """The remembered results, oldest first."""


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

    def holds(self, entry: RememberedOrder) -> bool:
        """True: every entry of :attr:`entries` is remembered (in flight or settled)."""
        return True

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


class JournaledMemory:
    """An executor's memory of client order ids that is its memory journal's records.

    An entry is the journal's :class:`~fks_exec.journal.memory.MemoryRecord`; it is
    *remembered* (:meth:`holds`) while its send is in flight, or once it has a result
    that was not given up by :meth:`forget` (a refusal whose retry is being sent). A
    record with neither (nothing was sent) is claimed again by the next send. How long
    an id is kept is the journal's window (``max_closed``).
    """

    def __init__(self, journal: MemoryJournal) -> None:
        self._journal = journal
        self.claim_record = journal.claim_record
        """The journal's :meth:`~MemoryJournal.claim_record`, for the executor's hot path
        (which does what :meth:`claim` does around it inline)."""
        self.note_record = journal.note_record
        """The journal's :meth:`~MemoryJournal.note_record`, for the executor's hot path
        (which does what :meth:`answered` does around it inline)."""
        self.entries: Mapping[str, MemoryRecord] = journal.records
        """Every record of the journal, to read; ``entries.get(cid)`` is the hot path's
        lookup (then :meth:`holds` says whether it is remembered)."""
        self._released: set[str] = set()
        """Refused ids given up by :meth:`forget`, until they are claimed again."""
        self._by_order_id: dict[str, str] = {}
        """Broker order id -> client order id, checked against the record when read;
        rebuilt from the records when it outgrows them (amortized O(1) per order)."""
        self._indexing = False
        """True from the first :meth:`by_order_id` on: until then no order pays for the
        index (it is built from the records at that first call, in one pass)."""
        self._hinting: dict[ExecutionPlugin | None, bool] = {None: False}
        """Whether each plugin seen gives lookup hints (see ``lookup_hints``): asked
        once per plugin object, not twice per order."""

    def holds(self, record: MemoryRecord) -> bool:
        """True when ``record`` is remembered: in flight, or answered and not given up."""
        return record.state is _SENDING or (
            record.result is not None and record.cid not in self._released
        )

    def get(self, client_order_id: str) -> MemoryRecord | None:
        """The remembered record under ``client_order_id`` (see :meth:`holds`), or None."""
        record = self.entries.get(client_order_id)
        return record if record is not None and self.holds(record) else None

    def claim(
        self,
        order: Order,
        plugin: str,
        instance: ExecutionPlugin | None,
        cid: str | None = None,
    ) -> MemoryRecord | None:
        """Claim ``order``'s id (``cid``, when the caller read it already) in the journal
        for ``plugin`` (with ``instance``'s lookup hints): the record, now in flight, or
        None when the journal holds the id in another state (the caller answers from the
        journal and never sends)."""
        if cid is None:
            cid = order.client_order_id
        hinting = self._hinting.get(instance)
        if hinting is None:
            hinting = self._learn_hinting(instance)
        hints = _NO_HINTS if instance is None or not hinting else instance.lookup_hints(order)
        record = self._journal.claim_record(order, plugin, hints, cid)
        if self._released:
            self._released.discard(cid)
        return record

    def answered(
        self,
        record: MemoryRecord,
        result: ExecutionResult,
        taker: ExecutionPlugin | None,
        status: OrderStatus | None = None,
    ) -> None:
        """Journal ``result`` as the answer of ``record``'s send (``taker``'s lookup
        hints), index its broker id and wake the callers waiting for it. ``status`` is
        ``result.status`` from a caller that read it and knows the result does not say
        ``sent=False`` (then neither is read again); None: both are read."""
        hinting = self._hinting.get(taker)
        if hinting is None:
            hinting = self._learn_hinting(taker)
        hints = (
            _NO_HINTS if taker is None or not hinting else taker.lookup_hints(record.order, result)
        )
        self._journal.note_record(record, result, hints, "result", status)
        if self._indexing:  # self.settle(record, result), inlined: the rest is done
            self._index(record, result)
        if record.waiters:
            record.wake()

    def settle(self, record: MemoryRecord, result: ExecutionResult) -> None:
        """Make ``result`` ``record``'s latest (already journaled, or not worth an
        event), index its broker id and wake the callers waiting for it."""
        record.events = record.flat_events()  # an implied answer is the earlier result's
        record.result = result
        if self._indexing:
            self._index(record, result)
        if record.waiters:
            record.wake()

    def _index(self, record: MemoryRecord, result: ExecutionResult) -> None:
        order_id = result.order_id
        if order_id:
            index = self._by_order_id
            index[order_id] = record.cid
            if len(index) > 2 * len(self.entries) + 64:
                self._reindex()

    def forget(self, record: MemoryRecord) -> None:
        """Give ``record`` up (nothing was sent: a retry sends) and wake its waiters; the
        journal keeps it, ``not_sent``, until a retry claims it again."""
        if record.result is not None:
            self._released.add(record.cid)
        record.wake()

    def by_order_id(self, order_id: str) -> MemoryRecord | None:
        """The remembered record the broker knows as ``order_id``, or None."""
        if not self._indexing:
            self._indexing = True
            self._reindex()
        cid = self._by_order_id.get(order_id)
        record = None if cid is None else self.get(cid)
        if record is None or record.result is None or record.result.order_id != order_id:
            return None
        return record

    def results(self) -> list[ExecutionResult]:
        """The results of the remembered records, in the order their ids were first
        claimed (oldest first)."""
        return [r.result for r in self.entries.values() if r.result is not None and self.holds(r)]

    def _learn_hinting(self, plugin: ExecutionPlugin | None) -> bool:
        # Asked on every claim and answer when it gives hints (keeper's rule, kept here
        # per plugin so the hot path reads a dict instead).
        hinting = self._hinting[plugin] = gives_hints(plugin)
        return hinting

    def _reindex(self) -> None:
        self._by_order_id = {
            r.result.order_id: cid
            for cid, r in self.entries.items()
            if r.result is not None and r.result.order_id
        }
