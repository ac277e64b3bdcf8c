"""The paper broker behind the ``mock`` plugin: :class:`MockBroker`.

It is a deterministic, synchronous simulator: tests set quotes, orders fill against
them, and every order, status change and fill is recorded for assertions. The async
plugin (:class:`fks_exec.mock.MockPlugin`) only adds latency and fault timing around it.

Matching rules:

* a market order fills at the touch (ask for a buy, bid for a sell) moved against the
  order by ``slippage_bps``;
* a limit order that is marketable fills at once at the better of its limit and the
  touch; otherwise it rests and fills at its limit when a later quote crosses it;
* a stop triggers when the touch reaches ``stop_price`` and then fills as a market
  order; a stop-limit then becomes a resting limit;
* with a quote ``size``, each quote offers at most that quantity at the touch, and the
  rest of an order keeps working (``partially_filled``);
* ``ioc`` cancels what does not fill at once; ``fok`` fills whole or is rejected;
  ``day`` orders expire at :meth:`MockBroker.end_of_day`;
* an order's ``stop_loss``/``take_profit`` become a one-cancels-other pair of
  reduce-only exits once the entry fills, sized to the entry's filled quantity; they
  are canceled when the position in their symbol goes flat;
* a reduce-only order never opens or flips a position: one that would is rejected,
  and one larger than the position fills only what is held.

Accounting: cash moves by each fill's value and fee; positions are netted per symbol
at average cost, tracked as the exact cost of what is open, so realized P&L is exact
whenever a position goes flat.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import NamedTuple

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

__all__ = ["Fill", "MockBroker", "MockClock", "MockOrder"]

_BPS = Decimal(10_000)
_ZERO = Decimal(0)
_MAX_MATCH_PASSES = 50
# Enum members read through a Python-level descriptor on 3.11; the hot path uses these.
_BUY = OrderSide.BUY
_MARKET, _LIMIT, _STOP, _STOP_LIMIT = (
    OrderType.MARKET,
    OrderType.LIMIT,
    OrderType.STOP,
    OrderType.STOP_LIMIT,
)
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
        """Move forward by ``delta`` (a timedelta or seconds) and return the new time."""
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
    filled: Decimal = _ZERO
    notional: Decimal = _ZERO
    triggered: bool = False
    rested: bool = False
    """True once the order has been on the book through a matching pass."""
    error: str | None = None
    error_code: ErrorCode | None = None
    history: list[tuple[datetime, OrderStatus]] = field(default_factory=list)
    parent_id: str | None = None
    """For a bracket exit: the entry's order id."""
    oco_id: str | None = None
    """For a bracket exit: the order id of the other exit."""

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
        return self.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)

    @property
    def statuses(self) -> list[OrderStatus]:
        """The statuses the order went through, in order."""
        return [status for _, status in self.history]


@dataclass(slots=True)
class _Quote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    mid: Decimal
    bid_size: Decimal | None
    ask_size: Decimal | None
    time: datetime


@dataclass(slots=True)
class _Position:
    quantity: Decimal = _ZERO
    cost: Decimal = _ZERO
    """What the open quantity cost, without fees (always >= 0)."""
    realized_pnl: Decimal = _ZERO

    @property
    def average_price(self) -> Decimal:
        return self.cost / abs(self.quantity) if self.quantity else _ZERO


_FLAT = _Position()  # read-only stand-in for "no position"; never mutated


class MockBroker:
    """A paper-trading account: quotes, order matching, positions, cash and fees.

    Args:
        cash: starting cash in ``currency``.
        currency: the account (quote) currency, for display.
        slippage_bps: market and triggered-stop fills move this far against the order.
        maker_fee_bps / taker_fee_bps: fees on resting and immediate fills.
        leverage: buying power is equity times this.
        clock: the simulated clock (a fresh :class:`MockClock` if None).
        history_limit: finished orders kept for lookups (oldest dropped); fills too.
    """

    plugin_name = "mock"

    def __init__(
        self,
        *,
        cash: Decimal | int | str = 1_000_000,
        currency: str = "USD",
        slippage_bps: Decimal | int | str = 0,
        maker_fee_bps: Decimal | int | str = 0,
        taker_fee_bps: Decimal | int | str = 0,
        leverage: Decimal | int | str = 1,
        clock: MockClock | None = None,
        history_limit: int = 100_000,
    ) -> None:
        self.clock = clock or MockClock()
        self.currency = currency
        self.cash = Decimal(cash)
        self.slippage_bps = Decimal(slippage_bps)
        self.maker_fee_bps = Decimal(maker_fee_bps)
        self.taker_fee_bps = Decimal(taker_fee_bps)
        self.leverage = Decimal(leverage)
        if self.leverage <= 0:
            raise ValueError("leverage must be positive")
        self.history_limit = history_limit
        self.fills: deque[Fill] = deque(maxlen=history_limit)
        self.fees_paid = _ZERO
        self._quotes: dict[str, _Quote] = {}
        self._orders: dict[str, MockOrder] = {}
        self._by_client: dict[str, str] = {}
        self._working: dict[str, MockOrder] = {}
        self._finished: deque[str] = deque()
        self._positions: dict[str, _Position] = {}
        self._ids = itertools.count(1)
        self._rejections: deque[tuple[ErrorCode, str]] = deque()
        self._failures: deque[tuple[BaseException, bool]] = deque()
        self._arrivals: OrderedDict[str, int] = OrderedDict()
        self._new_fills: list[Fill] = []
        self.connected = True
        self._latency_s = 0.0
        self._jitter_s = 0.0
        self._random = random.Random(0)  # noqa: S311 - simulated latency, not security

    # ------------------------------------------------------------------ quotes

    def set_price(
        self,
        symbol: str,
        *,
        bid: Decimal | float | str | None = None,
        ask: Decimal | float | str | None = None,
        last: Decimal | float | str | None = None,
        size: Decimal | float | str | None = None,
    ) -> list[Fill]:
        """Set the quote of ``symbol`` and match working orders against it.

        Give ``bid`` and ``ask`` (``last`` defaults to their midpoint), or ``last`` alone
        (then bid = ask = last). ``size`` is the quantity offered at each side of this
        quote; None means unlimited. Returns the fills the new quote caused. Raises
        ``ValueError`` for missing, non-positive or crossed prices.
        """
        b, a, l_ = (_price(bid, "bid"), _price(ask, "ask"), _price(last, "last"))
        if b is None and a is None:
            if l_ is None:
                raise ValueError("set_price needs bid= and ask=, or last=")
            b = a = l_
        elif b is None or a is None:
            raise ValueError("set_price needs both bid= and ask= (or only last=)")
        if b > a:
            raise ValueError(f"crossed quote for {symbol}: bid {b} > ask {a}")
        depth = None if size is None else _price(size, "size")
        self._quotes[symbol] = _Quote(
            bid=b,
            ask=a,
            last=l_ if l_ is not None else (b + a) / 2,
            mid=(b + a) / 2,
            bid_size=depth,
            ask_size=depth,
            time=self.clock.now(),
        )
        self._new_fills = []
        self._match(symbol)
        return self._new_fills

    def quote(self, symbol: str) -> MarketData:
        """The current quote. Raises ``KeyError`` for a symbol that has none."""
        q = self._quotes.get(symbol)
        if q is None:
            raise KeyError(f"no quote for {symbol!r}; call set_price({symbol!r}, ...) first")
        return MarketData(symbol=symbol, bid=q.bid, ask=q.ask, last=q.last, timestamp=q.time)

    @property
    def symbols(self) -> list[str]:
        """Symbols that have a quote."""
        return sorted(self._quotes)

    # ------------------------------------------------------------------ faults

    def reject_next(
        self, error_code: ErrorCode | str = ErrorCode.REJECTED, message: str = ""
    ) -> None:
        """Make the next submitted order be rejected with ``error_code`` (queued)."""
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
        if not self.connected:
            raise BrokerUnavailable("mock broker is disconnected (call reconnect())")

    # ------------------------------------------------------------------ orders

    def submit(self, order: Order) -> ExecutionResult:
        """Accept ``order``, match it, and return its state as an :class:`ExecutionResult`.

        Raises :class:`BrokerUnavailable` when disconnected, or what a queued
        :meth:`fail_next_with` says.
        """
        self.require_connected()
        failure = self._failures.popleft() if self._failures else None
        if failure is not None and not failure[1]:
            raise failure[0]
        record = self._accept(order)
        if failure is not None:
            raise failure[0]
        return self.result(record)

    def _accept(self, order: Order) -> MockOrder:
        arrivals = self._arrivals
        arrivals[order.client_order_id] = arrivals.get(order.client_order_id, 0) + 1
        if len(arrivals) > self.history_limit:
            arrivals.popitem(last=False)
        order_id = f"M{next(self._ids)}"
        record = MockOrder(order=order, order_id=order_id, quantity=order.quantity)
        if order.client_order_id in self._by_client:
            # A real venue refuses a reused client id; keep the first record reachable.
            record.status = OrderStatus.REJECTED
            record.error_code = ErrorCode.INVALID_ORDER
            record.error = f"duplicate client order id {order.client_order_id!r}"
            record.history.append((self.clock.now(), OrderStatus.REJECTED))
            self._orders[order_id] = record
            self._retire(record)
            return record
        self._orders[order_id] = record
        self._by_client[order.client_order_id] = order_id
        self._set_status(record, OrderStatus.PENDING)
        problem = self._refusal(order)
        if problem is not None:
            self._reject(record, *problem)
            return record
        self._set_status(record, OrderStatus.ACCEPTED)
        self._working[order_id] = record
        self._new_fills = []
        self._on_arrival(record)
        record.rested = True
        self._match(order.symbol)
        return record

    def _refusal(self, order: Order) -> tuple[ErrorCode, str] | None:
        if self._rejections:
            return self._rejections.popleft()
        quote = self._quotes.get(order.symbol)
        if quote is None:
            return ErrorCode.INVALID_ORDER, (
                f"unknown symbol {order.symbol!r}: the mock trades only symbols given a "
                "quote with set_price"
            )
        if order.type in (_STOP, _STOP_LIMIT):
            assert order.stop_price is not None
            if _stop_reached(order.side, order.stop_price, quote):
                touch = quote.ask if order.side is _BUY else quote.bid
                return ErrorCode.INVALID_ORDER, (
                    f"{order.side.value} stop at {order.stop_price} is already reached "
                    f"(touch {touch}); use a market or limit order"
                )
        if order.reduce_only:
            held = self._positions.get(order.symbol, _FLAT).quantity
            if held * order.side.sign >= 0:
                return ErrorCode.INVALID_ORDER, (
                    f"reduce_only {order.side.value} would not reduce the position "
                    f"({held} {order.symbol})"
                )
        if order.time_in_force is TimeInForce.FOK and not self._fok_fillable(order, quote):
            return ErrorCode.REJECTED, "fill-or-kill order cannot be filled whole now"
        needed = self._margin_needed(order, quote)
        available = self.buying_power()
        # An order that only reduces needs nothing, even when losses left buying power
        # below zero: closing a losing position must never be refused.
        if needed > 0 and needed > available:
            return ErrorCode.INSUFFICIENT_FUNDS, (
                f"insufficient funds: order needs {needed:.2f} {self.currency} of buying "
                f"power, {available:.2f} available"
            )
        return None

    def _fok_fillable(self, order: Order, quote: _Quote) -> bool:
        if order.type in (_STOP, _STOP_LIMIT):
            return True  # checked when it triggers
        if order.type is _LIMIT and not _marketable(order.side, order.price, quote):
            return False
        depth = quote.ask_size if order.side is _BUY else quote.bid_size
        return depth is None or depth >= order.quantity

    def _margin_needed(self, order: Order, quote: _Quote) -> Decimal:
        if order.reduce_only:
            return _ZERO
        held = self._positions.get(order.symbol, _FLAT).quantity
        reducing = min(order.quantity, abs(held)) if held * order.side.sign < 0 else _ZERO
        opening = order.quantity - reducing
        if opening <= 0:
            return _ZERO
        price = order.price or order.stop_price or (quote.ask if order.side is _BUY else quote.bid)
        notional = opening * price
        return notional + notional * self.taker_fee_bps / _BPS

    def _on_arrival(self, record: MockOrder) -> None:
        """Fill what the order takes on arrival and apply its time in force."""
        order = record.order
        quote = self._quotes[order.symbol]
        if order.type is _MARKET:
            self._take(record, quote, slipped=True)
        elif order.type is _LIMIT and _marketable(order.side, order.price, quote):
            self._take(record, quote, slipped=False)
        if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and record.is_working:
            self._set_status(record, OrderStatus.CANCELED)
            self._retire(record)

    def cancel(self, order_id: str) -> ExecutionResult:
        """Cancel a working order (by broker or client order id).

        Returns ``canceled``, or ``rejected`` with ``invalid_order`` when the order is
        unknown or no longer working. Raises :class:`BrokerUnavailable` when
        disconnected.
        """
        self.require_connected()
        record = self._orders.get(order_id) or self._orders.get(self._by_client.get(order_id, ""))
        if record is None:
            return ExecutionResult.for_cancel(
                plugin=self.plugin_name,
                status=OrderStatus.REJECTED,
                order_id=order_id,
                symbol="?",
                error=f"unknown order {order_id!r}",
                error_code=ErrorCode.INVALID_ORDER,
                timestamp=self.clock.now(),
            )
        if not record.is_working:
            return ExecutionResult.model_validate(
                {
                    **self.result(record).model_dump(),
                    "success": False,
                    "status": OrderStatus.REJECTED,
                    "error": f"order {order_id} is {record.status.value}; nothing to cancel",
                    "error_code": ErrorCode.INVALID_ORDER,
                }
            )
        self._set_status(record, OrderStatus.CANCELED)
        self._retire(record)
        return self.result(record)

    def find(self, client_order_id: str) -> MockOrder | None:
        """The record of an order by client order id, or None."""
        order_id = self._by_client.get(client_order_id)
        return self._orders.get(order_id) if order_id else None

    def order(self, order_id: str) -> MockOrder:
        """The record of an order by broker or client order id. Raises ``KeyError``."""
        record = self._orders.get(order_id) or self.find(order_id)
        if record is None:
            raise KeyError(f"no order {order_id!r} at the mock broker")
        return record

    @property
    def orders(self) -> list[MockOrder]:
        """Every order record kept, in submission order."""
        return list(self._orders.values())

    @property
    def open_orders(self) -> list[MockOrder]:
        """Orders still working."""
        return list(self._working.values())

    def end_of_day(self) -> list[MockOrder]:
        """Expire every working ``day`` order; return them."""
        expired = [r for r in self._working.values() if r.order.time_in_force is TimeInForce.DAY]
        for record in expired:
            self._set_status(record, OrderStatus.EXPIRED)
            self._retire(record)
        return expired

    def result(self, record: MockOrder) -> ExecutionResult:
        """The :class:`ExecutionResult` describing ``record`` now."""
        return ExecutionResult(
            plugin=self.plugin_name,
            status=record.status,
            client_order_id=record.client_order_id,
            order_id=record.order_id,
            symbol=record.order.symbol,
            side=record.order.side,
            quantity=record.quantity,
            filled_quantity=record.filled,
            average_price=record.average_price,
            error=record.error,
            error_code=record.error_code,
            timestamp=self.clock.now(),
        )

    # ------------------------------------------------------------------ matching

    def _match(self, symbol: str) -> None:
        quote = self._quotes.get(symbol)
        if quote is None:
            return
        for _ in range(_MAX_MATCH_PASSES):
            progressed = False
            for record in [r for r in self._working.values() if r.order.symbol == symbol]:
                if record.is_working and self._match_one(record, quote):
                    progressed = True
            if not progressed:
                break
        for record in self._working.values():
            if record.order.symbol == symbol:
                record.rested = True

    def _match_one(self, record: MockOrder, quote: _Quote) -> bool:
        order = record.order
        if order.type in (_STOP, _STOP_LIMIT) and not record.triggered:
            assert order.stop_price is not None
            if not _stop_reached(order.side, order.stop_price, quote):
                return False
            record.triggered = True
            if order.type is _STOP:
                return self._take(record, quote, slipped=True) or True
            # The stop-limit's limit arrives now: it takes liquidity if marketable.
            if _marketable(order.side, order.price, quote):
                self._take(record, quote, slipped=False)
            return True
        if order.type in (_MARKET, _STOP):
            return self._take(record, quote, slipped=True)
        if not _marketable(order.side, order.price, quote):
            return False
        if record.rested:
            return self._take(record, quote, slipped=False, at=order.price, maker=True)
        return self._take(record, quote, slipped=False)

    def _take(
        self,
        record: MockOrder,
        quote: _Quote,
        *,
        slipped: bool,
        at: Decimal | None = None,
        maker: bool = False,
    ) -> bool:
        side = record.order.side
        depth = quote.ask_size if side is _BUY else quote.bid_size
        quantity = record.remaining if depth is None else min(record.remaining, depth)
        quantity = self._reduce_only_cap(record, quantity)
        if quantity <= 0:
            return False
        touch = quote.ask if side is _BUY else quote.bid
        price = at if at is not None else touch
        if at is None and record.order.price is not None and record.order.type is not _MARKET:
            # a marketable limit fills at the better of its limit and the touch
            price = (
                min(touch, record.order.price) if side is _BUY else max(touch, record.order.price)
            )
        if slipped and self.slippage_bps:
            price = price + side.sign * price * self.slippage_bps / _BPS
        if depth is not None:
            if side is _BUY:
                quote.ask_size = depth - quantity
            else:
                quote.bid_size = depth - quantity
        self._fill(record, quantity, price, "maker" if maker else "taker")
        return True

    def _reduce_only_cap(self, record: MockOrder, quantity: Decimal) -> Decimal:
        if not record.order.reduce_only:
            return quantity
        held = self._positions.get(record.order.symbol, _FLAT).quantity
        if held * record.order.side.sign >= 0:
            # Nothing left to reduce: a reduce-only order never opens or flips a position.
            self._set_status(record, OrderStatus.CANCELED)
            record.error = "reduce-only order canceled: no position left to reduce"
            self._retire(record)
            return _ZERO
        return min(quantity, abs(held))

    def _fill(self, record: MockOrder, quantity: Decimal, price: Decimal, liquidity: str) -> None:
        order = record.order
        rate = self.maker_fee_bps if liquidity == "maker" else self.taker_fee_bps
        fee = quantity * price * rate / _BPS if rate else _ZERO
        self.cash -= order.side.sign * quantity * price + fee
        self.fees_paid += fee
        self._apply_position(order.symbol, order.side.sign * quantity, price)
        record.filled += quantity
        record.notional += quantity * price
        done = record.filled >= record.quantity
        self._set_status(record, OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED)
        fill = Fill(
            order_id=record.order_id,
            client_order_id=record.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            fee=fee,
            liquidity=liquidity,
            time=self.clock.now(),
        )
        self.fills.append(fill)
        self._new_fills.append(fill)
        if done:
            self._retire(record)
        if order.has_bracket:
            self._grow_bracket(record, quantity)
        if record.oco_id is not None:
            self._resolve_oco(record)
        if self.position(order.symbol) == 0:
            self._drop_exits(order.symbol)

    def _apply_position(self, symbol: str, delta: Decimal, price: Decimal) -> None:
        pos = self._positions.setdefault(symbol, _Position())
        held = pos.quantity
        if held == 0 or (held > 0) == (delta > 0):
            pos.cost += abs(delta) * price
            pos.quantity = held + delta
            return
        closing = min(abs(delta), abs(held))
        # Average-cost accounting on the exact cost of what is open: closing all of it
        # removes the whole cost, so P&L is exact whenever a position goes flat.
        removed = pos.cost if closing == abs(held) else pos.cost * closing / abs(held)
        pos.realized_pnl += (closing * price - removed) * (1 if held > 0 else -1)
        pos.cost -= removed
        pos.quantity = held + delta
        if pos.quantity != 0 and (pos.quantity > 0) != (held > 0):
            pos.cost = abs(pos.quantity) * price  # flipped: the rest opened at this price

    # ------------------------------------------------------------------ brackets

    def _grow_bracket(self, entry: MockOrder, quantity: Decimal) -> None:
        exits = [self._orders[i] for i in self._exit_ids(entry) if i in self._orders]
        if exits:
            for child in exits:
                if child.is_working:
                    child.quantity += quantity
            return
        order = entry.order
        side = order.side.opposite
        base = order.client_order_id[:32]
        children = []
        if order.stop_loss is not None:
            children.append(
                Order.stop(
                    order.symbol,
                    side,
                    quantity,
                    order.stop_loss,
                    reduce_only=True,
                    client_order_id=f"{base}-sl",
                    account=order.account,
                )
            )
        if order.take_profit is not None:
            children.append(
                Order.limit(
                    order.symbol,
                    side,
                    quantity,
                    order.take_profit,
                    reduce_only=True,
                    client_order_id=f"{base}-tp",
                    account=order.account,
                )
            )
        records = []
        for exit_order in children:
            record = MockOrder(
                order=exit_order,
                order_id=f"{entry.order_id}-{exit_order.client_order_id[-2:].upper()}",
                quantity=quantity,
                parent_id=entry.order_id,
            )
            self._orders[record.order_id] = record
            self._by_client[exit_order.client_order_id] = record.order_id
            self._set_status(record, OrderStatus.ACCEPTED)
            self._working[record.order_id] = record
            records.append(record)
        if len(records) == 2:
            records[0].oco_id, records[1].oco_id = records[1].order_id, records[0].order_id

    def _exit_ids(self, entry: MockOrder) -> Iterator[str]:
        yield f"{entry.order_id}-SL"
        yield f"{entry.order_id}-TP"

    def _resolve_oco(self, filled: MockOrder) -> None:
        other = self._orders.get(filled.oco_id or "")
        filled.oco_id = None
        if other is None:
            return
        other.oco_id = None
        if other.is_working:
            self._set_status(other, OrderStatus.CANCELED)
            other.error = f"canceled by its OCO partner {filled.order_id}"
            self._retire(other)

    def _drop_exits(self, symbol: str) -> None:
        # As at MT5 and NinjaTrader: bracket exits go away with the position they protect.
        for record in list(self._working.values()):
            if record.parent_id is not None and record.order.symbol == symbol:
                self._set_status(record, OrderStatus.CANCELED)
                record.error = "canceled: the position it protected is closed"
                self._retire(record)

    # ------------------------------------------------------------------ account

    def positions(self) -> list[Position]:
        """Open positions with unrealized P&L at the current mid (or last) price."""
        result = []
        for symbol, pos in sorted(self._positions.items()):
            if pos.quantity == 0:
                continue
            mark = self.mark(symbol)
            sign = 1 if pos.quantity > 0 else -1
            result.append(
                Position(
                    symbol=symbol,
                    quantity=pos.quantity,
                    average_price=pos.average_price,
                    unrealized_pnl=(mark * abs(pos.quantity) - pos.cost) * sign + _ZERO,
                )
            )
        return result

    def position(self, symbol: str) -> Decimal:
        """Signed quantity held in ``symbol`` (0 when flat)."""
        pos = self._positions.get(symbol)
        return pos.quantity if pos else _ZERO

    def realized_pnl(self, symbol: str | None = None) -> Decimal:
        """Realized P&L (before fees) of one symbol or of the whole account."""
        if symbol is not None:
            pos = self._positions.get(symbol)
            return pos.realized_pnl if pos else _ZERO
        return sum((p.realized_pnl for p in self._positions.values()), _ZERO)

    def mark(self, symbol: str) -> Decimal:
        """The price positions in ``symbol`` are valued at: the quote's midpoint."""
        return self._quotes[symbol].mid

    def equity(self) -> Decimal:
        """Cash plus the marked value of every position."""
        quotes = self._quotes
        return self.cash + sum(
            (p.quantity * quotes[s].mid for s, p in self._positions.items() if p.quantity),
            _ZERO,
        )

    def buying_power(self) -> Decimal:
        """Equity times leverage, less open exposure and what working orders reserve."""
        quotes = self._quotes
        exposure = sum(
            (abs(p.quantity) * quotes[s].mid for s, p in self._positions.items() if p.quantity),
            _ZERO,
        )
        reserved = _ZERO
        for record in self._working.values():
            if record.order.reduce_only:
                continue
            price = record.order.price or record.order.stop_price or self.mark(record.order.symbol)
            reserved += record.remaining * price
        return self.equity() * self.leverage - exposure - reserved

    # ------------------------------------------------------------------ bookkeeping

    def _set_status(self, record: MockOrder, status: OrderStatus) -> None:
        record.status = status
        record.history.append((self.clock.now(), status))

    def _reject(self, record: MockOrder, code: ErrorCode, message: str) -> None:
        record.error_code = code
        record.error = message
        self._set_status(record, OrderStatus.REJECTED)
        self._retire(record)

    def _retire(self, record: MockOrder) -> None:
        self._working.pop(record.order_id, None)
        self._finished.append(record.order_id)
        while len(self._finished) > self.history_limit:
            old = self._orders.pop(self._finished.popleft(), None)
            if old is not None and self._by_client.get(old.client_order_id) == old.order_id:
                del self._by_client[old.client_order_id]


def _price(value: Decimal | float | str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    number = Decimal(str(value))
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _marketable(side: OrderSide, limit: Decimal | None, quote: _Quote) -> bool:
    if limit is None:
        return False
    return quote.ask <= limit if side is _BUY else quote.bid >= limit


def _stop_reached(side: OrderSide, stop: Decimal, quote: _Quote) -> bool:
    return quote.ask >= stop if side is _BUY else quote.bid <= stop
