"""The SQLite journal: one file in WAL mode, shared safely by processes on one machine.

Every write runs on one worker thread per handle (see :mod:`fks_exec.journal.worker`),
a group of queued claims and results as one statement (:mod:`.sqlite_ops`) that holds
SQLite's write lock, so two processes claiming the same client order id are serialised
and the primary key decides which one sends. WAL lets readers (the CLI) work while a
strategy writes. ``synchronous=FULL`` by default: an intent is on disk before its
claim returns, so a power cut cannot lose it either; a group of results nobody waits
for is committed after the intents taken with it and without an fsync of its own (the
next intent's flushes it).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Collection, Mapping
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import ClassVar, Literal

from fks_exec.journal import codec
from fks_exec.journal.base import Journal, JournalError
from fks_exec.journal.models import (
    Claim,
    JournalEntry,
    JournalEvent,
    JournalState,
    JournalUpdate,
)
from fks_exec.journal.schema import OPEN_ENTRY, check_version, migrate
from fks_exec.journal.sqlite_ops import ClaimOp, OpsConnection, UpdateOp, install, run_ops
from fks_exec.journal.worker import SqliteWorker
from fks_exec.models import ExecutionResult, Order

__all__ = ["SqliteJournal", "backup_file", "migrate_file"]

Synchronous = Literal["full", "normal"]
_OPEN_SQL = OPEN_ENTRY

# SQL text below is built from module constants only; values are always bound parameters.
_EVENTS_OF = (
    "SELECT o.client_order_id, e.at, e.kind, e.state, e.status, e.detail_json "
    "FROM events AS e JOIN orders AS o ON o.ref = e.order_ref "
    "WHERE o.client_order_id = ? ORDER BY e.id"
)
_SELECT = f"SELECT {codec.ENTRY_COLUMNS} FROM orders WHERE client_order_id = ?"  # noqa: S608
_PRUNABLE = f"updated_at < ? AND NOT {_OPEN_SQL}"
_PRUNE_EVENTS = f"DELETE FROM events WHERE order_ref IN (SELECT ref FROM orders WHERE {_PRUNABLE})"  # noqa: S608
_PRUNE_ORDERS = f"DELETE FROM orders WHERE {_PRUNABLE}"  # noqa: S608


def _connect(
    path: Path, synchronous: Synchronous, busy_timeout_s: float, *, checkpoint: bool = False
) -> OpsConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=busy_timeout_s, isolation_level=None, factory=OpsConnection
    )
    try:
        (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if str(mode).lower() != "wal":
            raise JournalError(f"{path}: SQLite refused WAL mode ({mode}); use a local disk")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        # foreign_keys stays off (SQLite's default): the triggers take every event's
        # order_ref from its order's row, and prune deletes the events itself. Checking
        # the key would cost a lookup in the other table for each new order and each
        # event: a fifth of a claim's SQLite instructions.
        check_version(conn, str(path))
        install(conn)
        if checkpoint:
            # What a crash left in the -wal only (the main file may hold no entry at
            # all) goes into the main file now, so a copy of it alone made after this
            # start misses nothing up to here. PASSIVE: it never waits for a writer.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except BaseException:
        conn.close()
        raise
    return conn


_client_order_id = attrgetter("client_order_id")
"""The id a queued write (ClaimOp, UpdateOp) is about: the worker keeps writes of one
id in order (a C call: no frame for each write it looks at)."""


def _encode_result(raw: tuple[ExecutionResult, dict[str, str], str, int]) -> tuple[UpdateOp, str]:
    """The row of a result :meth:`SqliteJournal.record_result_soon` deferred, and its label."""
    result, hints, kind, ns = raw
    op = UpdateOp.of_result(result, hints, kind, codec.text_of_ns(ns))
    return op, f"{kind} of {op.client_order_id}"


def migrate_file(path: str | Path) -> tuple[int, int]:
    """Migrate the journal at ``path`` to this version's schema; returns (from, to).

    Raises :class:`JournalSchemaError` for a file newer than this code or not a journal.
    """
    conn = sqlite3.connect(Path(path), isolation_level=None)
    try:
        return migrate(conn, str(path))
    finally:
        conn.close()


def backup_file(path: str | Path, destination: str | Path) -> None:
    """Copy the journal at ``path`` into one new file at ``destination``, whole: what
    its write-ahead log (``-wal``) holds and the main file does not yet (SQLite's online
    backup, consistent while strategies write). Raises :class:`JournalError` when
    ``destination`` exists or either file cannot be opened."""
    target = Path(destination).expanduser()
    if target.exists():
        raise JournalError(f"{target} exists: give the backup a new file name")
    try:
        source = sqlite3.connect(Path(path).expanduser())
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise JournalError(f"cannot back up the journal at {path}: {exc}") from None


class SqliteJournal(Journal):
    """The journal in an SQLite file at ``path`` (created with its directory if absent).

    ``synchronous="normal"`` trades power-loss safety for speed (a SIGKILL still loses
    nothing in WAL mode). ``busy_timeout_s`` (10 s): how long a write waits for another
    process's transaction before failing with :class:`JournalError`.
    """

    checks_host_pids: ClassVar[bool] = True

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Synchronous = "full",
        busy_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        if synchronous not in ("full", "normal"):
            raise ValueError("synchronous must be 'full' or 'normal'")
        self.path = Path(path).expanduser()
        self.location = str(self.path)
        self._synchronous: Synchronous = synchronous
        self._busy_timeout_s = busy_timeout_s
        self._worker: SqliteWorker | None = None

    async def open(self) -> None:
        """Open the file, switch to WAL, create or check the schema (idempotent).

        Raises :class:`JournalSchemaError` for a file of another schema version and
        :class:`JournalError` when the file cannot be opened.
        """
        if self._worker is not None:
            return
        worker = SqliteWorker(
            lambda: _connect(self.path, self._synchronous, self._busy_timeout_s, checkpoint=True),
            name=f"fks-exec-journal-{self.path.name}",
            bulk_types=(ClaimOp, UpdateOp),
            bulk=run_ops,
            bulk_key=_client_order_id,
            encode=_encode_result,
            # Results nobody waits for skip the fsync; the next claim's commit
            # flushes the write-ahead log they are in (they survive a SIGKILL anyway).
            connect_lazy=None
            if self._synchronous == "normal"
            else lambda: _connect(self.path, "normal", self._busy_timeout_s),
        )
        try:
            await worker.start()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal at {self.path}: {exc}") from None
        self._worker = worker

    async def close(self) -> None:
        """Commit every queued write and close the file. Safe to call twice."""
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.stop()

    @property
    def batch_sizes(self) -> Counter[int]:
        """How many batches of each size this handle has written since it was opened
        (group commit at work; empty when closed)."""
        return Counter() if self._worker is None else Counter(self._worker.batch_sizes)

    def _require(self) -> SqliteWorker:
        if self._worker is None:
            raise JournalError(f"the journal at {self.path} is not open; call open() first")
        return self._worker

    async def claim(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim:
        """See :meth:`Journal.claim`: decided on the primary key inside one transaction."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        done = await self._require().run(op, label="claim")
        if isinstance(done, Claim):
            return done
        attempt, created = done
        at = datetime.fromisoformat(op.now)
        entry = JournalEntry(
            op.client_order_id, plugin, JournalState.SENDING, order, None, dict(hints),
            attempt, self.owner, at if created == op.now else datetime.fromisoformat(created),
            at,
        )  # fmt: skip
        return Claim(entry, claimed=True)

    async def claim_to_send(
        self, order: Order, plugin: str, hints: Mapping[str, str]
    ) -> Claim | None:
        """See :meth:`Journal.claim_to_send`: the same claim, no entry made for a won one."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        done = await self._require().soon(op, writes=True, label="claim")
        return done if isinstance(done, Claim) else None

    def claim_soon(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Awaitable[object]:
        """See :meth:`Journal.claim_soon`: the writer's future of the claim, whose value
        is the unclaimed :class:`Claim` or, for a won claim, ``(attempt, created_at)``.
        Raises :class:`JournalError` (nothing queued) when the order cannot be encoded
        or the journal is not open."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        return self._require().soon(op, writes=True, label="claim")

    async def record(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record`."""
        job = UpdateOp.of(update)
        await self._require().run(job, label=f"{update.kind} of {update.client_order_id}")

    def record_soon(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record_soon`."""
        job = UpdateOp.of(update)
        self._require().submit(job, label=f"{update.kind} of {update.client_order_id}")

    def record_result_soon(
        self, result: ExecutionResult, hints: Mapping[str, str], kind: str = "result"
    ) -> None:
        """See :meth:`Journal.record_result_soon`: the row is encoded straight from
        ``result``, later (while the next intents commit; see
        :meth:`SqliteWorker.submit_deferred`), with the time of this call.

        Raises ``ValueError`` for a result without a client order id.
        """
        cid = result.client_order_id
        if cid is None:
            raise ValueError("only results carrying a client order id can be journaled")
        worker = self._worker or self._require()  # raises when closed
        worker.submit_deferred((result, dict(hints), kind, time.time_ns()), cid)

    def encode_queued_results(self) -> None:
        """Encode the results :meth:`record_result_soon` keeps for the next intents'
        commit and queue them now (committed as lazily as ever). A benchmark's timed
        round ends with it, so that each journal pays for encoding its own answers.
        Raises :class:`JournalError` when the journal is not open."""
        self._require().encode_deferred()

    async def flush(self) -> None:
        """See :meth:`Journal.flush`: a no-op job behind every queued one."""
        await self._require().run(lambda conn: None, label="flush")

    async def get(self, client_order_id: str) -> JournalEntry | None:
        """See :meth:`Journal.get`."""

        def job(conn: sqlite3.Connection) -> JournalEntry | None:
            row = conn.execute(_SELECT, (client_order_id,)).fetchone()
            return None if row is None else codec.entry_from_row(row)

        found: JournalEntry | None = await self._require().run(job, label="get")
        return found

    async def events(self, client_order_id: str) -> list[JournalEvent]:
        """See :meth:`Journal.events`."""

        def job(conn: sqlite3.Connection) -> list[JournalEvent]:
            rows = conn.execute(
                _EVENTS_OF,
                (client_order_id,),
            ).fetchall()
            return [codec.event_from_row(row) for row in rows]

        found: list[JournalEvent] = await self._require().run(job, label="events")
        return found

    async def entries(
        self,
        *,
        open_only: bool = False,
        plugins: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """See :meth:`Journal.entries`."""
        where, params = ["1 = 1"], []
        if open_only:
            where.append(_OPEN_SQL)
        if plugins is not None:
            names = list(plugins)
            where.append("plugin IN (" + ",".join("?" * len(names)) + ")" if names else "0")
            params.extend(names)
        if since is not None:
            where.append("updated_at >= ?")
            params.append(codec.time_text(since))
        sql = (
            f"SELECT {codec.ENTRY_COLUMNS} FROM orders WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY updated_at DESC"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"

        def job(conn: sqlite3.Connection) -> list[JournalEntry]:
            return [codec.entry_from_row(row) for row in conn.execute(sql, params)]

        found: list[JournalEntry] = await self._require().run(job, label="entries")
        return found

    async def adopt(self, client_order_ids: Collection[str], gone: Collection[str]) -> set[str]:
        """See :meth:`Journal.adopt`. On one machine a holder is gone when its process
        is (``checks_host_pids``); each entry changes owner by a compare-and-set."""
        owners, mine = list(gone), self.owner
        if not owners:
            return set()
        cids = list(client_order_ids)

        def job(conn: sqlite3.Connection) -> set[str]:
            marks = ",".join("?" * len(owners))
            sql = (
                f"UPDATE orders SET owner = ? WHERE client_order_id = ? AND {_OPEN_SQL} "  # noqa: S608
                f"AND owner <> ? AND owner IN ({marks})"
            )
            return {c for c in cids if conn.execute(sql, (mine, c, mine, *owners)).rowcount}

        adopted: set[str] = await self._require().run(job, writes=True, label="adopt")
        return adopted

    async def prune(self, before: datetime) -> int:
        """See :meth:`Journal.prune`: events go with their entry, in one transaction."""
        cutoff = codec.time_text(before)

        def job(conn: sqlite3.Connection) -> int:
            conn.execute(_PRUNE_EVENTS, (cutoff,))
            return int(conn.execute(_PRUNE_ORDERS, (cutoff,)).rowcount)

        pruned: int = await self._require().run(job, writes=True, label="prune")
        return pruned
