"""Results the SQLite journal encodes while the next intents commit (journal/deferred.py).

``record_result_soon`` keeps each answer raw on the event loop's thread; the writer
thread asks the loop to encode them as it starts committing a batch somebody waits for
(the loop only waits then). These tests pin when they are encoded, that every queued
job that could see one comes after it, and that nothing is lost on the way.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fks_exec.journal.deferred as deferred_module
from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.journal import JournalEntry, JournalError, JournalState, JournalUpdate, SqliteJournal
from fks_exec.journal.sqlite import _connect, _encode_result
from fks_exec.journal.sqlite_ops import ClaimOp, UpdateOp, run_ops
from fks_exec.journal.worker import SqliteWorker


def _result(cid: str, status: OrderStatus = OrderStatus.FILLED) -> ExecutionResult:
    order = Order.market("X", "buy", 1, client_order_id=cid)
    if status is OrderStatus.REJECTED:
        return ExecutionResult.for_order(order, plugin="p", status=status, sent=False)
    if status is OrderStatus.ACCEPTED:
        return ExecutionResult.for_order(order, plugin="p", status=status, sent=True)
    return ExecutionResult.for_order(
        order, plugin="p", status=status, sent=True, filled_quantity="1", average_price="100"
    )


def _order(cid: str) -> Order:
    return Order.market("X", "buy", 1, client_order_id=cid)


async def _until(condition: Any) -> None:
    for _ in range(10_000):  # 10 s at most
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("never got there")


def _states(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT client_order_id, state FROM orders").fetchall())
    finally:
        conn.close()


@pytest.fixture
def never_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """No timer encodes deferred writes during the test: only what the test does."""
    monkeypatch.setattr(deferred_module, "DEFER_S", 3600.0)


@pytest.fixture
async def journal(tmp_path: Path, never_due: None) -> AsyncIterator[SqliteJournal]:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    for cid in ("d1", "d2", "d3"):
        assert (await journal.claim(_order(cid), "p", {})).claimed
    yield journal
    await journal.close()


def _waiting(journal: SqliteJournal) -> list[Any]:
    later = journal._require()._later
    assert later is not None
    return later.raws


async def test_results_are_encoded_on_the_loop_while_the_next_intents_commit(
    journal: SqliteJournal,
) -> None:
    worker = journal._require()
    journal.record_result_soon(_result("d1"), {"ticket": "7"})
    journal.record_result_soon(_result("d2"), {})
    assert [raw[0].client_order_id for raw in _waiting(journal)] == ["d1", "d2"]
    encoded: list[tuple[int, bool]] = []
    in_commit = threading.Event()
    later = worker._later
    assert later is not None
    encode = later._encode

    def spying(raw: Any) -> tuple[Any, str]:
        encoded.append((threading.get_ident(), in_commit.is_set()))
        return encode(raw)

    later._encode = spying
    original, asking = worker._commit, later.ask

    def ask() -> None:  # the writer asks right before it commits what the loop awaits
        in_commit.set()  # (set here, not in _commit: the loop may encode in between)
        asking()

    later.ask = ask  # type: ignore[method-assign]

    def committing(conn: sqlite3.Connection, batch: list[Any]) -> None:
        if any(task.future is not None for task in batch):
            for _ in range(10_000):  # the claim commits once the loop has encoded
                if len(encoded) == 2:
                    break
                time.sleep(0.001)
        original(conn, batch)
        in_commit.clear()

    worker._commit = committing  # type: ignore[method-assign]
    claim = asyncio.ensure_future(journal.claim(_order("n1"), "p", {}))
    await asyncio.sleep(0)
    assert len(_waiting(journal)) == 2  # queueing a claim of other ids encodes nothing
    assert (await asyncio.wait_for(claim, 30)).claimed
    loop_thread = threading.get_ident()
    assert encoded == [(loop_thread, True), (loop_thread, True)]
    await journal.flush()
    worker._commit = original  # type: ignore[method-assign]
    d1 = await journal.get("d1")
    assert d1 is not None and d1.state is JournalState.FINAL and d1.hints == {"ticket": "7"}
    assert _states(journal.path)["d2"] == "final"


async def test_a_result_waits_for_a_commit_or_the_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deferred_module, "DEFER_S", 0.05)
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    for cid in ("t1", "t2"):
        await journal.claim(_order(cid), "p", {})
    scheduled: list[float] = []
    loop = asyncio.get_running_loop()
    call_later = loop.call_later

    def counting(delay: float, callback: Any, *args: Any) -> Any:
        if getattr(callback, "__self__", None) is journal._require()._later:
            scheduled.append(delay)
        return call_later(delay, callback, *args)

    monkeypatch.setattr(loop, "call_later", counting)
    for cid in ("t1", "t2"):  # nothing else queued: the timer has them written
        journal.record_result_soon(_result(cid), {})
    assert scheduled == [0.05] and len(_waiting(journal)) == 2  # one timer for both
    await _until(lambda: _states(journal.path) == {"t1": "final", "t2": "final"})
    await journal.claim(_order("t3"), "p", {})
    journal.record_result_soon(_result("t3"), {})  # a second timer once the first ran
    assert scheduled == [0.05, 0.05]
    await _until(lambda: _states(journal.path)["t3"] == "final")
    await journal.close()


async def test_by_default_a_lone_result_is_encoded_some_20_ms_later(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    await journal.claim(_order("l1"), "p", {})
    loop = asyncio.get_running_loop()
    began = loop.time()
    journal.record_result_soon(_result("l1"), {})
    await asyncio.sleep(0.002)
    if loop.time() - began < 0.015:  # (a stalled machine proves nothing here)
        assert _waiting(journal), "encoded at once: the next intents' wait is not used"
    await _until(lambda: not _waiting(journal))
    assert loop.time() - began < 0.8  # documented: about 20 ms
    await journal.close()
    assert _states(journal.path) == {"l1": "final"}


async def test_a_job_that_could_see_a_deferred_result_is_queued_after_it(
    journal: SqliteJournal,
) -> None:
    journal.record_result_soon(_result("d1"), {})
    entry = await journal.get("d1")  # a read
    assert entry is not None and entry.state is JournalState.FINAL
    journal.record_result_soon(_result("d2", OrderStatus.REJECTED), {})  # not sent
    taken = await journal.claim(_order("d2"), "p", {})  # a claim of the same id
    assert taken.claimed and taken.entry.attempt == 2
    journal.record_result_soon(_result("d3", OrderStatus.ACCEPTED), {})
    journal.record_soon(JournalUpdate("d3", JournalState.FINAL, "status"))  # a lazy write
    await journal.flush()
    entry = await journal.get("d3")
    assert entry is not None and entry.state is JournalState.FINAL
    events = await journal.events("d3")
    assert [event.kind for event in events] == ["intent", "result", "status"]


async def test_only_a_write_of_a_waiting_id_encodes_them_first(journal: SqliteJournal) -> None:
    journal.record_result_soon(_result("d1"), {})
    await journal.flush()  # encoded and written: d1 is no longer waiting
    journal.record_result_soon(_result("d2"), {})
    claim = asyncio.ensure_future(journal.claim(_order("d1"), "p", {}))
    await asyncio.sleep(0)
    assert len(_waiting(journal)) == 1  # d1's claim could not see d2's result
    assert not (await claim).claimed
    claim = asyncio.ensure_future(journal.claim(_order("d2"), "p", {}))
    await asyncio.sleep(0)
    assert _waiting(journal) == []  # d2's claim could
    assert not (await claim).claimed


async def test_the_time_recorded_is_when_the_result_came(journal: SqliteJournal) -> None:
    before = time.time_ns() // 1000
    journal.record_result_soon(_result("d1"), {})
    after = time.time_ns() // 1000
    await asyncio.sleep(0.05)
    journal.encode_queued_results()
    assert _waiting(journal) == []
    await journal.flush()
    (_, result) = await journal.events("d1")
    at = int(result.at.timestamp() * 1_000_000)
    assert before <= at <= after


async def test_a_result_without_a_client_order_id_is_refused_at_once(
    journal: SqliteJournal,
) -> None:
    anonymous = _result("d1").model_copy(update={"client_order_id": None})
    with pytest.raises(ValueError, match="client order id"):
        journal.record_result_soon(anonymous, {})
    assert _waiting(journal) == []


async def test_from_another_thread_a_result_is_encoded_and_queued_at_once(
    journal: SqliteJournal,
) -> None:
    later = journal._require()._later
    assert later is not None
    encode, threads = later._encode, []

    def spying(raw: Any) -> tuple[Any, str]:
        threads.append((raw[0].client_order_id, threading.get_ident()))
        return encode(raw)

    later._encode = spying
    journal.record_result_soon(_result("d1"), {})
    await asyncio.to_thread(journal.record_result_soon, _result("d2"), {})
    await asyncio.to_thread(journal.record_soon, JournalUpdate("d3", JournalState.SENT, "r"))
    worker = journal._require()
    await _until(lambda: worker._idle and worker._queue.empty())  # their lazy commits
    await asyncio.sleep(0.01)
    waiting = [raw[0].client_order_id for raw in _waiting(journal)]
    assert waiting == ["d1"]  # nor does a commit nobody waits for have them encoded

    def in_a_thread() -> Any:
        worker = journal._require()
        return asyncio.run(worker.run(lambda conn: "read", label="other loop"))

    assert await asyncio.to_thread(in_a_thread) == "read"  # not ordered with the loop's
    await journal.flush()
    loop_thread = threading.get_ident()
    assert [cid for cid, thread in threads if thread == loop_thread] == ["d1"]
    assert [cid for cid, thread in threads if thread != loop_thread] == ["d2"]
    assert _states(journal.path) == {"d1": "final", "d2": "final", "d3": "sent"}


def test_after_the_loop_closed_results_are_queued_at_once_and_nothing_hangs(
    tmp_path: Path, never_due: None
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")

    async def first() -> None:
        await journal.open()
        for cid in ("c1", "c2", "c3"):
            await journal.claim(_order(cid), "p", {})
        journal.record_result_soon(_result("c1"), {})  # waits for a loop that closes

    asyncio.run(first())
    journal.record_result_soon(_result("c2"), {})  # the loop is closed: queued now
    assert [raw[0].client_order_id for raw in _waiting(journal)] == ["c1"]

    async def second() -> None:
        # A claim of another id from a new loop: the writer's request to encode goes
        # to the closed loop and must not end the writer.
        claim = await asyncio.wait_for(journal.claim(_order("c4"), "p", {}), 30)
        assert claim.claimed
        await journal.close()  # the stop encodes and writes what still waits

    asyncio.run(second())
    assert _states(journal.path) == {"c1": "final", "c2": "final", "c3": "sending", "c4": "sending"}


async def test_close_writes_the_results_still_waiting(tmp_path: Path, never_due: None) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    await journal.open()
    await journal.claim(_order("w1"), "p", {})
    journal.record_result_soon(_result("w1"), {})
    await journal.close()  # the writer's stop, no flush before it, writes it
    assert _states(journal.path) == {"w1": "final"}


async def test_a_result_that_cannot_be_encoded_is_logged_and_the_others_written(
    journal: SqliteJournal, caplog: pytest.LogCaptureFixture
) -> None:
    later = journal._require()._later
    assert later is not None

    def encode(raw: Any) -> tuple[Any, str]:
        if raw[0].client_order_id == "d2":
            raise ValueError("no JSON for this one")
        return _encode_result(raw)

    later._encode = encode
    with caplog.at_level(logging.ERROR, logger="fks_exec.journal"):
        for cid in ("d1", "d2", "d3"):
            journal.record_result_soon(_result(cid), {})
        await journal.flush()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == ["journal: a queued write could not be encoded: no JSON for this one"]
    assert _states(journal.path) == {"d1": "final", "d2": "sending", "d3": "final"}


async def test_a_failed_write_of_a_deferred_result_is_logged_with_its_kind_and_id(
    journal: SqliteJournal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="fks_exec.journal"):
        journal.record_result_soon(_result("nowhere"), {}, "status")
        await journal.flush()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "queued status of nowhere failed" in errors[0], errors


async def test_a_worker_without_an_encoder_refuses_deferred_writes(tmp_path: Path) -> None:
    worker = SqliteWorker(lambda: sqlite3.connect(tmp_path / "x.sqlite3"), name="t")
    with pytest.raises(RuntimeError, match="no encoder"):
        worker.submit_deferred(("raw",), "k")
    worker.encode_deferred()  # nothing to encode: nothing happens


async def test_without_record_keys_every_job_comes_after_the_waiting_results(
    tmp_path: Path, never_due: None
) -> None:
    path = tmp_path / "k.sqlite3"
    worker = SqliteWorker(
        lambda: _connect(path, "normal", 10.0),
        name="no-keys",
        bulk_types=(ClaimOp, UpdateOp),
        bulk=run_ops,
        encode=_encode_result,
    )
    before_start = _encode_result((_result("k0"), {}, "result", time.time_ns()))[0]
    await worker.start()
    await worker.run(ClaimOp.of_order(_order("k1"), "p", {}, "o"), label="claim")
    worker.submit_deferred((_result("k1"), {}, "result", time.time_ns()), "k1")
    later = worker._later
    assert later is not None and len(later.raws) == 1
    claim = asyncio.ensure_future(
        worker.run(ClaimOp.of_order(_order("k2"), "p", {}, "o"), label="claim")
    )
    await asyncio.sleep(0)
    assert later.raws == []  # no keys: a claim of any id could see it
    await claim
    await worker.stop()
    assert _states(path) == {"k1": "final", "k2": "sending"}
    assert before_start.client_order_id == "k0"


async def test_before_the_worker_starts_a_deferred_write_is_queued_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    worker = SqliteWorker(
        lambda: _connect(path, "normal", 10.0),
        name="early",
        bulk_types=(ClaimOp, UpdateOp),
        bulk=run_ops,
        encode=_encode_result,
    )
    worker.submit_deferred((_result("e1"), {}, "status", time.time_ns()), "e1")
    later = worker._later
    assert later is not None and later.raws == []
    assert worker._queue.qsize() == 1
    await worker.start()
    await worker.stop()  # its write fails (no entry e1) and is logged; nothing hangs


_OP = st.tuples(
    st.sampled_from(["claim", "filled", "not_sent", "accepted", "status", "read"]),
    st.sampled_from(["a", "b", "c"]),
)
_STATUS = {
    "filled": OrderStatus.FILLED,
    "not_sent": OrderStatus.REJECTED,
    "accepted": OrderStatus.ACCEPTED,
}


async def _through(path: Path, ops: list[tuple[str, str]], one_at_a_time: bool) -> Any:
    """Run ``ops`` on a new journal: queued as the executor queues them (claims and
    reads awaited later, results kept raw), or each committed before the next."""
    journal = SqliteJournal(path, synchronous="normal")  # the order, not the disk
    await journal.open()
    pending: list[Any] = []
    for kind, cid in ops:
        if kind in ("claim", "read"):
            call = journal.claim(_order(cid), "p", {}) if kind == "claim" else journal.get(cid)
            if one_at_a_time:
                pending.append(await call)
            else:
                pending.append(asyncio.ensure_future(call))
                await asyncio.sleep(0)  # queued in this order
            continue
        if kind == "status":
            journal.record_soon(JournalUpdate(cid, JournalState.SENT, "status"))
        else:
            journal.record_result_soon(_result(cid, _STATUS[kind]), {})
        if one_at_a_time:
            await journal.flush()
    answers: list[Any] = []
    for outcome in await asyncio.gather(*pending) if not one_at_a_time else pending:
        if outcome is None or isinstance(outcome, JournalEntry):
            answers.append(None if outcome is None else (outcome.state, outcome.attempt))
        else:
            answers.append((outcome.claimed, outcome.entry.state, outcome.entry.attempt))
    await journal.close()
    conn = sqlite3.connect(path)
    try:
        entries = conn.execute(
            "SELECT client_order_id, state, attempt FROM orders ORDER BY client_order_id"
        ).fetchall()
        events = conn.execute(
            "SELECT o.client_order_id, e.kind, e.state, e.status FROM events AS e "
            "JOIN orders AS o ON o.ref = e.order_ref ORDER BY e.id"
        ).fetchall()
    finally:
        conn.close()
    per_id: dict[str, list[Any]] = {}
    for cid, *event in events:
        per_id.setdefault(cid, []).append(event)
    return answers, entries, per_id


@given(st.lists(_OP, min_size=1, max_size=14), st.sampled_from([0.0, 3600.0]))
@settings(max_examples=40, deadline=None)
def test_deferred_results_give_what_one_write_at_a_time_gives(
    ops: list[tuple[str, str]], defer_s: float
) -> None:
    import tempfile

    saved = deferred_module.DEFER_S
    deferred_module.DEFER_S = defer_s  # 0: the timer fires between any two steps
    try:
        with tempfile.TemporaryDirectory() as folder:
            queued = asyncio.run(_through(Path(folder) / "q.sqlite3", ops, False))
            in_order = asyncio.run(_through(Path(folder) / "o.sqlite3", ops, True))
    finally:
        deferred_module.DEFER_S = saved
    assert queued == in_order


async def test_a_result_recorded_on_a_journal_not_open_is_a_journal_error(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "closed.sqlite3")
    with pytest.raises(JournalError, match="not open"):
        journal.record_result_soon(_result("c1"), {})
    await journal.open()
    await journal.close()
    with pytest.raises(JournalError, match="not open"):  # closed again
        journal.record_result_soon(_result("c2"), {})
