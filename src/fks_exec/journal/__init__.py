"""The order journal: durable memory of every client order id, across restarts.

Before the executor hands an order to a plugin it commits the *intent* (client id,
order, plugin, lookup hints) with :meth:`Journal.claim`; the result and every later
status change are appended as events. An id already in the journal is never handed to
a plugin again, and at start-up the executor reconciles the entries an earlier process
left open. See docs/journal.md.

Backends: :class:`SqliteJournal` (a file in WAL mode, the default for live trading)
and :class:`MemoryJournal` (tests, paper trading); :func:`choose_journal` picks one.
"""

from __future__ import annotations

from fks_exec.journal import schema
from fks_exec.journal.base import Journal, JournalError, JournalSchemaError
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.models import (
    Claim,
    JournalEntry,
    JournalEvent,
    JournalState,
    JournalUpdate,
    state_for,
)
from fks_exec.journal.selection import ENV_VAR, choose_journal, default_path, journal_from_spec
from fks_exec.journal.sqlite import SqliteJournal, migrate_file

__all__ = [
    "ENV_VAR",
    "Claim",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalEvent",
    "JournalSchemaError",
    "JournalState",
    "JournalUpdate",
    "MemoryJournal",
    "SqliteJournal",
    "choose_journal",
    "default_path",
    "journal_from_spec",
    "migrate_file",
    "schema",
    "state_for",
]
