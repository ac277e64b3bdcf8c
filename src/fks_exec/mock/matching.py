"""How the mock broker fills orders: matching passes, fills, brackets and OCO exits.

:class:`MatchingEngine` holds the rules; :class:`fks_exec.mock.MockBroker` supplies the
state they act on (quotes, the book of working orders, the ledger, cash and records).
The rules themselves are listed in :mod:`fks_exec.mock.broker`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from fks_exec.mock.accounting import Ledger
from fks_exec.mock.book import WorkingBook
from fks_exec.mock.records import (
    BPS,
    BUY,
    FILLED,
    MARKET,
    PARTIALLY_FILLED,
    STOP,
    STOP_LIMIT,
    ZERO,
    Fill,
    MockClock,
    MockOrder,
    Quote,
    marketable,
    stop_reached,
)
from fks_exec.models import ErrorCode, Order, OrderStatus

__all__ = ["MatchingEngine"]

MAX_MATCH_PASSES = 50


class MatchingEngine:
    """Matching passes over the working orders a quote reaches, and what a fill moves."""

    clock: MockClock
    cash: Decimal
    fees_paid: Decimal
    slippage_bps: Decimal
    maker_fee_bps: Decimal
    taker_fee_bps: Decimal
    history_limit: int
    fills: deque[Fill]
    _quotes: dict[str, Quote]
    _book: WorkingBook
    _working: dict[int, MockOrder]
    _ledger: Ledger
    _orders: dict[str, MockOrder]
    _by_client: dict[str, str]
    _finished: deque[str]
    _new_fills: list[Fill]

    if TYPE_CHECKING:

        def _margin_needed(self, order: Order, quote: Quote) -> Decimal: ...
        def _buying_power(self) -> Decimal: ...
        def _refusal(self, order: Order) -> tuple[ErrorCode, str] | None: ...
        def _reject(self, record: MockOrder, code: ErrorCode, message: str) -> None: ...

    # ------------------------------------------------------------------ passes

    def _match(self, symbol: str) -> None:
        quote = self._quotes.get(symbol)
        if quote is None:
            return
        for _ in range(MAX_MATCH_PASSES):
            progressed = False
            for record in self._pass_candidates(symbol, quote):
                if record.is_working and self._match_one(record, quote):
                    progressed = True
            if not progressed:
                break
        self._mark_rested(symbol)

    def _pass_candidates(self, symbol: str, quote: Quote) -> list[MockOrder]:
        """The working orders of ``symbol`` one pass visits, in arrival order."""
        return self._book.candidates(symbol, quote)

    def _mark_rested(self, symbol: str) -> None:
        self._book.mark_rested(symbol)

    def _match_one(self, record: MockOrder, quote: Quote) -> bool:
        order = record.order
        if order.type in (STOP, STOP_LIMIT) and not record.triggered:
            assert order.stop_price is not None
            if not stop_reached(order.side, order.stop_price, quote):
                return False
            record.triggered = True
            self._book.triggered(record)
            if order.type is STOP:
                return self._take(record, quote, slipped=True) or True
            # The stop-limit's limit arrives now: it takes liquidity if marketable.
            if marketable(order.side, order.price, quote):
                self._take(record, quote, slipped=False)
            return True
        if order.type in (MARKET, STOP):
            return self._take(record, quote, slipped=True)
        if not marketable(order.side, order.price, quote):
            return False
        if record.rested:
            return self._take(record, quote, slipped=False, at=order.price, maker=True)
        return self._take(record, quote, slipped=False)

    # ------------------------------------------------------------------ fills

    def _fill_on_arrival(self, record: MockOrder, quote: Quote) -> None:
        """Admit and fill a market order that the touch takes whole, in one step.

        The broker sends here only a market order without a bracket or reduce-only,
        with no test rejection queued, on a symbol whose quote has unlimited size on
        the order's side. For such an order the general path (``_refusal`` then
        ``_on_arrival``) does exactly this: of the admission checks only buying power
        can refuse it, and it fills whole at the slipped touch as a taker. The broker
        then runs the matching pass every accepted arrival ends with, unless nothing
        of the symbol is working. Tests run both paths side by side on random streams
        and compare every record.
        """
        order = record.order
        now = self.clock.now()  # the mock's clock moves only when told
        needed = self._margin_needed(order, quote)
        if needed > ZERO and needed > self._buying_power():
            record.log = (now, "pending")
            problem = self._refusal(order)  # the insufficient-funds refusal, worded once
            assert problem is not None
            self._reject(record, *problem)
            return
        # What _fill does for a fill of the whole order as a taker, less what cannot
        # apply: the record was never on the book, has no bracket and no OCO partner.
        buy = order.side is BUY
        price = quote.ask if buy else quote.bid
        if self.slippage_bps:
            price = price + (1 if buy else -1) * price * self.slippage_bps / BPS
        quantity = record.quantity
        rate = self.taker_fee_bps
        value = quantity * price
        fee = value * rate / BPS if rate else ZERO
        self.cash -= (value if buy else -value) + fee
        self.fees_paid += fee
        symbol = order.symbol
        held = self._ledger.apply(symbol, quantity if buy else -quantity, price, quote.mid)
        record.filled += quantity
        record.notional += value
        record.status = FILLED
        record.log = (now, "pending", now, "accepted", now, "filled")
        fill = Fill(
            record.order_id,
            order.client_order_id,
            symbol,
            order.side,
            quantity,
            price,
            fee,
            "taker",
            now,
        )
        self.fills.append(fill)
        self._new_fills = [fill]
        self._retire(record)
        if held == ZERO:
            self._drop_exits(symbol)
        record.rested = True

    def _take(
        self,
        record: MockOrder,
        quote: Quote,
        *,
        slipped: bool,
        at: Decimal | None = None,
        maker: bool = False,
    ) -> bool:
        side = record.order.side
        depth = quote.ask_size if side is BUY else quote.bid_size
        quantity = record.remaining if depth is None else min(record.remaining, depth)
        quantity = self._reduce_only_cap(record, quantity)
        if quantity <= ZERO:
            return False
        touch = quote.ask if side is BUY else quote.bid
        price = at if at is not None else touch
        if at is None and record.order.price is not None and record.order.type is not MARKET:
            # a marketable limit fills at the better of its limit and the touch
            price = (
                min(touch, record.order.price) if side is BUY else max(touch, record.order.price)
            )
        if slipped and self.slippage_bps:
            price = price + side.sign * price * self.slippage_bps / BPS
        if depth is not None:
            if side is BUY:
                quote.ask_size = depth - quantity
            else:
                quote.bid_size = depth - quantity
        self._fill(record, quantity, price, "maker" if maker else "taker")
        return True

    def _reduce_only_cap(self, record: MockOrder, quantity: Decimal) -> Decimal:
        if not record.order.reduce_only:
            return quantity
        held = self._ledger.quantity(record.order.symbol)
        if held * record.order.side.sign >= 0:
            # Nothing left to reduce: a reduce-only order never opens or flips a position.
            self._set_status(record, OrderStatus.CANCELED)
            record.error = "reduce-only order canceled: no position left to reduce"
            self._retire(record)
            return ZERO
        return min(quantity, abs(held))

    def _fill(self, record: MockOrder, quantity: Decimal, price: Decimal, liquidity: str) -> None:
        order = record.order
        symbol = order.symbol
        rate = self.maker_fee_bps if liquidity == "maker" else self.taker_fee_bps
        value = quantity * price
        fee = value * rate / BPS if rate else ZERO
        buy = order.side is BUY
        self.cash -= (value if buy else -value) + fee
        self.fees_paid += fee
        held = self._ledger.apply(
            symbol, quantity if buy else -quantity, price, self._quotes[symbol].mid
        )
        filled = record.filled = record.filled + quantity
        record.notional += value
        done = filled >= record.quantity
        self._set_status(record, FILLED if done else PARTIALLY_FILLED)
        fill = Fill(  # by position: keywords cost more than the rest of the line
            record.order_id,
            order.client_order_id,
            symbol,
            order.side,
            quantity,
            price,
            fee,
            liquidity,
            self.clock.now(),
        )
        self.fills.append(fill)
        self._new_fills.append(fill)
        if done:
            self._retire(record)
        else:
            self._book.refilled(record)
        if order.stop_loss is not None or order.take_profit is not None:
            self._grow_bracket(record, quantity)
        if record.oco_id is not None:
            self._resolve_oco(record)
        if held == ZERO:
            self._drop_exits(symbol)

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
            self._book.add(record)
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
        for record in self._book.exits(symbol):
            self._set_status(record, OrderStatus.CANCELED)
            record.error = "canceled: the position it protected is closed"
            self._retire(record)

    # ------------------------------------------------------------------ bookkeeping

    def _set_status(self, record: MockOrder, status: OrderStatus) -> None:
        record.status = status
        record.log += (self.clock.now(), status._value_)

    def _retire(self, record: MockOrder) -> None:
        self._book.remove(record)
        finished = self._finished
        finished.append(record.order_id)
        while len(finished) > self.history_limit:
            old = self._orders.pop(finished.popleft(), None)
            if old is not None and self._by_client.get(old.client_order_id) == old.order_id:
                del self._by_client[old.client_order_id]
