"""The SQLite journal's writes as data, executed in bulk by the worker thread.

A run of queued claims costs one ``SELECT ... IN``, one ``executemany`` of inserts,
one of take-overs and one of events, all inside the batch's ``BEGIN IMMEDIATE``
transaction: the write lock is held from the first read, so no other process can slip
an insert between the read and the write, and the primary key still refuses one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from fks_exec.journal import codec
from fks_exec.journal.base import JournalError
from fks_exec.journal.models import Claim, JournalUpdate

__all__ = ["ClaimOp", "UpdateOp", "run_claims", "run_updates"]

# SQL text here is built from module constants only; values are always bound parameters.
_INSERT_HEAD = (
    "INSERT INTO orders (client_order_id, plugin, state, order_json, hints_json, owner, "
    "created_at, updated_at) VALUES "
)
_TAKE_OVER = (
    "UPDATE orders SET plugin = ?, state = 'sending', order_json = ?, result_json = NULL, "
    "hints_json = ?, attempt = ?, owner = ?, updated_at = ? "
    "WHERE client_order_id = ? AND state = 'not_sent'"
)
_EVENT_HEAD = f"INSERT INTO events ({codec.EVENT_COLUMNS}) VALUES "  # noqa: S608
_APPLY_HEAD = (
    "INSERT INTO orders (client_order_id, state, result_json, plugin, updated_at, "
    "hints_json, order_json, owner, created_at) VALUES "
)
# json_patch merges the new hints into the stored ones (RFC 7396; values are strings).
_APPLY_TAIL = (
    " ON CONFLICT (client_order_id) DO UPDATE SET state = excluded.state, "
    "result_json = coalesce(excluded.result_json, orders.result_json), "
    "plugin = CASE WHEN excluded.plugin = '' THEN orders.plugin ELSE excluded.plugin END, "
    "updated_at = excluded.updated_at, "
    "hints_json = CASE WHEN excluded.hints_json = '' THEN orders.hints_json "
    "ELSE json_patch(orders.hints_json, excluded.hints_json) END"
)
_UPDATE = (
    "UPDATE orders SET state = ?, result_json = coalesce(?, result_json), "
    "plugin = coalesce(?, plugin), updated_at = ? WHERE client_order_id = ?"
)
_HINTS = "SELECT hints_json FROM orders WHERE client_order_id = ?"
_SET_HINTS = "UPDATE orders SET hints_json = ? WHERE client_order_id = ?"


@dataclass(frozen=True, slots=True)
class ClaimOp:
    """Insert an intent, take over a ``not_sent`` entry, or find the entry there."""

    client_order_id: str
    plugin: str
    order_json: str
    hints_json: str
    owner: str
    now: str


@dataclass(frozen=True, slots=True)
class UpdateOp:
    """Set an entry's state (and result, plugin, hints) and append its event."""

    client_order_id: str
    state: str
    result_json: str | None
    plugin: str | None
    hints: dict[str, str]
    at: str
    kind: str
    status: str | None
    detail_json: str

    @classmethod
    def of(cls, update: JournalUpdate) -> UpdateOp:
        """The row values of ``update``, as both SQL backends store them."""
        result = update.result
        return cls(
            update.client_order_id,
            update.state.value,
            codec.dump_result(result),
            update.plugin,
            dict(update.hints or {}),
            codec.time_text(update.at),
            update.kind,
            None if result is None else result.status.value,
            codec.dump_json(update.detail),
        )


_ROWS_PER_STATEMENT = 120  # x 7 columns stays under SQLite's oldest limit of 999 variables


def _insert_rows(conn: sqlite3.Connection, head: str, rows: list[tuple[Any, ...]]) -> None:
    """One multi-row INSERT per chunk: one step (and one GIL release) for many rows."""
    if not rows:
        return
    marks = "(" + ",".join("?" * len(rows[0])) + ")"
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        values = [value for row in chunk for value in row]
        conn.execute(head + ",".join([marks] * len(chunk)), values)


def _select_many(conn: sqlite3.Connection, cids: list[str]) -> dict[str, list[Any]]:
    unique = list(dict.fromkeys(cids))
    marks = ",".join("?" * len(unique))
    sql = f"SELECT {codec.ENTRY_COLUMNS} FROM orders WHERE client_order_id IN ({marks})"  # noqa: S608
    return {row[0]: list(row) for row in conn.execute(sql, unique)}


def run_claims(conn: sqlite3.Connection, ops: list[ClaimOp]) -> list[Any]:
    """Claim every op in order; returns a :class:`Claim` or ``(attempt, created_at)``
    (claimed: the caller builds the entry it already holds) for each."""
    rows = _select_many(conn, [op.client_order_id for op in ops])
    inserts, take_overs, events = [], [], []
    answers: list[Any] = []
    for op in ops:
        row = rows.get(op.client_order_id)
        if row is not None and row[2] != "not_sent":
            answers.append(Claim(codec.entry_from_row(row), claimed=False))
            continue
        attempt = 1 if row is None else int(row[6]) + 1
        created = op.now if row is None else row[8]
        values = (op.plugin, op.order_json, op.hints_json, attempt, op.owner, op.now)
        if row is None:
            inserts.append((op.client_order_id, op.plugin, "sending", op.order_json,
                            op.hints_json, op.owner, op.now, op.now))  # fmt: skip
        else:
            take_overs.append((*values, op.client_order_id))
        rows[op.client_order_id] = [
            op.client_order_id, op.plugin, "sending", op.order_json, None, op.hints_json,
            attempt, op.owner, created, op.now,
        ]  # fmt: skip
        detail = codec.dump_json({"attempt": attempt, "owner": op.owner})
        events.append((op.client_order_id, op.now, "intent", "sending", None, detail))
        answers.append((attempt, created))
    _insert_rows(conn, _INSERT_HEAD, inserts)
    if take_overs:
        conn.executemany(_TAKE_OVER, take_overs)
    _insert_rows(conn, _EVENT_HEAD, events)
    return answers


def _count_missing(conn: sqlite3.Connection, cids: list[str]) -> int:
    unique = list(dict.fromkeys(cids))
    marks = ",".join("?" * len(unique))
    sql = f"SELECT count(*) FROM orders WHERE client_order_id IN ({marks})"  # noqa: S608
    return len(unique) - int(conn.execute(sql, unique).fetchone()[0])


def _apply_all(conn: sqlite3.Connection, ops: list[UpdateOp]) -> None:
    # Every id exists (checked in this transaction), so this upsert only ever updates:
    # one statement for many rows. The empty order_json/owner/created_at only satisfy
    # NOT NULL (checked before the conflict) in the never-taken insert branch; an
    # empty plugin or hints text means "keep the stored one".
    rows = [(op.client_order_id, op.state, op.result_json, op.plugin or "", op.at,
             codec.dump_json(op.hints) if op.hints else "", "", "", "")
            for op in ops]  # fmt: skip
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        values = [value for row in chunk for value in row]
        sql = _APPLY_HEAD + ",".join(["(?,?,?,?,?,?,?,?,?)"] * len(chunk)) + _APPLY_TAIL
        conn.execute(sql, values)


def run_updates(conn: sqlite3.Connection, ops: list[UpdateOp]) -> list[Any]:
    """Apply every update in order; a missing entry fails alone with JournalError."""
    missing: set[int] = set()
    cids = [op.client_order_id for op in ops]
    bulk = _count_missing(conn, cids) == 0 and len(set(cids)) == len(cids)
    if bulk:
        _apply_all(conn, ops)
    else:  # a missing id, or one id updated twice in this batch: one at a time, in order
        values = [(op.state, op.result_json, op.plugin, op.at, op.client_order_id) for op in ops]
        for i, row in enumerate(values):
            if conn.execute(_UPDATE, row).rowcount != 1:
                missing.add(i)
    events = []
    for i, op in enumerate(ops):
        if i in missing:
            continue
        if op.hints and not bulk:
            (stored,) = conn.execute(_HINTS, (op.client_order_id,)).fetchone()
            merged = codec.dump_json({**json.loads(stored), **op.hints})
            conn.execute(_SET_HINTS, (merged, op.client_order_id))
        events.append((op.client_order_id, op.at, op.kind, op.state, op.status, op.detail_json))
    _insert_rows(conn, _EVENT_HEAD, events)
    return [
        JournalError(f"the journal has no entry for client order id {op.client_order_id!r}")
        if i in missing
        else None
        for i, op in enumerate(ops)
    ]
