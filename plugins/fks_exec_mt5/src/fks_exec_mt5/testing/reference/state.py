"""The trade server's book inside the fake: orders, positions, deals, tickets and clock.

Terms follow "Orders, Positions and Deals in MetaTrader 5"
(https://www.mql5.com/en/articles/211): an order is a request the server accepted; a
deal is the result of executing an order (always in history); a position is the market
obligation deals build. Active orders and open positions are what ``orders_get`` /
``positions_get`` return; filled, canceled and expired orders and all deals are history.

Times are **trade server time**: the broker's clock, not UTC
(https://www.mql5.com/en/book/common/timing/timing_local_server: "There are always two
types of time on the MetaTrader 5 platform: local (client) and server (broker)"; ticks
carry the server time, TimeCurrent()). The fake keeps UTC internally and reports
``utc + server_utc_offset`` as the epoch-like second/millisecond counts the real
package returns. The offset is a setting (default +2 h, a common broker zone).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

__all__ = ["Book", "Deal", "Order", "Position", "ServerClock"]


class ServerClock:
    """UTC now (wall clock or a fixed start) plus a manual shift, and the server offset."""

    def __init__(
        self,
        server_utc_offset: timedelta,
        start_utc: datetime | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``start_utc`` freezes the clock there (it then moves only by :meth:`advance`)."""
        if start_utc is not None and start_utc.tzinfo is None:
            raise ValueError("start_utc must be timezone-aware")
        self.offset = server_utc_offset
        self._start = start_utc
        self._wall = wall
        self._shift = timedelta(0)

    def now_utc(self) -> datetime:
        """The current UTC time of the fake world."""
        base = self._start or datetime.fromtimestamp(self._wall(), tz=timezone.utc)
        return base + self._shift

    def advance(self, seconds: float) -> None:
        """Move time forward; raises ``ValueError`` if ``seconds`` < 0."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._shift += timedelta(seconds=seconds)

    def server_msc(self) -> int:
        """Server time now, in milliseconds of the server's wall-clock reading."""
        return self.to_server_msc(self.now_utc())

    def to_server_msc(self, utc: datetime) -> int:
        """A UTC instant as the server's millisecond count (its clock read as UTC)."""
        return int((utc + self.offset).timestamp() * 1000)


@dataclass
class Position:
    """An open position (one per symbol on netting, one per ticket on hedging)."""

    ticket: int
    identifier: int
    symbol: str
    type: int
    volume: Decimal
    price_open: Decimal
    sl: Decimal
    tp: Decimal
    magic: int
    comment: str
    reason: int
    time_msc: int
    time_update_msc: int
    external_id: str = ""


@dataclass
class Order:
    """An order: active (pending) or in history (filled, canceled, expired...)."""

    ticket: int
    symbol: str
    type: int
    state: int
    volume_initial: Decimal
    volume_current: Decimal
    price_open: Decimal
    price_stoplimit: Decimal
    sl: Decimal
    tp: Decimal
    type_time: int
    type_filling: int
    time_expiration: int
    magic: int
    comment: str
    reason: int
    time_setup_msc: int
    time_done_msc: int = 0
    position_id: int = 0
    position_by_id: int = 0
    position_ticket: int = 0
    external_id: str = ""


@dataclass
class Deal:
    """A deal: one execution, always in history."""

    ticket: int
    order: int
    time_msc: int
    type: int
    entry: int
    magic: int
    position_id: int
    reason: int
    volume: Decimal
    price: Decimal
    profit: Decimal
    symbol: str
    comment: str
    external_id: str = ""


@dataclass
class Book:
    """Everything the server keeps for the account; tickets come from one counter."""

    positions: dict[int, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    history_orders: dict[int, Order] = field(default_factory=dict)
    deals: dict[int, Deal] = field(default_factory=dict)
    next_ticket: int = 50_000_001
    next_request_id: int = 1

    def new_ticket(self) -> int:
        """A fresh order/deal/position ticket (one sequence, as on real servers)."""
        ticket = self.next_ticket
        self.next_ticket += 1
        return ticket

    def new_request_id(self) -> int:
        """A fresh MqlTradeResult.request_id."""
        request_id = self.next_request_id
        self.next_request_id += 1
        return request_id

    def positions_of(self, symbol: str) -> list[Position]:
        """Open positions of ``symbol``, oldest first (by open time, then ticket)."""
        found = [p for p in self.positions.values() if p.symbol == symbol]
        return sorted(found, key=lambda p: (p.time_msc, p.ticket))

    def pending_of(self, symbol: str) -> list[Order]:
        """Active orders of ``symbol``, oldest first."""
        found = [o for o in self.orders.values() if o.symbol == symbol]
        return sorted(found, key=lambda o: (o.time_setup_msc, o.ticket))
