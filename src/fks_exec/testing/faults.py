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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

__all__ = ["FaultInjection"]


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
