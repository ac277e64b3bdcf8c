"""One fault vocabulary for every fake broker: :class:`FaultInjection`.

Every fake broker shipped with fks-exec (the mock, and each plugin's fake venue,
terminal or server) implements this small protocol, so a test or a chaos run can
inject the same faults into any of them without knowing which broker it drives::

    fake.refuse_next()                 # the next order request never reaches the broker
    fake.lose_next_answer(after_broker_acted=True)   # the broker acts, the answer is lost
    fake.disconnect(); fake.reconnect()
    fake.set_latency(0.05)             # every answer 50 ms late
    fake.order_arrivals()              # {broker-side client id: times it reached the book}

The fake counts arrivals under the client id *as the broker sees it* (a venue's
``clientOrderId``, an MT5 comment, a NinjaTrader order id), because it knows nothing of
the plugin's mapping. Tests check the counts, not the keys: after any sequence of
faults and retries, no key may exceed 1.

:class:`FaultPlan` is the plumbing a fake that answers requests one at a time can
inherit: the queue of planned faults, the connection switch and the latency. The fake
keeps what only it knows: what a refused or lost request looks like on its wire, which
requests are order requests, and its arrival counts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

__all__ = ["FaultInjection", "FaultPlan", "PlannedFault"]

F = TypeVar("F")
"""What a fake does instead of answering: its own answer object or a transport fault kind."""


@runtime_checkable
class FaultInjection(Protocol):
    """The faults every fake broker can inject, and its count of order arrivals."""

    def refuse_next(self) -> None:
        """Refuse the next order request at the connection: it never reaches the broker.

        The plugin must see a failure that proves nothing was sent (connection refused,
        not connected) and report it as :class:`~fks_exec.errors.BrokerUnavailable`.
        """

    def lose_next_answer(self, *, after_broker_acted: bool) -> None:
        """Lose the answer to the next order request.

        With ``after_broker_acted=False`` the connection breaks after the request was
        written but before the broker took it: nothing is on the book. With
        ``after_broker_acted=True`` the broker takes (and possibly fills) the order,
        then the answer is lost. Either way the plugin cannot tell which happened and
        must report ``unknown``; reconciliation then finds the order or its absence.
        """

    def disconnect(self) -> None:
        """Drop the connection now; requests fail as "not connected" until reconnect."""

    def reconnect(self) -> None:
        """Accept connections again after :meth:`disconnect`."""

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 for none). Raises ``ValueError`` if < 0."""

    def order_arrivals(self) -> Mapping[str, int]:
        """How many times each client order id (as the broker sees it) reached the book."""


@dataclass(frozen=True)
class PlannedFault(Generic[F]):
    """A fault waiting for the next request that matches it."""

    fault: F
    """What the fake does instead of (or after) answering, in the fake's own terms."""
    where: str | None
    """Only a request whose target (a path, a command name) contains this text; None: any."""
    after_broker_acted: bool
    """For a lost answer: the broker handles the request first, then the answer is lost."""
    orders_only: bool
    """Only an order request matches (reads pass untouched)."""


class FaultPlan(Generic[F]):
    """Planned faults, the connection switch and latency: :class:`FaultInjection` less
    ``order_arrivals``, for a fake to inherit.

    ``refuse`` and ``lose`` are the fake's own faults for :meth:`refuse_next` (nothing
    reaches the broker) and :meth:`lose_next_answer` (the connection drops). The fake
    asks :meth:`take_fault` once per request and honours :attr:`disconnected` and
    :attr:`latency`; faults are taken oldest first, each by the first request it matches.
    """

    def __init__(self, *, refuse: F, lose: F) -> None:
        self._refuse = refuse
        self._lose = lose
        self._planned: deque[PlannedFault[F]] = deque()
        self._disconnected = False
        self._latency_s = 0.0

    def plan_fault(
        self,
        fault: F,
        *,
        where: str | None = None,
        after_broker_acted: bool = False,
        orders_only: bool = False,
    ) -> None:
        """Queue ``fault`` for the next request matching ``where`` (and ``orders_only``)."""
        self._planned.append(PlannedFault(fault, where, after_broker_acted, orders_only))

    def refuse_next(self) -> None:
        """The next order request is refused at the connection; nothing reaches the broker."""
        self.plan_fault(self._refuse, orders_only=True)

    def lose_next_answer(self, *, after_broker_acted: bool) -> None:
        """The next order request's connection drops, after or before the broker acted."""
        self.plan_fault(self._lose, after_broker_acted=after_broker_acted, orders_only=True)

    def disconnect(self) -> None:
        """Refuse every connection until :meth:`reconnect`."""
        self._disconnected = True

    def reconnect(self) -> None:
        """Accept connections again."""
        self._disconnected = False

    def set_latency(self, seconds: float) -> None:
        """Answer every request ``seconds`` late; raises ``ValueError`` if negative."""
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        self._latency_s = seconds

    @property
    def disconnected(self) -> bool:
        """True between :meth:`disconnect` and :meth:`reconnect`."""
        return self._disconnected

    @property
    def latency(self) -> float:
        """Seconds every answer waits (0.0: none)."""
        return self._latency_s

    def take_fault(self, target: str, *, is_order: bool) -> PlannedFault[F] | None:
        """The oldest planned fault matching a request to ``target``, removed; None if none.

        ``is_order`` says whether the request is an order request (the only kind an
        ``orders_only`` fault matches).
        """
        for planned in self._planned:
            if planned.orders_only and not is_order:
                continue
            if planned.where is not None and planned.where not in target:
                continue
            self._planned.remove(planned)
            return planned
        return None
