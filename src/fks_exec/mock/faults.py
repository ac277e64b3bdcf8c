"""Faults the mock broker injects on request: rejections, failures, disconnects, latency.

:class:`FaultControls` is the mock's side of the fault vocabulary every fake broker
shares (:class:`fks_exec.testing.FaultInjection`), plus the mock's own finer controls.
"""

from __future__ import annotations

import math
import random
from collections import deque

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import ErrorCode

__all__ = ["FaultControls"]


class FaultControls:
    """Queued rejections and failures, the connection switch, latency and arrivals."""

    history_limit: int

    def _init_faults(self) -> None:
        self._rejections: deque[tuple[ErrorCode, str]] = deque()
        self._failures: deque[tuple[BaseException, bool]] = deque()
        self._arrivals: dict[str, int] = {}  # in first-arrival order
        self.connected = True
        self._latency_s = 0.0
        self._jitter_s = 0.0
        self._random = random.Random(0)  # noqa: S311 - simulated latency, not security

    def reject_next(
        self, error_code: ErrorCode | str = ErrorCode.REJECTED, message: str = ""
    ) -> None:
        """Make the next submitted order be rejected with ``error_code`` (queued).

        Raises ``ValueError`` for a code that is not an :class:`ErrorCode`.
        """
        code = ErrorCode(error_code)
        self._rejections.append((code, message or f"rejected by test ({code.value})"))

    def fail_next_with(self, exception: BaseException, *, after_send: bool = False) -> None:
        """Make the next submission raise ``exception`` (queued).

        With ``after_send=False`` the broker never sees the order (use
        :class:`BrokerUnavailable` for a clean "not sent"). With ``after_send=True``
        the order is accepted and processed first, then the exception is raised, as
        when a connection drops before the answer arrives: the caller sees ``unknown``
        and reconciliation finds the order.
        """
        self._failures.append((exception, after_send))

    def disconnect(self) -> None:
        """Drop the connection: orders and reads raise :class:`BrokerUnavailable`."""
        self.connected = False

    def reconnect(self) -> None:
        """Restore the connection dropped by :meth:`disconnect`."""
        self.connected = True

    def set_latency(self, seconds: float = 0.0, jitter_s: float = 0.0, *, seed: int = 0) -> None:
        """Delay every call of the plugin by ``seconds`` plus up to ``jitter_s``.

        The jitter is drawn from a generator seeded with ``seed``, so a run repeats.
        Raises ``ValueError`` for a negative or non-finite delay.
        """
        if not (0 <= seconds < math.inf and 0 <= jitter_s < math.inf):
            raise ValueError("latency must be a finite number of seconds, not negative")
        self._latency_s = seconds
        self._jitter_s = jitter_s
        self._random = random.Random(seed)  # noqa: S311

    def refuse_next(self) -> None:
        """Refuse the next order at the connection: it never reaches the book
        (the plugin reports :class:`BrokerUnavailable`)."""
        self.fail_next_with(BrokerUnavailable("mock broker refused the connection (test)"))

    def lose_next_answer(self, *, after_broker_acted: bool) -> None:
        """Lose the answer to the next order, before or after the broker took it."""
        lost = ConnectionResetError("mock broker: connection reset before the answer (test)")
        self.fail_next_with(lost, after_send=after_broker_acted)

    def order_arrivals(self) -> dict[str, int]:
        """How many times each client order id reached the book (duplicates included;
        the newest ``history_limit`` ids)."""
        return dict(self._arrivals)

    def next_delay(self) -> float:
        """Seconds the next plugin call waits (fixed part plus seeded jitter)."""
        if not self._jitter_s:
            return self._latency_s
        return self._latency_s + self._random.uniform(0, self._jitter_s)

    def require_connected(self) -> None:
        """Raise :class:`BrokerUnavailable` while disconnected."""
        self._check_connected()

    def _check_connected(self) -> None:
        if not self.connected:
            raise BrokerUnavailable("mock broker is disconnected (call reconnect())")

    def _count_arrival(self, client_order_id: str) -> None:
        arrivals = self._arrivals
        arrivals[client_order_id] = arrivals.get(client_order_id, 0) + 1
        if len(arrivals) > self.history_limit:
            del arrivals[next(iter(arrivals))]  # the oldest id
