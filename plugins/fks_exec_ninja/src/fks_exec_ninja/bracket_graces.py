"""The moment a bracket's values may take to come in full, before a decision is taken.

NinjaTrader pushes each order value (``OrderStatus|<id>``, ``Filled|<id>``,
``AvgFillPrice|<id>``) as its own Value message (DLL ``AtiSocket.Loop``, one per key;
``AtiSocket.Send`` writes each field on its own), in an order nothing documents, so a
read can end between any two of them: an entry's ``Cancelled`` before the fill that
came just before it, an OCO exit's ``Cancelled`` before the fill of the other exit
that cancelled it, an adopted exit's state before its ``Filled``. A decision that
would go wrong if such a value were still to come waits ``grace_s`` first
(:meth:`Graces.wait`); the bracket is looked at again then, and its values are taken
as they stand. One timer per waiting bracket, on the running event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fks_exec_ninja.bracket_legs import Bracket

__all__ = ["Graces"]


class Graces:
    """The waits of the brackets: ``grace_s`` long (None: no wait, and no event loop
    needed), after which ``look(bracket)`` looks at the bracket again."""

    def __init__(self, grace_s: float | None, look: Callable[[Bracket], None]) -> None:
        self._grace_s, self._look = grace_s, look
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.waited: Bracket | None = None
        """The bracket a :meth:`wait` was asked for since the look began (set to None
        at the start of each look)."""

    def __len__(self) -> int:
        return len(self._timers)

    def wait(self, bracket: Bracket) -> bool:
        """True when ``bracket``'s values have had their moment (``grace_s`` since they
        first looked incomplete, or no grace is set); else wait that moment (once per
        wait: a later value does not start it again) and return False. Raises
        ``RuntimeError`` without a running event loop when a grace is set."""
        if bracket.graced or self._grace_s is None:
            return True
        self.waited = bracket
        if bracket.entry_id not in self._timers:
            loop = asyncio.get_running_loop()
            self._timers[bracket.entry_id] = loop.call_later(self._grace_s, self._over, bracket)
        return False

    def settled(self, bracket: Bracket) -> None:
        """``bracket`` was decided on without waiting: a later wait starts anew."""
        bracket.graced = False
        self.cancel(bracket)

    def cancel(self, bracket: Bracket) -> None:
        """Stop ``bracket``'s wait, if any (it ended)."""
        timer = self._timers.pop(bracket.entry_id, None)
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        """Stop every wait: nothing is looked at again."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _over(self, bracket: Bracket) -> None:
        del self._timers[bracket.entry_id]
        bracket.graced = True
        self._look(bracket)
