"""``memory``: a journal that lives as long as the process (tests, paper trading)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import ClassVar

from fks_exec.journal.base import Journal, JournalError
from fks_exec.journal.models import (
    Claim,
    JournalEntry,
    JournalEvent,
    JournalState,
    JournalUpdate,
)
from fks_exec.models import Order

__all__ = ["MemoryJournal"]


class MemoryJournal(Journal):
    """Keeps entries in a dict: every open entry, and the newest ``max_closed`` closed ones.

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
        self._entries: dict[str, JournalEntry] = {}
        self._events: dict[str, list[JournalEvent]] = {}
        self._closed: OrderedDict[str, None] = OrderedDict()

    async def claim(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim:
        """See :meth:`Journal.claim`."""
        cid = order.client_order_id
        now = datetime.now(timezone.utc)
        existing = self._entries.get(cid)
        if existing is not None and existing.state is not JournalState.NOT_SENT:
            return Claim(existing, claimed=False)
        attempt = 1 if existing is None else existing.attempt + 1
        entry = JournalEntry(
            cid, plugin, JournalState.SENDING, order, None, dict(hints), attempt,
            self.owner, existing.created_at if existing else now, now,
        )  # fmt: skip
        self._entries[cid] = entry
        self._closed.pop(cid, None)
        event = JournalEvent(cid, now, "intent", JournalState.SENDING, None, {"attempt": attempt})
        self._events.setdefault(cid, []).append(event)
        return Claim(entry, claimed=True)

    async def record(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record`."""
        self.record_soon(update)

    def record_soon(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record_soon` (applied at once here)."""
        cid = update.client_order_id
        entry = self._entries.get(cid)
        if entry is None:
            raise JournalError(f"the journal has no entry for client order id {cid!r}")
        result = update.result if update.result is not None else entry.result
        hints = {**entry.hints, **update.hints} if update.hints else entry.hints
        self._entries[cid] = replace(
            entry,
            state=update.state,
            result=result,
            hints=hints,
            plugin=update.plugin or entry.plugin,
            updated_at=update.at,
        )
        status = update.result.status if update.result is not None else None
        event = JournalEvent(cid, update.at, update.kind, update.state, status, update.detail)
        self._events[cid].append(event)
        if update.state.is_open:
            self._closed.pop(cid, None)
        else:
            self._closed[cid] = None
            self._closed.move_to_end(cid)
            while len(self._closed) > self._max_closed:
                old, _ = self._closed.popitem(last=False)
                del self._entries[old]
                del self._events[old]

    async def get(self, client_order_id: str) -> JournalEntry | None:
        """See :meth:`Journal.get`."""
        return self._entries.get(client_order_id)

    async def events(self, client_order_id: str) -> list[JournalEvent]:
        """See :meth:`Journal.events`."""
        return list(self._events.get(client_order_id, ()))

    async def entries(
        self,
        *,
        open_only: bool = False,
        plugins: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """See :meth:`Journal.entries`."""
        chosen = [
            e
            for e in self._entries.values()
            if (not open_only or e.state.is_open)
            and (plugins is None or e.plugin in plugins)
            and (since is None or e.updated_at >= since)
        ]
        chosen.sort(key=lambda e: e.updated_at, reverse=True)
        return chosen if limit is None else chosen[:limit]

    async def prune(self, before: datetime) -> int:
        """See :meth:`Journal.prune`."""
        doomed = [
            cid for cid, e in self._entries.items() if not e.state.is_open and e.updated_at < before
        ]
        for cid in doomed:
            del self._entries[cid]
            del self._events[cid]
            self._closed.pop(cid, None)
        return len(doomed)
