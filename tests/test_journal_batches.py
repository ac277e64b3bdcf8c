"""The SQLite journal's group commit: a batch of claims and updates is one statement
(``sqlite_ops.run_ops``), applied in queue order, with the same answers and the same
file contents however the queue was cut into batches, inside a transaction or not."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order
from fks_exec.journal import (
    JournalError,
    JournalState,
    JournalUpdate,
    SqliteJournal,
    codec,
    schema,
)
from fks_exec.journal.models import Claim
from fks_exec.journal.sqlite_ops import ClaimOp, OpsConnection, UpdateOp, install, run_ops
from fks_exec.journal.worker import SqliteWorker

OWNER = "host:1:abcd"


def _connect(path: Path) -> OpsConnection:
    conn = sqlite3.connect(path, isolation_level=None, factory=OpsConnection)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # what is tested here is not the disk
    conn.execute("PRAGMA foreign_keys=ON")
    schema.check_version(conn, str(path))
    install(conn)
    return conn


def T(n: int) -> str:
    """The journal's time text of second ``n`` of a fixed day."""
    return f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000000+00:00"


def _claim(cid: str, at: str, plugin: str = "p", hints: str = "{}") -> ClaimOp:
    order = codec.dump_order(Order.market("X", "buy", 1, client_order_id=cid))
    return ClaimOp(cid, plugin, order, hints, OWNER, at)


def _result_json(cid: str, order_id: str) -> str:
    order = Order.market("X", "buy", 1, client_order_id=cid)
    result = ExecutionResult.for_order(order, plugin="p", status="accepted", order_id=order_id)
    return codec.dump_result(result) or ""


def _update(cid: str, state: str, at: str, **fields: Any) -> UpdateOp:
    values: dict[str, Any] = {
        "result_json": None,
        "plugin": None,
        "hints": {},
        "kind": "result",
        "status": None,
        "detail_json": "{}",
    }
    values.update(fields)
    return UpdateOp(client_order_id=cid, state=state, at=at, **values)


def _contents(conn: OpsConnection) -> tuple[list[Any], list[Any]]:
    orders = conn.execute(
        "SELECT client_order_id, plugin, state, order_json, result_json, hints_json, "
        "attempt, owner, created_at, updated_at FROM orders ORDER BY client_order_id"
    ).fetchall()
    events = conn.execute(
        "SELECT o.client_order_id, e.at, e.kind, e.state, e.status, e.detail_json "
        "FROM events AS e JOIN orders AS o ON o.ref = e.order_ref ORDER BY e.id"
    ).fetchall()
    return orders, events


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[OpsConnection]:
    """A connection prepared for :func:`run_ops` on a new file (no fsync)."""
    opened = _connect(tmp_path / "j.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[SqliteJournal]:
    """An open journal at ``tmp_path / "j.sqlite3"`` (``synchronous=normal``: what is
    tested here is not the disk), closed after the test (closing twice is fine)."""
    opened = SqliteJournal(tmp_path / "j.sqlite3", synchronous="normal")
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def worker(journal: SqliteJournal) -> SqliteWorker:
    """The writer thread of :func:`journal`."""
    return journal._require()


def _comparable(answer: Any) -> Any:
    if isinstance(answer, Claim):
        e = answer.entry
        return ("unclaimed", e.client_order_id, e.state.value, e.attempt, e.plugin)
    if isinstance(answer, JournalError):
        return ("error", str(answer))
    return answer


def test_one_batch_applies_each_op_in_order(conn: OpsConnection) -> None:
    first = run_ops(conn, [_claim("gone", T(0)), _update("gone", "not_sent", T(0))])
    assert first == [(1, T(0)), None]
    accepted = _result_json("a", "B1")
    ops: list[ClaimOp | UpdateOp] = [
        _claim("a", T(1), hints='{"venue":"A"}'),
        _update("a", "sent", T(2), result_json=accepted, hints={"ticket": "7"}),
        _claim("a", T(3), plugin="other"),  # already sent: answered from the row
        _update("missing", "final", T(4)),
        _claim("gone", T(5), plugin="q"),  # not_sent: taken over, attempt 2
        _claim("b", T(6)),
        _claim("b", T(7)),  # the same id twice in one batch: the second finds the first
        _update("b", "final", T(8), plugin="fallback", status="filled"),
    ]
    answers = run_ops(conn, ops)
    assert not conn.in_transaction
    assert answers[0] == (1, T(1)) and answers[1] is None
    assert _comparable(answers[2]) == ("unclaimed", "a", "sent", 1, "p")
    assert isinstance(answers[3], JournalError) and "'missing'" in str(answers[3])
    assert answers[4] == (2, T(0))
    assert answers[5] == (1, T(6))
    assert _comparable(answers[6]) == ("unclaimed", "b", "sending", 1, "p")
    assert answers[7] is None
    orders, events = _contents(conn)
    by_id = {row[0]: row for row in orders}
    assert set(by_id) == {"a", "b", "gone"}
    assert by_id["a"][2:3] + by_id["a"][4:] == (
        "sent", accepted, '{"venue":"A","ticket":"7"}', 1, OWNER, T(1), T(2),
    )  # fmt: skip
    assert by_id["b"][1:3] == ("fallback", "final")
    assert by_id["gone"][1:3] == ("q", "sending") and by_id["gone"][6] == 2
    assert [(e[0], e[2], e[3]) for e in events[2:]] == [
        ("a", "intent", "sending"),
        ("a", "result", "sent"),
        ("gone", "intent", "sending"),
        ("b", "intent", "sending"),
        ("b", "result", "final"),
    ]
    assert json.loads(events[4][5]) == {"attempt": 2, "owner": OWNER}
    assert json.loads(events[5][5]) == {"attempt": 1, "owner": OWNER}


def test_ops_are_immutable_and_need_a_prepared_connection(tmp_path: Path) -> None:
    for op in (_claim("i", T(0)), _update("i", "sent", T(1))):
        with pytest.raises(AttributeError):
            op.client_order_id = "other"  # type: ignore[misc]  # queued: read by the writer
    plain = sqlite3.connect(":memory:")
    unprepared = sqlite3.connect(":memory:", factory=OpsConnection)
    for conn in (plain, unprepared):
        with pytest.raises(TypeError, match="prepared by install"):
            run_ops(conn, [_claim("i", T(0))])


def test_a_batch_outside_a_transaction_is_one_statement(conn: OpsConnection) -> None:
    traced: list[str] = []
    conn.set_trace_callback(traced.append)
    run_ops(conn, [_claim("s1", T(0)), _claim("s2", T(0)), _update("s1", "sent", T(1))])
    conn.set_trace_callback(None)
    # Python traces each trigger step with the text of the statement that fired it.
    assert traced and all(s.startswith("INSERT INTO fks_ops") for s in traced), traced
    assert not conn.in_transaction
    assert len(_contents(conn)[1]) == 3


def test_a_statement_that_fails_applies_nothing(conn: OpsConnection) -> None:
    bad = ClaimOp("b", "p", None, "{}", OWNER, T(1))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        run_ops(conn, [_claim("a", T(0)), bad])
    assert not conn.in_transaction
    assert _contents(conn) == ([], [])


def test_batches_larger_than_one_statement_share_a_transaction(
    conn: OpsConnection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fks_exec.journal.sqlite_ops as ops

    monkeypatch.setattr(ops, "_rows_per_statement", lambda conn: 2)
    bad = ClaimOp("e", "p", None, "{}", OWNER, T(1))  # type: ignore[arg-type]
    for good in ("ab", "abcd"):  # two statements, three statements
        with pytest.raises(sqlite3.IntegrityError):  # the last statement fails ...
            run_ops(conn, [_claim(c, T(0)) for c in good] + [bad])
        assert _contents(conn) == ([], [])  # ... and the ones before are rolled back with it
        assert not conn.in_transaction
    conn.execute("BEGIN IMMEDIATE")  # inside the caller's transaction ...
    with pytest.raises(sqlite3.IntegrityError):
        run_ops(conn, [_claim(c, T(0)) for c in "abcd"] + [bad])
    assert conn.in_transaction  # ... the caller ends it
    conn.execute("ROLLBACK")
    answers = run_ops(conn, [_claim(c, T(0)) for c in "abcde"])
    assert answers == [(1, T(0))] * 5
    assert len(_contents(conn)[1]) == 5


def test_the_statement_limit_follows_the_library() -> None:
    import fks_exec.journal.sqlite_ops as ops

    conn = sqlite3.connect(":memory:")
    rows = ops._rows_per_statement(conn)
    if hasattr(conn, "getlimit"):  # Python 3.11+
        assert ops._LIMIT_VARIABLE_NUMBER == sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        assert rows * ops._WIDTH <= limit < (rows + 1) * ops._WIDTH

    class Tiny:
        """A library allowing fewer variables than one row has."""

        def getlimit(self, category: int) -> int:
            return 5

    assert ops._rows_per_statement(Tiny()) == 1  # type: ignore[arg-type]

    class Old:
        """A connection without getlimit (Python 3.10)."""

    legacy = ops._rows_per_statement(Old())  # type: ignore[arg-type]
    assert isinstance(legacy, int) and legacy * ops._WIDTH <= 999 < (legacy + 1) * ops._WIDTH


# ---------------------------------------------------------------------- property

IDS = st.sampled_from(["a", "b", "c", "d"])
OP = st.one_of(
    st.tuples(st.just("claim"), IDS, st.sampled_from(["p", "q"])),
    st.tuples(
        st.just("update"),
        IDS,
        st.sampled_from(["sent", "final", "not_sent", "unknown"]),
        st.sampled_from([{}, {"ticket": "1"}, {"ticket": "2", "x": "y"}]),
    ),
)


def _ops(spec: list[tuple[Any, ...]]) -> list[ClaimOp | UpdateOp]:
    made: list[ClaimOp | UpdateOp] = []
    for i, item in enumerate(spec):
        at = T(i)
        if item[0] == "claim":
            made.append(_claim(item[1], at, plugin=item[2]))
        else:
            made.append(
                _update(item[1], item[2], at, hints=item[3], result_json=_result_json(item[1], at))
            )
    return made


def _apply(path: Path, ops: list[ClaimOp | UpdateOp], cuts: list[int], wrapped: bool) -> Any:
    conn = _connect(path)
    answers: list[Any] = []
    bounds = [0, *sorted(c % (len(ops) + 1) for c in cuts), len(ops)]
    for start, end in itertools.pairwise(bounds):
        if wrapped:
            conn.execute("BEGIN IMMEDIATE")
        answers.extend(run_ops(conn, ops[start:end]))
        if wrapped:
            conn.execute("COMMIT")
    contents = _contents(conn)
    conn.close()
    return [_comparable(a) for a in answers], contents


@given(st.lists(OP, min_size=1, max_size=25), st.lists(st.integers(0, 40), max_size=4))
@settings(max_examples=40, deadline=None)
def test_any_cut_into_batches_gives_what_one_op_at_a_time_gives(
    spec: list[tuple[Any, ...]], cuts: list[int]
) -> None:
    import tempfile

    ops = _ops(spec)
    with tempfile.TemporaryDirectory() as folder:
        one_by_one = _apply(Path(folder) / "1.sqlite3", ops, list(range(len(ops))), False)
        batched = _apply(Path(folder) / "b.sqlite3", ops, cuts, False)
        in_transactions = _apply(Path(folder) / "t.sqlite3", ops, cuts, True)
    assert batched == one_by_one
    assert in_transactions == one_by_one


# ---------------------------------------------------------------------- the worker


async def _one_batch(journal: Any, *calls: Any) -> tuple[list[int], list[Any]]:
    """Run ``calls`` (coroutine factories) queued behind a job that holds the worker,
    so they form the next batch; returns the batch sizes seen and each call's outcome."""
    worker = journal._require()
    started, release, sizes = threading.Event(), threading.Event(), []

    def hold(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(10)

    worker.submit(hold, label="hold the worker")
    await asyncio.to_thread(started.wait, 10)
    original = worker._commit

    def counting(conn: sqlite3.Connection, batch: list[Any]) -> None:
        sizes.append(len(batch))
        original(conn, batch)

    worker._commit = counting
    futures = []
    for call in calls:
        futures.append(asyncio.ensure_future(call()))
        await asyncio.sleep(0)  # queued in this order
    await asyncio.sleep(0)  # the loop's last wave handed over (at its next turn)
    release.set()
    gathered = asyncio.gather(*futures, return_exceptions=True)
    outcomes = await asyncio.wait_for(gathered, 30)  # a dead writer fails, never hangs
    await _until(lambda: worker._idle and worker._queue.empty())  # lazy jobs written too
    worker._commit = original
    return sizes, outcomes


async def test_a_batch_mixing_reads_and_writes_is_one_transaction_in_order(
    journal: SqliteJournal,
    worker: SqliteWorker,
) -> None:
    order = Order.market("X", "buy", 1, client_order_id="mixed-1")
    in_tx = "SELECT state FROM orders WHERE client_order_id = 'mixed-1'"
    sizes, (claim, seen, update) = await _one_batch(
        journal,
        lambda: journal.claim(order, "p", {}),
        lambda: worker.run(
            lambda c: (c.in_transaction, *c.execute(in_tx).fetchone()), writes=False, label="read"
        ),
        lambda: worker.run(_update("mixed-1", "sent", T(2)), writes=True, label="update"),
    )
    assert sizes == [3]
    assert claim.claimed and update is None
    assert seen == (True, "sending")  # after the claim, inside the batch's transaction
    bad = ClaimOp("mixed-3", "p", None, "{}", OWNER, T(1))  # type: ignore[arg-type]
    other = Order.market("X", "buy", 1, client_order_id="mixed-2")
    sizes, (lost, failed) = await _one_batch(
        journal,
        lambda: journal.claim(other, "p", {}),
        lambda: worker.run(bad, writes=True, label="bad"),
    )
    assert sizes == [2]
    for outcome in (lost, failed):
        assert isinstance(outcome, JournalError)
        assert "journal write failed: IntegrityError" in str(outcome)
    assert await journal.get("mixed-2") is None  # the batch failed as one: nothing kept
    entry = await journal.get("mixed-1")
    assert entry is not None and entry.state.value == "sent"


async def _in_one_take(
    journal: SqliteJournal, queue: list[tuple[Any, bool]]
) -> tuple[list[tuple[bool, list[str]]], list[Any]]:
    """Queue ``(op or job, awaited)`` pairs behind a job that holds the worker, so the
    worker takes them at once; returns each commit as (on the fsync'd connection, the
    ids or labels it wrote) and each awaited one's outcome."""
    worker = journal._require()
    started, release = threading.Event(), threading.Event()
    worker.submit(lambda conn: (started.set(), release.wait(10)), label="hold")
    await asyncio.to_thread(started.wait, 10)
    commits: list[tuple[bool, list[str]]] = []
    original = worker._commit

    def recording(conn: sqlite3.Connection, batch: list[Any]) -> None:
        names = [getattr(t.job, "client_order_id", t.label) for t in batch]
        level = conn.execute("PRAGMA synchronous").fetchone()[0]  # 2 FULL, 1 NORMAL
        commits.append((level == 2, names))
        original(conn, batch)

    worker._commit = recording  # type: ignore[method-assign]
    awaited = []
    for job, waits in queue:
        if waits:
            awaited.append(asyncio.ensure_future(worker.run(job, writes=True, label="job")))
            await asyncio.sleep(0)  # queued in this order
        else:
            worker.submit(job, label="lazy")
    await asyncio.sleep(0)  # the loop's last wave handed over (at its next turn)
    release.set()
    outcomes = await asyncio.wait_for(asyncio.gather(*awaited, return_exceptions=True), 30)
    await _until(lambda: worker._idle and worker._queue.empty())  # lazy ones written too
    await journal.flush()
    worker._commit = original  # type: ignore[method-assign]
    return commits[:-1], outcomes  # the flush's own commit left out


async def test_claims_queued_after_lazy_writes_of_other_ids_are_committed_first(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")  # synchronous="full": two connections
    await journal.open()
    for cid in ("a1", "a2", "a3"):
        order = Order.market("X", "buy", 1, client_order_id=cid)
        assert (await journal.claim(order, "p", {})).claimed
    commits, outcomes = await _in_one_take(
        journal,
        [
            (_update("a1", "sent", T(1)), False),
            (_claim("b1", T(2)), True),
            (_update("a2", "final", T(3)), False),
            (_update("a1", "final", T(4)), False),
            (_update("a3", "final", T(5), kind="status"), True),  # awaited, another id
            (_claim("b2", T(6)), True),
        ],
    )
    # The awaited writes in one fsync'd transaction, then the lazy ones without an fsync.
    assert commits == [(True, ["b1", "a3", "b2"]), (False, ["a1", "a2", "a1"])]
    assert outcomes == [(1, T(2)), None, (1, T(6))]
    # Three claims, the hold and the flush one at a time; the take as two batches of 3.
    assert journal.batch_sizes == {1: 5, 3: 2}
    states = {e.client_order_id: e.state.value for e in await journal.entries()}
    assert states == {"a1": "final", "a2": "final", "a3": "final", "b1": "sending", "b2": "sending"}
    kinds = [(e.kind, e.state.value) for e in await journal.events("a1")]
    assert kinds == [("intent", "sending"), ("result", "sent"), ("result", "final")]
    only_lazy = [(_update("b1", "sent", T(7)), False), (_update("b2", "sent", T(8)), False)]
    commits, _ = await _in_one_take(journal, only_lazy)
    assert commits == [(False, ["b1", "b2"])]  # one batch, nothing split off
    assert journal.batch_sizes == {1: 9, 2: 1, 3: 2}  # and two reads, a hold, a flush
    await journal.close()


async def test_a_lazy_write_of_an_id_keeps_its_place_before_a_later_claim_of_it(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    order = Order.market("X", "buy", 1, client_order_id="x1")
    assert (await journal.claim(order, "p", {})).claimed
    created = await _created(journal, "x1")
    commits, outcomes = await _in_one_take(
        journal,
        [
            (_update("x1", "not_sent", T(1)), False),  # nothing was sent: it may be again
            (_claim("y1", T(2)), True),
            (_claim("x1", T(3)), True),  # ... and this claim must see that
        ],
    )
    assert commits == [(True, ["x1", "y1", "x1"])]  # one transaction, in queue order
    assert outcomes == [(1, T(2)), (2, created)]  # taken over: not answered from "sending"
    await journal.close()


async def _created(journal: SqliteJournal, cid: str) -> str:
    entry = await journal.get(cid)
    assert entry is not None
    return codec.time_text(entry.created_at)


WORKER_OP = st.tuples(st.sampled_from(["claim", "sent", "final", "not_sent"]), IDS, st.booleans())


def _per_id(contents: tuple[list[Any], list[Any]]) -> tuple[list[Any], dict[str, list[Any]]]:
    """The file's entries, and each id's events in their order (ids may interleave)."""
    orders, events = contents
    by_id: dict[str, list[Any]] = {}
    for event in events:
        by_id.setdefault(event[0], []).append(event)
    return orders, by_id


@given(st.lists(WORKER_OP, min_size=1, max_size=16))
@settings(max_examples=30, deadline=None)
def test_the_worker_gives_what_queue_order_gives_however_it_splits_a_batch(
    spec: list[tuple[str, str, bool]],
) -> None:
    import tempfile

    queue: list[tuple[Any, bool]] = []
    for i, (kind, cid, waits) in enumerate(spec):
        if kind == "claim":
            queue.append((_claim(cid, T(i)), True))  # a claim is always awaited
        else:
            result = _result_json(cid, f"B{i}")
            queue.append((_update(cid, kind, T(i), result_json=result), waits))

    async def through_the_worker(path: Path) -> tuple[Any, list[Any]]:
        journal = SqliteJournal(path, synchronous="normal")  # the order, not the disk
        await journal.open()
        _, outcomes = await _in_one_take(journal, queue)
        await journal.close()
        conn = _connect(path)
        contents = _contents(conn)
        conn.close()
        return _per_id(contents), [_comparable(o) for o in outcomes]

    with tempfile.TemporaryDirectory() as folder:
        worked, answers = asyncio.run(through_the_worker(Path(folder) / "w.sqlite3"))
        conn = _connect(Path(folder) / "1.sqlite3")
        one_by_one = [run_ops(conn, [op])[0] for op, _ in queue]
        expected = [
            _comparable(a) for a, (_, waits) in zip(one_by_one, queue, strict=True) if waits
        ]
        in_order = _per_id(_contents(conn))
        conn.close()
    assert worked == in_order
    assert answers == expected


async def test_a_read_in_a_batch_keeps_the_queue_order(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    assert (await journal.claim(Order.market("X", "buy", 1, client_order_id="r1"), "p", {})).claimed
    read = "SELECT state FROM orders WHERE client_order_id = 'r1'"
    commits, outcomes = await _in_one_take(
        journal,
        [
            (_update("r1", "sent", T(1)), False),
            (_claim("r2", T(2)), True),
            (lambda conn: conn.execute(read).fetchone()[0], True),  # sees the lazy write
        ],
    )
    assert commits == [(True, ["r1", "r2", "job"])]
    assert outcomes == [(1, T(2)), "sent"]
    await journal.close()


async def _until(condition: Any) -> None:
    for _ in range(10_000):  # 10 s at most
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the worker never got there")


async def _states(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT client_order_id, state FROM orders").fetchall())
    finally:
        conn.close()


async def test_only_batches_nobody_waits_for_skip_the_fsync(tmp_path: Path) -> None:
    def level(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA synchronous").fetchone()[0])  # 2 FULL, 1 NORMAL

    journal = SqliteJournal(tmp_path / "j.sqlite3")  # synchronous="full"
    await journal.open()
    worker, lazy = journal._require(), []
    sizes, (awaited, _) = await _one_batch(
        journal,
        lambda: worker.run(level, writes=False, label="awaited"),
        lambda: asyncio.sleep(0, worker.submit(lambda c: lazy.append(level(c)), label="lazy")),
    )
    assert sizes == [2] and awaited == 2 and lazy == [2]  # one waiter: the whole batch fsyncs
    sizes, _ = await _one_batch(
        journal,
        lambda: asyncio.sleep(0, worker.submit(lambda c: lazy.append(level(c)), label="lazy")),
    )
    await journal.flush()
    assert sizes[0] == 1 and lazy == [2, 1]
    await journal.close()
    normal = SqliteJournal(tmp_path / "n.sqlite3", synchronous="normal")
    await normal.open()
    worker = normal._require()
    await _one_batch(
        normal,
        lambda: asyncio.sleep(0, worker.submit(lambda c: lazy.append(level(c)), label="lazy")),
    )
    assert await worker.run(level, writes=False, label="awaited") == 1
    assert lazy == [2, 1, 1]
    await normal.close()


async def test_an_order_the_journal_cannot_encode_is_refused_before_anything_is_written(
    journal: SqliteJournal,
) -> None:
    odd = Order.market("X", "buy", 1, client_order_id="odd-1", params={"x": object()})
    with pytest.raises(JournalError, match=r"odd-1 cannot be journaled .*nothing was sent"):
        await journal.claim(odd, "p", {})
    assert await journal.get("odd-1") is None


async def test_an_entry_that_cannot_be_read_fails_its_batch_and_the_writer_lives_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path, synchronous="normal")
    await journal.open()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO orders (client_order_id, plugin, state, order_json, owner, created_at, "
        "updated_at) VALUES ('bad-1', 'p', 'final', '{}', 'o', ?, ?)",
        (T(1), T(1)),
    )
    raw.commit()
    raw.close()
    bad = Order.market("X", "buy", 1, client_order_id="bad-1")
    with pytest.raises(JournalError, match="journal write failed: ValidationError"):
        await asyncio.wait_for(journal.claim(bad, "p", {}), 30)  # not a dead writer
    good = Order.market("X", "buy", 1, client_order_id="good-1")
    assert (await journal.claim(good, "p", {})).claimed
    await journal.close()


async def test_the_worker_is_idle_only_while_it_waits_for_work(worker: SqliteWorker) -> None:
    await _until(lambda: worker._idle)  # waiting for work ...
    busy = await worker.run(lambda conn: worker._idle, label="look")
    assert busy is False  # ... not while it runs a job
    await _until(lambda: worker._idle)  # and waiting again


async def test_a_lazy_write_from_a_thread_without_an_event_loop_is_written(
    journal: SqliteJournal,
) -> None:
    await journal.claim(Order.market("X", "buy", 1, client_order_id="b1"), "p", {})
    await asyncio.to_thread(journal.record_soon, JournalUpdate("b1", JournalState.SENT, "r"))
    await journal.flush()
    entry = await journal.get("b1")
    assert entry is not None and entry.state is JournalState.SENT


async def test_a_batch_is_at_most_max_batch_jobs(
    journal: SqliteJournal,
    worker: SqliteWorker,
) -> None:
    import fks_exec.journal.worker as worker_module

    extra = 40
    jobs = [lambda: asyncio.sleep(0, worker.submit(lambda c: None, label="n"))] * (
        worker_module.MAX_BATCH + extra
    )
    sizes, _ = await _one_batch(journal, *jobs)
    assert sizes == [512, extra]


async def test_a_failure_in_a_mixed_batch_fails_it_and_the_writer_lives_on(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path, synchronous="normal")
    await journal.open()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO orders (client_order_id, plugin, state, order_json, owner, created_at, "
        "updated_at) VALUES ('bad-2', 'p', 'final', '{}', 'o', ?, ?)",
        (T(1), T(1)),
    )
    raw.commit()
    raw.close()
    worker = journal._require()
    bad = Order.market("X", "buy", 1, client_order_id="bad-2")
    sizes, (read, claim) = await _one_batch(
        journal,
        lambda: worker.run(lambda c: 1, writes=False, label="read"),
        lambda: journal.claim(bad, "p", {}),
    )
    assert sizes == [2]
    for outcome in (read, claim):
        assert isinstance(outcome, JournalError) and "ValidationError" in str(outcome)
    good = Order.market("X", "buy", 1, client_order_id="good-2")
    assert (await asyncio.wait_for(journal.claim(good, "p", {}), 30)).claimed
    assert (await _states(path)).get("good-2") == "sending"  # committed: no transaction left open
    await journal.close()


def test_a_journal_left_open_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import asyncio, sys
        from fks_exec import Order
        from fks_exec.journal import SqliteJournal

        async def main():
            journal = SqliteJournal(sys.argv[1])
            await journal.open()  # and never closed
            await journal.claim(Order.market("X", "buy", 1, client_order_id="left"), "p", {})

        asyncio.run(main())
        print("done")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "j.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr


async def test_writes_take_the_write_lock_from_the_start_and_reads_do_not(
    journal: SqliteJournal,
) -> None:
    from datetime import datetime, timedelta, timezone

    worker, traced = journal._require(), []
    await worker.run(lambda c: c.set_trace_callback(traced.append), label="trace")
    order = Order.market("X", "buy", 1, client_order_id="w1")

    async def begins(call: Any) -> list[str]:
        """The BEGIN statement of the batch ``call`` runs in, together with a read job
        (so it goes through a transaction rather than one statement)."""
        traced.clear()
        await _one_batch(journal, call, lambda: worker.run(lambda c: None, label="read"))
        return [s for s in traced if s.startswith("BEGIN")][1:]  # after the holding job's

    traced.clear()
    await journal.claim(Order.market("X", "buy", 1, client_order_id="w0"), "p", {})
    assert traced and all(s.startswith("INSERT INTO fks_ops") for s in traced)  # alone: one call
    assert await begins(lambda: journal.claim(order, "p", {})) == ["BEGIN IMMEDIATE"]
    update = JournalUpdate("w1", JournalState.FINAL, "result")
    assert await begins(lambda: journal.record(update)) == ["BEGIN IMMEDIATE"]
    later = datetime.now(timezone.utc) + timedelta(days=1)
    assert await begins(lambda: journal.prune(later)) == ["BEGIN IMMEDIATE"]
    lazy_job = lambda: asyncio.sleep(0, worker.submit(lambda c: None, label="lazy"))  # noqa: E731
    assert await begins(lazy_job) == ["BEGIN IMMEDIATE"]  # a queued job is a write
    await journal.claim(Order.market("X", "buy", 1, client_order_id="w2"), "p", {})
    assert await begins(lambda: journal.adopt(["w2"], ["gone:1:x"])) == ["BEGIN IMMEDIATE"]
    for read in (
        lambda: journal.get("w2"),
        lambda: journal.events("w2"),
        lambda: journal.entries(),
        lambda: journal.flush(),
    ):
        assert await begins(read) == ["BEGIN"]


async def test_batch_sizes_and_the_lock_wait_reach_the_journal(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3", synchronous="normal")
    assert journal.batch_sizes == {}
    await journal.open()
    await journal.claim(Order.market("X", "buy", 1, client_order_id="z1"), "p", {})
    assert sum(journal.batch_sizes.values()) >= 1 and journal.batch_sizes[1] >= 1

    def busy_ms(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA busy_timeout").fetchone()[0])

    assert await journal._require().run(busy_ms, label="busy") == 10_000  # the 10 s default
    await journal.close()
    assert journal.batch_sizes == {}
    patient = SqliteJournal(tmp_path / "p.sqlite3", busy_timeout_s=2.5)
    await patient.open()
    assert await patient._require().run(busy_ms, label="busy") == 2_500
    await patient.close()


async def test_the_file_and_its_directories_are_created(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "two" / "levels" / "j.sqlite3", synchronous="normal")
    await journal.open()
    await journal.close()
    assert (tmp_path / "two" / "levels" / "j.sqlite3").is_file()


async def test_a_taken_over_entry_keeps_when_it_was_first_claimed(journal: SqliteJournal) -> None:
    order = Order.market("X", "buy", 1, client_order_id="again-1")
    first = await journal.claim(order, "p", {})
    await journal.record(JournalUpdate("again-1", JournalState.NOT_SENT, "not_sent"))
    await asyncio.sleep(0.002)  # a later claim time
    second = await journal.claim(order, "p", {})
    assert second.claimed and second.entry.attempt == 2
    assert second.entry.created_at == first.entry.created_at < second.entry.updated_at
    stored = await journal.get("again-1")
    assert stored is not None and stored.created_at == first.entry.created_at


def test_on_one_machine_a_holder_whose_process_exited_is_gone_at_once(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    dead = f"{socket.gethostname()}:{int(ended.stdout)}:abcd1234"
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    assert journal.is_gone(dead)  # no lease to wait out after a crash
    alive = f"{socket.gethostname()}:{os.getppid()}:abcd1234"
    assert not journal.is_gone(alive)


async def test_a_second_connection_that_fails_closes_the_first_and_fails_the_start() -> None:
    from fks_exec.journal.worker import SqliteWorker

    opened: list[sqlite3.Connection] = []

    def first() -> sqlite3.Connection:
        opened.append(sqlite3.connect(":memory:", check_same_thread=False))
        return opened[-1]

    def second() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    worker = SqliteWorker(first, name="t", connect_lazy=second)
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await worker.start()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")  # not left open


async def test_close_commits_what_is_queued_and_ends_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    await journal.open()
    await journal.claim(Order.market("X", "buy", 1, client_order_id="c1"), "p", {})
    worker = journal._require()
    journal.record_soon(JournalUpdate("c1", JournalState.FINAL, "result"))
    await journal.close()
    assert not worker._thread.is_alive()
    assert (await _states(path)) == {"c1": "final"}
    await journal.close()  # twice is fine
    with pytest.raises(JournalError, match="not open; call open"):
        await journal.get("c1")


async def test_a_job_that_raises_fails_alone_and_an_sqlite_error_fails_the_batch(
    journal: SqliteJournal,
    worker: SqliteWorker,
) -> None:

    def odd(conn: sqlite3.Connection) -> None:
        raise ValueError("not the journal's fault")

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT * FROM no_such_table")

    ok = Order.market("X", "buy", 1, client_order_id="alone-1")
    sizes, (failed, claim) = await _one_batch(
        journal, lambda: worker.run(odd, label="odd"), lambda: journal.claim(ok, "p", {})
    )
    assert sizes == [2] and isinstance(failed, ValueError) and claim.claimed
    lost = Order.market("X", "buy", 1, client_order_id="alone-2")
    sizes, (failed, claim) = await _one_batch(
        journal, lambda: worker.run(broken, label="broken"), lambda: journal.claim(lost, "p", {})
    )
    assert sizes == [2]
    for outcome in (failed, claim):
        assert isinstance(outcome, JournalError)
        assert "journal write failed: OperationalError: no such table" in str(outcome)
    assert await journal.get("alone-1") is not None and await journal.get("alone-2") is None


async def test_a_caller_gone_from_a_batch_does_not_stop_the_others_answers(
    journal: SqliteJournal,
) -> None:
    first = Order.market("X", "buy", 1, client_order_id="gone-caller")
    second = Order.market("X", "buy", 1, client_order_id="kept-caller")

    async def cancelled_claim() -> Any:
        task = asyncio.ensure_future(journal.claim(first, "p", {}))
        await asyncio.sleep(0)  # queued
        task.cancel()
        return "cancelled"

    sizes, (gone, kept) = await _one_batch(
        journal, cancelled_claim, lambda: journal.claim(second, "p", {})
    )
    assert sizes == [2] and gone == "cancelled" and kept.claimed  # answered after the gone one


async def test_a_lazy_write_that_fails_is_logged_and_one_that_succeeds_is_not(
    journal: SqliteJournal,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await journal.claim(Order.market("X", "buy", 1, client_order_id="lz-1"), "p", {})
    with caplog.at_level("ERROR", logger="fks_exec.journal"):
        journal.record_soon(JournalUpdate("lz-1", JournalState.SENT, "result"))
        journal.record_soon(JournalUpdate("lz-missing", JournalState.SENT, "result"))
        await journal.flush()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "result of lz-missing failed" in errors[0], errors


async def test_a_worker_without_an_encoder_runs_jobs_and_bulk_values(tmp_path: Path) -> None:
    # The SQLite journal always gives its worker an encoder; a worker built without one
    # (no deferred writes) must still run what it is handed.
    path = tmp_path / "plain.sqlite3"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def bulk(conn: sqlite3.Connection, values: list[Any]) -> list[Any]:
        return [value * 2 for value in values]

    worker = SqliteWorker(connect, name="plain", bulk_types=(int,), bulk=bulk)
    await worker.start()
    try:
        assert (
            await worker.run(lambda conn: conn.execute("SELECT 7").fetchone()[0], label="read") == 7
        )
        assert await worker.soon(21, writes=True, label="bulk") == 42
    finally:
        await worker.stop()
