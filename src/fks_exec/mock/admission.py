"""Why the mock broker refuses an order before it reaches the book.

:class:`AdmissionRules` checks, in this order: a queued test rejection, an unknown
symbol, a stop already reached, exits (``stop_loss`` / ``take_profit``) of an entry
that fills now which that fill would set off at once, a reduce-only order that would
not reduce, a fill-or-kill order that cannot fill whole now, and buying power (an order needs the
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
    MARKET,
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
        exits = _exits_reached(order, quote)
        if exits is not None:
            return ErrorCode.INVALID_ORDER, exits
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


def _exits_reached(order: Order, quote: Quote) -> str | None:
    """Why ``order``'s exits would fire the moment it fills, for an entry that fills now
    (a market order, a marketable limit), or None. Its exits trade the other side: a
    buy's stop loss is a sell stop (reached at a bid at or below it), its take profit a
    sell limit (marketable at a bid at or above it); a sell's the mirror. The order
    model checks exits against a limit or stop price only; a market entry has neither."""
    stop_loss, take_profit = order.stop_loss, order.take_profit
    if stop_loss is None and take_profit is None:
        return None
    if order.type is not MARKET and not (
        order.type is LIMIT and marketable(order.side, order.price, quote)
    ):
        return None
    exit_side = order.side.opposite
    # Never both: the model keeps a buy's stop loss below its take profit (a sell's
    # above), and the exits' touch cannot be at or below the one and at or above the other.
    if stop_loss is not None and stop_reached(exit_side, stop_loss, quote):
        reached = f"stop_loss {stop_loss}"
    elif marketable(exit_side, take_profit, quote):
        reached = f"take_profit {take_profit}"
    else:
        return None
    buy = order.side is BUY
    touch = f"bid {quote.bid}" if buy else f"ask {quote.ask}"
    return (
        f"this {order.side.value} fills now and its {reached} would fire at "
        f"once ({touch}): a {order.side.value}'s stop loss goes "
        f"{'below' if buy else 'above'} the market, its take profit "
        f"{'above' if buy else 'below'}; nothing was placed"
    )
