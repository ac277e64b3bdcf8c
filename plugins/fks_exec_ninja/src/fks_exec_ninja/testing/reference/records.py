"""What the reference server saw: every command, every connection attempt.

Tests use these to assert what must never happen whatever the client does: a reconnect
storm (``ConnectionLog.attempts``, ``max_open``), two PLACEs of one order id
(``order_arrivals``), a ConfirmOrders the user did not ask for.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from .commands import AtiCommand

__all__ = ["CommandRecord", "ConnectionLog", "ConnectionRecord"]


@dataclass(frozen=True)
class CommandRecord:
    """One Command message: its connection, text, parse and what the server did."""

    connection: int
    text: str
    command: AtiCommand | None
    outcome: str
    """``done``, ``rejected``, ``ignored`` (invalid, nothing pushed), ``withheld`` (ATI
    never said: not acted on), ``lost`` (connection dropped before the broker acted),
    ``lost_after_acted`` (acted on, answer dropped)."""
    error: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class ConnectionRecord:
    """One accepted TCP connection."""

    number: int
    opened_at: float
    closed_at: float | None = None
    outcome: str = "open"
    """``served``, ``refused`` (disconnected/refuse_next), ``closed_before_ati``,
    ``withheld``, ``wire_error`` (a field the DLL's loop cannot parse)."""


@dataclass
class ConnectionLog:
    """Connection attempts over the server's life."""

    records: list[ConnectionRecord] = field(default_factory=list)
    open_now: int = 0
    max_open: int = 0

    @property
    def attempts(self) -> int:
        """How many connections were accepted (refused ones included)."""
        return len(self.records)

    def opened(self) -> ConnectionRecord:
        """Record a new connection."""
        record = ConnectionRecord(len(self.records) + 1, time.monotonic())
        self.records.append(record)
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        return record

    def closed(self, record: ConnectionRecord, outcome: str) -> None:
        """Record the end of ``record`` (idempotent)."""
        if record.closed_at is None:
            record.closed_at = time.monotonic()
            record.outcome = outcome if record.outcome == "open" else record.outcome
            self.open_now -= 1

    def attempts_since(self, moment: float) -> int:
        """Connections accepted at or after ``moment`` (``time.monotonic()``)."""
        return sum(1 for r in self.records if r.opened_at >= moment)

    def outcomes(self) -> Counter[str]:
        """How many connections ended each way."""
        return Counter(r.outcome for r in self.records)
