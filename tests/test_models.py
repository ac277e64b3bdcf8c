from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fks_exec import (
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


def test_decimal_in_decimal_out_exactly() -> None:
    order = Order.limit("EURUSD", "buy", 0.1, 1.1)
    assert order.quantity == Decimal("0.1")
    assert str(order.quantity) == "0.1"
    assert order.price == Decimal("1.1")
    assert isinstance(order.price, Decimal)


@pytest.mark.parametrize(
    ("quantity", "fragment"),
    [
        (0, "greater than 0"),
        (-1, "greater than 0"),
        ("-0.5", "greater than 0"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("abc", "decimal"),
        ("", "decimal"),
        (True, "decimal"),
        (None, "decimal"),
    ],
)
def test_bad_quantities_are_rejected(quantity: object, fragment: str) -> None:
    with pytest.raises(ValidationError, match="quantity") as info:
        Order.market("BTC/USDT", "buy", quantity)  # type: ignore[arg-type]
    assert fragment in str(info.value).lower()


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: Order(symbol="X", side="buy", type="limit", quantity=1), "needs price"),
        (
            lambda: Order(symbol="X", side="buy", type="market", quantity=1, price=5),
            "takes no price",
        ),
        (lambda: Order(symbol="X", side="buy", type="stop", quantity=1), "needs stop_price"),
        (
            lambda: Order(symbol="X", side="buy", type="stop_limit", quantity=1, price=5),
            "needs stop_price",
        ),
        (
            lambda: Order(symbol="X", side="buy", type="stop", quantity=1, stop_price=5, price=4),
            "takes no price",
        ),
        (
            lambda: Order(symbol="X", side="buy", type="limit", quantity=1, price=5, stop_price=4),
            "takes no stop_price",
        ),
        (lambda: Order.limit("X", "buy", 1, 100, stop_loss=101), "stop_loss (101) must be below"),
        (lambda: Order.limit("X", "buy", 1, 100, take_profit=99), "take_profit (99) must be above"),
        (lambda: Order.limit("X", "sell", 1, 100, stop_loss=99), "stop_loss (99) must be above"),
        (
            lambda: Order.limit("X", "sell", 1, 100, take_profit=101),
            "take_profit (101) must be below",
        ),
        (lambda: Order.stop("X", "buy", 1, 100, stop_loss=100), "stop_loss (100) must be below"),
        (
            lambda: Order.market("X", "buy", 1, stop_loss=110, take_profit=100),
            "must be below take_profit",
        ),
        (lambda: Order.market("", "buy", 1), "symbol must not be empty"),
        (lambda: Order.market("   ", "buy", 1), "symbol must not be empty"),
        (lambda: Order.market("X", "hold", 1), "side"),
        (lambda: Order.market("X", "buy", 1, client_order_id="has space"), "client_order_id"),
        (lambda: Order.market("X", "buy", 1, client_order_id="a" * 37), "1 to 36"),
        (lambda: Order.market("X", "buy", 1, client_order_id=""), "client_order_id"),
        (lambda: Order.market("X", "buy", 1, created_at=datetime(2025, 1, 1)), "timezone-aware"),
        (lambda: Order.market("X", "buy", 1, colour="red"), "colour"),
    ],
)
def test_invalid_orders_fail_at_construction(build: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()  # type: ignore[operator]
    assert fragment in str(info.value)


def test_market_order_without_reference_accepts_any_bracket_order() -> None:
    order = Order.market("X", "buy", 1, stop_loss=90, take_profit=110)
    assert order.has_bracket
    assert order.reference_price is None


def test_constructors_and_defaults() -> None:
    order = Order.stop_limit("ES 12-25", "SELL", "2", stop_price="4990", price="4985")
    assert order.type is OrderType.STOP_LIMIT
    assert order.side is OrderSide.SELL
    assert order.time_in_force is TimeInForce.GTC
    assert order.reduce_only is False
    assert len(order.client_order_id) == 32
    assert order.created_at.tzinfo is timezone.utc
    assert Order.market(" BTC/USDT ", "buy", 1).symbol == "BTC/USDT"
    other_zone = datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert Order.market("X", "buy", 1, created_at=other_zone).created_at.hour == 10


def test_default_client_ids_are_uuid7_hex_ordered_by_the_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import time
    import uuid

    from fks_exec import models

    clock = [1_796_170_054_990_123_456]  # ns: 2026-12-02 00:07:34.990 UTC
    monkeypatch.setattr(time, "time_ns", lambda: clock[0])
    first = models.new_client_order_id()
    same_ms = {models.new_client_order_id() for _ in range(2_000)}
    clock[0] += 1_000_000  # one millisecond later
    later = models.new_client_order_id()
    assert re.fullmatch("[0-9a-f]{32}", first)
    parsed = uuid.UUID(first)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert int(first[:12], 16) == 1_796_170_054_990  # the Unix milliseconds lead
    assert int(later[:12], 16) == 1_796_170_054_991 and later > max(same_ms | {first})
    assert len(same_ms | {first}) == 2_001  # the random bits tell ids of one ms apart
    tails = [int(cid[12:], 16) for cid in same_ms]  # 80 bits: 7, rand_a, 0b10, rand_b
    assert {t >> 76 for t in tails} == {7} and {t >> 62 & 0b11 for t in tails} == {2}
    assert len({t >> 64 & 0xFFF for t in tails}) > 1000  # rand_a: 12 random bits
    assert len({t & (1 << 62) - 1 for t in tails}) == 2_000  # rand_b: 62 random bits
    # Where each random bit goes (RFC 9562 section 5.7), with the random bytes fixed:
    # rand_a is their first 12 bits, rand_b their last 62, between the version nibble
    # and the variant bits.
    monkeypatch.setattr(os, "urandom", lambda n: bytes.fromhex("123456789abcdef01234")[:n])
    assert models.new_client_order_id() == "01a23413fd4f" + "7123" + "96789abcdef01234"
    monkeypatch.setattr(os, "urandom", lambda n: b"\xff" * n)
    assert models.new_client_order_id() == "01a23413fd4f" + "7fff" + "bfffffffffffffff"
    monkeypatch.setattr(os, "urandom", lambda n: bytes(n))
    assert models.new_client_order_id() == "01a23413fd4f" + "7000" + "8000000000000000"


def test_orders_are_immutable() -> None:
    order = Order.market("X", "buy", 1)
    with pytest.raises(ValidationError):
        order.quantity = Decimal(2)  # type: ignore[misc]


def test_same_request_ignores_creation_time() -> None:
    a = Order.market("X", "buy", 1, client_order_id="abc")
    b = Order.market("X", "buy", "1", client_order_id="abc")
    assert a.same_request(b)
    assert not a.same_request(Order.market("X", "buy", 2, client_order_id="abc"))


def test_result_defaults_success_and_error_code_from_status() -> None:
    order = Order.market("X", "buy", 1)
    rejected = ExecutionResult.for_order(order, plugin="p", status="rejected", error="no")
    assert rejected.success is False
    assert rejected.error_code is ErrorCode.REJECTED
    unknown = ExecutionResult.for_order(order, plugin="p", status=OrderStatus.UNKNOWN)
    assert unknown.error_code is ErrorCode.UNKNOWN
    accepted = ExecutionResult.for_order(order, plugin="p", status="accepted")
    assert accepted.success is True
    assert accepted.remaining_quantity == Decimal(1)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"status": "rejected", "success": True}, "contradicts"),
        ({"status": "filled"}, "filled_quantity > 0"),
        ({"status": "filled", "filled_quantity": 1}, "average_price"),
        ({"status": "accepted", "filled_quantity": 2, "average_price": 1}, "exceeds"),
        ({"status": "partially_filled", "filled_quantity": 1, "average_price": 1}, "0 <"),
    ],
)
def test_results_never_report_impossible_fills(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        ExecutionResult.for_order(Order.market("X", "buy", 1), plugin="p", **fields)  # type: ignore[arg-type]


def test_result_raw_is_made_json_safe() -> None:
    import json

    order = Order.market("X", "buy", 1)
    kept = {"a": [1, "b", None, 2.5]}
    assert ExecutionResult.for_order(order, plugin="p", status="accepted", raw=kept).raw == kept
    odd = {"nan": float("nan"), "inf": [float("inf")], "dec": Decimal("1.5"), 3: object()}
    raw = ExecutionResult.for_order(order, plugin="p", status="accepted", raw=odd).raw
    assert raw["nan"] is None and raw["inf"] == [None] and raw["dec"] == "1.5"
    json.dumps(raw, allow_nan=False)


def test_other_models() -> None:
    quote = MarketData(symbol="X", bid="1.1", ask="1.3")
    assert quote.mid == Decimal("1.2")
    assert Position(symbol="X", quantity=-2).quantity == Decimal(-2)
    with pytest.raises(ValidationError):
        MarketData(symbol="X", bid=-1)


prices = st.decimals(min_value="0.0001", max_value="1000000", places=4, allow_nan=False)
quantities = st.decimals(min_value="0.0001", max_value="100000", places=4, allow_nan=False)


@given(side=st.sampled_from(["buy", "sell"]), qty=quantities, price=prices, pct=st.integers(1, 50))
def test_well_placed_brackets_always_validate(
    side: str, qty: Decimal, price: Decimal, pct: int
) -> None:
    offset = price * pct / 100
    lower, upper = price - offset, price + offset
    sl, tp = (lower, upper) if side == "buy" else (upper, lower)
    order = Order.limit("SYM", side, qty, price, stop_loss=sl, take_profit=tp)
    assert (order.quantity, order.price) == (qty, price)
    # Swapping them is always refused.
    with pytest.raises(ValidationError):
        Order.limit("SYM", side, qty, price, stop_loss=tp, take_profit=sl)


# Arbitrary text, and text shaped like a number so that both outcomes below occur
# (test_the_quantity_texts_include_ones_that_parse_and_ones_that_do_not checks).
QUANTITY_TEXTS = st.text(max_size=20) | st.from_regex(
    r" ?-?[0-9]{0,4}(\.[0-9]{0,4})? ?", fullmatch=True
)


def quantity_parses(text: str) -> bool:
    try:
        Order.market("SYM", "buy", text)
    except ValidationError:
        return False
    return True


def test_the_quantity_texts_include_ones_that_parse_and_ones_that_do_not() -> None:
    quiet = settings(database=None, max_examples=2000)
    assert quantity_parses(find(QUANTITY_TEXTS, quantity_parses, settings=quiet))
    assert not quantity_parses(
        find(QUANTITY_TEXTS, lambda t: not quantity_parses(t), settings=quiet)
    )


@given(text=QUANTITY_TEXTS)
def test_arbitrary_quantity_text_either_parses_positive_or_raises(text: str) -> None:
    try:
        order = Order.market("SYM", "buy", text)
    except ValidationError:
        return
    assert order.quantity > 0
    assert order.quantity.is_finite()


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_float_quantities_convert_through_their_text(value: float) -> None:
    try:
        order = Order.market("SYM", "buy", value)
    except ValidationError:
        assert not (value > 0 and value != float("inf"))
        return
    assert order.quantity == Decimal(str(value))
