"""Tick rounding agrees with ccxt's own; quantities, prices and triggers keep their meaning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ccxt.base.decimal_to_precision import (
    NO_PADDING,
    ROUND,
    TICK_SIZE,
    TRUNCATE,
    decimal_to_precision,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from markets import ccxt_market, exchange_with

from fks_exec import Order
from fks_exec_ccxt.mapping import to_tick
from fks_exec_ccxt.precision import PrecisionError, amount_of, price_of, priced

ticks = st.sampled_from(
    ["0.00001", "0.001", "0.01", "0.1", "0.5", "0.25", "1", "5", "10", "0.0000001", "0.05"]
).map(Decimal)
values = st.decimals(min_value="0.0000001", max_value="10000000", places=8, allow_nan=False)


@given(value=values, tick=ticks, truncate=st.booleans())
def test_to_tick_matches_ccxt(value: Decimal, tick: Decimal, truncate: bool) -> None:
    ccxt_text = decimal_to_precision(
        str(value), TRUNCATE if truncate else ROUND, float(tick), TICK_SIZE, NO_PADDING
    )
    assert to_tick(value, tick, truncate=truncate) == Decimal(ccxt_text)


# ---------------------------------------------------------------- never changed in meaning

quantities = st.decimals(min_value="0.0001", max_value="100000", places=6, allow_nan=False)
prices = st.decimals(min_value="0.00001", max_value="100000", places=5, allow_nan=False)


def _market(exchange_id: str, amount: float, price: float) -> tuple[Any, Any]:
    from fks_exec_ccxt.rules import market_rules

    market = ccxt_market(
        "BTC/USDC:USDC", amount=amount, price=price, id="BTC", info={"szDecimals": "0"}
    )
    exchange = exchange_with(exchange_id, market)
    return exchange, market_rules(exchange, exchange.markets["BTC/USDC:USDC"])


@pytest.mark.parametrize("exchange_id", ["hyperliquid", "okx", "gate"])
@given(quantity=quantities)
@settings(max_examples=80, deadline=None)
def test_a_quantity_is_never_sent_above_what_was_asked(exchange_id: str, quantity: Decimal) -> None:
    exchange, rules = _market(exchange_id, 1.0, 0.1)
    try:
        sent = amount_of(exchange, rules, quantity)
    except PrecisionError:
        assert quantity < 1  # only when nothing is left at the step
        return
    assert 0 < sent <= quantity and quantity - sent < 1  # never 0, never above


def test_hyperliquid_truncates_instead_of_rounding_up() -> None:
    exchange, rules = _market("hyperliquid", 1.0, 0.1)
    assert amount_of(exchange, rules, Decimal("1000.543543")) == 1000


@pytest.mark.parametrize(("exchange_id", "step"), [("okx", "1.0"), ("hyperliquid", "the market")])
def test_a_quantity_below_the_step_says_the_step(exchange_id: str, step: str) -> None:
    exchange, rules = _market(exchange_id, 1.0, 0.1)
    with pytest.raises(PrecisionError, match=f"below BTC/USDC:USDC's amount step {step}"):
        amount_of(exchange, rules, Decimal("0.4"))


@given(value=prices, tick=ticks)
def test_a_price_never_rounds_to_zero(value: Decimal, tick: Decimal) -> None:
    exchange, rules = _market("okx", 0.001, float(tick))
    if to_tick(value, tick, truncate=False) == 0:
        with pytest.raises(
            PrecisionError, match=f"stop_price {value} rounds to 0[.0]* at .* {tick}"
        ):
            price_of(exchange, rules, value, "stop_price")
        return
    rounded = price_of(exchange, rules, value, "stop_price")
    assert rounded > 0 and abs(rounded - value) <= tick / 2


@given(
    entry=st.integers(min_value=1000, max_value=2000),
    offset=st.integers(min_value=1, max_value=30),
)
def test_a_stop_loss_never_rounds_onto_the_wrong_side(entry: int, offset: int) -> None:
    exchange, rules = _market("okx", 0.001, 5.0)  # a coarse tick of 5
    stop_loss = Decimal(entry) - Decimal(offset) / 10
    order = Order.limit("BTC/USDC:USDC", "buy", "1", str(entry), stop_loss=str(stop_loss))
    tick = Decimal(5)
    # The buy limit moves down to its tick (never pays more); the stop loss to the nearest.
    if to_tick(stop_loss, tick, truncate=False) >= to_tick(Decimal(entry), tick, truncate=True):
        with pytest.raises(PrecisionError, match="wrong side"):
            priced(exchange, rules, order)
        return
    result = priced(exchange, rules, order)
    assert result.stop_loss is not None and result.price is not None
    assert result.stop_loss < result.price


@given(
    market=st.booleans(),
    side=st.sampled_from(["buy", "sell"]),
    entry=st.integers(min_value=1000, max_value=1100),
    sl_offset=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    tp_offset=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
)
def test_protective_prices_are_refused_exactly_when_rounding_breaks_them(
    market: bool, side: str, entry: int, sl_offset: int | None, tp_offset: int | None
) -> None:
    exchange, rules = _market("okx", 0.001, 5.0)  # a coarse tick of 5
    tick, sign = Decimal(5), 1 if side == "buy" else -1
    price = Decimal(entry)
    sl = None if sl_offset is None else price - sign * Decimal(sl_offset) / 10
    tp = None if tp_offset is None else price + sign * Decimal(tp_offset) / 10
    fields = {"stop_loss": sl, "take_profit": tp}
    if market:  # no order price: only the two protective prices can collide
        order = Order.market("BTC/USDC:USDC", side, "1", **fields)
    else:
        order = Order.limit("BTC/USDC:USDC", side, "1", str(price), **fields)

    def rounded(value: Decimal | None) -> Decimal | None:
        return None if value is None else to_tick(value, tick, truncate=False)

    def cautious(value: Decimal) -> Decimal:  # a buy limit down, a sell limit up
        down = to_tick(value, tick, truncate=True)
        return down if side == "buy" or down == value else down + tick

    p = None if market else cautious(price)
    r_sl, r_tp = rounded(sl), rounded(tp)
    broken = (
        (p is not None and r_sl is not None and (r_sl >= p if side == "buy" else r_sl <= p))
        or (p is not None and r_tp is not None and (r_tp <= p if side == "buy" else r_tp >= p))
        or (r_sl is not None and r_sl == r_tp)
    )
    if broken:
        said = "they would coincide" if market else f"of {p}"
        with pytest.raises(PrecisionError, match=f"wrong side \\(?{said}"):
            priced(exchange, rules, order)
    else:
        result = priced(exchange, rules, order)
        assert (result.price, result.stop_loss, result.take_profit) == (p, r_sl, r_tp)


@given(value=st.decimals(min_value="-0.99", max_value="-0.0001", places=4), tick=ticks)
def test_to_tick_of_a_small_negative_value_matches_ccxt(value: Decimal, tick: Decimal) -> None:
    ccxt_text = decimal_to_precision(str(value), TRUNCATE, float(tick), TICK_SIZE, NO_PADDING)
    assert to_tick(value, tick, truncate=True) == Decimal(ccxt_text)


@pytest.mark.parametrize(
    ("value", "tick"), [("0.05", "0.1"), ("2.5", "5"), ("60000.25", "0.5"), ("0.125", "0.25")]
)
def test_half_a_tick_rounds_away_from_zero_as_ccxt_does(value: str, tick: str) -> None:
    ccxt_text = decimal_to_precision(value, ROUND, float(tick), TICK_SIZE, NO_PADDING)
    rounded = to_tick(Decimal(value), Decimal(tick), truncate=False)
    assert rounded == Decimal(ccxt_text) and rounded > Decimal(value)


# ---------------------------------------------------------------- a limit is never made worse

sides = st.sampled_from(["buy", "sell"])


@given(value=prices, tick=ticks, side=sides)
def test_a_limit_price_only_moves_the_cautious_way(
    value: Decimal, tick: Decimal, side: str
) -> None:
    from fks_exec.models import OrderSide

    exchange, rules = _market("okx", 0.001, float(tick))
    assert rules.price_tick == tick  # the tick path, not ccxt's own rounding
    way = OrderSide(side)
    if way is OrderSide.BUY and value < tick:  # a buy below one tick would be 0
        with pytest.raises(PrecisionError, match="rounds to 0"):
            price_of(exchange, rules, value, "price", way)
        return
    sent = price_of(exchange, rules, value, "price", way)
    assert sent % tick == 0
    if way is OrderSide.BUY:
        assert value - tick < sent <= value  # never pays more than asked
    else:
        assert value <= sent < value + tick  # never takes less than asked


@pytest.mark.parametrize(
    ("side", "price", "sent"),
    [
        ("buy", "50000.05", "50000.0"),
        ("sell", "50000.05", "50000.1"),
        ("buy", "50000.1", "50000.1"),
    ],
)
def test_a_limit_order_off_the_tick_is_sent_at_the_cautious_tick(
    side: str, price: str, sent: str
) -> None:
    exchange, rules = _market("okx", 0.001, 0.1)
    order = Order(symbol="BTC/USDC:USDC", side=side, quantity="1", type="limit", price=price)
    assert priced(exchange, rules, order).price == Decimal(sent)


def test_a_limit_that_only_ccxt_can_round_is_refused_when_rounding_makes_it_worse() -> None:
    exchange, rules = _market("hyperliquid", 1.0, 0.1)
    assert rules.price_tick is None  # hyperliquid rounds to significant digits in ccxt
    from fks_exec.models import OrderSide

    value = Decimal("12345.67")  # 5 significant digits: ccxt rounds it to 12346
    with pytest.raises(PrecisionError, match="a worse price than asked"):
        price_of(exchange, rules, value, "price", OrderSide.BUY)
    assert price_of(exchange, rules, value, "price", OrderSide.SELL) >= value
