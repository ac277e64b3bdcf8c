"""Waiting for NinjaTrader's pushes: one future per waiting order, resolved by the reader.

The reader calls :meth:`Waiters.on_value` with every pushed value and
:meth:`Waiters.on_batch` after each read; a waiter whose values changed in that read
looks at them again and resolves its future when they answer it (judged per read, so the
values NinjaTrader pushes together are judged together, in whatever order they came).
There is no task, event, polling or timer per order: one future each, and one timer for
all of their deadlines (:class:`~fks_exec_ninja.deadlines.Deadlines`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from fks_exec.kit import BoundedDict, running_loop
from fks_exec_ninja.deadlines import TIMED_OUT, Deadlines
from fks_exec_ninja.states import (
    _ENDED_UNFILLED,
    _NUMBERS,
    _PARSED,
    _ZERO,
    RESTING_STATES,
    Observed,
    observe_keys,
)

__all__ = ["AGREED", "DISAGREED", "LOST", "TIMED_OUT", "Waiters"]

AGREED, DISAGREED, LOST = "agreed", "disagreed", "lost"
ORDER_KEYS = frozenset({"OrderStatus", "Filled", "AvgFillPrice"})
"""The pushed value kinds that describe one order (``<kind>|<order id>``)."""
Ready = Callable[[Observed], bool]
_new = tuple.__new__  # Observed(...) without its generated __new__'s keyword handling
_UNFILLED_ANSWERS = {
    False: _ENDED_UNFILLED | RESTING_STATES,  # a limit or stop order: resting answers it
    True: _ENDED_UNFILLED,  # a market order: only a final state
}
"""The states that settle an order wait while no fill value is pushed, by ``market``."""
_NO_STATES: frozenset[str] = frozenset()
_STALE_KEPT = 10_000
"""Orders with a stale average remembered at most (the oldest forgotten first)."""
_blank = object.__new__
_UNFILLED_SEEN = {state: Observed(state, _ZERO, None) for state in _UNFILLED_ANSWERS[False]}
"""What those states are observed as (immutable: one shared for every order)."""


class _Waiter:
    """One order's wait, made by :meth:`Waiters.start` (set there, without an
    ``__init__`` call). ``seen``: what the values said when the waiter last looked at
    them; ``marked``: values of its order came in the read being applied; ``stale``:
    the fill changed after an earlier fill and no average came after it; ``quick``: the
    states that answer at once while neither fill value is pushed (the common answer:
    judged without :meth:`~fks_exec_ninja.states.Observed.settled`, which gives the same
    for an order's quantity: None or positive)."""

    __slots__ = (
        "agree_s",
        "average_key",
        "deadline",
        "filled_key",
        "future",
        "grace",
        "last_filled",
        "marked",
        "market",
        "order_id",
        "quantity",
        "quick",
        "ready",
        "seen",
        "stale",
        "status_key",
        "values",
    )
    agree_s: float
    average_key: str
    deadline: float
    filled_key: str
    future: asyncio.Future[str]
    grace: asyncio.TimerHandle | None
    last_filled: str | None
    marked: bool
    market: bool
    order_id: str
    quantity: Decimal | None
    quick: frozenset[str]
    ready: Ready | None
    seen: Observed | None
    stale: bool
    status_key: str
    values: Mapping[str, str]

    def note(self, kind: str, value: str) -> None:
        """A value of this order arrived (in the order they came)."""
        if kind == "Filled":
            if value != self.last_filled:
                if self.last_filled not in (None, "", "0"):
                    self.stale = True  # a later fill: the average it had is stale
                self.last_filled = value
        elif kind == "AvgFillPrice":
            self.stale = False

    def check(self) -> bool:
        """True when the values answer the waiter. After a second or later fill the
        average price counts as current only if pushed after that fill's ``Filled``
        (whatever order an update's values come in, an average pushed after the fill is
        of that update or a later one; one pushed before it may be the earlier fills');
        otherwise (NinjaTrader may push it first, late, or not at all when unchanged)
        the answer waits ``agree_s`` for it, as for a final state whose values disagree,
        and the wait ends :data:`DISAGREED` with ``stale`` still set when none came (a
        negative ``agree_s``: no such grace, the wait runs to its deadline)."""
        values = self.values
        if not self.stale:  # the usual answers first, exactly as settled() gives them
            state = _PARSED.get(values.get(self.status_key))  # type: ignore[arg-type]
            filled, average = values.get(self.filled_key), values.get(self.average_key)
            if not filled and not average:
                if state in self.quick:
                    self.seen = _UNFILLED_SEEN[state]  # in quick: a state
                    return True
            elif state == "filled" and self.ready is None:
                done, price = _NUMBERS.get(filled), _NUMBERS.get(average)  # type: ignore[arg-type]
                if done is not None and done == self.quantity and price:  # read, in bounds
                    self.seen = _new(Observed, (state, done, price, None))
                    return True
        self.seen = seen = observe_keys(values, self.status_key, self.filled_key, self.average_key)
        judge = self.ready
        ready = seen.settled(self.quantity, self.market) if judge is None else judge(seen)
        if ready and not self.stale:
            return True
        waits = ready or (seen.final and not seen.agrees(self.quantity))
        if waits and self.grace is None and self.agree_s >= 0:
            loop = self.future.get_loop()
            self.grace = loop.call_later(self.agree_s, self.resolve, DISAGREED)
        return False

    def resolve(self, how: str) -> None:
        if self.grace is not None:
            self.grace.cancel()
        if not self.future.done():
            self.future.set_result(how)


class Waiters:
    """Futures per order id and per value key, resolved from pushed values.

    A wait for an order is :meth:`start` (before its command is written, so no push
    is missed), :meth:`arm`, ``await waiter.future`` unless it was already answered,
    and :meth:`finish`; :meth:`order` does all four.
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._orders: dict[str, _Waiter | list[_Waiter]] = {}
        self._keys: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty: list[_Waiter] = []
        self._deadlines = Deadlines()
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop of the last wait started (asked for again only when it changed:
        asyncio.get_running_loop() is a getpid() system call on Python 3.10-3.11)."""
        self.waiting = 0
        """Order waits started and not finished."""
        self.followed: Mapping[str, object] = {}
        """Orders someone else follows too (a bracket's entries), by id."""
        self.follow: Callable[[str], None] = _ignore
        """Called with the id of a :attr:`followed` order after its ``OrderStatus`` or
        ``Filled`` was pushed (and seen by the waits)."""
        self.stale_averages: BoundedDict[str, None] = BoundedDict(_STALE_KEPT)
        """Orders answered ``unknown`` because a later fill came with no average price
        after it (:meth:`mark_stale`), until an ``AvgFillPrice`` of theirs is pushed."""

    def __len__(self) -> int:
        orders = sum(len(w) if isinstance(w, list) else 1 for w in self._orders.values())
        return orders + sum(map(len, self._keys.values()))

    async def order(
        self,
        order_id: str,
        ready: Ready | None,
        *,
        quantity: Decimal | None,
        timeout_s: float,
        agree_s: float,
        sent: Callable[[], None] | None = None,
        market: bool = False,
    ) -> tuple[str, Observed | None]:
        """Wait until ``ready(observe(values, order_id))`` (``ready`` None: until the
        values are :meth:`~Observed.settled` for ``quantity`` and ``market``); returns
        how the wait ended -- :data:`AGREED`, or :data:`TIMED_OUT` after ``timeout_s``,
        :data:`DISAGREED` when the order is final but its values still disagree (or its
        average may be stale) ``agree_s`` later, :data:`LOST` when the connection drops
        -- and, when :data:`AGREED`, the values that answered it. ``sent`` runs once the
        waiter is in place (so no push is missed); what it raises propagates."""
        waiter = self.start(
            order_id, ready, quantity=quantity, timeout_s=timeout_s, agree_s=agree_s, market=market
        )
        try:
            if sent is not None:
                sent()
            how = AGREED if self.arm(waiter) else await waiter.future
            return how, waiter.seen if how == AGREED else None
        finally:
            self.finish(waiter)

    def start(
        self,
        order_id: str,
        ready: Ready | None,
        quantity: Decimal | None,
        timeout_s: float,
        agree_s: float,
        market: bool = False,
        status_key: str | None = None,
    ) -> _Waiter:
        """Register a wait for ``order_id`` (see :meth:`order` for the arguments;
        ``status_key``: its ``OrderStatus|<id>`` key, when already made); every push
        from now on reaches it. Pair it with :meth:`finish`."""
        self._loop = loop = running_loop(self._loop)
        waiter = _blank(_Waiter)  # the slots set here: no __init__ call (~300 ns an order)
        waiter.values = values = self._values
        waiter.order_id, waiter.ready = order_id, ready
        waiter.quantity, waiter.agree_s, waiter.market = quantity, agree_s, market
        waiter.status_key = "OrderStatus|" + order_id if status_key is None else status_key
        waiter.filled_key = filled_key = "Filled|" + order_id
        waiter.average_key = "AvgFillPrice|" + order_id
        waiter.deadline = loop.time() + timeout_s
        waiter.future = loop.create_future()
        waiter.grace = waiter.seen = None
        waiter.marked = waiter.stale = False
        waiter.last_filled = values.get(filled_key)
        waiter.quick = _UNFILLED_ANSWERS[market] if ready is None else _NO_STATES
        orders = self._orders
        there = orders.get(order_id)
        if there is None:
            orders[order_id] = waiter
        elif type(there) is list:
            there.append(waiter)
        else:
            orders[order_id] = [there, waiter]  # type: ignore[list-item]
        self.waiting += 1
        return waiter

    def arm(self, waiter: _Waiter) -> bool:
        """After the command went: True when the values already answer ``waiter``
        (nothing to wait for), else start its deadline and return False."""
        if waiter.status_key in self._values and waiter.check():
            return True
        self._deadlines.add(waiter)
        return False

    def finish(self, waiter: _Waiter) -> None:
        """End ``waiter``'s wait (answered or not): nothing of it stays registered."""
        if waiter.grace is not None:
            waiter.grace.cancel()
        future = waiter.future
        if not future.done():
            future.set_result(LOST)
        self.waiting -= 1
        self._deadlines.finished(waiter, self.waiting)
        order_id, orders = waiter.order_id, self._orders
        there = orders.get(order_id)
        if there is waiter:
            del orders[order_id]
        elif type(there) is list:
            there.remove(waiter)
            if len(there) == 1:
                orders[order_id] = there.pop()

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

    def mark_stale(self, order_id: str) -> None:
        """Remember that ``order_id``'s cached average may be its earlier fills' (a
        later fill came, no average after it): :meth:`average_stale` says so until an
        ``AvgFillPrice`` of the order is pushed."""
        self.stale_averages[order_id] = None

    def average_stale(self, order_id: str) -> bool:
        """True while the cached average of ``order_id`` may be its earlier fills' (see
        :meth:`mark_stale`): no lookup may answer a definite fill from it."""
        return order_id in self.stale_averages

    def on_value(self, key: str, value: str) -> None:
        """A value was pushed: :meth:`on_values` of one value without judging yet (an
        order's wait looks at its values again at :meth:`on_batch`)."""
        self._mark((key,), (value,))

    def on_values(self, keys: Sequence[str], texts: Sequence[str]) -> None:
        """The values of one read were stored (``keys[i]`` = ``texts[i]``, in the order
        they came): wake whoever waits on them, then answer the orders they concern
        (:meth:`on_batch`)."""
        self._mark(keys, texts)
        self.on_batch()

    def _mark(self, keys: Sequence[str], texts: Sequence[str]) -> None:
        """Wake the :meth:`key` waits on ``keys``; mark the waits of the orders the
        values are of, to be judged at :meth:`on_batch`; for an order's ``OrderStatus``
        or ``Filled``, call :attr:`follow` with its id while :attr:`followed` is not
        empty."""
        if self._keys:
            for key in keys:
                self.on_key(key)
        orders, dirty, followed = self._orders, self._dirty, self.followed
        stale = self.stale_averages
        if not orders and not followed and not stale:
            return  # nobody waits for an order or follows one
        for key, value in zip(keys, texts, strict=True):
            if key.startswith("OrderStatus|"):  # no partition(): three strings less a value
                kind, order_id = "OrderStatus", key[12:]
            elif key.startswith("Filled|"):
                kind, order_id = "Filled", key[7:]
            elif key.startswith("AvgFillPrice|"):
                kind, order_id = "AvgFillPrice", key[13:]
                if stale and order_id in stale:
                    del stale[order_id]  # an average after the later fill: current again
            else:
                continue
            there = orders.get(order_id)
            if there is not None:
                if type(there) is _Waiter:
                    if kind != "OrderStatus":
                        there.note(kind, value)
                    if not there.marked:
                        there.marked = True
                        dirty.append(there)
                else:
                    for waiter in there:  # type: ignore[union-attr]
                        waiter.note(kind, value)
                        if not waiter.marked:
                            waiter.marked = True
                            dirty.append(waiter)
            if followed and kind != "AvgFillPrice":
                self.follow(order_id)

    def on_key(self, key: str) -> None:
        """``key`` was pushed: wake the :meth:`key` waits on it."""
        futures = self._keys.get(key)
        if futures:
            for future in futures:
                _done(future)

    def on_batch(self) -> None:
        """The values of one read are all stored: answer the orders they concern."""
        dirty = self._dirty
        if dirty:
            self._dirty = []
            for waiter in dirty:
                waiter.marked = False
                future = waiter.future
                if not future.done() and waiter.check():
                    if waiter.grace is not None:
                        waiter.grace.cancel()
                    future.set_result(AGREED)

    def lost(self) -> None:
        """The connection dropped: every waiter learns it."""
        for there in list(self._orders.values()):
            for waiter in there if isinstance(there, list) else (there,):
                waiter.resolve(LOST)
        for futures in self._keys.values():
            for future in futures:
                _done(future)


def _ignore(order_id: str) -> None:
    """Follows nothing."""


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
