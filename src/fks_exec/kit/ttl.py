"""Values that expire: :class:`TtlCache`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["TtlCache"]

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A cache whose entries expire ``ttl_s`` seconds after they were set.

    ``clock`` (default ``time.monotonic``) is injectable for tests; at most ``maxlen``
    entries are kept (oldest dropped). Raises ``ValueError`` for a negative or
    non-finite ``ttl_s``.
    """

    def __init__(
        self, ttl_s: float, *, maxlen: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 <= ttl_s < math.inf:
            raise ValueError("ttl_s must be a finite number of seconds, not negative")
        self.ttl_s = ttl_s
        self._maxlen = maxlen
        self._clock = clock
        self._items: dict[K, tuple[float, V]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        """The value of ``key`` while it is fresh, else None (and it is dropped)."""
        item = self._items.get(key)
        if item is None:
            return None
        if self._clock() >= item[0]:
            del self._items[key]
            return None
        return item[1]

    def set(self, key: K, value: V) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds from now."""
        self._items.pop(key, None)
        self._items[key] = (self._clock() + self.ttl_s, value)
        while len(self._items) > self._maxlen:
            del self._items[next(iter(self._items))]

    def clear(self) -> None:
        """Forget every entry."""
        self._items.clear()
