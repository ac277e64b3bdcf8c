"""What the mock broker records: its clock, order records, fills and quotes.

These are plain data holders shared by the simulator's modules; the rules that move
them live in :mod:`fks_exec.mock.matching` and :mod:`fks_exec.mock.broker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import NamedTuple

from fks_exec.models import ErrorCode, Order, OrderSide, OrderStatus, OrderType, TimeInForce

__all__ = [
    "DEFAULT_START",
    "Fill",
    "MockClock",
    "MockOrder",
    "Quote",
    "marketable",
    "parse_price",
    "stop_reached",
]

BPS = Decimal(10_000)
ZERO = Decimal(0)
# Enum members read through a Python-level descriptor on 3.11; the hot path uses these.
BUY = OrderSide.BUY
MARKET, LIMIT, STOP, STOP_LIMIT = (
    OrderType.MARKET,
    OrderType.LIMIT,
    OrderType.STOP,
    OrderType.STOP_LIMIT,
)
PENDING, ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED = (
    OrderStatus.PENDING,
    OrderStatus.ACCEPTED,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.FILLED,
    OrderStatus.CANCELED,
    OrderStatus.REJECTED,
)
IOC, FOK = TimeInForce.IOC, TimeInForce.FOK
WORKING = (ACCEPTED, PARTIALLY_FILLED)
_STATUS_OF = {status.value: status for status in OrderStatus}
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""For sums kept across many orders: they add and subtract exactly, so never drift."""
DEFAULT_START = datetime(2025, 1, 2, 14, 30, tzinfo=timezone.utc)


class MockClock:
    """A clock that moves only when told, so recorded times are reproducible."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        """The current simulated time (UTC)."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware). Raises ``ValueError`` for a naive datetime."""
        self._now = _aware(when)

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds) and return the new time.

        Raises ``ValueError`` for a negative step.
        """
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._now += step
        return self._now


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the mock clock needs a timezone-aware datetime")
    return when.astimezone(timezone.utc)


class Fill(NamedTuple):
    """One execution: ``quantity`` at ``price``, with its ``fee`` in the account currency."""

    order_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    fee: Decimal
    liquidity: str
    """``taker`` (filled on arrival or as a triggered stop) or ``maker`` (rested)."""
    time: datetime


@dataclass(slots=True)
class MockOrder:
    """The broker's record of one order; ``quantity`` may follow a bracket's entry."""

    order: Order
    order_id: str
    quantity: Decimal
    status: OrderStatus = OrderStatus.PENDING
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    triggered: bool = False
    rested: bool = False
    """True once the order has been on the book through a matching pass."""
    error: str | None = None
    error_code: ErrorCode | None = None
    log: tuple[datetime | str, ...] = ()
    """The status history, flat: time, status value, time, status value ... Kept as a
    tuple of untracked objects so the garbage collector stops visiting it (see
    :attr:`history`)."""
    parent_id: str | None = None
    """For a bracket exit: the entry's order id."""
    oco_id: str | None = None
    """For a bracket exit: the order id of the other exit."""
    book_seq: int | None = field(default=None, repr=False, compare=False)
    """While on the book (:class:`~fks_exec.mock.book.WorkingBook`): its place in
    arrival order; None off the book."""
    book_key: tuple[Decimal, int] | None = field(default=None, repr=False, compare=False)
    """While in one of the book's price-sorted lists: its key there (price, place)."""
    book_reserve: Decimal | None = field(default=None, repr=False, compare=False)
    """While on the book with a limit or stop price: the margin it reserves."""

    @property
    def client_order_id(self) -> str:
        """The client order id of the order."""
        return self.order.client_order_id

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.quantity - self.filled

    @property
    def average_price(self) -> Decimal | None:
        """Volume-weighted fill price, or None before the first fill."""
        return self.notional / self.filled if self.filled else None

    @property
    def is_working(self) -> bool:
        """True while the order can still fill."""
        return self.status in WORKING

    @property
    def history(self) -> list[tuple[datetime, OrderStatus]]:
        """Each status the order went through with the (simulated) time it changed."""
        log = self.log
        return [(log[i], _STATUS_OF[log[i + 1]]) for i in range(0, len(log), 2)]  # type: ignore[index,misc]

    @property
    def statuses(self) -> list[OrderStatus]:
        """The statuses the order went through, in order."""
        return [_STATUS_OF[value] for value in self.log[1::2]]  # type: ignore[index]

    def set_status(self, status: OrderStatus, now: datetime) -> None:
        """Move to ``status`` at ``now`` and record the change in the history."""
        self.status = status
        self.log += (now, status._value_)


@dataclass(slots=True)
class Quote:
    """The current quote of one symbol; the sizes shrink as orders take them."""

    bid: Decimal
    ask: Decimal
    last: Decimal
    mid: Decimal
    bid_size: Decimal | None
    ask_size: Decimal | None
    time: datetime


def parse_price(value: Decimal | float | str | None, name: str) -> Decimal | None:
    """``value`` as a Decimal (None stays None).

    Raises ``ValueError`` for a boolean, or a value that is not a positive finite number.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    number = Decimal(str(value))
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def marketable(side: OrderSide, limit: Decimal | None, quote: Quote) -> bool:
    """True when a ``side`` limit at ``limit`` can trade against ``quote`` now."""
    if limit is None:
        return False
    return quote.ask <= limit if side is BUY else quote.bid >= limit


def stop_reached(side: OrderSide, stop: Decimal, quote: Quote) -> bool:
    """True when the touch of ``quote`` has reached a ``side`` stop at ``stop``."""
    return quote.ask >= stop if side is BUY else quote.bid <= stop
