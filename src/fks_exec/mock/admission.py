"""Why the mock broker refuses an order before it reaches the book.

:class:`AdmissionRules` checks, in this order: a queued test rejection, an unknown
symbol, a stop already reached, a reduce-only order that would not reduce, a
fill-or-kill order that cannot fill whole now, and buying power (an order needs the
value of what it opens, plus the taker fee; what only reduces needs nothing).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING

from fks_exec.mock.accounting import FLAT, Ledger
from fks_exec.mock.records import (
    BPS,
    BUY,
    FOK,
    LIMIT,
    STOP,
    STOP_LIMIT,
    ZERO,
    Quote,
    marketable,
    stop_reached,
)
from fks_exec.models import ErrorCode, Order

__all__ = ["AdmissionRules"]


class AdmissionRules:
    """The checks an order passes before it is accepted."""

    currency: str
    taker_fee_bps: Decimal
    _quotes: dict[str, Quote]
    _ledger: Ledger
    _rejections: deque[tuple[ErrorCode, str]]

    if TYPE_CHECKING:

        def _buying_power(self) -> Decimal: ...

    def _refusal(self, order: Order) -> tuple[ErrorCode, str] | None:
        if self._rejections:
            return self._rejections.popleft()
        quote = self._quotes.get(order.symbol)
        if quote is None:
            return ErrorCode.INVALID_ORDER, (
                f"unknown symbol {order.symbol!r}: the mock trades only symbols given a "
                "quote with set_price"
            )
        if order.type in (STOP, STOP_LIMIT):
            assert order.stop_price is not None
            if stop_reached(order.side, order.stop_price, quote):
                touch = quote.ask if order.side is BUY else quote.bid
                return ErrorCode.INVALID_ORDER, (
                    f"{order.side.value} stop at {order.stop_price} is already reached "
                    f"(touch {touch}); use a market or limit order"
                )
        if order.reduce_only:
            held = self._ledger.positions.get(order.symbol, FLAT).quantity
            if held * order.side.sign >= 0:
                return ErrorCode.INVALID_ORDER, (
                    f"reduce_only {order.side.value} would not reduce the position "
                    f"({held} {order.symbol})"
                )
        if order.time_in_force is FOK and not self._fok_fillable(order, quote):
            return ErrorCode.REJECTED, "fill-or-kill order cannot be filled whole now"
        needed = self._margin_needed(order, quote)
        # An order that only reduces needs nothing, even when losses left buying power
        # below zero: closing a losing position must never be refused.
        if needed > ZERO:
            available = self._buying_power()
            if needed > available:
                return ErrorCode.INSUFFICIENT_FUNDS, (
                    f"insufficient funds: order needs {needed:.2f} {self.currency} of "
                    f"buying power, {available:.2f} available"
                )
        return None

    def _fok_fillable(self, order: Order, quote: Quote) -> bool:
        if order.type in (STOP, STOP_LIMIT):
            return True  # checked when it triggers
        if order.type is LIMIT and not marketable(order.side, order.price, quote):
            return False
        depth = quote.ask_size if order.side is BUY else quote.bid_size
        return depth is None or depth >= order.quantity

    def _margin_needed(self, order: Order, quote: Quote) -> Decimal:
        if order.reduce_only:
            return ZERO
        buy = order.side is BUY
        held = self._ledger.positions.get(order.symbol, FLAT).quantity
        reducing = min(order.quantity, abs(held)) if (held < ZERO if buy else held > ZERO) else ZERO
        opening = order.quantity - reducing
        if opening <= ZERO:
            return ZERO
        price = order.price or order.stop_price or (quote.ask if buy else quote.bid)
        notional = opening * price
        fee_bps = self.taker_fee_bps
        return notional + notional * fee_bps / BPS if fee_bps else notional
