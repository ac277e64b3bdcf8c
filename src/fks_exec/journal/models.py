"""What the journal records: states, entries, events, and the updates that change them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from fks_exec.models import ExecutionResult, Order, OrderStatus

__all__ = [
    "OPEN_STATES",
    "Claim",
    "JournalEntry",
    "JournalEvent",
    "JournalState",
    "JournalUpdate",
    "reopens",
    "state_for",
    "status_news",
    "was_not_sent",
]


class JournalState(str, Enum):
    """Where the journal stands on one client order id (not the broker's ``OrderStatus``).

    ``sending``: the intent is committed and the order is being handed to the plugin;
    ``sent``: the broker has it and it can still change; ``final``: the broker's last
    word (filled, canceled, rejected, expired); ``not_sent``: certainly nothing reached
    the broker, so the id may be sent again; ``unknown``: the order may have reached the
    broker and no lookup has found it yet. ``sending``, ``sent`` and ``unknown`` are
    *open*: they are reconciled at start-up and never pruned.
    """

    SENDING = "sending"
    SENT = "sent"
    FINAL = "final"
    NOT_SENT = "not_sent"
    UNKNOWN = "unknown"

    @property
    def is_open(self) -> bool:
        """True while the order could still need reconciling (sending, sent, unknown)."""
        return self in OPEN_STATES

    def __str__(self) -> str:
        return str(self.value)


OPEN_STATES = frozenset({JournalState.SENDING, JournalState.SENT, JournalState.UNKNOWN})


def was_not_sent(result: ExecutionResult) -> bool:
    """True when ``result`` says nothing left for the broker (``sent is False``)."""
    return result.sent is False


def reopens(before: ExecutionResult, after: ExecutionResult) -> bool:
    """True when ``after`` would turn ``before``, a final result, into an open one."""
    return before.status.is_final and not after.status.is_final


def status_news(before: ExecutionResult | None, after: ExecutionResult) -> bool:
    """True when a lookup's ``after`` should be recorded over ``before``, the result on
    record: its status or fill changed, and it does not turn a final order back into
    an open one (a final order cannot change: a read that says it works, or is unknown,
    is a read that missed something, and is not recorded; a correction from one final
    status to another is)."""
    if before is None:
        return True
    if reopens(before, after):
        return False
    return (before.status, before.filled_quantity) != (after.status, after.filled_quantity)


def state_for(result: ExecutionResult) -> JournalState:
    """The journal state a plugin's ``result`` puts an order in."""
    if was_not_sent(result):
        return JournalState.NOT_SENT
    if result.status is OrderStatus.UNKNOWN:
        return JournalState.UNKNOWN
    return JournalState.FINAL if result.status.is_final else JournalState.SENT


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """The current record of one client order id."""

    client_order_id: str
    plugin: str
    """The plugin instance name the order was (or is being) handed to."""
    state: JournalState
    order: Order
    result: ExecutionResult | None
    """The last result the journal learnt; None while only the intent is recorded."""
    hints: Mapping[str, str]
    """What a later process needs to find the order again (venue id, ticket, ...)."""
    attempt: int
    """1, plus one for each resend after a ``not_sent`` outcome."""
    owner: str
    """The journal handle (process) that made the latest claim."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One line of an order's history: what happened, and the state it left."""

    client_order_id: str
    at: datetime
    kind: str
    """``intent``, ``result``, ``not_sent``, ``reconciled``, ``not_found``, ``status``..."""
    state: JournalState
    status: OrderStatus | None
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JournalUpdate:
    """A change to one entry: its new state, and the event that explains it.

    ``result``, ``hints`` (merged into the stored ones) and ``plugin`` are applied when
    given; ``detail`` goes into the event only.
    """

    client_order_id: str
    state: JournalState
    kind: str
    result: ExecutionResult | None = None
    hints: Mapping[str, str] | None = None
    plugin: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=_utc_now)

    @classmethod
    def from_result(
        cls, result: ExecutionResult, kind: str = "result", **fields: Any
    ) -> JournalUpdate:
        """The update that records ``result`` (its state derived by :func:`state_for`).

        Raises ``ValueError`` for a result without a client order id.
        """
        if result.client_order_id is None:
            raise ValueError("only results carrying a client order id can be journaled")
        return cls(result.client_order_id, state_for(result), kind, result=result, **fields)


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer of :meth:`Journal.claim`: the entry now under the id, and whether the
    caller owns the send (``claimed``: the id was new, or was ``not_sent`` and is now
    ``sending`` again). Unclaimed, the caller must not send: the entry is someone
    else's order, or an order already sent."""

    entry: JournalEntry
    claimed: bool
