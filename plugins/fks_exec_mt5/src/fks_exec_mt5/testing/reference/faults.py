"""The faults the fake can inject, in the MetaTrader5 package's own failure vocabulary.

The package reports failures of the link to the terminal through ``last_error()``
(https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py); the trading call
returns ``None``:

- ``refuse_next()`` / ``disconnect()``: -10004 RES_E_INTERNAL_FAIL_CONNECT, "No IPC
  connection" — what a real script sees when the terminal is not there (exness-pymt5/
  metatrader5 issue 2: ``None (-10004, 'No IPC connection')``). The request provably
  never reached the terminal, so nothing was sent.
- ``lose_next_answer(after_broker_acted=...)``: -10005 RES_E_INTERNAL_FAIL_TIMEOUT,
  "IPC timeout" (lucas-campagna/mt5linux issue 55) in both cases, so the caller cannot
  tell whether the server acted — which is the point: it must report ``unknown``.
- ``fail_next(function, code)``: any other documented last_error code (-1 ... -8,
  -10000 ... -10005) for the next call of one function, the request not reaching the
  server — to test how a caller maps each code.
- After ``reconnect()`` the terminal is back but, like a restarted terminal, needs
  ``initialize()`` again before it answers (``reconnect_requires_initialize``,
  **inferred**, default True).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["FaultState"]


@dataclass
class FaultState:
    """Pending one-shot faults, the link state, and the answer delay."""

    refuse_next: int = 0
    losses: list[str] = field(default_factory=list)
    disconnected: bool = False
    latency_s: float = 0.0
    scripted: dict[str, list[int]] = field(default_factory=dict)

    def script(self, function: str, code: int) -> None:
        """Make the next call of ``function`` fail with last_error ``code``."""
        self.scripted.setdefault(function, []).append(code)

    def take_scripted(self, function: str) -> int | None:
        """The scripted failure code for this call of ``function``, if any."""
        codes = self.scripted.get(function)
        return codes.pop(0) if codes else None

    def delay(self) -> None:
        """Sleep for the configured latency (outside the fake's lock)."""
        if self.latency_s > 0:
            time.sleep(self.latency_s)

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``; raises ``ValueError`` if negative."""
        if seconds < 0:
            raise ValueError("latency cannot be negative")
        self.latency_s = seconds

    def take_refusal(self) -> bool:
        """Consume a pending refusal; True if this request is refused."""
        if self.refuse_next:
            self.refuse_next -= 1
            return True
        return False

    def take_loss(self) -> str | None:
        """Consume a pending lost answer: ``'before'``, ``'after'`` or None."""
        return self.losses.pop(0) if self.losses else None

    def queue_loss(self, *, after_broker_acted: bool) -> None:
        """Lose the answer of a coming request, before or after the server acts."""
        self.losses.append("after" if after_broker_acted else "before")
