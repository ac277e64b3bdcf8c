"""The SQLite journal's schema version 3 (the open entries' index without IN) and the
migration of a version 2 file written by the version 2 code path."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from fks_exec import Order
from fks_exec.journal import (
    JournalSchemaError,
    JournalState,
    JournalUpdate,
    SqliteJournal,
    migrate_file,
    schema,
)
from fks_exec.journal.models import OPEN_STATES


def _opcodes(conn: sqlite3.Connection, sql: str, params: tuple[str, ...]) -> list[str]:
    return [row[1] for row in conn.execute("EXPLAIN " + sql, params)]


def test_the_open_condition_names_exactly_the_open_states() -> None:
    named = set(re.findall(r"state = '(\w+)'", schema.OPEN_ENTRY))
    assert named == {state.value for state in OPEN_STATES}
    assert f"WHERE {schema.OPEN_ENTRY[1:-1]};" in " ".join(schema.STEPS[2].split())


async def test_writing_an_order_row_builds_no_temporary_table(tmp_path: Path) -> None:
    # A partial index's IN list is a temporary b-tree SQLite builds at every row it
    # writes (version 2: half the instructions of a claim and its result).
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    await journal.open()
    await journal.close()
    conn = sqlite3.connect(path)
    try:
        insert = (
            "INSERT INTO orders (client_order_id, plugin, state, order_json, owner, "
            "created_at, updated_at) VALUES (?, 'p', 'sending', '{}', 'o', 't', 't')"
        )
        update = "UPDATE orders SET state = 'final', updated_at = 'u' WHERE client_order_id = ?"
        for sql in (insert, update):
            assert "OpenEphemeral" not in _opcodes(conn, sql, ("c",)), sql
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT ref FROM orders WHERE {schema.OPEN_ENTRY} AND plugin = 'p'"
        ).fetchall()
        assert "orders_open" in str(plan)  # open entries are still found by the index
    finally:
        conn.close()


async def _write_with_version_2_code(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Orders in every kind of state, written while this code stops at version 2."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "STEPS", schema.STEPS[:2])
        journal = SqliteJournal(path)
        await journal.open()
        try:
            for cid in ("v2-final", "v2-open", "v2-again"):
                order = Order.market("X", "buy", 1, client_order_id=cid)
                assert (await journal.claim(order, "p", {"ticket": cid})).claimed
            await journal.record(JournalUpdate("v2-final", JournalState.FINAL, "result"))
            await journal.record(JournalUpdate("v2-again", JournalState.NOT_SENT, "not_sent"))
            again = Order.market("X", "buy", 1, client_order_id="v2-again")
            assert (await journal.claim(again, "q", {})).entry.attempt == 2
        finally:
            await journal.close()
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA user_version").fetchone() == (2,)
        finally:
            conn.close()


async def test_a_version_2_file_is_refused_then_migrated_with_everything_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v2.sqlite3"
    await _write_with_version_2_code(path, monkeypatch)
    conn = sqlite3.connect(path)
    try:
        before = [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("orders", "events")
        ]
    finally:
        conn.close()
    with pytest.raises(JournalSchemaError) as refused:
        await SqliteJournal(path).open()
    assert "schema version 2; this fks-exec needs 3" in str(refused.value)
    assert str(refused.value).endswith(f"fks-exec journal migrate --journal {path}")
    assert migrate_file(path) == (2, 3)
    conn = sqlite3.connect(path)
    try:
        after = [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("orders", "events")
        ]
        assert after == before  # every row as it was, ids included
        (index,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'orders_open'")
        assert " IN " not in index[0] and conn.execute("PRAGMA user_version").fetchone() == (3,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    journal = SqliteJournal(path)
    await journal.open()
    try:
        opened = {e.client_order_id for e in await journal.entries(open_only=True)}
        assert opened == {"v2-open", "v2-again"}
        kinds = [e.kind for e in await journal.events("v2-again")]
        assert kinds == ["intent", "not_sent", "intent"]
        assert migrate_file(path) == (3, 3)  # nothing left to do
    finally:
        await journal.close()


def test_migrate_refuses_a_file_that_is_no_journal_and_leaves_it_as_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(JournalSchemaError, match="not an fks-exec journal"):
        migrate_file(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:  # nothing was created, and the refusal left no transaction (or lock) behind
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
        assert names == ["notes"]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        conn.execute("BEGIN EXCLUSIVE")  # would fail with 'database is locked'
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_migrate_makes_an_empty_file_a_journal_of_this_version(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    assert migrate_file(path) == (0, schema.current_version())
    assert migrate_file(path) == (schema.current_version(), schema.current_version())


def test_a_refused_migration_rolls_back_on_the_callers_connection(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite"
    sqlite3.connect(path).close()
    migrate_file(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA user_version = {schema.current_version() + 1}")
        with pytest.raises(JournalSchemaError, match="newer than this"):
            schema.migrate(conn, str(path))
        assert not conn.in_transaction
    finally:
        conn.close()


def test_a_failed_creation_leaves_the_file_empty_and_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new.sqlite"
    monkeypatch.setattr(schema, "STEPS", [*schema.STEPS, "CREATE TABLE orders (x)"])
    conn = sqlite3.connect(path, isolation_level=None)
    try:  # the last step fails (orders exists): nothing of the earlier ones is kept
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            schema.check_version(conn, str(path))
        assert not conn.in_transaction
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    finally:
        conn.close()
