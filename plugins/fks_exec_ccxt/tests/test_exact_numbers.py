"""Numbers of any length: rounded to the tick exactly, and sent only when carried exactly.

* ``to_tick`` works in an exact context: the default one keeps 28 digits, so a value
  of 29 or more rounded to ~1e-31 instead of 0, and a "rounds to 0" refusal was missed.
* ccxt takes floats: a value whose float does not read back as the same number (a buy
  limit 999999999.99999999 became 1000000000) is refused before sending.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markets import ccxt_market, exchange_with

from fks_exec import ErrorCode, Order
from fks_exec.models import OrderSide
from fks_exec_ccxt.mapping import Denial, build_request
from fks_exec_ccxt.precision import PrecisionError, price_of, to_tick, wire_number

TICKS = ["0.5", "0.0001", "0.1", "5", "0.00000001", "0.25", "1E-10", "0.003"]
SYMBOL = "A/USDT"


def _exchange(tick: str) -> tuple[Any, Any]:
    from fks_exec_ccxt.rules import market_rules

    step = float(tick)
    exchange = exchange_with("okx", ccxt_market(SYMBOL, amount=step, price=step, id="A-USDT"))
    return exchange, market_rules(exchange, exchange.markets[SYMBOL])


# long decimals: up to 45 significant digits, far beyond the default 28-digit context
_long = st.builds(
    lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
    st.integers(min_value=1, max_value=10**45),
    st.integers(min_value=-50, max_value=5),
)


@settings(max_examples=300, deadline=None)
@given(value=_long, tick=st.sampled_from(TICKS).map(Decimal), truncate=st.booleans())
def test_to_tick_is_exact_at_any_length(value: Decimal, tick: Decimal, truncate: bool) -> None:
    result = to_tick(value, tick, truncate=truncate)
    with localcontext() as ctx:
        ctx.prec = 200  # enough for every value drawn: the check itself exact
        assert result % tick == 0
        distance = abs(value - result)
        assert distance < tick if truncate else distance * 2 <= tick
        if truncate:
            assert result <= value


@pytest.mark.parametrize(
    "value", ["0.0000064281743416012157694969589721961", "3.920061710487905829216840943051535E-9"]
)
def test_a_long_trigger_below_half_a_tick_is_refused_as_zero(value: str) -> None:
    exchange, rules = _exchange("0.0001")
    assert to_tick(Decimal(value), Decimal("0.0001"), truncate=False) == 0
    with pytest.raises(PrecisionError, match="rounds to 0"):
        price_of(exchange, rules, Decimal(value), "stop_price")


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_number_goes_to_ccxt_as_an_int_when_integral_else_as_an_exact_float(
    value: Decimal,
) -> None:
    if value != value.to_integral_value() and Decimal(repr(float(value))) != value:
        with pytest.raises(PrecisionError, match="more digits than ccxt can carry"):
            wire_number(value)
        return
    sent = wire_number(value)
    if value == value.to_integral_value():
        assert type(sent) is int and sent == value
    else:
        assert type(sent) is float and Decimal(repr(sent)) == value


def test_a_buy_limit_a_float_cannot_carry_is_refused_not_raised() -> None:
    exchange, rules = _exchange("0.00000001")
    order = Order.limit(SYMBOL, "buy", "1", "999999999.99999999")
    built = build_request(exchange, rules, order, None)
    assert isinstance(built, Denial) and built.code is ErrorCode.INVALID_ORDER
    assert "999999999.99999999" in built.message and "nothing was sent" in built.message


@settings(max_examples=400, deadline=None)
@given(
    tick=st.sampled_from(TICKS),
    quantity=_long.filter(lambda d: Decimal("1E-9") <= d <= Decimal("1E9")),
    price=_long.filter(lambda d: Decimal("1E-9") <= d <= Decimal("1E9")),
    side=st.sampled_from(["buy", "sell"]),
    stop=st.booleans(),
)
def test_what_ccxt_puts_on_the_wire_never_grows_or_crosses_the_limit(
    tick: str, quantity: Decimal, price: Decimal, side: str, stop: bool
) -> None:
    exchange, rules = _exchange(tick)
    if stop:
        order = Order.stop_limit(SYMBOL, side, quantity, price, price)
    else:
        order = Order.limit(SYMBOL, side, quantity, price)
    built = build_request(exchange, rules, order, None)
    if isinstance(built, Denial):
        return
    # what ccxt's okx writes: its *_to_precision of the numbers it was given
    amount = Decimal(exchange.amount_to_precision(SYMBOL, built.amount))
    limit = Decimal(exchange.price_to_precision(SYMBOL, built.price))
    assert amount <= quantity
    assert limit <= price if side == "buy" else limit >= price
    if stop:
        trigger = Decimal(exchange.price_to_precision(SYMBOL, built.params["triggerPrice"]))
        assert trigger > 0 and abs(trigger - price) * 2 <= Decimal(tick)


def _digits(count: int, last: str) -> Decimal:
    return Decimal("1" + "0" * (count - 2) + last)  # an integer of ``count`` digits


def test_to_tick_is_exact_up_to_10000_digits_and_refuses_more() -> None:
    assert to_tick(_digits(10_000, "1"), Decimal(2), truncate=False) == _digits(10_000, "2")
    assert to_tick(_digits(10_000, "1"), Decimal(2), truncate=True) == _digits(10_000, "0")
    message = f"^{_digits(10_001, '1')} cannot be put on a tick of 2 exactly \\(too many digits\\)$"
    with pytest.raises(PrecisionError, match=message):
        to_tick(_digits(10_001, "1"), Decimal(2), truncate=False)
    with pytest.raises(PrecisionError, match=r"^1E\+6000 cannot be put on a tick of 1E-6000 "):
        to_tick(Decimal("1E+6000"), Decimal("1E-6000"), truncate=True)  # a quotient too long


def _hyperliquid() -> tuple[Any, Any]:
    from fks_exec_ccxt.rules import market_rules

    market = ccxt_market("BTC/USDC:USDC", amount=1.0, price=0.1, id="BTC", info={"szDecimals": "0"})
    exchange = exchange_with("hyperliquid", market)
    rules = market_rules(exchange, exchange.markets["BTC/USDC:USDC"])
    assert rules.price_tick is None  # ccxt's own rounding: 5 significant digits
    return exchange, rules


@pytest.mark.parametrize(
    ("value", "side", "sent"),
    [
        ("12345", "buy", "12345"),  # already on the precision: sent as asked
        ("12345", "sell", "12345"),
        ("12345.4", "buy", "12345"),  # rounded down: a buy pays less
        ("12345.6", "sell", "12346"),  # rounded up: a sell takes more
        ("12345.4", None, "12345"),  # a trigger: to the nearest
        ("12345.6", None, "12346"),
    ],
)
def test_ccxt_s_rounding_of_a_limit_is_taken_when_it_is_not_worse(
    value: str, side: str | None, sent: str
) -> None:
    exchange, rules = _hyperliquid()
    way = None if side is None else OrderSide(side)
    assert price_of(exchange, rules, Decimal(value), "price", way) == Decimal(sent)


@pytest.mark.parametrize(
    ("value", "side", "sent"), [("12345.6", "buy", "12346"), ("12345.4", "sell", "12345")]
)
def test_ccxt_s_rounding_of_a_limit_is_refused_when_it_is_worse(
    value: str, side: str, sent: str
) -> None:
    exchange, rules = _hyperliquid()
    message = (
        f"hyperliquid rounds the {side} limit {value} to {sent} on BTC/USDC:USDC, a worse "
        "price than asked; send a price on the market's precision (nothing was sent)"
    )
    with pytest.raises(PrecisionError) as refused:
        price_of(exchange, rules, Decimal(value), "price", OrderSide(side))
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.00001", "0"),  # Decimal 0E-5 on the tick: said as 0
        ("-0.00001", "0"),
        ("0", "0"),
        ("-5", "-5"),  # below 0 as it stands
        ("-5.00004", "-5.00000"),
    ],
)
def test_a_price_at_or_below_0_says_what_it_rounds_to(value: str, shown: str) -> None:
    exchange, rules = _exchange("0.0001")
    with pytest.raises(PrecisionError) as refused:
        price_of(exchange, rules, Decimal(value), "stop_price")
    assert str(refused.value) == (
        f"stop_price {value} rounds to {shown} at {SYMBOL}'s tick 0.0001; a 0 trigger or "
        "price would change the order's meaning"
    )
