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

The simulator is split by concern: :mod:`~fks_exec.mock.records` (clock, order records,
fills, quotes), :mod:`~fks_exec.mock.book` (working orders indexed per symbol and by
price, reserved margin), :mod:`~fks_exec.mock.accounting` (positions and exposure),
:mod:`~fks_exec.mock.statement` (positions, P&L, equity and buying power as read),
:mod:`~fks_exec.mock.matching` (fills, brackets), :mod:`~fks_exec.mock.faults` and
:mod:`~fks_exec.mock.results`. A submit or a quote costs what it crosses, not what
rests on the book.
"""

from __future__ import annotations

import itertools
from collections import deque
from decimal import Decimal

from fks_exec.mock.accounting import Ledger
from fks_exec.mock.admission import AdmissionRules
from fks_exec.mock.book import WorkingBook
from fks_exec.mock.faults import FaultControls
from fks_exec.mock.matching import MatchingEngine
from fks_exec.mock.records import (
    ACCEPTED,
    BUY,
    FOK,
    IOC,
    LIMIT,
    MARKET,
    PENDING,
    REJECTED,
    ZERO,
    Fill,
    MockClock,
    MockOrder,
    Quote,
    marketable,
    parse_price,
)
from fks_exec.mock.results import result_of
from fks_exec.mock.statement import AccountStatement
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    MarketData,
    Order,
    OrderStatus,
    TimeInForce,
)

__all__ = ["Fill", "MockBroker", "MockClock", "MockOrder"]


class MockBroker(FaultControls, AdmissionRules, MatchingEngine, AccountStatement):
    """A paper-trading account: quotes, order matching, positions, cash and fees.

    Args:
        cash: starting cash in ``currency``.
        currency: the account (quote) currency, for display.
        slippage_bps: market and triggered-stop fills move this far against the order.
        maker_fee_bps / taker_fee_bps: fees on resting and immediate fills.
        leverage: buying power is equity times this.
        clock: the simulated clock (a fresh :class:`MockClock` if None).
        history_limit: finished orders kept for lookups (oldest dropped); fills too.

    Raises ``ValueError`` for a leverage that is not positive.
    """

    plugin_name = "mock"
    immediate_fills = True
    """Take the short path for a market order that fills whole on arrival (see
    :meth:`~fks_exec.mock.matching.MatchingEngine._fill_on_arrival`); tests turn it off
    to check that both paths leave the same state."""

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
        self.fees_paid = ZERO
        self._quotes: dict[str, Quote] = {}
        self._orders: dict[str, MockOrder] = {}
        self._by_client: dict[str, str] = {}
        self._book = WorkingBook()
        self._working = self._book.working
        self._finished: deque[str] = deque()
        self._ledger = Ledger()
        self._ids = itertools.count(1)
        self._new_fills: list[Fill] = []
        self._init_faults()

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
        b, a, l_ = (parse_price(bid, "bid"), parse_price(ask, "ask"), parse_price(last, "last"))
        if b is None and a is None:
            if l_ is None:
                raise ValueError("set_price needs bid= and ask=, or last=")
            b = a = l_
        elif b is None or a is None:
            raise ValueError("set_price needs both bid= and ask= (or only last=)")
        if b > a:
            raise ValueError(f"crossed quote for {symbol}: bid {b} > ask {a}")
        depth = None if size is None else parse_price(size, "size")
        mid = (b + a) / 2
        self._quotes[symbol] = Quote(
            bid=b,
            ask=a,
            last=l_ if l_ is not None else mid,
            mid=mid,
            bid_size=depth,
            ask_size=depth,
            time=self.clock.now(),
        )
        self._ledger.remark(symbol, mid)
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

    # ------------------------------------------------------------------ orders

    def submit(self, order: Order) -> ExecutionResult:
        """Accept ``order``, match it, and return its state as an :class:`ExecutionResult`.

        Raises :class:`BrokerUnavailable` when disconnected, or what a queued
        :meth:`fail_next_with` says.
        """
        if not self.connected:
            self._check_connected()
        if self._failures:
            failure = self._failures.popleft()
            if not failure[1]:
                raise failure[0]
            self._accept(order)
            raise failure[0]
        return result_of(self.plugin_name, self._accept(order), self.clock.now())

    def _accept(self, order: Order) -> MockOrder:
        client_order_id = order.client_order_id
        self._count_arrival(client_order_id)
        order_id = f"M{next(self._ids)}"
        record = MockOrder(order, order_id, order.quantity)
        if client_order_id in self._by_client:
            # A real venue refuses a reused client id; keep the first record reachable.
            record.error_code = ErrorCode.INVALID_ORDER
            record.error = f"duplicate client order id {client_order_id!r}"
            record.set_status(OrderStatus.REJECTED, self.clock.now())
            self._orders[order_id] = record
            self._retire(record)
            return record
        self._orders[order_id] = record
        self._by_client[client_order_id] = order_id
        quote = self._quotes.get(order.symbol)
        if (
            order.type is MARKET
            and quote is not None
            and self.immediate_fills
            and not order.reduce_only
            and order.stop_loss is None
            and order.take_profit is None
            and not self._rejections
            and (quote.ask_size if order.side is BUY else quote.bid_size) is None
        ):
            self._fill_on_arrival(record, quote)
            if record.status is not REJECTED and not self._book.idle(order.symbol):
                self._match(order.symbol)  # the pass every accepted arrival ends with
            return record
        self._set_status(record, PENDING)
        problem = self._refusal(order)
        if problem is not None:
            self._reject(record, *problem)
            return record
        self._set_status(record, ACCEPTED)
        # An order without a bracket joins the book once its arrival is settled (most
        # fill or end at once): no other order can start working meanwhile, so its place
        # in arrival order is the same. A bracket's exits must come after their entry.
        bracket = order.stop_loss is not None or order.take_profit is not None
        if bracket:
            self._book.add(record)
        self._new_fills = []
        self._on_arrival(record)
        record.rested = True
        if not bracket and record.is_working:
            self._book.add(record)
        self._match(order.symbol)
        return record

    def _on_arrival(self, record: MockOrder) -> None:
        """Fill what the order takes on arrival and apply its time in force."""
        order = record.order
        quote = self._quotes[order.symbol]
        if order.type is MARKET:
            self._take(record, quote, slipped=True)
        elif order.type is LIMIT and marketable(order.side, order.price, quote):
            self._take(record, quote, slipped=False)
        if (order.time_in_force is IOC or order.time_in_force is FOK) and record.is_working:
            self._set_status(record, OrderStatus.CANCELED)
            self._retire(record)

    def cancel(self, order_id: str) -> ExecutionResult:
        """Cancel a working order (by broker or client order id).

        Returns ``canceled``, or ``rejected`` with ``invalid_order`` when the order is
        unknown or no longer working. Raises :class:`BrokerUnavailable` when
        disconnected.
        """
        self._check_connected()
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
                    **result_of(self.plugin_name, record, self.clock.now()).model_dump(),
                    "success": False,
                    "status": OrderStatus.REJECTED,
                    "error": f"order {order_id} is {record.status.value}; nothing to cancel",
                    "error_code": ErrorCode.INVALID_ORDER,
                }
            )
        self._set_status(record, OrderStatus.CANCELED)
        self._retire(record)
        return result_of(self.plugin_name, record, self.clock.now())

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
        """The :class:`ExecutionResult` describing ``record`` now (built without
        re-validation; see :mod:`fks_exec.mock.results`)."""
        return result_of(self.plugin_name, record, self.clock.now())

    # ------------------------------------------------------------------ bookkeeping

    def _reject(self, record: MockOrder, code: ErrorCode, message: str) -> None:
        record.error_code = code
        record.error = message
        self._set_status(record, OrderStatus.REJECTED)
        self._retire(record)
