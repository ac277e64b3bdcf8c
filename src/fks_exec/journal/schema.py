"""The SQLite journal's tables, its version (``PRAGMA user_version``) and migrations.

``STEPS[i]`` takes a file from version ``i`` to ``i + 1``; the current version is
``len(STEPS)``. A new file gets every step. An existing file at an older version is
refused (another process with older code may be using it) until ``fks-exec journal
migrate`` runs; a file from a newer fks-exec is refused outright.
"""

from __future__ import annotations

import sqlite3

from fks_exec.journal.base import JournalSchemaError

__all__ = ["STEPS", "check_version", "current_version", "migrate"]

STEPS: list[str] = [
    # 0 -> 1: orders (current state of each client order id) and their events.
    """
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        plugin          TEXT NOT NULL,
        state           TEXT NOT NULL,
        order_json      TEXT NOT NULL,
        result_json     TEXT,
        hints_json      TEXT NOT NULL DEFAULT '{}',
        attempt         INTEGER NOT NULL DEFAULT 1,
        owner           TEXT NOT NULL,
        lease_until     TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX orders_open ON orders (plugin) WHERE state IN ('sending', 'sent', 'unknown');
    CREATE INDEX orders_updated ON orders (updated_at);
    CREATE TABLE events (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        client_order_id TEXT NOT NULL REFERENCES orders (client_order_id) ON DELETE CASCADE,
        at              TEXT NOT NULL,
        kind            TEXT NOT NULL,
        state           TEXT NOT NULL,
        status          TEXT,
        detail_json     TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_order ON events (client_order_id, id);
    """,
]


def current_version() -> int:
    """The schema version this code writes."""
    return len(STEPS)


def _version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _is_empty(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return int(row[0]) == 0


def _apply(conn: sqlite3.Connection, start: int) -> None:
    for version in range(start, current_version()):
        for statement in STEPS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")


def check_version(conn: sqlite3.Connection, path: str) -> None:
    """Create the tables in an empty file; refuse a file of another version.

    Raises :class:`JournalSchemaError` naming the command that migrates an old file,
    or saying that a newer fks-exec wrote it, or that it is no journal at all.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn)
        if version == 0 and _is_empty(conn):
            _apply(conn, 0)
            version = current_version()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if version == current_version():
        return
    if version == 0:
        raise JournalSchemaError(
            f"{path} is an SQLite file but not an fks-exec journal; point "
            "FKS_EXEC_JOURNAL (or journal=) at another file"
        )
    if version > current_version():
        raise JournalSchemaError(
            f"the journal at {path} has schema version {version}, newer than this "
            f"fks-exec understands ({current_version()}); upgrade fks-exec"
        )
    raise JournalSchemaError(
        f"the journal at {path} has schema version {version}; this fks-exec needs "
        f"{current_version()}. Stop every process using it, then run: "
        f"fks-exec journal migrate --journal {path}"
    )


def migrate(conn: sqlite3.Connection, path: str) -> tuple[int, int]:
    """Bring the file to the current version in one transaction; returns (from, to).

    Raises :class:`JournalSchemaError` for a file newer than this code or not a journal.
    """
    conn.execute("BEGIN EXCLUSIVE")
    try:
        start = _version(conn)
        if start > current_version():
            raise JournalSchemaError(
                f"the journal at {path} has schema version {start}, newer than this "
                "fks-exec understands; upgrade fks-exec"
            )
        if start == 0 and not _is_empty(conn):
            raise JournalSchemaError(f"{path} is an SQLite file but not an fks-exec journal")
        _apply(conn, start)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return start, current_version()
