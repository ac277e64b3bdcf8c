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
from fks_exec.journal.models import Claim

__all__ = ["ClaimOp", "UpdateOp", "run_claims", "run_updates"]

# SQL text here is built from module constants only; values are always bound parameters.
_INSERT = (
    f"INSERT INTO orders ({codec.ENTRY_COLUMNS}) "  # noqa: S608
    "VALUES (?, ?, 'sending', ?, NULL, ?, 1, ?, ?, ?)"
)
_TAKE_OVER = (
    "UPDATE orders SET plugin = ?, state = 'sending', order_json = ?, result_json = NULL, "
    "hints_json = ?, attempt = ?, owner = ?, updated_at = ? "
    "WHERE client_order_id = ? AND state = 'not_sent'"
)
_EVENT = f"INSERT INTO events ({codec.EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608
_UPDATE = (
    "UPDATE orders SET state = ?, result_json = coalesce(?, result_json), "
    "plugin = coalesce(?, plugin), updated_at = ? WHERE client_order_id = ?"
)
_EXISTS = "SELECT 1 FROM orders WHERE client_order_id = ?"
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
            inserts.append((op.client_order_id, op.plugin, op.order_json, op.hints_json,
                            op.owner, op.now, op.now))  # fmt: skip
        else:
            take_overs.append((*values, op.client_order_id))
        rows[op.client_order_id] = [
            op.client_order_id, op.plugin, "sending", op.order_json, None, op.hints_json,
            attempt, op.owner, created, op.now,
        ]  # fmt: skip
        detail = codec.dump_json({"attempt": attempt, "owner": op.owner})
        events.append((op.client_order_id, op.now, "intent", "sending", None, detail))
        answers.append((attempt, created))
    if inserts:
        conn.executemany(_INSERT, inserts)
    if take_overs:
        conn.executemany(_TAKE_OVER, take_overs)
    if events:
        conn.executemany(_EVENT, events)
    return answers


def run_updates(conn: sqlite3.Connection, ops: list[UpdateOp]) -> list[Any]:
    """Apply every update in order; a missing entry fails alone with JournalError."""
    values = [(op.state, op.result_json, op.plugin, op.at, op.client_order_id) for op in ops]
    missing: set[int] = set()
    if conn.executemany(_UPDATE, values).rowcount != len(ops):
        missing = {
            i
            for i, op in enumerate(ops)
            if conn.execute(_EXISTS, (op.client_order_id,)).fetchone() is None
        }
    events = []
    for i, op in enumerate(ops):
        if i in missing:
            continue
        if op.hints:
            (stored,) = conn.execute(_HINTS, (op.client_order_id,)).fetchone()
            merged = codec.dump_json({**json.loads(stored), **op.hints})
            conn.execute(_SET_HINTS, (merged, op.client_order_id))
        events.append((op.client_order_id, op.at, op.kind, op.state, op.status, op.detail_json))
    if events:
        conn.executemany(_EVENT, events)
    return [
        JournalError(f"the journal has no entry for client order id {op.client_order_id!r}")
        if i in missing
        else None
        for i, op in enumerate(ops)
    ]
