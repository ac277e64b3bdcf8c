"""Journal backends: the shared conformance suite, a model-based property test, and the
SQLite file's schema versions, WAL mode and sharing between processes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.journal import (
    Journal,
    JournalSchemaError,
    JournalState,
    JournalUpdate,
    MemoryJournal,
    SqliteJournal,
    codec,
    migrate_file,
    schema,
)
from fks_exec.journal.sqlite_ops import UpdateOp
from fks_exec.journal.testing import JournalConformance


class TestMemoryJournal(JournalConformance):
    @pytest.fixture
    async def journal(self) -> AsyncIterator[Journal]:
        journal = MemoryJournal()
        await journal.open()
        yield journal
        await journal.close()


class TestSqliteJournal(JournalConformance):
    @pytest.fixture
    async def journal(self, tmp_path: Path) -> AsyncIterator[Journal]:
        journal = SqliteJournal(tmp_path / "sub" / "journal.sqlite3")
        await journal.open()
        yield journal
        await journal.close()


# ---------------------------------------------------------------------- model-based

OPS = st.lists(
    st.tuples(
        st.sampled_from(["claim", "sent", "final", "not_sent", "unknown"]),
        st.sampled_from(["a", "b", "c"]),
    ),
    max_size=25,
)


async def _replay(journal: Journal, ops: list[tuple[str, str]]) -> None:
    model: dict[str, JournalState] = {}
    attempts: dict[str, int] = {}
    await journal.open()
    try:
        for op, cid in ops:
            if op == "claim":
                claim = await journal.claim(
                    Order.market("X", "buy", 1, client_order_id=cid), "p", {}
                )
                may = model.get(cid) in (None, JournalState.NOT_SENT)
                assert claim.claimed == may, (op, cid, model)
                if may:
                    model[cid] = JournalState.SENDING
                    attempts[cid] = attempts.get(cid, 0) + 1
                assert claim.entry.attempt == attempts[cid]
            elif cid in model:
                model[cid] = JournalState(op)
                journal.record_soon(JournalUpdate(cid, model[cid], op))
        await journal.flush()
        for cid, state in model.items():
            entry = await journal.get(cid)
            assert entry is not None and entry.state is state
    finally:
        await journal.close()


@given(OPS)
@settings(max_examples=60, deadline=None)
def test_memory_journal_follows_the_model(ops: list[tuple[str, str]]) -> None:
    asyncio.run(_replay(MemoryJournal(), ops))


@given(OPS)
@settings(max_examples=20, deadline=None)
def test_sqlite_journal_follows_the_model(ops: list[tuple[str, str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_replay(SqliteJournal(Path(folder) / "j.sqlite3", synchronous="normal"), ops))


def test_memory_journal_forgets_only_closed_entries() -> None:
    async def run() -> None:
        journal = MemoryJournal(max_closed=2)
        for i in range(5):
            await journal.claim(Order.market("X", "buy", 1, client_order_id=f"m{i}"), "p", {})
        for i in range(4):
            await journal.record(JournalUpdate(f"m{i}", JournalState.FINAL, "result"))
        kept = {e.client_order_id for e in await journal.entries()}
        assert kept == {"m2", "m3", "m4"}

    asyncio.run(run())


# ---------------------------------------------------------------------- the SQLite file


async def test_file_is_in_wal_mode_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    await journal.open()
    order = Order.limit("ES 12-25", "sell", "2", "5000.25", client_order_id="keep-1")
    await journal.claim(order, "ninja", {"order_id": "keep1"})
    await journal.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = SqliteJournal(path)
    await again.open()
    entry = await again.get("keep-1")
    await again.close()
    assert entry is not None and entry.order == order and entry.state is JournalState.SENDING


async def test_an_old_file_names_the_migrating_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    journal = SqliteJournal(path)
    await journal.open()
    await journal.close()
    version = schema.current_version()
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, "CREATE TABLE later (x TEXT)"])
    with pytest.raises(JournalSchemaError, match="fks-exec journal migrate --journal"):
        await SqliteJournal(path).open()
    assert migrate_file(path) == (version, version + 1)
    migrated = SqliteJournal(path)
    await migrated.open()
    await migrated.close()


async def test_newer_and_foreign_files_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite3"
    sqlite3.connect(newer).execute("PRAGMA user_version = 99")
    with pytest.raises(JournalSchemaError, match="upgrade fks-exec"):
        await SqliteJournal(newer).open()
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    with pytest.raises(JournalSchemaError, match="not an fks-exec journal"):
        await SqliteJournal(foreign).open()


CLAIMER = textwrap.dedent(
    """
    import asyncio, sys
    from fks_exec import Order
    from fks_exec.journal import SqliteJournal

    async def main():
        journal = SqliteJournal(sys.argv[1])
        await journal.open()
        won = 0
        for i in range(int(sys.argv[2])):
            order = Order.market("X", "buy", 1, client_order_id=f"race-{i}")
            won += (await journal.claim(order, "p", {})).claimed
        await journal.close()
        print(won)

    asyncio.run(main())
    """
)


def test_processes_claiming_the_same_ids_win_each_once(tmp_path: Path) -> None:
    path, count = tmp_path / "shared.sqlite3", 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    wins = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(wins) == count, wins
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM events WHERE kind = 'intent'")
    assert rows.fetchone()[0] == count


def _version_1_file(path: Path) -> None:
    """A journal as fks-exec wrote it at schema version 1: two orders, three events."""
    from fks_exec.journal import codec

    conn = sqlite3.connect(path)
    conn.executescript(schema.STEPS[0])
    rows = [("v1-b", "2026-01-01T00:00:02.000000+00:00", "sending"),
            ("v1-a", "2026-01-01T00:00:01.000000+00:00", "final")]  # fmt: skip
    for cid, at, state in rows:
        order = codec.dump_order(Order.market("X", "buy", 1, client_order_id=cid))
        conn.execute(
            "INSERT INTO orders (client_order_id, plugin, state, order_json, hints_json, "
            "owner, created_at, updated_at) VALUES (?, 'p', ?, ?, '{\"ticket\":\"7\"}', "
            "'gone-host:1:ab', ?, ?)",
            (cid, state, order, at, at),
        )
    events = [("v1-a", "intent", "sending"), ("v1-b", "intent", "sending"),
              ("v1-a", "result", "final")]  # fmt: skip
    for cid, kind, state in events:
        conn.execute(
            "INSERT INTO events (client_order_id, at, kind, state, detail_json) "
            "VALUES (?, '2026-01-01T00:00:03.000000+00:00', ?, ?, '{}')",
            (cid, kind, state),
        )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


async def test_a_version_1_file_is_refused_then_migrated_with_everything_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.sqlite3"
    _version_1_file(path)
    with pytest.raises(JournalSchemaError) as refused:
        await SqliteJournal(path).open()
    assert str(refused.value).endswith(f"fks-exec journal migrate --journal {path}")
    assert "schema version 1; this fks-exec needs 3" in str(refused.value)
    assert migrate_file(path) == (1, 3)
    journal = SqliteJournal(path)
    await journal.open()
    try:
        a, b = await journal.get("v1-a"), await journal.get("v1-b")
        assert a is not None and a.state is JournalState.FINAL and a.hints == {"ticket": "7"}
        assert b is not None and b.state is JournalState.SENDING and b.owner == "gone-host:1:ab"
        assert [e.kind for e in await journal.events("v1-a")] == ["intent", "result"]
        assert [e.kind for e in await journal.events("v1-b")] == ["intent"]
        again = await journal.claim(Order.market("X", "buy", 1, client_order_id="v1-a"), "p", {})
        assert not again.claimed  # the old entry still holds its id
        new = await journal.claim(Order.market("X", "buy", 1, client_order_id="v1-c"), "p", {})
        assert new.claimed and [e.kind for e in await journal.events("v1-c")] == ["intent"]
    finally:
        await journal.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        refs = conn.execute("SELECT client_order_id FROM orders ORDER BY ref").fetchall()
        assert refs == [("v1-a",), ("v1-b",), ("v1-c",)]  # in the order they were created
        ids = [i for (i,) in conn.execute("SELECT id FROM events ORDER BY id")]
        assert ids == [1, 2, 3, 4]  # old ids kept; new events numbered after them
        names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
        assert not names & {"orders_v1", "events_v1"}
        assert {"orders_open", "orders_updated", "events_order"} <= names
    finally:
        conn.close()


async def test_pruning_an_entry_deletes_its_events(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    await journal.open()
    try:
        for cid in ("p-1", "p-2"):
            await journal.claim(Order.market("X", "buy", 1, client_order_id=cid), "p", {})
        await journal.record(JournalUpdate("p-1", JournalState.FINAL, "result"))
        later = datetime.now(timezone.utc) + timedelta(seconds=1)
        assert await journal.prune(later) == 1  # p-2 is open: kept
        assert await journal.events("p-1") == []
        assert [e.kind for e in await journal.events("p-2")] == ["intent"]
    finally:
        await journal.close()
    conn = sqlite3.connect(path)
    try:  # the journal writes without SQLite's key checks: the keys must hold anyway
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


_NS_RANGE = (-62_135_596_800 * 10**9, 253_402_300_799 * 10**9)  # years 1-9999, UTC


@given(st.lists(st.integers(*_NS_RANGE) | st.integers(-(10**10), 10**10), min_size=1))
@settings(deadline=None)  # a loaded machine is no bug
def test_text_of_ns_is_time_text_of_that_instant_in_any_order(instants: list[int]) -> None:
    # In any order, so the once-per-second cache is never reused for another second.
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for ns in instants:
        expected = codec.time_text(epoch + timedelta(microseconds=ns // 1000))
        assert codec.text_of_ns(ns) == expected


def test_now_text_is_fixed_width_utc() -> None:
    text = codec.now_text()
    assert len(text) == len("2026-12-01T19:00:00.000000+00:00")
    assert datetime.fromisoformat(text).utcoffset() == timedelta(0)


def _result_of(status: OrderStatus, sent: bool | None, cid: str, filled: str) -> ExecutionResult:
    order = Order.market("X", "buy", 2, client_order_id=cid)
    price = None if filled == "0" else "100"
    return ExecutionResult.for_order(
        order, plugin="p", status=status, sent=sent, filled_quantity=filled, average_price=price
    )


def _valid(status: OrderStatus, sent: bool | None, filled: str) -> bool:
    try:
        _result_of(status, sent, "x", filled)
    except ValueError:  # a combination the model refuses (sent=False and accepted, ...)
        return False
    return True


_COMBINATIONS = [
    (status, sent, filled)
    for status in OrderStatus
    for sent in (True, False, None)
    for filled in ("0", "1", "2")
    if _valid(status, sent, filled)
]
# Every journal state and every status is reached (not sent, unknown, final, sent).
_RESULTS = st.builds(
    lambda combination, cid: _result_of(combination[0], combination[1], cid, combination[2]),
    st.sampled_from(_COMBINATIONS),
    st.text("ab-", min_size=1, max_size=4),
)


@given(_RESULTS, st.dictionaries(st.sampled_from(["ticket", "venue_id"]), st.text(max_size=3)),
       st.sampled_from(["result", "status", "reconciled"]))  # fmt: skip
@settings(deadline=None)
def test_an_update_op_of_a_result_is_the_op_of_its_update(
    result: ExecutionResult, hints: dict[str, str], kind: str
) -> None:
    direct = UpdateOp.of_result(result, hints, kind)
    via = UpdateOp.of(JournalUpdate.from_result(result, kind, hints=hints))
    assert direct._replace(at="") == via._replace(at="")
    assert datetime.fromisoformat(direct.at).utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="client order id"):
        UpdateOp.of_result(result.model_copy(update={"client_order_id": None}), hints)
