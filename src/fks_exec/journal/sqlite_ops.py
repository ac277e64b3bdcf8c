"""The SQLite journal's writes as data, applied in bulk by the worker thread.

A batch of queued claims and updates is ONE ``INSERT`` into a temporary view whose
``INSTEAD OF`` triggers (created per connection by :func:`install`; nothing in the
file's schema) apply each row in queue order:

- a claim inserts its intent, or takes over an entry in ``not_sent`` (state
  ``sending``, ``attempt`` + 1), and appends the ``intent`` event; an entry in any
  other state is left alone and handed back as it stands at that point of the batch;
- an update changes its entry and appends its event, or reports that the id is missing.

Outside a transaction that one statement is the batch's transaction, so the whole
batch, its ``fsync`` included, is one call into SQLite: the worker releases the GIL
once per batch, and needs it back only to deliver the answers. (Each release costs a
thread up to the interpreter's switch interval to get the GIL back from a busy event
loop.) The primary key decides every claim inside SQLite's write lock, so of two
processes claiming one id exactly one inserts. What a batch must report beyond "done"
(an entry left alone, a take-over's attempt, a missing id) the triggers pass to
Python through SQL functions, which run only in those cases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fks_exec.journal import codec
from fks_exec.journal.base import JournalError
from fks_exec.journal.models import Claim, JournalUpdate, state_for
from fks_exec.models import ExecutionResult, Order

__all__ = ["SETUP", "ClaimOp", "OpsConnection", "UpdateOp", "install", "run_ops"]

_COLUMNS = (
    "seq, op, cid, state, plugin, order_json, result_json, hints_json, owner, at, kind, "
    "status, detail_json"
)
_WIDTH = _COLUMNS.count(",") + 1
_EVENT_INSERT = "INSERT INTO events (order_ref, at, kind, state, status, detail_json) "
SETUP = (
    "CREATE TEMP VIEW IF NOT EXISTS fks_ops AS SELECT "
    + ", ".join(f"NULL AS {name.strip()}" for name in _COLUMNS.split(","))
    + " WHERE 0",
    # changes() is the row count of the trigger's last INSERT, UPDATE or DELETE (a
    # SELECT leaves it): after the upsert, 1 when the id was inserted or taken over,
    # else 0. A step that only some claims need looks its row up by a key that is NULL
    # for the others (CASE WHEN changes() ...): SQLite skips the search for a NULL key.
    "CREATE TEMP TRIGGER IF NOT EXISTS fks_claim INSTEAD OF INSERT ON fks_ops "  # noqa: S608
    "WHEN NEW.op = 'claim' BEGIN "
    "INSERT INTO orders (client_order_id, plugin, state, order_json, hints_json, owner, "
    "created_at, updated_at) VALUES (NEW.cid, NEW.plugin, 'sending', NEW.order_json, "
    "NEW.hints_json, NEW.owner, NEW.at, NEW.at) ON CONFLICT (client_order_id) DO UPDATE "
    "SET plugin = excluded.plugin, state = 'sending', order_json = excluded.order_json, "
    "result_json = NULL, hints_json = excluded.hints_json, attempt = attempt + 1, "
    "owner = excluded.owner, updated_at = excluded.updated_at WHERE state = 'not_sent'; "
    f"SELECT fks_held(NEW.seq, {codec.ENTRY_COLUMNS}) FROM orders "
    "WHERE client_order_id = CASE WHEN changes() = 0 THEN NEW.cid END; "
    # The intent event of a claimed id; a take-over (attempt > 1) is reported on the
    # way (fks_taken returns true).
    f"{_EVENT_INSERT}SELECT ref, NEW.at, 'intent', 'sending', NULL, "
    "json_object('attempt', attempt, 'owner', owner) FROM orders "
    "WHERE client_order_id = CASE WHEN changes() = 1 THEN NEW.cid END "
    "AND (attempt = 1 OR fks_taken(NEW.seq, attempt, created_at)); END",
    # json_patch merges new hints into the stored ones (RFC 7396; values are strings).
    "CREATE TEMP TRIGGER IF NOT EXISTS fks_update INSTEAD OF INSERT ON fks_ops "  # noqa: S608
    "WHEN NEW.op = 'update' BEGIN "
    "UPDATE orders SET state = NEW.state, result_json = coalesce(NEW.result_json, "
    "result_json), plugin = coalesce(NEW.plugin, plugin), updated_at = NEW.at, "
    "hints_json = CASE WHEN NEW.hints_json IS NULL THEN hints_json "
    "ELSE json_patch(hints_json, NEW.hints_json) END WHERE client_order_id = NEW.cid; "
    "SELECT fks_missing(NEW.seq) WHERE changes() = 0; "
    f"{_EVENT_INSERT}SELECT ref, NEW.at, NEW.kind, NEW.state, NEW.status, "
    "NEW.detail_json FROM orders WHERE client_order_id = NEW.cid AND changes() = 1; END",
)
"""The temporary view and triggers :func:`run_ops` writes through."""
_OPS_HEAD = f"INSERT INTO fks_ops ({_COLUMNS}) VALUES "  # noqa: S608 - constants only
_LEGACY_ROWS = 76  # x 13 columns = 988 variables: SQLite's limit before 3.32 is 999
_LIMIT_VARIABLE_NUMBER = 9  # sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER (Python 3.11+)


@dataclass(slots=True)
class _Notes:
    """What the triggers reported during one batch, by the op's position in it."""

    held: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    taken: dict[int, tuple[int, str]] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)

    def clear(self) -> None:
        self.held.clear()
        self.taken.clear()
        self.missing.clear()


class OpsConnection(sqlite3.Connection):
    """An SQLite connection :func:`run_ops` can write through once :func:`install`
    prepared it (open one with ``sqlite3.connect(..., factory=OpsConnection)``)."""

    notes: _Notes


def install(conn: OpsConnection) -> None:
    """Create the view, triggers and SQL functions :func:`run_ops` needs on ``conn``
    (a connection to a journal of the current schema).

    The read first loads the file's tables into the connection's schema cache: another
    process may have created them after this connection first looked at the file, and
    the triggers' statements are compiled against that cache.
    """
    notes = _Notes()

    def held(seq: int, *row: Any) -> None:
        notes.held[seq] = row

    def taken(seq: int, attempt: int, created_at: str) -> bool:
        notes.taken[seq] = (attempt, created_at)
        return True

    conn.create_function("fks_held", 1 + codec.ENTRY_COLUMNS.count(",") + 1, held)
    conn.create_function("fks_taken", 3, taken)
    conn.create_function("fks_missing", 1, notes.missing.add)
    conn.execute("SELECT 1 FROM orders LIMIT 0")
    for statement in SETUP:
        conn.execute(statement)
    conn.notes = notes


_new_tuple = tuple.__new__


class ClaimOp(NamedTuple):
    """Insert an intent, take over a ``not_sent`` entry, or find the entry there.

    (Named tuples, not dataclasses: the event loop makes one per order, and a tuple is
    made in a fraction of a frozen dataclass's time.)"""

    client_order_id: str
    plugin: str
    order_json: str
    hints_json: str
    owner: str
    now: str

    @classmethod
    def of_order(cls, order: Order, plugin: str, hints: Mapping[str, str], owner: str) -> ClaimOp:
        """The row values of ``order``'s intent, at now, as both SQL backends store them.

        Raises what :func:`codec.dump_order` raises, before anything is queued.
        """
        return _new_tuple(cls, (  # cls(...) without the named tuple's __new__ frame
            order.client_order_id, plugin, codec.dump_order(order), codec.dump_json(hints),
            owner, codec.now_text(),
        ))  # fmt: skip


class UpdateOp(NamedTuple):
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

    @classmethod
    def of_result(
        cls,
        result: ExecutionResult,
        hints: Mapping[str, str],
        kind: str = "result",
        at: str | None = None,
    ) -> UpdateOp:
        """What ``of(JournalUpdate.from_result(result, kind, hints=hints))`` gives, at
        ``at`` (text of :func:`codec.time_text`; default now), without making the update
        (the hot path records every answer this way).

        Raises ``ValueError`` for a result without a client order id.
        """
        cid = result.client_order_id
        if cid is None:
            raise ValueError("only results carrying a client order id can be journaled")
        return _new_tuple(cls, (  # cls(...) without the named tuple's __new__ frame
            cid, state_for(result).value, codec.dump_result(result), None, dict(hints),
            codec.now_text() if at is None else at, kind, result.status.value, "{}",
        ))  # fmt: skip


def _row(seq: int, op: ClaimOp | UpdateOp) -> tuple[Any, ...]:
    if isinstance(op, ClaimOp):
        return (seq, "claim", op.client_order_id, "sending", op.plugin, op.order_json, None,
                op.hints_json, op.owner, op.now, "intent", None, None)  # fmt: skip
    hints = codec.dump_json(op.hints) if op.hints else None
    return (seq, "update", op.client_order_id, op.state, op.plugin or None, None,
            op.result_json, hints, None, op.at, op.kind, op.status, op.detail_json)  # fmt: skip


def _rows_per_statement(conn: sqlite3.Connection) -> int:
    getlimit = getattr(conn, "getlimit", None)  # Python 3.11+
    if getlimit is None:
        return _LEGACY_ROWS  # Python 3.10 cannot ask the library
    limit = getlimit(_LIMIT_VARIABLE_NUMBER)
    return max(1, int(limit) // _WIDTH)


def _insert_ops(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Every row into ``fks_ops``; several statements share one transaction."""
    size = _rows_per_statement(conn)
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    own = len(chunks) > 1 and not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        marks = "(" + ",".join("?" * _WIDTH) + ")"
        for chunk in chunks:
            values = [value for row in chunk for value in row]
            conn.execute(_OPS_HEAD + ",".join([marks] * len(chunk)), values)
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _missing(client_order_id: str) -> JournalError:
    return JournalError(f"the journal has no entry for client order id {client_order_id!r}")


def run_ops(conn: sqlite3.Connection, ops: list[ClaimOp | UpdateOp]) -> list[Any]:
    """Apply ``ops`` in order on a connection prepared by :func:`install`; one answer
    each: for a claim, ``(attempt, created_at)`` when it claimed the id, else the
    unclaimed :class:`Claim` of the entry it found; for an update, None, or the
    :class:`JournalError` saying its id is not in the journal.

    Outside a transaction the batch is committed on return. Raises ``sqlite3.Error``
    (nothing was applied) when a statement fails, and ``TypeError`` for a connection
    :func:`install` did not prepare.
    """
    if not isinstance(conn, OpsConnection) or not hasattr(conn, "notes"):
        raise TypeError("run_ops needs a connection prepared by install()")
    notes = conn.notes
    notes.clear()
    _insert_ops(conn, [_row(seq, op) for seq, op in enumerate(ops)])
    answers: list[Any] = []
    missing = notes.missing
    for seq, op in enumerate(ops):
        if isinstance(op, UpdateOp):
            answers.append(_missing(op.client_order_id) if seq in missing else None)
        elif seq in notes.held:
            answers.append(Claim(codec.entry_from_row(notes.held[seq]), claimed=False))
        else:
            answers.append(notes.taken.get(seq, (1, op.now)))
    notes.clear()
    return answers
