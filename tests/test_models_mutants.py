"""Models: the rules mutation testing found unchecked (issue 12).

Sides and their signs, where a bracket may sit at its edges, what ``sent`` may say with
each status, partial fills, and what raw broker payloads are turned into.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fks_exec import (
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderSide,
    OrderStatus,
)

D = Decimal


def result(**fields: Any) -> ExecutionResult:
    values: dict[str, Any] = {
        "plugin": "mock",
        "client_order_id": "c1",
        "symbol": "X",
        "side": "buy",
        "quantity": 2,
    }
    return ExecutionResult(**{**values, **fields})


# ------------------------------------------------------------------ sides and statuses


def test_a_buy_adds_and_a_sell_subtracts_and_each_closes_the_other() -> None:
    assert (OrderSide.BUY.sign, OrderSide.SELL.sign) == (1, -1)
    assert (OrderSide.BUY.opposite, OrderSide.SELL.opposite) == (OrderSide.SELL, OrderSide.BUY)


@pytest.mark.parametrize(("text", "side"), [("BUY", OrderSide.BUY), (" Sell ", OrderSide.SELL)])
def test_sides_are_read_in_any_case(text: str, side: OrderSide) -> None:
    assert OrderSide(text) is side and str(side) == side.value


def test_only_filled_canceled_rejected_and_expired_are_final() -> None:
    final = {s for s in OrderStatus if s.is_final}
    assert final == {"filled", "canceled", "rejected", "expired"}


# ------------------------------------------------------------------ orders


def test_a_price_on_the_wrong_order_type_says_which_type_to_use() -> None:
    with pytest.raises(ValidationError, match="use a limit order"):
        Order(symbol="X", side="buy", type="market", quantity=1, price=100)
    with pytest.raises(ValidationError, match="use stop_limit"):
        Order(symbol="X", side="buy", type="stop", quantity=1, stop_price=100, price=101)


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_stop_loss_equal_to_the_take_profit_is_refused(side: str) -> None:
    with pytest.raises(ValidationError, match="must differ"):
        Order.market("X", side, 1, stop_loss=100, take_profit=100)


@pytest.mark.parametrize(
    ("side", "bracket", "fragment"),
    [
        ("buy", {"take_profit": 100}, "take_profit .* must be above"),
        ("sell", {"take_profit": 100}, "take_profit .* must be below"),
        ("buy", {"stop_loss": 100}, "stop_loss .* must be below"),
        ("sell", {"stop_loss": 100}, "stop_loss .* must be above"),
    ],
)
def test_a_bracket_at_the_order_price_is_refused(
    side: str, bracket: dict[str, int], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Order.limit("X", side, 1, 100, **bracket)


def test_one_leg_is_a_bracket_too() -> None:
    assert Order.market("X", "buy", 1, stop_loss=90).has_bracket
    assert Order.market("X", "buy", 1, take_profit=110).has_bracket
    assert not Order.market("X", "buy", 1).has_bracket


class NoOffset(tzinfo):
    """A tzinfo that does not know its offset: as good as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_time_zone_without_an_offset_is_refused_like_a_naive_time() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        Order.market("X", "buy", 1, created_at=datetime(2026, 1, 1, tzinfo=NoOffset()))


# ------------------------------------------------------------------ results


def test_sent_defaults_to_unknown_only_for_an_unknown_status() -> None:
    assert result(status="unknown").sent is None
    assert result(status="accepted").sent is True
    assert result(status="rejected").sent is True


def test_sent_true_fits_any_known_status() -> None:
    assert result(status="accepted", sent=True).sent is True
    assert result(status="rejected", sent=True).sent is True


def test_sent_false_means_refused_before_sending() -> None:
    assert result(status="rejected", sent=False).sent is False
    with pytest.raises(ValidationError, match="sent=False needs status=rejected"):
        result(status="accepted", sent=False)


def test_sent_none_means_the_fate_is_unknown() -> None:
    assert result(status="unknown", sent=None).sent is None
    with pytest.raises(ValidationError, match=r"sent=None .* needs status=unknown"):
        result(status="accepted", sent=None)


@pytest.mark.parametrize(
    ("filled", "quantity"), [("0.5", 2), ("1.5", 2), ("0.5", None), ("3", None)]
)
def test_a_partial_fill_is_more_than_nothing_and_less_than_all(
    filled: str, quantity: int | None
) -> None:
    partial = result(
        status="partially_filled", filled_quantity=filled, average_price=100, quantity=quantity
    )
    assert partial.filled_quantity == D(filled)
    expected = None if quantity is None else quantity - D(filled)
    assert partial.remaining_quantity == expected


@pytest.mark.parametrize(("filled", "quantity"), [("0", 2), ("2", 2)])
def test_a_partial_fill_of_nothing_or_of_all_is_refused(filled: str, quantity: int) -> None:
    with pytest.raises(ValidationError, match="partially_filled needs"):
        result(
            status="partially_filled",
            filled_quantity=filled,
            average_price=100 if D(filled) else None,
            quantity=quantity,
        )


def test_raw_payloads_keep_plain_json_and_lose_nan() -> None:
    raw = {"flag": True, "count": 3, "text": "x", "none": None, "nan": float("nan")}
    assert result(status="accepted", raw=raw).raw == {**raw, "nan": None}
    assert result(status="accepted", raw=[float("inf"), 1.5]).raw == [None, 1.5]


# ------------------------------------------------------------------ quotes and health


def test_a_midpoint_needs_both_sides() -> None:
    assert MarketData(symbol="X", bid=100, ask=101).mid == D("100.5")
    assert MarketData(symbol="X", bid=100).mid is None
    assert MarketData(symbol="X", ask=101).mid is None


@pytest.mark.parametrize("latency", [0, 0.5])
def test_any_non_negative_latency_is_accepted(latency: float) -> None:
    assert HealthStatus(healthy=True, latency_ms=latency).latency_ms == latency


def test_a_negative_latency_is_refused() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        HealthStatus(healthy=True, latency_ms=-0.5)


def test_a_cancel_result_knows_its_order_by_broker_id_only() -> None:
    canceled = ExecutionResult.for_cancel(
        plugin="mock", status="canceled", order_id="M1", symbol="X"
    )
    assert (canceled.order_id, canceled.symbol, canceled.status) == ("M1", "X", "canceled")
    assert (canceled.side, canceled.quantity, canceled.client_order_id) == (None, None, None)
    assert canceled.success is True and canceled.remaining_quantity is None


@pytest.mark.parametrize("price", ["0", "-0.5", "Infinity", "NaN"])
def test_a_price_must_be_positive_and_finite(price: str) -> None:
    with pytest.raises(ValidationError):
        Order.limit("X", "buy", 1, price)
    with pytest.raises(ValidationError):
        result(status="filled", filled_quantity=1, average_price=price)


def test_amounts_and_fills_must_be_finite() -> None:
    from fks_exec import Position

    assert Position(symbol="X", quantity="-2").quantity == -2
    with pytest.raises(ValidationError):
        Position(symbol="X", quantity="Infinity")
    with pytest.raises(ValidationError):
        result(status="accepted", filled_quantity="Infinity", average_price=100, quantity=None)
    filled = result(status="accepted", filled_quantity="5", average_price=100, quantity=None)
    assert filled.filled_quantity == 5  # without a quantity, only finiteness bounds it


def test_text_fields_are_taken_as_given_not_stripped() -> None:
    with pytest.raises(ValidationError, match="client_order_id"):
        Order.market("X", "buy", 1, client_order_id=" abc")
    assert Order.market("X", "buy", 1, account=" main ").account == " main "


@pytest.mark.parametrize("negative", ["-1", "-0.5", "-0.0001"])
def test_a_volume_or_a_filled_quantity_below_zero_is_refused(negative: str) -> None:
    assert MarketData(symbol="X", volume="0").volume == 0
    with pytest.raises(ValidationError, match="volume"):
        MarketData(symbol="X", volume=negative)
    with pytest.raises(ValidationError, match="filled_quantity"):
        result(status="accepted", filled_quantity=negative, quantity=None)


# ---------------------------------------------------------------------- params


_NO_JSON_NUMBER = (
    "Value error, params cannot be journaled: NaN and infinities have no JSON form; pass "
    "a finite number, None or text such as 'nan'"
)


@pytest.mark.parametrize(
    "params",
    [
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": -float("inf")},
        {"deep": [{"y": (1, float("nan"))}]},
    ],
)
def test_params_holding_nan_or_an_infinity_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        Order.market("X", "buy", 1, params=params)
    assert [e["msg"] for e in caught.value.errors()] == [_NO_JSON_NUMBER]


def test_params_that_refer_to_themselves_are_refused_as_such() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = [looped]
    with pytest.raises(ValidationError) as caught:
        Order.market("X", "buy", 1, params={"a": looped})
    assert [e["msg"] for e in caught.value.errors()] == [
        "Value error, params cannot be journaled: a value refers to itself; pass plain "
        "numbers, text, lists and dicts"
    ]


@pytest.mark.parametrize(
    "params",
    [{}, {"x": 0.1}, {"x": D("1.5")}, {"x": (1, 2)}, {"x": datetime(2026, 1, 1)}, {"o": object()}],
)
def test_params_of_other_values_are_kept_as_given(params: dict[str, Any]) -> None:
    assert Order.market("X", "buy", 1, params=params).params == params


def _stored(order: Order) -> Order:
    """``order`` as the journal gives it back (its JSON)."""
    return Order.model_validate_json(order.model_dump_json())


def _with_params(params: dict[str, Any], minutes: int = 0) -> Order:
    created = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    return Order.market("X", "buy", 1, client_order_id="sr-1", params=params, created_at=created)


@pytest.mark.parametrize(
    "params",
    [{"x": D("1.5")}, {"x": (1, 2)}, {"x": datetime(2026, 1, 1)}, {"x": {"y": (D("2"),)}}],
)
def test_an_order_read_back_from_the_journal_is_the_same_request(params: dict[str, Any]) -> None:
    order = _with_params(params)
    again = _stored(order)
    assert again.params != order.params  # JSON changed the types ...
    assert order.same_request(again) and again.same_request(order)  # ... not the request
    assert _stored(_with_params(params, minutes=5)).same_request(order)  # created_at aside


def test_a_different_value_is_a_different_request_as_given_and_as_stored() -> None:
    order = _with_params({"x": D("1.5")})
    assert not order.same_request(_with_params({"x": D("1.6")}))
    assert not order.same_request(_stored(_with_params({"x": D("1.6")})))
    assert not order.same_request(_with_params({"x": (1, 2, 3)}))
    assert not _with_params({"x": (1, 2)}).same_request(_stored(_with_params({"x": [2, 1]})))


_PARAM_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.datetimes(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.text(max_size=4), _PARAM_VALUES, max_size=4))
def test_any_storable_params_survive_the_journal_as_the_same_request(
    params: dict[str, Any],
) -> None:
    order = _with_params(params)
    again = _stored(order)
    assert order.same_request(again) and again.same_request(order)
    assert _stored(again).same_request(order)  # and again after a second round trip
    changed = _with_params({**params, "\x00changed": 1})
    assert not changed.same_request(again) and not again.same_request(changed)


def test_orders_equal_as_given_are_the_same_request_though_their_json_differs() -> None:
    a = Order.market("X", "buy", "1.0", client_order_id="eq-1", params={"x": 1})
    b = Order.market("X", "buy", "1.00", client_order_id="eq-1", params={"x": 1.0})
    assert a.model_dump(mode="json")["quantity"] != b.model_dump(mode="json")["quantity"]
    assert a.same_request(b) and b.same_request(a)
