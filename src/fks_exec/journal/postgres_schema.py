"""The PostgreSQL journal's tables, its version (table ``fks_exec_schema``) and migrations.

Versioned like the SQLite file (:mod:`fks_exec.journal.schema`): ``STEPS[i]`` takes a
database from version ``i`` to ``i + 1``. Version 1 here holds what version 1 holds
there (times are ``timestamptz``, hints and details ``jsonb``); the SQLite file's
version 2 (events pointing to an integer order reference, to halve the pages a group
commit writes) has no counterpart here, as PostgreSQL's write-ahead log records rows,
not pages, so the numbers are each backend's own. Tables live in the connection's
``search_path`` (the ``public`` schema unless the URL says ``options=-csearch_path=x``).
An empty schema gets every step; an older one is refused until ``fks-exec journal
migrate --journal URL`` runs; one from a newer fks-exec is refused outright. Openers
are serialised by a transaction-scoped advisory lock, so two processes starting at
once on an empty database create the tables once.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from fks_exec.journal.base import JournalSchemaError

__all__ = ["STEPS", "check_version", "migrate"]

STEPS: list[list[str]] = [
    # 0 -> 1: orders (current state of each client order id) and their events.
    [
        """
        CREATE TABLE orders (
            client_order_id TEXT PRIMARY KEY,
            plugin          TEXT NOT NULL,
            state           TEXT NOT NULL,
            order_json      TEXT NOT NULL,
            result_json     TEXT,
            hints_json      JSONB NOT NULL DEFAULT '{}',
            attempt         INTEGER NOT NULL DEFAULT 1,
            owner           TEXT NOT NULL,
            lease_until     TIMESTAMPTZ,
            created_at      TIMESTAMPTZ NOT NULL,
            updated_at      TIMESTAMPTZ NOT NULL
        )
        """,
        "CREATE INDEX orders_open ON orders (plugin) WHERE state IN ('sending','sent','unknown')",
        "CREATE INDEX orders_open_owner ON orders (owner) "
        "WHERE state IN ('sending','sent','unknown')",
        "CREATE INDEX orders_updated ON orders (updated_at)",
        """
        CREATE TABLE events (
            id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            client_order_id TEXT NOT NULL REFERENCES orders (client_order_id) ON DELETE CASCADE,
            at              TIMESTAMPTZ NOT NULL,
            kind            TEXT NOT NULL,
            state           TEXT NOT NULL,
            status          TEXT,
            detail_json     JSONB NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX events_order ON events (client_order_id, id)",
    ],
]

_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.fks_exec_journal'))"
_HAS_VERSION = "SELECT to_regclass('fks_exec_schema') IS NOT NULL"
_HAS_ORDERS = "SELECT to_regclass('orders') IS NOT NULL"
_VERSION = "SELECT version FROM fks_exec_schema"
_CREATE_VERSION = "CREATE TABLE IF NOT EXISTS fks_exec_schema (version INTEGER NOT NULL)"


def current_version() -> int:
    """The schema version this code writes to PostgreSQL."""
    return len(STEPS)


Connection = AsyncConnection[Any]


async def _scalar(conn: Connection, sql: str) -> Any:
    row = await (await conn.execute(sql)).fetchone()
    return None if row is None else row[0]


async def _version(conn: Connection) -> int | None:
    """The stored version; 0 for an empty schema; None for tables that are no journal."""
    version = await _scalar(conn, _VERSION) if await _scalar(conn, _HAS_VERSION) else None
    if not version:
        return None if await _scalar(conn, _HAS_ORDERS) else 0
    return int(version)


async def _apply(conn: Connection, start: int) -> None:
    if start == 0:
        await conn.execute(_CREATE_VERSION)
        await conn.execute(
            "INSERT INTO fks_exec_schema (version) SELECT 0 "
            "WHERE NOT EXISTS (SELECT 1 FROM fks_exec_schema)"
        )
    for version in range(start, current_version()):
        for statement in STEPS[version]:
            await conn.execute(statement)
        await conn.execute("UPDATE fks_exec_schema SET version = %s", (version + 1,))


async def check_version(conn: Connection, location: str) -> None:
    """Create the tables in an empty schema; refuse a schema of another version.

    ``conn`` is an open ``psycopg.AsyncConnection`` outside a transaction. Raises
    :class:`JournalSchemaError` naming the command that migrates an old schema, or
    saying that a newer fks-exec wrote it, or that its tables are no journal.
    """
    async with conn.transaction():
        await conn.execute(_LOCK)
        version = await _version(conn)
        if version == 0:
            await _apply(conn, 0)
            version = current_version()
    if version == current_version():
        return
    if version is None:
        raise JournalSchemaError(
            f"{location} has an 'orders' table that is not an fks-exec journal; point "
            "FKS_EXEC_JOURNAL (or journal=) at another database or schema"
        )
    if version > current_version():
        raise JournalSchemaError(
            f"the journal at {location} has schema version {version}, newer than this "
            f"fks-exec understands ({current_version()}); upgrade fks-exec"
        )
    raise JournalSchemaError(
        f"the journal at {location} has schema version {version}; this fks-exec needs "
        f"{current_version()}. Stop every process using it, then run: "
        "fks-exec journal migrate --journal 'postgresql://...' (the same URL)"
    )


async def migrate(conn: Connection, location: str) -> tuple[int, int]:
    """Bring the schema to the current version in one transaction; returns (from, to).

    Raises :class:`JournalSchemaError` for a schema newer than this code or not a journal.
    """
    async with conn.transaction():
        await conn.execute(_LOCK)
        start = await _version(conn)
        if start is None:
            raise JournalSchemaError(f"{location} has an 'orders' table that is not a journal")
        if start > current_version():
            raise JournalSchemaError(
                f"the journal at {location} has schema version {start}, newer than this "
                "fks-exec understands; upgrade fks-exec"
            )
        await _apply(conn, start)
    return start, current_version()
