"""Capped, jittered delays for reconnect loops: :class:`Backoff`."""

from __future__ import annotations

import math
import random

__all__ = ["Backoff"]


class Backoff:
    """Delays that grow by ``factor`` from ``initial_s`` up to ``cap_s``, with jitter.

    Each delay is drawn uniformly from ``[d * (1 - jitter), d]`` around the nominal
    ``d`` ("equal jitter"), so many clients that lost one server do not come back in
    step; ``seed`` makes a sequence repeat in tests. :meth:`reset` after a success.
    Raises ``ValueError`` for delays that are not positive and finite, a ``factor``
    below 1 or a ``jitter`` outside [0, 1].
    """

    def __init__(
        self,
        initial_s: float = 0.1,
        cap_s: float = 10.0,
        *,
        factor: float = 2.0,
        jitter: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if not (0 < initial_s <= cap_s < math.inf):
            raise ValueError("need 0 < initial_s <= cap_s, both finite")
        if not 1 <= factor < math.inf or not 0 <= jitter <= 1:
            raise ValueError("factor must be >= 1 and jitter within [0, 1]")
        self.initial_s, self.cap_s, self.factor, self.jitter = initial_s, cap_s, factor, jitter
        self._random = random.Random(seed)  # noqa: S311 - timing jitter, not security
        self._nominal = initial_s
        self.attempts = 0
        """Delays handed out since the last :meth:`reset`."""

    def next_delay(self) -> float:
        """The seconds to wait before the next attempt (never above ``cap_s``)."""
        nominal = self._nominal
        self._nominal = min(self.cap_s, nominal * self.factor)
        self.attempts += 1
        return nominal * (1 - self.jitter * self._random.random())

    def reset(self) -> None:
        """Start again from ``initial_s`` (call it after a success)."""
        self._nominal = self.initial_s
        self.attempts = 0
