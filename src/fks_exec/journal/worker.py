"""One thread that owns an SQLite connection and commits queued jobs in groups.

Why a thread and not an async driver: ``sqlite3`` connections belong to the thread
that made them, a commit may wait on another process's lock or on ``fsync``, and one
writer puts every job queued while a transaction ran into the next one (group
commit); aiosqlite hands over one call at a time, a commit per order.

Waves. The claims the event loop queues in one turn of it (an ``asyncio.gather`` of
orders) reach this thread as one item at the loop's next turn: one hand-over and one
wake-up a wave, as the loop is about to wait for it. Anything else the loop queues
goes behind the wave waiting, so the loop's queue order is kept.

Jobs of the *bulk* types (claims and updates) go to the bulk handler together; a
batch made only of them is its one statement's transaction: one call into SQLite and
one release of the GIL (each release lets a busy loop keep the GIL for up to the
switch interval before this thread gets it back).

Claims first. A write queued without waiting (:meth:`SqliteWorker.submit`: a result
recorded lazily) is taken with what is queued when this thread next gets the GIL, in
practice when the loop has queued the next claims and waits for them. Such a batch
is two transactions: the awaited jobs first (fsync'd: the loop waits for them), then
the lazy ones on a second connection without an fsync of their own (the next awaited
commit flushes the log they are in), while the loop works on the answers; only when
every job is a bulk value and no awaited one shares a key (client order id) with a
lazy one, else one transaction in queue order. So a lazy write is committed before
any later write or read of its id and before any later callable job returns; a claim
of another id may return first. A lazy write queued by
:meth:`SqliteWorker.submit_deferred` waits raw on the loop's thread and is encoded
while this thread commits the next awaited batch (:mod:`fks_exec.journal.deferred`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from fks_exec._loops import runs_here
from fks_exec.journal.base import JournalError
from fks_exec.journal.deferred import DeferredWrites, Encoder
from fks_exec.journal.outcomes import Outcome, deliver, pair, rollback, settle

__all__ = ["SqliteWorker"]

logger = logging.getLogger("fks_exec.journal")

MAX_BATCH = 512
Job = Callable[[sqlite3.Connection], Any]
BulkHandler = Callable[[sqlite3.Connection, list[Any]], list[Any]]
"""Runs queued bulk values in order; returns one value (or exception) for each. Called
outside a transaction it commits before returning, and raises ``sqlite3.Error`` only
when it applied nothing."""


class _Task(NamedTuple):
    job: Any
    """A callable ``job(conn)``, or a value for the bulk handler of its type."""
    writes: bool
    future: asyncio.Future[Any] | None
    label: str


_new_tuple = tuple.__new__  # _Task(...) without the named tuple's __new__ frame


_STOP = object()


class SqliteWorker:
    """Runs jobs ``fn(connection)`` on its own thread; each batch is one transaction.

    ``connect`` opens the connection on the worker thread (and checks the schema); a
    job that raises fails alone when it wrote nothing, and a failed commit fails the
    whole batch with :class:`JournalError`. Values of a type in ``bulk_types`` go to
    ``bulk`` (see :data:`BulkHandler`) instead of being called.

    ``connect_lazy``, when given, opens a second connection to the same file for
    batches nobody waits for (only :meth:`submit` jobs): the SQLite journal opens it
    without ``fsync`` on commit, and the next commit through the first connection
    flushes the shared write-ahead log, those writes included. ``bulk_key`` names the
    record a bulk value writes (see the module docstring: claims first); without it
    every batch is written in queue order. ``encode`` makes the raw values of
    :meth:`submit_deferred` into bulk values (see :class:`DeferredWrites`).
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        name: str,
        bulk_types: tuple[type, ...] = (),
        bulk: BulkHandler | None = None,
        connect_lazy: Callable[[], sqlite3.Connection] | None = None,
        bulk_key: Callable[[Any], object] | None = None,
        encode: Encoder | None = None,
    ) -> None:
        self._later = (
            None if encode is None else DeferredWrites(encode, self._lazy_all, bulk_types, bulk_key)
        )
        self._connect = connect
        self._bulk_key = bulk_key
        self._connect_lazy = connect_lazy
        self._bulk_types = bulk_types
        self._bulk = bulk
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._opened: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._base_loop: asyncio.BaseEventLoop | None = None
        """The loop of :meth:`start` when it is asyncio's own (it says which thread
        runs it); None for another loop, whose callers queue one task at a time."""
        self._wave: list[_Task] = []
        """Bulk values run on the loop's thread in its current turn, not yet queued."""
        self._stopped: asyncio.Future[Any] | None = None
        self._idle = False
        """True while the thread waits for work (set and read under the GIL)."""
        self.batch_sizes: Counter[int] = Counter()
        """How many batches of each size were written (read by the benchmarks)."""

    async def start(self) -> None:
        """Start the thread and connect. Raises what ``connect`` raised."""
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        self._loop = loop
        self._base_loop = loop if isinstance(loop, asyncio.BaseEventLoop) else None
        if self._later is not None:
            self._later.bind(loop)
        self._thread.start()
        await self._opened

    async def run(self, job: Any, *, writes: bool = False, label: str) -> Any:
        """Run ``job`` in the next transaction and return its value once committed.

        ``writes``: a callable job writes (its batch takes the write lock from the
        start, ``BEGIN IMMEDIATE``); bulk values always count as writes. A bulk value
        run on the loop's thread joins the loop's current wave (see :meth:`_join`)."""
        return await self.soon(job, writes=writes, label=label)

    def soon(self, job: Any, *, writes: bool, label: str) -> asyncio.Future[Any]:
        """Queue ``job`` as :meth:`run` does and return the future of its value, to
        await at once (one coroutine frame fewer on each hand-over). ``writes`` has no
        default here: say it, as :meth:`run` does for a callable job. Raises
        ``RuntimeError`` when no event loop runs on this thread."""
        later = self._later
        if later is not None and later.raws:
            later.before(job)
        loop = self._base_loop
        if runs_here(loop):
            # the loop bound at start() runs here: no get_running_loop() (a getpid())
            future: asyncio.Future[Any] = loop.create_future()
            task = _new_tuple(_Task, (job, writes, future, label))
            if isinstance(job, self._bulk_types):
                self._join(task)
            else:
                self._put(task)
        else:
            future = asyncio.get_running_loop().create_future()
            self._queue.put(_new_tuple(_Task, (job, writes, future, label)))
        return future

    def _join(self, task: _Task) -> None:
        """Add ``task`` to this turn's wave, handed over at the loop's next turn or
        once it holds MAX_BATCH (see the module docstring)."""
        wave = self._wave
        wave.append(task)
        if len(wave) == 1:
            assert self._base_loop is not None  # only the bound loop's thread joins
            self._base_loop.call_soon(self._hand_over)
        elif len(wave) >= MAX_BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        """Queue the loop's waiting wave, if any (the loop's thread only)."""
        wave = self._wave
        if wave:
            self._wave = []
            self._queue.put(wave)

    def _on_loop(self) -> bool:
        """True on the thread running the loop bound at :meth:`start`, right now."""
        return runs_here(self._base_loop)

    def _put(self, task: Any) -> None:
        """Queue ``task`` on the loop's thread, behind the wave waiting there."""
        if self._wave:
            self._hand_over()
        self._queue.put(task)

    def submit(self, job: Any, *, label: str) -> None:
        """Queue a write without waiting; a failure is logged."""
        later = self._later
        if later is not None and later.on_loop_thread():
            later.encode_all()  # the lazy writes deferred before it go first
        self._lazy_all([(job, label)])

    def _lazy_all(self, jobs: list[tuple[Any, str]]) -> None:
        """Queue lazy writes ``(job, label)`` in order as one item (up to MAX_BATCH
        each): one hand-over, one wake-up of this thread at most."""
        tasks = [_new_tuple(_Task, (job, True, None, label)) for job, label in jobs]
        put = self._put if self._on_loop() else self._queue.put
        for start in range(0, len(tasks), MAX_BATCH):
            put(tasks[start : start + MAX_BATCH])

    def submit_deferred(self, raw: Any, key: object) -> None:
        """Queue a lazy write of the record ``key`` (as :meth:`submit` would), its bulk
        value made from ``raw`` by ``encode`` later (see :class:`DeferredWrites`).
        Raises ``RuntimeError`` for a worker made without ``encode``."""
        if self._later is None:
            raise RuntimeError("this journal worker has no encoder for deferred writes")
        self._later.defer(raw, key)

    def encode_deferred(self) -> None:
        """Encode and queue every deferred write now (on the loop's thread)."""
        if self._later is not None:
            self._later.encode_all()

    async def stop(self) -> None:
        """Finish every queued job, close the connection, end the thread."""
        if not self._thread.is_alive():
            return
        loop = asyncio.get_running_loop()
        self._stopped = loop.create_future()
        if self._later is not None:
            self._later.encode_all()
        if self._on_loop():
            self._hand_over()
        self._queue.put(_STOP)
        await self._stopped
        self._thread.join()

    # ------------------------------------------------------------------ worker thread

    def _run(self) -> None:
        lazy: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            try:
                lazy = None if self._connect_lazy is None else self._connect_lazy()
            except BaseException:
                conn.close()
                raise
        except BaseException as exc:
            self._deliver_open(exc)
            return
        self._deliver_open(None)
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._take()
                if batch:  # empty only when the stop marker came first
                    first, then = self._claims_first(batch)
                    awaited = any(t.future is not None for t in first)
                    if awaited and self._later is not None:
                        self._later.ask()  # encoded on the loop while SQLite works
                    unawaited = lazy is not None and not awaited
                    self._commit(lazy if unawaited and lazy is not None else conn, first)
                    if then:
                        self._commit(conn if lazy is None else lazy, then)
        finally:
            conn.close()
            if lazy is not None:
                lazy.close()
            stopped = self._stopped
            if stopped is not None:
                with contextlib.suppress(RuntimeError):
                    done: list[Outcome] = [(stopped, None, None)]
                    stopped.get_loop().call_soon_threadsafe(settle, done)

    def _take(self) -> tuple[list[_Task], bool]:
        """Wait for the next job, then take every queued one (up to MAX_BATCH); True
        when the stop marker was among them."""
        self._idle = True
        item = self._queue.get()
        batch: list[_Task] = []
        while True:
            if item is _STOP:
                self._idle = False
                return batch, True
            if isinstance(item, list):  # a wave, or deferred results, of the loop's
                batch.extend(item)
            else:
                batch.append(item)
            if len(batch) >= MAX_BATCH:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        self._idle = False
        return batch, False

    def _claims_first(self, batch: list[_Task]) -> tuple[list[_Task], list[_Task]]:
        """``batch`` split into what to commit first and what after (see the module
        docstring): (awaited bulk values, lazy ones), or (``batch``, []) to keep the
        queue order."""
        key = self._bulk_key
        if key is None:
            return batch, []
        awaited: list[_Task] = []
        unawaited: list[_Task] = []
        types = self._bulk_types
        for task in batch:
            if not isinstance(task.job, types):
                return batch, []
            (unawaited if task.future is None else awaited).append(task)
        if not awaited or not unawaited:
            return batch, []
        lazy_keys = {key(task.job) for task in unawaited}
        if any(key(task.job) in lazy_keys for task in awaited):
            return batch, []
        return awaited, unawaited

    def _deliver_open(self, exc: BaseException | None) -> None:
        opened, loop = self._opened, self._loop
        assert opened is not None and loop is not None

        def settle() -> None:
            if opened.done():
                return
            if exc is None:
                opened.set_result(None)
            else:
                opened.set_exception(exc)

        loop.call_soon_threadsafe(settle)

    def _is_bulk(self, task: _Task) -> bool:
        return isinstance(task.job, self._bulk_types)

    def _commit(self, conn: sqlite3.Connection, batch: list[_Task]) -> None:
        self.batch_sizes[len(batch)] += 1
        types = self._bulk_types
        if self._bulk is not None and all(isinstance(t.job, types) for t in batch):
            self._deliver(self._bulk_alone(conn, batch, self._bulk))
        else:
            self._deliver(self._transaction(conn, batch))

    def _bulk_alone(
        self, conn: sqlite3.Connection, batch: list[_Task], bulk: BulkHandler
    ) -> list[tuple[_Task, Any, BaseException | None]]:
        try:
            values = bulk(conn, [task.job for task in batch])
        except Exception as exc:  # any failure fails the batch, never the thread
            rollback(conn)
            return self._all_failed(batch, exc)
        return pair(batch, values)

    def _transaction(
        self, conn: sqlite3.Connection, batch: list[_Task]
    ) -> list[tuple[_Task, Any, BaseException | None]]:
        outcomes: list[tuple[_Task, Any, BaseException | None]] = []
        writes = any(task.writes or self._is_bulk(task) for task in batch)
        try:
            conn.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
            start = 0
            while start < len(batch):
                if self._bulk is None or not self._is_bulk(batch[start]):
                    outcomes.append(self._one(conn, batch[start]))
                    start += 1
                    continue
                end = start + 1
                while end < len(batch) and self._is_bulk(batch[end]):
                    end += 1
                run = batch[start:end]
                outcomes.extend(pair(run, self._bulk(conn, [task.job for task in run])))
                start = end
            conn.execute("COMMIT")
        except Exception as exc:  # any failure fails the batch, never the thread
            rollback(conn)
            return self._all_failed(batch, exc)
        return outcomes

    @staticmethod
    def _all_failed(
        batch: list[_Task], exc: Exception
    ) -> list[tuple[_Task, Any, BaseException | None]]:
        error = JournalError(f"journal write failed: {type(exc).__name__}: {exc}")
        return [(task, None, error) for task in batch]

    @staticmethod
    def _one(conn: sqlite3.Connection, task: _Task) -> tuple[_Task, Any, BaseException | None]:
        try:
            return task, task.job(conn), None
        except sqlite3.Error:
            raise
        except Exception as exc:
            return task, None, exc

    @staticmethod
    def _deliver(outcomes: list[tuple[_Task, Any, BaseException | None]]) -> None:
        deliver([(t.future, t.label, value, exc) for t, value, exc in outcomes])
