"""Rows of the SQL journal tables to and from :mod:`fks_exec.journal.models` objects.

Orders and results are stored as their pydantic JSON (Decimals as exact text), hints
and event details as JSON objects, times as ISO 8601 UTC text with microseconds (so
text order is time order).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from fks_exec.journal.base import JournalError
from fks_exec.journal.models import JournalEntry, JournalEvent, JournalState
from fks_exec.models import ExecutionResult, Order, OrderStatus

__all__ = [
    "ENTRY_COLUMNS",
    "EVENT_COLUMNS",
    "dump_json",
    "dump_order",
    "dump_result",
    "entry_from_row",
    "event_from_row",
    "now_text",
    "text_of_ns",
    "time_text",
]

ENTRY_COLUMNS = (
    "client_order_id, plugin, state, order_json, result_json, hints_json, attempt, owner, "
    "created_at, updated_at"
)
EVENT_COLUMNS = "client_order_id, at, kind, state, status, detail_json"
"""What :func:`event_from_row` reads (SQLite: ``events`` joined to ``orders``)."""


def time_text(when: datetime) -> str:
    """``when`` as fixed-width ISO 8601 UTC text. Raises ``ValueError`` if naive."""
    if when.tzinfo is None:
        raise ValueError("journal times must be timezone-aware")
    return when.astimezone(timezone.utc).isoformat(timespec="microseconds")


_second_text: tuple[int | None, str] = (None, "")
"""The last whole second :func:`text_of_ns` formatted, and its text up to the seconds."""


def text_of_ns(ns: int) -> str:
    """``ns`` nanoseconds after the Unix epoch as :func:`time_text` writes that instant
    (to the microsecond), without making a ``datetime``: the date and time of day are
    formatted once per second. Raises ``ValueError``/``OverflowError`` outside years
    1-9999."""
    global _second_text
    second, micro = divmod(ns // 1000, 1_000_000)
    cached, head = _second_text
    if cached != second:
        head = datetime.fromtimestamp(second, timezone.utc).isoformat()[:19]
        _second_text = (second, head)
    return f"{head}.{micro:06d}+00:00"


def now_text() -> str:
    """The current time as :func:`time_text` writes it (see :func:`text_of_ns`)."""
    return text_of_ns(time.time_ns())


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def dump_order(order: Order) -> str:
    """The order as JSON. Raises :class:`JournalError` when ``params`` is not JSON-able."""
    try:
        # model_dump_json() without its keyword plumbing: the same bytes, decoded.
        return order.__pydantic_serializer__.to_json(order).decode()
    except (TypeError, ValueError) as exc:
        raise JournalError(
            f"order {order.client_order_id} cannot be journaled (its params are not "
            f"JSON-serializable: {type(exc).__name__}); nothing was sent"
        ) from None


def dump_result(result: ExecutionResult | None) -> str | None:
    """The result as JSON (None stays None)."""
    return None if result is None else result.__pydantic_serializer__.to_json(result).decode()


def dump_json(value: Mapping[str, Any]) -> str:
    """A mapping as compact JSON (non-JSON values as their text)."""
    if not value:
        return "{}"  # most hints and details: skips the encoder on the hot path
    return json.dumps(dict(value), separators=(",", ":"), default=str)


def entry_from_row(row: Sequence[Any]) -> JournalEntry:
    """A :class:`JournalEntry` from a row selected with :data:`ENTRY_COLUMNS`."""
    cid, plugin, state, order_json, result_json, hints_json, attempt, owner, created, updated = row
    return JournalEntry(
        client_order_id=cid,
        plugin=plugin if isinstance(plugin, str) else repr(plugin),  # an old version's bytes
        state=JournalState(state),
        order=Order.model_validate_json(order_json),
        result=None if result_json is None else ExecutionResult.model_validate_json(result_json),
        hints=json.loads(hints_json),
        attempt=int(attempt),
        owner=owner,
        created_at=_time(created),
        updated_at=_time(updated),
    )


def event_from_row(row: Sequence[Any]) -> JournalEvent:
    """A :class:`JournalEvent` from a row selected with :data:`EVENT_COLUMNS`."""
    cid, at, kind, state, status, detail_json = row
    return JournalEvent(
        client_order_id=cid,
        at=_time(at),
        kind=kind,
        state=JournalState(state),
        status=None if status is None else OrderStatus(status),
        detail=json.loads(detail_json),
    )
