"""A dict bounded in size: :class:`BoundedDict`."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

__all__ = ["BoundedDict"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(OrderedDict[K, V]):
    """A dict that keeps at most ``maxlen`` entries, forgetting the oldest first.

    "Oldest" is insertion order; :meth:`touch` (or ``lru=True``, which touches on every
    read through :meth:`get`) makes it least recently used instead. ``[]`` never
    reorders: ``OrderedDict`` calls it from its own methods on some Pythons (3.10's
    ``popitem``). Raises ``ValueError`` for a ``maxlen`` below 1.
    """

    def __init__(self, maxlen: int, *, lru: bool = False) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        super().__init__()
        self.maxlen = maxlen
        self.lru = lru

    def __setitem__(self, key: K, value: V) -> None:
        if key in self:
            self.move_to_end(key)
        super().__setitem__(key, value)
        while len(self) > self.maxlen:
            self.popitem(last=False)

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        """The value of ``key`` (marking it recently used when ``lru``), or ``default``."""
        if key not in self:
            return default
        if self.lru:
            self.move_to_end(key)
        return super().__getitem__(key)

    def touch(self, key: K) -> None:
        """Mark ``key`` as the newest entry. Raises ``KeyError`` when it is absent."""
        self.move_to_end(key)
