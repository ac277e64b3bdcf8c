"""``memory``: a journal that lives as long as the process (tests, paper trading).

It sits on the executor's hot path (``memory`` is the default for paper trading), so an
order costs it two plain dictionary updates: entries are kept as small mutable records
and events as tuples, and the frozen :class:`JournalEntry` / :class:`JournalEvent`
views are built only when someone reads them. :meth:`MemoryJournal.claim_now` and
:meth:`MemoryJournal.note_result` are the synchronous fast paths the executor's
:class:`~fks_exec.journal.keeper.JournalKeeper` uses; they keep every guarantee of
:meth:`claim` and :meth:`record_soon`.

An executor whose journal is this class (not a subclass) keeps no record of its own:
its memory of client order ids *is* this journal's :class:`MemoryRecord` per id (one
object in one dict, with one eviction rule: every open id, and the newest
``max_closed`` final and ``max_closed`` not-sent ones), reached through
:attr:`MemoryJournal.records`, :meth:`MemoryJournal.claim_record` and
:meth:`MemoryJournal.note_record` (see :class:`~fks_exec._order_memory.JournaledMemory`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, ClassVar

from fks_exec._send_waiters import WaitsForSend
from fks_exec.journal.base import Journal, JournalError
from fks_exec.journal.models import (
    OPEN_STATES,
    Claim,
    JournalEntry,
    JournalEvent,
    JournalState,
    JournalUpdate,
)
from fks_exec.models import ExecutionResult, Order, OrderStatus

__all__ = ["MemoryJournal", "MemoryRecord"]

_FIRST_ATTEMPT: Mapping[str, Any] = {"attempt": 1}  # shared: read only as copies
_NO_HINTS: Mapping[str, str] = MappingProxyType({})
"""The hints of a record without any: one shared, immutable mapping instead of an empty
dict per remembered id (a record's hints are replaced, never changed in place)."""

_STATE_OF: Mapping[OrderStatus, JournalState] = {
    status: (
        JournalState.UNKNOWN
        if status is OrderStatus.UNKNOWN
        else JournalState.FINAL
        if status.is_final
        else JournalState.SENT
    )
    for status in OrderStatus
}
"""The journal state of a result that does not say ``sent=False`` (see ``state_for``)."""
_VALUE: Mapping[Any, str] = {member: member.value for member in (*JournalState, *OrderStatus)}
"""Each state's and status's string, found faster than through ``Enum.value``."""

_SENDING, _NOT_SENT, _FINAL = JournalState.SENDING, JournalState.NOT_SENT, JournalState.FINAL
# ^ the hot path's names: on 3.11 a JournalState.X read builds a method wrapper (~0.3 us)

_EVENT_WIDTH = 5
"""An event is stored as five values (POSIX time, kind, state value, result status value
or None, detail or None) in one flat tuple per record. A result's event has no detail
(None, not an empty dict), so the tuple holds atoms only and the garbage collector stops
tracking it: a kept order costs the collector one object (its record), not one per event."""
_ANSWERED: tuple[Any, ...] = ("the answer",)
"""A record's ``events`` while its one event after the intent is a ``result`` (the usual
life of an id): that event is read from the record (``updated``, ``state``, ``result``)
and written out only before the record next changes (:meth:`MemoryRecord.flat_events`),
so a kept id holds no event tuple (80 B) and an order allocates none."""


class MemoryRecord(WaitsForSend):
    """The mutable record behind one client order id (read as a :class:`JournalEntry`).

    It is also an executor's memory of the id: its order, the plugin that takes it, its
    latest result (None while the first send is in flight, or when nothing was sent),
    and the callers waiting for a send in flight (:meth:`settled`).

    It has no ``__init__``: :meth:`MemoryJournal.claim_record`, its one maker, sets every
    slot itself (a Python ``__init__`` would cost a second frame on every order)."""

    __slots__ = (
        "attempt",
        "cid",
        "created",
        "events",
        "hints",
        "order",
        "owner",
        "plugin",
        "result",
        "state",
        "updated",
    )

    cid: str
    """``order.client_order_id``, kept: each read of a pydantic model's field is a slow
    lookup (``BaseModel.__getattr__`` defeats the interpreter's attribute cache)."""
    order: Order
    plugin: str
    state: JournalState
    result: ExecutionResult | None
    hints: Mapping[str, str]
    attempt: int
    owner: str
    created: float
    updated: float
    events: tuple[Any, ...]
    """The events after the first intent (which ``created`` dates), flattened."""

    @property
    def in_flight(self) -> bool:
        """True while the id is claimed and its send has not ended (state ``sending``)."""
        return self.state is _SENDING

    def entry(self) -> JournalEntry:
        """This record as the frozen entry the :class:`Journal` interface returns."""
        return JournalEntry(
            self.cid, self.plugin, self.state, self.order, self.result,
            dict(self.hints), self.attempt, self.owner, _utc(self.created), _utc(self.updated),
        )  # fmt: skip

    def flat_events(self) -> tuple[Any, ...]:
        """The events after the first intent, flattened (an implied answer written out:
        call it before the record's state, result or ``updated`` change)."""
        flat = self.events
        if flat is not _ANSWERED:
            return flat
        status = self.result.status  # type: ignore[union-attr]  # an answer has a result
        return (self.updated, "result", _VALUE[self.state], _VALUE[status], None)

    def read_events(self) -> list[JournalEvent]:
        """Every event of this record, oldest first."""
        cid, flat = self.cid, self.flat_events()
        first = JournalEvent(
            cid, _utc(self.created), "intent", JournalState.SENDING, None, dict(_FIRST_ATTEMPT)
        )
        events = [first]
        for i in range(0, len(flat), _EVENT_WIDTH):
            at, kind, state, status, detail = flat[i : i + _EVENT_WIDTH]
            status_read = None if status is None else OrderStatus(status)
            events.append(
                JournalEvent(
                    cid, _utc(at), kind, JournalState(state), status_read, dict(detail or {})
                )
            )
        return events


def _utc(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, timezone.utc)


class MemoryJournal(Journal):
    """Keeps entries in a dict: every open entry, the newest ``max_closed`` final ones
    and the newest ``max_closed`` ``not_sent`` ones.

    Nothing survives the process, so it guards against repeats within one run only.
    Raises ``ValueError`` for ``max_closed < 1``.
    """

    durable: ClassVar[bool] = False

    def __init__(self, *, max_closed: int = 10_000) -> None:
        super().__init__()
        if max_closed < 1:
            raise ValueError("max_closed must be at least 1")
        self.location = "memory"
        self._max_closed = max_closed
        self._records: dict[str, MemoryRecord] = {}
        self.records: Mapping[str, MemoryRecord] = self._records
        """Every record kept (open, and the newest final and not-sent ones), to read;
        ``records.get(cid)`` is an executor's hot-path lookup."""
        self._closed: OrderedDict[str, None] = OrderedDict()
        """Final ids, oldest first (the newest ``max_closed`` are kept)."""
        self._unsent: OrderedDict[str, None] = OrderedDict()
        """``not_sent`` ids, oldest first, in a window of their own (``max_closed``):
        ids whose orders were never sent cannot push out the record of a sent one."""

    # ------------------------------------------------------------------ fast paths

    def claim_now(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim | None:
        """:meth:`claim` without an await: None when the caller now owns the send (the
        id was new, or ``not_sent`` and now ``sending`` again), else the unclaimed
        :class:`Claim` of the entry already under the id."""
        if self.claim_record(order, plugin, hints) is not None:
            return None
        return Claim(self._records[order.client_order_id].entry(), claimed=False)

    def claim_record(
        self, order: Order, plugin: str, hints: Mapping[str, str], cid: str | None = None
    ) -> MemoryRecord | None:
        """:meth:`claim_now` answering the claimed record itself (a new one, or the
        ``not_sent`` one taken over: state ``sending``, ``attempt`` + 1, no result), or
        None when the id is held (any other state): the caller must not send. ``cid`` is
        ``order.client_order_id`` from a caller that read it already (None: read here)."""
        if cid is None:
            cid = order.client_order_id
        record = self._records.get(cid)
        now = time.time()
        if record is None:  # a new record: every slot set here (MemoryRecord has no __init__)
            record = self._records[cid] = MemoryRecord()
            record.cid = cid
            record.order = order
            record.plugin = plugin
            record.state = _SENDING
            record.result = None
            record.hints = hints or _NO_HINTS
            record.attempt = 1
            record.owner = self.owner
            record.created = now
            record.updated = now
            record.events = ()
            record.waiters = None
            return record
        if record.state is not _NOT_SENT:
            return None
        flat = record.flat_events()
        record.order, record.plugin, record.hints = order, plugin, hints
        record.state, record.result, record.owner = _SENDING, None, self.owner
        record.attempt += 1
        record.updated = now
        record.events = (*flat, now, "intent", "sending", None, {"attempt": record.attempt})
        self._unsent.pop(cid, None)
        return record

    def note_result(
        self, result: ExecutionResult, hints: Mapping[str, str], kind: str = "result"
    ) -> None:
        """``record_soon(JournalUpdate.from_result(result, kind, hints=hints))``, applied
        at once without building the update. Raises :class:`JournalError` for an id the
        journal does not hold and ``ValueError`` for a result without a client order id."""
        cid = result.client_order_id
        if cid is None:
            raise ValueError("only results carrying a client order id can be journaled")
        self.note_record(self._record(cid), result, hints, kind)

    def note_record(
        self,
        record: MemoryRecord,
        result: ExecutionResult,
        hints: Mapping[str, str],
        kind: str = "result",
        status: OrderStatus | None = None,
    ) -> None:
        """:meth:`note_result` for the ``record`` of the result's id (found already):
        its state, result, hints and event, and the window of closed ids, which forgets
        its oldest beyond ``max_closed``. ``status`` is ``result.status`` from a caller
        that read it already and knows the result does not say ``sent=False`` (each read
        of a model's field is a slow lookup); None: both are read here."""
        cid = record.cid
        if status is None:
            status = result.status
            state = _NOT_SENT if result.sent is False else _STATE_OF[status]
        else:
            state = _STATE_OF[status]
        flat = record.events
        if flat is _ANSWERED:
            flat = record.flat_events()  # the earlier answer, before this one changes it
        before = record.state
        at = time.time()
        record.state, record.result, record.updated = state, result, at
        if hints:
            record.hints = {**record.hints, **hints}
        if flat or kind != "result":
            record.events = (*flat, at, kind, _VALUE[state], _VALUE[status], None)
        else:  # the first answer: implied by the record while it lasts
            record.events = _ANSWERED
        if state is _FINAL and before is _SENDING:  # _track(), inlined
            closed = self._closed
            closed[cid] = None  # a new key goes last: nothing to move
            if len(closed) > self._max_closed:
                del self._records[closed.popitem(last=False)[0]]
        else:
            self._track(cid, state)

    # ------------------------------------------------------------------ the interface

    async def claim(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim:
        """See :meth:`Journal.claim`."""
        unclaimed = self.claim_now(order, plugin, dict(hints))
        if unclaimed is not None:
            return unclaimed
        return Claim(self._records[order.client_order_id].entry(), claimed=True)

    async def record(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record`."""
        self.record_soon(update)

    def record_soon(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record_soon` (applied at once here)."""
        self._apply(
            update.client_order_id, update.state, update.kind, update.result,
            update.hints, update.plugin, update.detail, update.at.timestamp(),
        )  # fmt: skip

    def _apply(
        self,
        cid: str,
        state: JournalState,
        kind: str,
        result: ExecutionResult | None,
        hints: Mapping[str, str] | None,
        plugin: str | None,
        detail: Mapping[str, Any],
        at: float,
    ) -> None:
        record = self._record(cid)
        flat = record.flat_events()
        record.state = state
        if result is not None:
            record.result = result
        if hints:
            record.hints = {**record.hints, **hints}
        if plugin:
            record.plugin = plugin
        record.updated = at
        status = None if result is None else _VALUE[result.status]
        record.events = (*flat, at, kind, _VALUE[state], status, detail or None)
        self._track(cid, state)

    def _record(self, cid: str) -> MemoryRecord:
        record = self._records.get(cid)
        if record is None:
            raise JournalError(f"the journal has no entry for client order id {cid!r}")
        return record

    def _track(self, cid: str, state: JournalState) -> None:
        # Closed ids are kept newest last, final and not-sent ones in windows of their
        # own; beyond max_closed in its window the oldest is forgotten.
        closed, unsent = self._closed, self._unsent
        if state in OPEN_STATES:
            closed.pop(cid, None)
            unsent.pop(cid, None)
            return
        window, other = (unsent, closed) if state is _NOT_SENT else (closed, unsent)
        other.pop(cid, None)
        window[cid] = None
        window.move_to_end(cid)
        if len(window) > self._max_closed:
            del self._records[window.popitem(last=False)[0]]

    async def get(self, client_order_id: str) -> JournalEntry | None:
        """See :meth:`Journal.get`."""
        record = self._records.get(client_order_id)
        return None if record is None else record.entry()

    async def events(self, client_order_id: str) -> list[JournalEvent]:
        """See :meth:`Journal.events`."""
        record = self._records.get(client_order_id)
        return [] if record is None else record.read_events()

    async def entries(
        self,
        *,
        open_only: bool = False,
        plugins: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """See :meth:`Journal.entries`."""
        after = None if since is None else since.timestamp()
        chosen = [
            r
            for r in self._records.values()
            if (not open_only or r.state.is_open)
            and (plugins is None or r.plugin in plugins)
            and (after is None or r.updated >= after)
        ]
        chosen.sort(key=lambda r: r.updated, reverse=True)
        return [r.entry() for r in (chosen if limit is None else chosen[:limit])]

    async def prune(self, before: datetime) -> int:
        """See :meth:`Journal.prune`."""
        cutoff = before.timestamp()
        doomed = [
            cid for cid, r in self._records.items() if not r.state.is_open and r.updated < cutoff
        ]
        for cid in doomed:
            del self._records[cid]
            self._closed.pop(cid, None)
            self._unsent.pop(cid, None)
        return len(doomed)
