"""The PostgreSQL journal's writes, run in batches: one statement per kind of write.

A batch of queued claims (or updates) is sent as arrays (binary, so the client does no
text escaping of the JSON) and unpacked server-side with ``unnest``, so a hundred
claims cost one statement and one prepared plan, inside the batch's transaction (group
commit). Claims rest on the primary key: ``INSERT ... ON CONFLICT DO UPDATE ... WHERE
state = 'not_sent'`` either inserts the intent, takes over an id certainly never sent,
or leaves the row alone (then the claimer gets the entry that is there); a concurrent
claimer of the same id blocks on the key until the first commits, so exactly one wins.
An id appears at most once in a statement: a batch holding one id twice runs in
rounds, in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

from psycopg import AsyncConnection

from fks_exec.journal import codec
from fks_exec.journal.base import JournalError
from fks_exec.journal.models import Claim, JournalEntry, JournalEvent
from fks_exec.journal.sqlite_ops import ClaimOp, UpdateOp

__all__ = [
    "ADOPT",
    "ENTRY_SELECT",
    "EVENT_SELECT",
    "OPEN_SQL",
    "RELEASE",
    "RENEW",
    "entry_from_pg",
    "event_from_pg",
    "rounds",
    "run_claims",
    "run_updates",
]

Connection = AsyncConnection[Any]
T = TypeVar("T")

OPEN_SQL = "state IN ('sending','sent','unknown')"
ENTRY_SELECT = (
    "SELECT client_order_id, plugin, state, order_json, result_json, hints_json::text, "
    "attempt, owner, created_at, updated_at FROM orders"
)
EVENT_SELECT = (
    "SELECT client_order_id, at, kind, state, status, detail_json::text FROM events "
    "WHERE client_order_id = %s ORDER BY id"
)
_LEASE = "clock_timestamp() + make_interval(secs => %(lease_s)s)"
_CLAIM = f"""
WITH input AS (
    SELECT * FROM unnest(%(cid)b::text[], %(plugin)b::text[], %(order_json)b::text[],
                         %(hints)b::text[], %(now)b::timestamptz[])
        AS t(cid, plugin, order_json, hints, now)
), claimed AS (
    INSERT INTO orders AS o (client_order_id, plugin, state, order_json, hints_json,
                             attempt, owner, lease_until, created_at, updated_at)
    SELECT cid, plugin, 'sending', order_json, hints::jsonb, 1, %(owner)s, {_LEASE}, now, now
    FROM input
    ON CONFLICT (client_order_id) DO UPDATE SET
        plugin = excluded.plugin, state = 'sending', order_json = excluded.order_json,
        result_json = NULL, hints_json = excluded.hints_json, attempt = o.attempt + 1,
        owner = excluded.owner, lease_until = excluded.lease_until,
        updated_at = excluded.updated_at
    WHERE o.state = 'not_sent'
    RETURNING o.client_order_id, o.attempt, o.created_at, o.updated_at
), intents AS (
    INSERT INTO events (client_order_id, at, kind, state, detail_json)
    SELECT client_order_id, updated_at, 'intent', 'sending',
           jsonb_build_object('attempt', attempt, 'owner', %(owner)s::text)
    FROM claimed
)
SELECT client_order_id, attempt, created_at FROM claimed
"""  # noqa: S608 - built from module constants; every value is a bound parameter
_CLAIMED_ROWS = f"{ENTRY_SELECT} WHERE client_order_id = ANY(%b)"
_UPDATE = """
WITH input AS (
    SELECT * FROM unnest(%(cid)b::text[], %(state)b::text[], %(result_json)b::text[],
                         %(plugin)b::text[], %(hints)b::text[], %(at)b::timestamptz[],
                         %(kind)b::text[], %(status)b::text[], %(detail)b::text[])
        WITH ORDINALITY AS t(cid, state, result_json, plugin, hints, at, kind, status,
                             detail, n)
), changed AS (
    UPDATE orders AS o SET
        state = i.state, result_json = coalesce(i.result_json, o.result_json),
        plugin = coalesce(i.plugin, o.plugin), updated_at = i.at,
        hints_json = CASE WHEN i.hints IS NULL THEN o.hints_json
                          ELSE o.hints_json || i.hints::jsonb END
    FROM input AS i WHERE o.client_order_id = i.cid
    RETURNING o.client_order_id
), logged AS (
    INSERT INTO events (client_order_id, at, kind, state, status, detail_json)
    SELECT i.cid, i.at, i.kind, i.state, i.status, i.detail::jsonb
    FROM input AS i JOIN changed AS c ON c.client_order_id = i.cid ORDER BY i.n
)
SELECT client_order_id FROM changed
"""
ADOPT = f"""
UPDATE orders SET owner = %(owner)s, lease_until = {_LEASE}
WHERE client_order_id = ANY(%(cids)s) AND {OPEN_SQL} AND owner <> %(owner)s
  AND (owner = ANY(%(gone)s) OR lease_until IS NULL OR lease_until < clock_timestamp())
RETURNING client_order_id
"""  # noqa: S608 - module constants only
RENEW = f"UPDATE orders SET lease_until = {_LEASE} WHERE owner = %(owner)s AND {OPEN_SQL}"  # noqa: S608
RELEASE = (
    f"UPDATE orders SET lease_until = clock_timestamp() WHERE owner = %(owner)s AND {OPEN_SQL}"  # noqa: S608
)


def _text(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


def entry_from_pg(row: Sequence[Any]) -> JournalEntry:
    """A :class:`JournalEntry` from a row selected with :data:`ENTRY_SELECT`."""
    return codec.entry_from_row([*row[:8], _text(row[8]), _text(row[9])])


def event_from_pg(row: Sequence[Any]) -> JournalEvent:
    """A :class:`JournalEvent` from a row selected with :data:`EVENT_SELECT`."""
    return codec.event_from_row([row[0], _text(row[1]), *row[2:]])


def rounds(items: Sequence[T], key: Callable[[T], str]) -> list[list[T]]:
    """Split ``items`` into rounds with each client id (``key``) at most once, keeping
    each id's items in order (round ``k`` holds the ``k``-th item of every id)."""
    seen: dict[str, int] = {}
    out: list[list[T]] = []
    for item in items:
        cid = key(item)
        k = seen.get(cid, 0)
        seen[cid] = k + 1
        if k == len(out):
            out.append([])
        out[k].append(item)
    return out


Answers = Callable[[], Awaitable[list[Any]]]
"""Reads the answers of statements already sent (after the pipeline synced)."""


async def run_claims(
    conn: Connection, ops: Sequence[ClaimOp], owner: str, lease_s: float
) -> Answers:
    """Send the claims of every op (one round: distinct ids). The returned function
    gives, for each op, a :class:`Claim` (unclaimed) or ``(attempt, created_at)``
    (claimed: the caller builds the entry)."""
    params = {
        "cid": [op.client_order_id for op in ops],
        "plugin": [op.plugin for op in ops],
        "order_json": [op.order_json for op in ops],
        "hints": [op.hints_json for op in ops],
        "now": [op.now for op in ops],
        "owner": owner,
        "lease_s": lease_s,
    }
    claimed_cur = await conn.execute(_CLAIM, params)
    # Read after the upsert: any row it left alone was committed before it returned.
    rows_cur = await conn.execute(_CLAIMED_ROWS, (params["cid"],))

    async def answers() -> list[Any]:
        claimed = {r[0]: (int(r[1]), _text(r[2])) for r in await claimed_cur.fetchall()}
        rows = {row[0]: row for row in await rows_cur.fetchall()}
        out: list[Any] = []
        for op in ops:
            won = claimed.get(op.client_order_id)
            row = rows.get(op.client_order_id)
            if won is not None:
                out.append(won)
            elif row is None:  # pragma: no cover - the upsert inserts or finds a row
                out.append(JournalError(f"claim of {op.client_order_id} found no row"))
            else:
                out.append(Claim(entry_from_pg(row), claimed=False))
        return out

    return answers


async def run_updates(conn: Connection, ops: Sequence[UpdateOp]) -> Answers:
    """Send every update (one round: distinct ids) with its event. The returned
    function gives None for each applied op; a missing entry fails alone with
    :class:`JournalError`."""
    params = {
        "cid": [op.client_order_id for op in ops],
        "state": [op.state for op in ops],
        "result_json": [op.result_json for op in ops],
        "plugin": [op.plugin for op in ops],
        "hints": [codec.dump_json(op.hints) if op.hints else None for op in ops],
        "at": [op.at for op in ops],
        "kind": [op.kind for op in ops],
        "status": [op.status for op in ops],
        "detail": [op.detail_json for op in ops],
    }
    cur = await conn.execute(_UPDATE, params)

    async def answers() -> list[Any]:
        changed = {row[0] for row in await cur.fetchall()}
        missing = "the journal has no entry for client order id {!r}"
        return [
            None if cid in changed else JournalError(missing.format(cid))
            for cid in (op.client_order_id for op in ops)
        ]

    return answers
