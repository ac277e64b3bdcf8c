"""Quantities and prices on a market's precision, never changed in meaning.

A quantity is only ever truncated (never sent above what was asked); a limit price is
moved to the tick only in the direction that makes it more cautious (a buy never pays
more, a sell never takes less, than the user asked); a trigger is rounded to the tick;
any of them is refused when that makes it 0 or moves a protective price onto the wrong
side of the order's price. ccxt's own ``*_to_precision`` is used
where an exchange overrides it (significant digits, decimal places), and checked.
"""

from __future__ import annotations

from decimal import (
    Context,
    Decimal,
    DecimalException,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
)
from typing import Any

from fks_exec.models import Order, OrderSide
from fks_exec_ccxt.rules import MarketRules

__all__ = [
    "PrecisionError",
    "Priced",
    "amount_of",
    "price_of",
    "priced",
    "to_tick",
    "wire_number",
]


class PrecisionError(ValueError):
    """A value cannot be put on the market's precision without changing its meaning."""


_EXACT_DIGITS = 10_000


_EXACT = Context(prec=_EXACT_DIGITS, traps=[Inexact, InvalidOperation, Overflow, Underflow])
# Arithmetic that is exact or raises: the default context keeps 28 digits, so a value
# of 29 or more would be rounded (a remainder of ~1e-31 instead of 0).


def to_tick(value: Decimal, tick: Decimal, *, truncate: bool) -> Decimal:
    """``value`` on a multiple of ``tick``: truncated, or rounded half away from zero.

    The same rule as ccxt's ``decimal_to_precision`` in TICK_SIZE mode, done on
    Decimals (a property test holds the two equal), exactly whatever the number of
    digits. Raises :class:`PrecisionError` for a value and tick more than
    10,000 digits apart.
    """
    try:
        missing = _EXACT.remainder(_EXACT.abs(value), tick)
        if not missing:
            return value
        down = _EXACT.subtract(value, _EXACT.copy_sign(missing, value))
        if truncate or _EXACT.multiply(missing, 2) < tick:
            return down
        return _EXACT.add(down, _EXACT.copy_sign(tick, value))
    except DecimalException:
        raise PrecisionError(
            f"{value} cannot be put on a tick of {tick} exactly (too many digits)"
        ) from None


def wire_number(value: Decimal, what: str = "value") -> float | int:
    """``value`` as the Python number ccxt takes, carried exactly, else
    :class:`PrecisionError`.

    An integral value goes as an int (exact at any size), as ccxt's own cases do (some
    venues' JSON bodies carry the number itself: mexc ``vol``, gate ``size``); any other
    as a float, which ccxt reads back through ``str()``. A value whose float does not
    read back as the same number (more significant digits than a float carries, about
    15-17) is refused: the float could be above a quantity or a buy limit, below a sell
    limit, or move a trigger.
    """
    # int() truncates a finite Decimal: equal to it exactly when it is integral (half
    # the cost of comparing with to_integral_value(), twice per order).
    whole = int(value)
    if whole == value:
        return whole
    number = float(value)
    if Decimal(repr(number)) != value:
        raise PrecisionError(
            f"{what} {value} has more digits than ccxt can carry (it sends floats: it "
            f"would go out as {number!r}); use at most 15 significant digits (nothing "
            "was sent)"
        )
    return number


def amount_of(exchange: Any, rules: MarketRules, value: Decimal) -> Decimal:
    """``value`` truncated to the market's amount step; never above ``value``.

    Raises :class:`PrecisionError` when it truncates to 0 or ccxt would round it up.
    """
    if rules.amount_tick is not None:
        result = to_tick(value, rules.amount_tick, truncate=True)
    else:
        # The exchange rounds with its own method (hyperliquid rounds half up): truncate
        # to the step first, so its rounding has nothing left to round up.
        stepped = value
        if rules.amount_step is not None:
            stepped = to_tick(value, rules.amount_step, truncate=True)
        result = Decimal(str(exchange.amount_to_precision(rules.symbol, str(stepped))))
    if result > value:
        raise PrecisionError(
            f"{rules.exchange_id} rounds {value} up to {result} on {rules.symbol}; send a "
            "quantity on the market's step (nothing was sent)"
        )
    if result <= 0:
        step = rules.amount_tick or "the market's step"
        raise PrecisionError(f"quantity {value} is below {rules.symbol}'s amount step {step}")
    return result


def price_of(
    exchange: Any,
    rules: MarketRules,
    value: Decimal,
    what: str,
    limit_side: OrderSide | None = None,
) -> Decimal:
    """``value`` on the market's price tick; raises :class:`PrecisionError` at 0.

    With ``limit_side`` (the order's limit price) the value moves only the cautious way:
    down for a buy, up for a sell; where only ccxt knows the precision and its rounding
    would make the limit more aggressive, the price is refused instead. Other prices
    (triggers, stop loss, take profit) are rounded to the nearest tick.
    """
    if rules.price_tick is not None:
        if limit_side is None:
            result = to_tick(value, rules.price_tick, truncate=False)
        else:
            result = to_tick(value, rules.price_tick, truncate=True)  # down (prices > 0)
            if limit_side is OrderSide.SELL and result < value:
                result += rules.price_tick
    else:
        result = Decimal(str(exchange.price_to_precision(rules.symbol, str(value))))
        if (limit_side is OrderSide.BUY and result > value) or (
            limit_side is OrderSide.SELL and result < value
        ):
            raise PrecisionError(
                f"{rules.exchange_id} rounds the {limit_side.value} limit {value} to "
                f"{result} on {rules.symbol}, a worse price than asked; send a price on "
                "the market's precision (nothing was sent)"
            )
    if result <= 0:
        raise PrecisionError(
            f"{what} {value} rounds to {result if result else 0} at {rules.symbol}'s tick "
            f"{rules.price_tick or ''}".rstrip()
            + "; a 0 trigger or price would change the order's meaning"
        )
    return result


class Priced:
    """An order's prices on the market's precision (None where the order has none)."""

    __slots__ = ("price", "stop_loss", "stop_price", "take_profit")

    def __init__(
        self,
        price: Decimal | None,
        stop_price: Decimal | None,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
    ) -> None:
        self.price = price
        self.stop_price = stop_price
        self.stop_loss = stop_loss
        self.take_profit = take_profit


def priced(exchange: Any, rules: MarketRules, order: Order) -> Priced:
    """Every price of ``order`` rounded; raises :class:`PrecisionError` when rounding puts
    a stop loss or take profit on the wrong side of the order's price, or onto each other.
    """

    def one(value: Decimal | None, what: str) -> Decimal | None:
        return None if value is None else price_of(exchange, rules, value, what)

    limit = order.price
    result = Priced(
        None if limit is None else price_of(exchange, rules, limit, "price", order.side),
        one(order.stop_price, "stop_price"),
        one(order.stop_loss, "stop_loss"),
        one(order.take_profit, "take_profit"),
    )
    reference = result.price if result.price is not None else result.stop_price
    buy = order.side is OrderSide.BUY
    sl, tp = result.stop_loss, result.take_profit
    wrong = []
    if reference is not None and sl is not None and (sl >= reference if buy else sl <= reference):
        wrong.append(f"stop_loss {sl}")
    if reference is not None and tp is not None and (tp <= reference if buy else tp >= reference):
        wrong.append(f"take_profit {tp}")
    if sl is not None and tp is not None and sl == tp:
        wrong.append("stop_loss equal to take_profit")
    if wrong:
        of = f"of {reference}" if reference is not None else "(they would coincide)"
        raise PrecisionError(
            f"at {rules.symbol}'s tick {', '.join(wrong)} would be on the wrong side {of}; "
            "use prices further apart"
        )
    return result
