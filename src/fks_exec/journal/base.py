"""The storage interface every journal backend implements: :class:`Journal`.

===================  ==================================================================
method               what it must guarantee
===================  ==================================================================
``open``/``close``   ``open`` is idempotent; ``close`` commits every queued write first
``claim``            atomically insert the intent (state ``sending``) or find the entry
                     already under the id (a unique key, not a read-then-write); an
                     entry in ``not_sent`` is taken over (state ``sending`` again,
                     ``attempt`` + 1). Durable when it returns.
``record``           apply a :class:`JournalUpdate` and append its event; durable on
                     return
``record_soon``      the same, queued: it never blocks and is committed in order,
                     before any later ``claim``/``record`` of the same handle returns
``flush``            wait until every queued write is committed
``get``/``events``   current entry, and its full history oldest first
``entries``          entries filtered by openness, plugin and last change, newest first
``prune``            delete entries (and their events) last changed before a time, but
                     never an open one (``sending``, ``sent``, ``unknown``)
===================  ==================================================================

A PostgreSQL backend maps ``claim`` onto ``INSERT ... ON CONFLICT DO UPDATE ... WHERE
state = 'not_sent' RETURNING``, ``record_soon`` onto a queue drained by one writer
task, and may add leases through the ``owner`` it stores with each claim.
"""

from __future__ import annotations

import os
import secrets
import socket
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import ClassVar

from fks_exec.errors import FksExecError
from fks_exec.journal.models import Claim, JournalEntry, JournalEvent, JournalUpdate
from fks_exec.models import Order

__all__ = ["Journal", "JournalError", "JournalSchemaError", "new_owner"]


class JournalError(FksExecError):
    """The journal could not be read or written; an order it could not claim was not sent."""


class JournalSchemaError(JournalError):
    """The journal file has a schema this version cannot use; the message says how to fix it."""


def new_owner() -> str:
    """A token naming one journal handle: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Journal(ABC):
    """Durable memory of every client order id: intents, results and status changes.

    Subclasses implement the abstract methods with the guarantees in the module
    docstring. Every method may raise :class:`JournalError`.
    """

    durable: ClassVar[bool] = True
    """False for backends that forget on exit (``memory``)."""
    location: str = ""
    """Where the data lives, for logs and the CLI (never carries a password)."""

    def __init__(self) -> None:
        self.owner = new_owner()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location!r}>"

    async def open(self) -> None:  # noqa: B027 - optional hook, nothing to open by default
        """Connect and check the schema. Raises :class:`JournalSchemaError` for an old file."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Commit queued writes and disconnect. Safe to call twice."""

    @abstractmethod
    async def claim(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim:
        """Commit the intent to send ``order`` through ``plugin``, or return the entry
        already under its id (see :class:`Claim`)."""

    @abstractmethod
    async def record(self, update: JournalUpdate) -> None:
        """Apply ``update`` and append its event, durably. Raises :class:`JournalError`
        when the id has no entry."""

    @abstractmethod
    def record_soon(self, update: JournalUpdate) -> None:
        """Queue ``update``; committed in order with this handle's later writes."""

    async def flush(self) -> None:  # noqa: B027 - backends without a queue have nothing to do
        """Wait until every write queued by :meth:`record_soon` is committed."""

    @abstractmethod
    async def get(self, client_order_id: str) -> JournalEntry | None:
        """The current entry of ``client_order_id``, or None."""

    @abstractmethod
    async def events(self, client_order_id: str) -> list[JournalEvent]:
        """Every event of ``client_order_id``, oldest first (empty when unknown)."""

    @abstractmethod
    async def entries(
        self,
        *,
        open_only: bool = False,
        plugins: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries changed at or after ``since``, in ``plugins``, newest change first."""

    @abstractmethod
    async def prune(self, before: datetime) -> int:
        """Delete closed entries last changed before ``before``; returns how many."""
