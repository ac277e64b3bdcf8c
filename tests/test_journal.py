"""Journal backends: the shared conformance suite, a model-based property test, and the
SQLite file's schema versions, WAL mode and sharing between processes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec.journal import (
    Journal,
    JournalSchemaError,
    JournalState,
    JournalUpdate,
    MemoryJournal,
    SqliteJournal,
    migrate_file,
    schema,
)
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
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, "CREATE TABLE later (x TEXT)"])
    with pytest.raises(JournalSchemaError, match="fks-exec journal migrate --journal"):
        await SqliteJournal(path).open()
    assert migrate_file(path) == (1, 2)
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
