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

from fks_exec import ErrorCode, Order
from fks_exec_ccxt.mapping import Denial, build_request
from fks_exec_ccxt.precision import PrecisionError, price_of, to_tick, wire_number

TICKS = ["0.5", "0.0001", "0.1", "5", "0.00000001", "0.25", "1E-10", "0.003"]
SYMBOL = "A/USDT"


def _exchange(tick: str) -> tuple[Any, Any]:
    import ccxt.async_support as ccxt_async

    from fks_exec_ccxt.rules import market_rules

    exchange = ccxt_async.okx()
    step = float(tick)
    exchange.set_markets(
        [
            {
                "id": "A-USDT",
                "symbol": SYMBOL,
                "base": "A",
                "quote": "USDT",
                "type": "spot",
                "spot": True,
                "contract": False,
                "precision": {"amount": step, "price": step},
                "limits": {"amount": {}, "price": {}, "cost": {}},
                "info": {},
            }
        ]
    )
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
