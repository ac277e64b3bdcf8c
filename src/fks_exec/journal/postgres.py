"""The PostgreSQL journal: one database shared by every process and host of an account.

Chosen by ``FKS_EXEC_JOURNAL=postgresql://user@host/db`` (or ``Executor(journal=...)``);
needs ``pip install 'fks-exec[postgres]'`` (psycopg 3). The URL is libpq's, so
``sslmode``, ``host=/socket/dir``, ``options=-csearch_path=...``, ``PGPASSWORD`` and
``~/.pgpass`` all work as they do for ``psql``.

Every operation of a handle goes through one queue and one writer task on one
connection, in order (:mod:`fks_exec.journal.postgres_writer`: group commit, one
statement per run of claims or updates, pipelined and prepared). A claim returns only
once its transaction committed (``synchronous_commit`` as the server has it: on by
default). Leases use the server's clock, so the clocks of the hosts do not matter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Mapping
from datetime import datetime
from typing import Any

from fks_exec.journal import codec
from fks_exec.journal.base import Journal, JournalError
from fks_exec.journal.models import Claim, JournalEntry, JournalEvent, JournalState, JournalUpdate
from fks_exec.journal.sqlite_ops import ClaimOp, UpdateOp
from fks_exec.models import ExecutionResult, Order
from fks_exec.redaction import register_secret

try:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the PostgreSQL journal needs psycopg 3: pip install 'fks-exec[postgres]'"
    ) from exc

from fks_exec.journal import postgres_ops as ops
from fks_exec.journal.postgres_schema import check_version, migrate
from fks_exec.journal.postgres_writer import Connection, PostgresWriter, connect, message

__all__ = ["PostgresJournal", "migrate_database", "safe_location"]


def safe_location(url: str) -> str:
    """``url`` without its password (for logs, reprs and errors).

    Raises :class:`JournalError` for text libpq cannot parse (without echoing it).
    """
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:  # its message quotes the URL, password and all:
        parts = None  # raised below, so that it is not the JournalError's __context__
    if parts is None:
        raise JournalError(
            "the journal URL is not a valid PostgreSQL URL (postgresql://user@host/db)"
        )
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    where = f"postgresql://{user}{parts.get('host') or ''}{port}/{parts.get('dbname') or ''}"
    options = str(parts.get("options") or "")
    return f"{where} ({options})" if "search_path" in options else where


async def migrate_database(url: str, *, connect_timeout_s: float = 10.0) -> tuple[int, int]:
    """Migrate the journal at ``url`` to this version's schema; returns (from, to).

    Raises :class:`JournalSchemaError` for a schema newer than this code or not a
    journal, and :class:`JournalError` when the server cannot be reached.
    """
    location = safe_location(url)
    secret = conninfo_to_dict(url).get("password")
    if secret:
        register_secret(str(secret))  # masked in every log record (MaskingFilter)
    conn = await connect(url, location, str(secret) if secret else None, connect_timeout_s)
    try:
        return await migrate(conn, location)
    finally:
        await conn.close()


class PostgresJournal(Journal):
    """The journal in the PostgreSQL database at ``url`` (tables created if absent).

    ``lease_s``: how long an in-flight order stays this process's without a renewal
    (renewed every ``lease_s / 3`` while the executor runs); after a crash, other
    processes adopt and reconcile its orders that long after its last renewal.
    ``claim_wait_s``: how long an executor waits for another process's in-flight
    order under the same id. ``connect_timeout_s`` bounds each connection attempt.
    The password (in the URL or from libpq's usual places) never appears in
    ``location``, reprs, logs or errors.
    """

    def __init__(
        self,
        url: str,
        *,
        lease_s: float = 30.0,
        claim_wait_s: float = 10.0,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()
        if lease_s <= 0 or claim_wait_s < 0 or connect_timeout_s <= 0:
            raise ValueError("lease_s and connect_timeout_s must be > 0, claim_wait_s >= 0")
        self.location = safe_location(url)
        secret = conninfo_to_dict(url).get("password")
        self._secret = str(secret) if secret else None
        if self._secret:
            register_secret(self._secret)  # masked in every log record (MaskingFilter)
        self._url = url
        self.lease_s = lease_s
        self.claim_wait_s = claim_wait_s
        self._connect_timeout_s = connect_timeout_s
        self._writer: PostgresWriter | None = None

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Connect, create or check the schema, start the writer (idempotent).

        Raises :class:`JournalSchemaError` for a schema of another version and
        :class:`JournalError` when the server cannot be reached.
        """
        if self._writer is not None:
            return
        conn = await self._new_connection()
        try:
            await check_version(conn, self.location)
        except psycopg.Error as exc:  # raised below: not the JournalError's __context__
            failure: str | None = message(exc, self._secret)
        except BaseException:
            await conn.close()
            raise
        else:
            failure = None
        if failure is not None:
            await conn.close()
            raise JournalError(f"cannot open the journal at {self.location}: {failure}")
        self._writer = PostgresWriter(
            conn,
            self._new_connection,
            owner=self.owner,
            lease_s=self.lease_s,
            location=self.location,
            secret=self._secret,
        )

    async def close(self) -> None:
        """Commit every queued write and disconnect. Safe to call twice."""
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.stop()

    async def _new_connection(self) -> Connection:
        return await connect(self._url, self.location, self._secret, self._connect_timeout_s)

    def _require(self) -> PostgresWriter:
        if self._writer is None:
            raise JournalError(f"the journal at {self.location} is not open; call open() first")
        return self._writer

    async def _run(self, job: Any, label: str) -> Any:
        return await self._require().soon(job, label)

    # ------------------------------------------------------------------ the interface

    async def claim(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Claim:
        """See :meth:`Journal.claim`: decided by the primary key (``ON CONFLICT``)."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        done = await self._run(op, f"claim of {op.client_order_id}")
        if isinstance(done, Claim):
            return done
        attempt, created = done
        entry = JournalEntry(
            op.client_order_id, plugin, JournalState.SENDING, order, None, dict(hints),
            attempt, self.owner, datetime.fromisoformat(created),
            datetime.fromisoformat(op.now),
        )  # fmt: skip
        return Claim(entry, claimed=True)

    async def claim_to_send(
        self, order: Order, plugin: str, hints: Mapping[str, str]
    ) -> Claim | None:
        """See :meth:`Journal.claim_to_send`: the same claim, no entry made for a won one."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        done = await self._require().soon(op, f"claim of {op.client_order_id}")
        return done if isinstance(done, Claim) else None

    def claim_soon(self, order: Order, plugin: str, hints: Mapping[str, str]) -> Awaitable[object]:
        """See :meth:`Journal.claim_soon`: the writer's future of the claim, whose value
        is the unclaimed :class:`Claim` or, for a won claim, ``(attempt, created_at)``.
        Raises :class:`JournalError` (nothing queued) when the order cannot be encoded
        or the journal is not open."""
        op = ClaimOp.of_order(order, plugin, hints, self.owner)
        return self._require().soon(op, f"claim of {op.client_order_id}")

    async def record(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record`."""
        await self._run(UpdateOp.of(update), f"{update.kind} of {update.client_order_id}")

    def record_soon(self, update: JournalUpdate) -> None:
        """See :meth:`Journal.record_soon`."""
        label = f"{update.kind} of {update.client_order_id}"
        self._require().submit(UpdateOp.of(update), label)

    def record_result_soon(
        self, result: ExecutionResult, hints: Mapping[str, str], kind: str = "result"
    ) -> None:
        """See :meth:`Journal.record_result_soon`: the row is encoded straight from
        ``result``."""
        job = UpdateOp.of_result(result, hints, kind)
        self._require().submit(job, f"{kind} of {job.client_order_id}")

    async def flush(self) -> None:
        """See :meth:`Journal.flush`: a marker behind every queued write."""
        await self._run(None, "flush")

    async def _rows(self, sql: str, params: Any, label: str) -> list[Any]:
        async def job(conn: Connection) -> list[Any]:
            return await (await conn.execute(sql, params)).fetchall()

        rows: list[Any] = await self._run(job, label)
        return rows

    async def get(self, client_order_id: str) -> JournalEntry | None:
        """See :meth:`Journal.get`."""
        sql = f"{ops.ENTRY_SELECT} WHERE client_order_id = %s"
        rows = await self._rows(sql, (client_order_id,), "get")
        return ops.entry_from_pg(rows[0]) if rows else None

    async def events(self, client_order_id: str) -> list[JournalEvent]:
        """See :meth:`Journal.events`."""
        rows = await self._rows(ops.EVENT_SELECT, (client_order_id,), "events")
        return [ops.event_from_pg(row) for row in rows]

    async def entries(
        self,
        *,
        open_only: bool = False,
        plugins: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """See :meth:`Journal.entries`."""
        where, params = ["TRUE"], {"plugins": list(plugins or ()), "since": since}
        if open_only:
            where.append(ops.OPEN_SQL)
        if plugins is not None:
            where.append("plugin = ANY(%(plugins)s)")
        if since is not None:
            codec.time_text(since)  # refuses a naive time
            where.append("updated_at >= %(since)s")
        sql = f"{ops.ENTRY_SELECT} WHERE {' AND '.join(where)} ORDER BY updated_at DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = await self._rows(sql, params, "entries")
        return [ops.entry_from_pg(row) for row in rows]

    async def prune(self, before: datetime) -> int:
        """See :meth:`Journal.prune`: events go with their entry (ON DELETE CASCADE)."""
        codec.time_text(before)
        sql = (
            f"WITH gone AS (DELETE FROM orders WHERE updated_at < %s AND NOT {ops.OPEN_SQL} "  # noqa: S608
            "RETURNING 1) SELECT count(*) FROM gone"
        )
        ((count,),) = await self._rows(sql, (before,), "prune")
        return int(count)

    # ------------------------------------------------------------------ leases

    async def adopt(self, client_order_ids: Collection[str], gone: Collection[str]) -> set[str]:
        """See :meth:`Journal.adopt`: one ``UPDATE ... RETURNING`` decides, on the
        server's clock."""
        params = {
            "owner": self.owner,
            "lease_s": self.lease_s,
            "cids": list(client_order_ids),
            "gone": list(gone),
        }
        rows = await self._rows(ops.ADOPT, params, "adopt")
        return {cid for (cid,) in rows}

    async def renew_leases(self) -> None:
        """See :meth:`Journal.renew_leases`."""

        async def job(conn: Connection) -> None:
            await conn.execute(ops.RENEW, {"owner": self.owner, "lease_s": self.lease_s})

        await self._run(job, "lease renewal")

    async def release_leases(self) -> None:
        """See :meth:`Journal.release_leases`."""

        async def job(conn: Connection) -> None:
            await conn.execute(ops.RELEASE, {"owner": self.owner})

        await self._run(job, "lease release")
