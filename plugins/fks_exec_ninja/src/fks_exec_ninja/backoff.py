"""Pauses between reconnection attempts: capped exponential backoff with jitter."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """The pause before each attempt: ``first_s`` doubling up to ``max_s``, each drawn
    at random between half of it and all of it ("equal jitter"), so many clients that
    lost one NinjaTrader do not come back in step.

    Raises ``ValueError`` for ``first_s`` <= 0 or ``max_s`` < ``first_s``.
    """

    def __init__(self, first_s: float, max_s: float, *, rng: random.Random | None = None) -> None:
        if first_s <= 0 or max_s < first_s:
            raise ValueError("backoff needs 0 < first_s <= max_s")
        self.first_s, self.max_s = first_s, max_s
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.attempts = 0

    def next_delay(self) -> float:
        """The pause before the next attempt (and count that attempt)."""
        ceiling: float = min(self.max_s, self.first_s * 2.0 ** min(self.attempts, 62))
        self.attempts += 1
        return ceiling / 2 + self._rng.random() * ceiling / 2

    def reset(self) -> None:
        """Start again from ``first_s`` (after a connection that stayed up)."""
        self.attempts = 0
