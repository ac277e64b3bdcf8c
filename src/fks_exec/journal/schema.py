"""The SQLite journal's tables, its version (``PRAGMA user_version``) and migrations.

``STEPS[i]`` takes a file from version ``i`` to ``i + 1``; the current version is
``len(STEPS)``. A new file gets every step. An existing file at an older version is
refused (another process with older code may be using it) until ``fks-exec journal
migrate`` runs; a file from a newer fks-exec is refused outright.
"""

from __future__ import annotations

import sqlite3

from fks_exec.journal.base import JournalSchemaError

__all__ = ["OPEN_ENTRY", "STEPS", "check_version", "current_version", "migrate"]

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
    # 1 -> 2: each order gets an integer reference (``ref``, in insertion order) and its
    # events point to it. Client order ids are random text, so an index on them puts
    # every new id on another page: version 1 had two such indexes (the orders' key and
    # the events'), and a group commit of 64 orders wrote about 230 pages; the events'
    # index now grows at its end, and the same group writes about 110. The old tables
    # are renamed, copied (orders in the order they were created, events keeping their
    # ids) and dropped; their indexes go with them and are made again.
    """
    ALTER TABLE events RENAME TO events_v1;
    ALTER TABLE orders RENAME TO orders_v1;
    CREATE TABLE orders (
        ref             INTEGER PRIMARY KEY,
        client_order_id TEXT NOT NULL UNIQUE,
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
    CREATE TABLE events (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        order_ref       INTEGER NOT NULL REFERENCES orders (ref) ON DELETE CASCADE,
        at              TEXT NOT NULL,
        kind            TEXT NOT NULL,
        state           TEXT NOT NULL,
        status          TEXT,
        detail_json     TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO orders (client_order_id, plugin, state, order_json, result_json, hints_json,
        attempt, owner, lease_until, created_at, updated_at)
    SELECT client_order_id, plugin, state, order_json, result_json, hints_json, attempt,
        owner, lease_until, created_at, updated_at
    FROM orders_v1 ORDER BY created_at, client_order_id;
    INSERT INTO events (id, order_ref, at, kind, state, status, detail_json)
    SELECT e.id, o.ref, e.at, e.kind, e.state, e.status, e.detail_json
    FROM events_v1 AS e JOIN orders AS o ON o.client_order_id = e.client_order_id
    ORDER BY e.id;
    DROP TABLE events_v1;
    DROP TABLE orders_v1;
    CREATE INDEX orders_open ON orders (plugin) WHERE state IN ('sending', 'sent', 'unknown');
    CREATE INDEX orders_updated ON orders (updated_at);
    CREATE INDEX events_order ON events (order_ref, id);
    """,
    # 2 -> 3: the index of open entries says "open" with equalities, not IN. SQLite
    # checks a partial index's condition on every row it writes, and codes an IN list
    # as a temporary table it builds at each check: the index's IN made half of the
    # SQLite instructions of a claim and its result (171k -> 85k per order).
    """
    DROP INDEX orders_open;
    CREATE INDEX orders_open ON orders (plugin)
        WHERE state = 'sending' OR state = 'sent' OR state = 'unknown';
    """,
]

OPEN_ENTRY = "(state = 'sending' OR state = 'sent' OR state = 'unknown')"
"""An entry that is open, written as the index of open entries says it (so a query
with this condition can use that index)."""


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
