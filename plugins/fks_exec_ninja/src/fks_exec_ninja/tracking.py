"""Waiting for NinjaTrader's pushes: one future per waiting order, resolved by the reader.

The reader calls :meth:`Waiters.on_value` with every pushed value and
:meth:`Waiters.on_batch` after each read; a waiter whose values changed in that read
looks at them again and resolves its future when they answer it (judged per read, so the
values NinjaTrader pushes together are judged together, in whatever order they came). There is
no task, event or polling per order: one future and one timer handle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal

from fks_exec_ninja.states import Observed, observe

__all__ = ["AGREED", "DISAGREED", "LOST", "TIMED_OUT", "Waiters"]

AGREED, TIMED_OUT, DISAGREED, LOST = "agreed", "timed_out", "disagreed", "lost"
_ORDER_KEYS = frozenset({"OrderStatus", "Filled", "AvgFillPrice"})
Ready = Callable[[Observed], bool]


class _Waiter:
    __slots__ = (
        "agree_s",
        "avg_seq",
        "filled_seq",
        "future",
        "last_filled",
        "order_id",
        "quantity",
        "ready",
        "timer",
        "values",
    )

    def __init__(
        self,
        values: Mapping[str, str],
        order_id: str,
        ready: Ready,
        quantity: Decimal | None,
        agree_s: float,
    ) -> None:
        self.values, self.order_id, self.ready = values, order_id, ready
        self.quantity, self.agree_s = quantity, agree_s
        self.future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.timer: asyncio.TimerHandle | None = None
        self.last_filled = values.get(f"Filled|{order_id}")
        self.filled_seq = self.avg_seq = -1

    def note(self, kind: str, value: str, seq: int) -> None:
        """Value number ``seq`` of this order arrived."""
        if kind == "Filled" and value != self.last_filled:
            if self.last_filled not in (None, "", "0"):
                self.filled_seq = seq  # a later fill: the average it had is stale
            self.last_filled = value
        elif kind == "AvgFillPrice":
            self.avg_seq = seq

    def check(self) -> bool:
        """True when the values answer the waiter. After a second or later fill the
        average price counts as current only if pushed after that fill's ``Filled``;
        otherwise (NinjaTrader may push it first, or not at all when unchanged) the
        answer waits ``agree_s`` for it, as for a final state whose values disagree."""
        seen = observe(self.values, self.order_id)
        ready = self.ready(seen)
        if ready and self.avg_seq >= self.filled_seq:
            return True
        if (ready or (seen.final and not seen.agrees(self.quantity))) and self.agree_s >= 0:
            self._shorten(self.agree_s)
        return False

    def _shorten(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if self.timer is not None and self.timer.when() <= loop.time() + seconds:
            return
        if self.timer is not None:
            self.timer.cancel()
        self.timer = loop.call_later(seconds, self.resolve, DISAGREED)
        self.agree_s = -1.0  # one grace period per wait

    def resolve(self, how: str) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if not self.future.done():
            self.future.set_result(how)


class Waiters:
    """Futures per order id and per value key, resolved from pushed values."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._orders: dict[str, list[_Waiter]] = {}
        self._keys: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty: set[str] = set()
        self._seq = 0

    def __len__(self) -> int:
        return sum(map(len, self._orders.values())) + sum(map(len, self._keys.values()))

    async def order(
        self,
        order_id: str,
        ready: Ready,
        *,
        quantity: Decimal | None,
        timeout_s: float,
        agree_s: float,
        sent: Callable[[], None] | None = None,
    ) -> str:
        """Wait until ``ready(observe(values, order_id))``; returns :data:`AGREED`, or
        :data:`TIMED_OUT` after ``timeout_s``, :data:`DISAGREED` when the order is final
        but its values still disagree (or its average may be stale) ``agree_s`` later,
        :data:`LOST` when the connection drops. ``sent`` runs once the waiter is in
        place (so no push is missed); what it raises propagates."""
        waiter = _Waiter(self._values, order_id, ready, quantity, agree_s)
        waiters = self._orders.setdefault(order_id, [])
        waiters.append(waiter)
        try:
            if sent is not None:
                sent()
            if f"OrderStatus|{order_id}" in self._values and waiter.check():
                return AGREED
            waiter.timer = asyncio.get_running_loop().call_later(
                timeout_s, waiter.resolve, TIMED_OUT
            )
            return await waiter.future
        finally:
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiters.remove(waiter)
            if not waiters:
                self._orders.pop(order_id, None)

    async def key(self, keys: list[str], ready: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until ``ready()`` holds, looking again when one of ``keys`` is pushed;
        False after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            future: asyncio.Future[None] = loop.create_future()
            for key in keys:
                self._keys.setdefault(key, []).append(future)
            timer = loop.call_later(remaining, _done, future)
            try:
                await future
            finally:
                timer.cancel()
                for key in keys:
                    waiting = self._keys.get(key)
                    if waiting is not None:
                        waiting.remove(future)
                        if not waiting:
                            del self._keys[key]
        return True

    def on_value(self, key: str, value: str) -> None:
        """A value was pushed: wake whoever waits on it."""
        futures = self._keys.get(key)
        if futures:
            for future in futures:
                _done(future)
        kind, _, order_id = key.partition("|")
        if kind in _ORDER_KEYS:
            waiters = self._orders.get(order_id)
            if waiters:
                self._seq += 1
                for waiter in waiters:
                    waiter.note(kind, value, self._seq)
                self._dirty.add(order_id)

    def on_batch(self) -> None:
        """The values of one read are all stored: answer the orders they concern."""
        dirty, self._dirty = self._dirty, set()
        for order_id in dirty:
            for waiter in self._orders.get(order_id, ()):
                if waiter.check():
                    waiter.resolve(AGREED)

    def lost(self) -> None:
        """The connection dropped: every waiter learns it."""
        for waiters in self._orders.values():
            for waiter in waiters:
                waiter.resolve(LOST)
        for futures in self._keys.values():
            for future in futures:
                _done(future)


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
