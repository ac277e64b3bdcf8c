"""The PostgreSQL journal's writer: one queue, one task, one connection, in order.

A run of queued operations becomes one transaction (group commit), a run of claims or
updates one statement each (arrays unpacked with ``unnest``; see
:mod:`fks_exec.journal.postgres_ops`); every statement of a batch and its ``COMMIT``
go out in one pipeline sync (one round trip), as prepared statements. A batch only of
updates nobody waits for commits with ``synchronous_commit`` off: the next claim's
commit flushes the server's WAL past it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from fks_exec.journal import postgres_ops as ops
from fks_exec.journal.base import JournalError
from fks_exec.journal.sqlite_ops import ClaimOp, UpdateOp

__all__ = ["Connection", "PostgresWriter", "ReadJob", "connect", "message"]

logger = logging.getLogger("fks_exec.journal")

Connection = psycopg.AsyncConnection[Any]
ReadJob = Callable[[Connection], Awaitable[Any]]
Job = ClaimOp | UpdateOp | ReadJob | None
"""A claim or update (grouped into statements), a read or other job run alone, or
None: a marker that settles once everything queued before it is committed."""
MAX_BATCH = 1024
_Outcome = tuple["_Task", Any, BaseException | None]


def message(exc: BaseException, secret: str | None) -> str:
    """The first line of ``exc``'s text (its type name if empty), ``secret`` masked."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.replace(secret, "***") if secret else text


async def connect(url: str, location: str, secret: str | None, timeout_s: float) -> Connection:
    """A new connection to ``url``. Raises :class:`JournalError` naming ``location``
    (never the URL or the password) when the server cannot be reached."""
    try:
        return await psycopg.AsyncConnection.connect(
            url,
            connect_timeout=max(1, round(timeout_s)),
            application_name="fks-exec journal",
            prepare_threshold=0,  # every statement prepared at first use
        )
    except psycopg.Error as exc:
        # Raised below, not here: psycopg's error keeps the connection it tried, its
        # password included (exc.pgconn), and must not be the JournalError's __context__.
        failure = message(exc, secret)
    raise JournalError(f"cannot connect to the journal at {location}: {failure}")


@dataclass(slots=True)
class _Task:
    job: Job
    future: asyncio.Future[Any] | None
    label: str


_STOP = _Task(None, None, "stop")


def _client_order_id(task: _Task) -> str:
    return task.job.client_order_id if isinstance(task.job, (ClaimOp, UpdateOp)) else ""


class PostgresWriter:
    """Runs the jobs of one journal handle on ``conn``, in queue order, in batches.

    ``owner`` and ``lease_s`` are what claims store; ``reconnect`` opens a new
    connection when the previous one broke (the batch that saw it break failed with
    :class:`JournalError`; the next one reconnects). ``location`` and ``secret``:
    errors name the first and never carry the second.
    """

    def __init__(
        self,
        conn: Connection,
        reconnect: Callable[[], Awaitable[Connection]],
        *,
        owner: str,
        lease_s: float,
        location: str,
        secret: str | None,
    ) -> None:
        self._conn: Connection | None = conn
        self._reconnect = reconnect
        self._owner = owner
        self._lease_s = lease_s
        self._location = location
        self._secret = secret
        self._queue: asyncio.Queue[_Task] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._write_forever())

    def soon(self, job: Job, label: str) -> asyncio.Future[Any]:
        """Queue ``job`` and return the future of its value once its batch committed
        (see :data:`Job`), to await at once: it raises :class:`JournalError` when the
        batch failed. Raises ``RuntimeError`` when no event loop runs on this thread."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Task(job, future, label))
        return future

    def submit(self, job: ClaimOp | UpdateOp, label: str) -> None:
        """Queue ``job`` without waiting; a failure is logged."""
        self._queue.put_nowait(_Task(job, None, label))

    async def stop(self) -> None:
        """Commit every queued job, end the task and close the connection."""
        self._queue.put_nowait(_STOP)
        await self._task
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _write_forever(self) -> None:
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < MAX_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            stop = _STOP in batch
            work = [task for task in batch if task is not _STOP]
            if work:
                _deliver(await self._commit(work))
            if stop:
                return

    async def _commit(self, batch: list[_Task]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        pending: list[tuple[list[_Task], ops.Answers]] = []
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await self._reconnect()
            conn = self._conn
            async with conn.pipeline(), conn.transaction():
                if all(task.future is None for task in batch):
                    # Only queued updates: nobody waits for them to be durable. The
                    # next claim's commit flushes the WAL up to and past this one, so
                    # the order of writes holds; a crash before then loses only what
                    # record_soon may lose (the entry stays open and is reconciled).
                    await conn.execute("SET LOCAL synchronous_commit TO off")
                start = 0
                while start < len(batch):
                    end = start + 1
                    kind = type(batch[start].job)
                    if kind in (ClaimOp, UpdateOp):
                        while end < len(batch) and type(batch[end].job) is kind:
                            end += 1
                    outcomes.extend(await self._run_group(conn, batch[start:end], pending))
                    start = end
            for tasks, answers in pending:
                for task, value in zip(tasks, await answers(), strict=True):
                    failed = isinstance(value, Exception)
                    outcomes.append((task, None if failed else value, value if failed else None))
        except Exception as exc:  # any failure fails the batch; the writer lives on
            text = message(exc, self._secret)
            if not isinstance(exc, (psycopg.Error, JournalError)):
                logger.error("journal: batch to %s failed unexpectedly: %r", self._location, exc)
            error = JournalError(f"journal write to {self._location} failed: {text}")
            outcomes = [(task, None, error) for task in batch]
            if self._conn is not None and self._conn.broken:
                self._conn = None  # reconnect for the next batch
        return outcomes

    async def _run_group(
        self,
        conn: Connection,
        tasks: list[_Task],
        pending: list[tuple[list[_Task], ops.Answers]],
    ) -> list[_Outcome]:
        job = tasks[0].job
        if job is None:
            return [(tasks[0], None, None)]
        if not isinstance(job, (ClaimOp, UpdateOp)):
            try:
                return [(tasks[0], await job(conn), None)]
            except psycopg.Error:
                raise
            except Exception as exc:  # a bad row: that job fails alone
                return [(tasks[0], None, exc)]
        for chosen in ops.rounds(tasks, _client_order_id):
            jobs = [t.job for t in chosen]
            if isinstance(job, ClaimOp):
                claims = [j for j in jobs if isinstance(j, ClaimOp)]
                answers = await ops.run_claims(conn, claims, self._owner, self._lease_s)
            else:
                updates = [j for j in jobs if isinstance(j, UpdateOp)]
                answers = await ops.run_updates(conn, updates)
            pending.append((chosen, answers))
        return []


def _deliver(outcomes: list[_Outcome]) -> None:
    for task, value, exc in outcomes:
        if task.future is None:
            if exc is not None:
                logger.error("journal: queued %s failed: %s", task.label, exc)
            continue
        if task.future.done():
            continue
        if exc is None:
            task.future.set_result(value)
        else:
            task.future.set_exception(exc)
