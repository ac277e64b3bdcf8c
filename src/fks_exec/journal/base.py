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
                     before any later ``claim``/``record``/read of the same id, and
                     any later ``flush``, of the same handle returns (a claim of
                     another id may be committed first: SQLite commits the intents
                     a loop waits for before the results queued with them)
``claim_to_send``    ``claim``, answering None when the caller won; with
                     ``claim_soon`` (the same, as an awaitable made at once) and
                     ``record_result_soon`` (``record_soon`` of a result) the executor's
                     hot path. They default to the methods above; a backend overrides
                     them only to skip building objects (or frames) nobody needs
``flush``            wait until every queued write is committed
``get``/``events``   current entry, and its full history oldest first
``entries``          entries filtered by openness, plugin and last change, newest first
``prune``            delete entries (and their events) last changed before a time, but
                     never an open one (``sending``, ``sent``, ``unknown``)
``adopt``            (shared backends) atomically make this handle the owner of open
                     entries whose holder is gone, so one process reconciles each
``renew_leases``     (shared backends) extend this handle's leases on its open entries
``release_leases``   (shared backends) end them: the next process may adopt at once
===================  ==================================================================

**Leases.** Every entry names its ``owner`` (the handle that claimed it). A holder is
*gone* when :meth:`Journal.is_gone` says so (a handle of this process that closed; on
one machine, a process that exited) or when its lease expired (``lease_s`` without a
renewal; the executor renews every ``lease_s / 3`` while the journal is open). Another
process never sends an id it finds ``sending`` under a live holder: it waits up to
``claim_wait_s`` for the holder's result, and adopts and reconciles the order (never
resends it) once the holder is gone.

A PostgreSQL backend maps ``claim`` onto ``INSERT ... ON CONFLICT DO UPDATE ... WHERE
state = 'not_sent' RETURNING``, ``record_soon`` onto a queue drained by one writer
task, and leases through the ``owner`` and ``lease_until`` it stores with each claim.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Collection, Mapping
from datetime import datetime
from typing import ClassVar

from fks_exec.errors import ConfigurationError, FksExecError
from fks_exec.journal.models import Claim, JournalEntry, JournalEvent, JournalUpdate
from fks_exec.journal.processes import process_exists, process_mark, same_kernel
from fks_exec.models import ExecutionResult, Order

logger = logging.getLogger("fks_exec.journal")

__all__ = [
    "Journal",
    "JournalError",
    "JournalSchemaError",
    "forget_live_owner",
    "hold",
    "is_live_owner",
    "new_owner",
    "note_live_owner",
    "release",
]


class JournalError(FksExecError):
    """The journal could not be read or written; an order it could not claim was not sent."""


class JournalSchemaError(JournalError):
    """The journal file has a schema this version cannot use; the message says how to fix it."""


def new_owner() -> str:
    """A token naming one journal handle: host, process id and a random part, then
    (where the system tells it) the process's mark, so a process that later gets the
    same id is not taken for it (:mod:`fks_exec.journal.processes`)."""
    pid = os.getpid()
    mark = process_mark(pid)
    return f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}" + (f".{mark}" if mark else "")


_LIVE_OWNERS: set[str] = set()
"""Owners whose handle is open, in this process, for an executor (see the keeper)."""


def note_live_owner(owner: str) -> None:
    """Record that ``owner``'s handle is open in this process and holds its claims."""
    _LIVE_OWNERS.add(owner)


def forget_live_owner(owner: str) -> None:
    """Record that ``owner``'s handle closed: its claims may be adopted at once."""
    _LIVE_OWNERS.discard(owner)


def is_live_owner(owner: str) -> bool:
    """True while ``owner``'s handle is open in this process."""
    return owner in _LIVE_OWNERS


_HOLDERS: weakref.WeakKeyDictionary[Journal, object] = weakref.WeakKeyDictionary()
"""Who has each journal object open (or opening) for an executor: one at a time."""


def hold(journal: Journal, holder: object, *, take: bool = True) -> None:
    """Make ``holder`` (an executor's keeper) the one user of the ``journal`` object
    (only check, unless ``take``). Raises :class:`ConfigurationError` when another holder
    has it: the owner is the object's, so two executors on one object would take each
    other's claims for their own."""
    other = _HOLDERS.get(journal)
    if other is not None and other is not holder:
        raise ConfigurationError(
            f"the journal object {journal.location or journal!r} is in use by another "
            "Executor: give each executor its own journal object (they may share the file "
            'or URL: journal="<path or URL>")'
        )
    if take:
        _HOLDERS[journal] = holder


def release(journal: Journal, holder: object) -> None:
    """``holder`` no longer uses the ``journal`` object (see :func:`hold`)."""
    if _HOLDERS.get(journal) is holder:
        del _HOLDERS[journal]


def _owner_parts(owner: str) -> tuple[str, int, str] | None:
    """Host, process id and process mark ('' when it has none) of ``owner``."""
    head, _, last = owner.rpartition(":")
    host, _, rest = head.rpartition(":")
    return (host, int(rest), last.partition(".")[2]) if rest.isdigit() else None


_WARNED_OTHER_HOSTS: set[str] = set()
"""Owners whose other-host-same-kernel warning was logged (once each)."""


def _warn_other_host(owner: str, host: str) -> None:
    if owner in _WARNED_OTHER_HOSTS:
        return
    _WARNED_OTHER_HOSTS.add(owner)
    logger.warning(
        "journal entry holder %s names host %r but runs on this machine's kernel (another "
        "container?): its process cannot be checked from here, so it is taken as gone and "
        "its orders are reconciled here. If that process still runs, two processes now "
        "handle them: processes sharing an SQLite journal must share one hostname and "
        "process-id namespace; use a PostgreSQL journal across containers",
        owner,
        host,
    )


class Journal(ABC):
    """Durable memory of every client order id: intents, results and status changes.

    Subclasses implement the abstract methods with the guarantees in the module
    docstring. Every method may raise :class:`JournalError`.
    """

    durable: ClassVar[bool] = True
    """False for backends that forget on exit (``memory``)."""
    location: str = ""
    """Where the data lives, for logs and the CLI (never carries a password)."""
    checks_host_pids: ClassVar[bool] = False
    """True when every user of the journal is on this machine (SQLite): a holder whose
    process exited, or that names another host (the file moved, the container was
    recreated), is gone at once. False (shared backends): only its lease expiring says
    so, as another host or container may reuse the host name and the process id."""
    lease_s: float = 30.0
    """How long an entry stays its owner's without a renewal (shared backends)."""
    claim_wait_s: float = 10.0
    """How long an executor waits for another live process's in-flight order under the
    same client id before answering ``unknown`` (it never sends it)."""

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

    async def claim_to_send(
        self, order: Order, plugin: str, hints: Mapping[str, str]
    ) -> Claim | None:
        """:meth:`claim`, answering None when the caller now owns the send (a backend may
        then skip building the entry nobody reads); else the unclaimed :class:`Claim`.
        Raises what :meth:`claim` raises."""
        claim = await self.claim(order, plugin, hints)
        return None if claim.claimed else claim

    def claim_soon(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Awaitable[object]:
        """:meth:`claim_to_send` for a caller that awaits it at once: an awaitable whose
        value is the unclaimed :class:`Claim`, or anything that is not a ``Claim`` when
        the caller now owns the send (a backend may hand out its writer's own future,
        without a coroutine frame). Raises what :meth:`claim_to_send` raises, when
        called or when awaited."""
        return self.claim_to_send(order, plugin, hints)

    @abstractmethod
    async def record(self, update: JournalUpdate) -> None:
        """Apply ``update`` and append its event, durably. Raises :class:`JournalError`
        when the id has no entry."""

    @abstractmethod
    def record_soon(self, update: JournalUpdate) -> None:
        """Queue ``update``; committed in order with this handle's later writes."""

    def record_result_soon(
        self, result: ExecutionResult, hints: Mapping[str, str], kind: str = "result"
    ) -> None:
        """``record_soon(JournalUpdate.from_result(result, kind, hints=hints))``; a
        backend may encode the row without making the update. Raises ``ValueError`` for
        a result without a client order id."""
        self.record_soon(JournalUpdate.from_result(result, kind, hints=hints))

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

    def is_gone(self, owner: str) -> bool:
        """True when ``owner`` certainly holds nothing any more: a handle of this
        process that is not open for an executor, or (``checks_host_pids``) a process
        that exited or is not of this machine. False means "maybe alive": its lease
        decides."""
        if is_live_owner(owner):
            return False
        parts = _owner_parts(owner)
        if parts is None:
            return self.checks_host_pids
        host, pid, mark = parts
        if host != socket.gethostname():
            # One-machine backends: a journal file outlives a renamed host or container.
            if self.checks_host_pids and mark and same_kernel(mark):
                _warn_other_host(owner, host)
            return self.checks_host_pids
        if pid == os.getpid():
            return True
        if not self.checks_host_pids:
            return False
        if not process_exists(pid):
            return True
        # The id runs: the holder's own process, or another that got its id after it
        # exited (its mark differs). Without a mark on either side the id decides.
        current = process_mark(pid) if mark else ""
        return bool(current) and current != mark

    async def adopt(self, client_order_ids: Collection[str], gone: Collection[str]) -> set[str]:
        """Make this handle the owner of those open entries among ``client_order_ids``
        whose owner is in ``gone`` or whose lease expired, atomically (a compare-and-set,
        so of two processes adopting one entry only one wins); returns the adopted ids.

        This default suits a journal no other process shares: everything is adoptable.
        """
        return set(client_order_ids)

    async def renew_leases(self) -> None:  # noqa: B027 - only shared backends lease
        """Extend the lease of every open entry this handle owns by ``lease_s``."""

    async def release_leases(self) -> None:  # noqa: B027 - only shared backends lease
        """End this handle's leases (at a clean close), so another process may adopt
        its open entries at once instead of waiting for them to expire."""
