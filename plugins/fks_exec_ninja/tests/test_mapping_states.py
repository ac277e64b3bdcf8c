"""Command lines and value judgements, without a socket."""

from __future__ import annotations

import re
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec.models import TimeInForce
from fks_exec_ninja.account import is_simulation, listed, order_ids
from fks_exec_ninja.mapping import (
    cancel_command,
    change_quantity_command,
    check_name,
    close_position_command,
    command,
    order_id_for,
    place_command,
    quantity_denial,
)
from fks_exec_ninja.states import Observed, observe, parse_state, result_for


def test_commands_have_thirteen_fields_with_zero_for_unused_numbers() -> None:
    assert cancel_command("X1") == "CANCEL;;;;0;;0;0;;;X1;;"
    assert change_quantity_command("X1", Decimal(3)) == "CHANGE;;;;3;;0;0;;;X1;;"
    assert (
        close_position_command("Sim101", "ES 03-27") == "CLOSEPOSITION;Sim101;ES 03-27;;0;;0;0;;;;;"
    )
    order = Order.limit("ES", "sell", 2, "6100.50", time_in_force="day")
    line = place_command(
        order, account="A", instrument="I", order_id="X", oco="O", quantity=Decimal(1)
    )
    assert line == "PLACE;A;I;SELL;1;LIMIT;6100.5;0;DAY;O;X;;"
    stop = Order.stop("ES", "buy", 1, "6000")
    assert place_command(stop, account="A", instrument="I", order_id="X", strategy="ATM1") == (
        "PLACE;A;I;BUY;1;STOPMARKET;0;6000;GTC;;X;ATM1;"
    )
    with pytest.raises(ValueError, match="';' or NUL: 'a;b'"):
        command("PLACE", "a;b")
    with pytest.raises(ValueError, match=r"';' or NUL: 'a\\x00b'"):
        command("PLACE", "ok", "a\x00b")
    assert command("A", "", "B") == "A;;B" and command("A") == "A"


@pytest.mark.parametrize("field", ["account", "instrument", "oco", "order_id", "strategy"], ids=str)
@pytest.mark.parametrize("bad", ["a;b", "a\x00b"], ids=repr)
def test_a_place_line_never_carries_a_field_that_would_split_it(field: str, bad: str) -> None:
    names = {"account": "A", "instrument": "I", "oco": "", "order_id": "X", "strategy": ""}
    names[field] = bad
    order = Order.market("ES", "buy", 1)
    with pytest.raises(ValueError, match=re.escape(f"';' or NUL: {bad!r}")):
        place_command(order, **names)


def test_order_ids_are_stable_32_hex() -> None:
    assert order_id_for("a" * 32) == "a" * 32
    derived = order_id_for("my-order-1")
    assert len(derived) == 32 and derived == order_id_for("my-order-1")
    assert order_id_for("a" * 32, "-sl") != "a" * 32
    assert order_id_for("my-order-1", "-sl") != order_id_for("my-order-1", "-tp")
    hexed = "0123456789abcdef" * 2
    assert order_id_for(hexed) == hexed  # every lowercase hex digit is kept
    for other in ("A" * 32, "a" * 31 + "g", "a" * 31 + "X", "a" * 31, "a" * 33, "a" * 31 + " "):
        derived = order_id_for(other)  # not 32 lowercase hex: hashed
        assert derived != other and len(derived) == 32 and not derived.strip(hexed[:16])


@pytest.mark.parametrize("name", ["ES 03-27", "EURUSD", "Sim101", "LX-4402917"])
def test_plain_names_pass(name: str) -> None:
    check_name("instrument", name)


@pytest.mark.parametrize("name", ["a;b", "a|b", "a\x00", "é", "a\tb", "", "  "])
def test_names_the_ati_cannot_carry(name: str) -> None:
    with pytest.raises(OrderDenied, match="nothing was sent"):
        check_name("instrument", name)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("a;b", "';'"), ("a|b", "'|'"), ("a\tb", "'\\t'"), ("é", "'é'"), ("", "nothing")],
)
def test_the_refusal_names_the_bad_characters(name: str, shown: str) -> None:
    with pytest.raises(OrderDenied) as caught:
        check_name("account", name)
    assert f"contains {shown};" in str(caught.value)


def test_numbers_as_the_dll_formats_them() -> None:
    order = Order.limit("ES", "buy", 10, "6000.00")
    assert place_command(order, account="A", instrument="I", order_id="X").split(";")[4:8] == [
        "10",
        "LIMIT",
        "6000",
        "0",
    ]
    assert change_quantity_command("X", Decimal("20")).split(";")[4] == "20"


def test_quantity_and_tif_denials() -> None:
    assert quantity_denial(Order.market("ES", "buy", 1)) is None
    assert quantity_denial(Order.market("ES", "buy", "1.5"))[0] is ErrorCode.INVALID_ORDER  # type: ignore[index]
    fok = Order.limit("ES", "buy", 1, "1", time_in_force="fok")
    assert quantity_denial(fok)[0] is ErrorCode.NOT_SUPPORTED  # type: ignore[index]
    assert quantity_denial(Order.limit("ES", "buy", 1, "1", time_in_force="day")) is None


@pytest.mark.parametrize(
    ("quantity", "refused"),
    [(2**31 - 1, False), (2**31, True), (10**10 - 1, True), (10**9, False), (10**11, True)],
)
def test_a_quantity_above_int32_is_refused_as_the_dll_cannot_send_it(
    quantity: int, refused: bool
) -> None:
    """DLL ``Client.Command(..., int quantity, ...)``: QTY is an Int32."""
    from fks_exec_ninja.mapping import MAX_QUANTITY, whole_and_day_or_gtc, wire_number

    order = Order.market("ES", "buy", quantity)
    denial = quantity_denial(order)
    assert MAX_QUANTITY == 2147483647
    assert whole_and_day_or_gtc(wire_number(order.quantity), order.time_in_force) is not refused
    assert (denial is not None) is refused
    if denial is not None:
        assert denial[0] is ErrorCode.INVALID_ORDER and "2147483647" in denial[1]
        assert denial[1].endswith("nothing was sent")


def seen(state: str | None, filled: int = 0, average: str | None = None) -> Observed:
    return Observed(
        parse_state(state), Decimal(filled), None if average is None else Decimal(average)
    )


@pytest.mark.parametrize(
    ("observed", "quantity", "agrees"),
    [
        (seen("Filled", 2, "10"), 2, True),
        (seen("Filled", 1, "10"), 2, False),  # status ahead of the fill
        (seen("Filled", 2), 2, False),  # no price yet
        (seen("Filled", 3, "10"), 2, False),  # more than ordered
        (seen("Filled", 2, "10"), None, True),
        (seen("PartFilled", 1, "10"), 2, True),
        (seen("PartFilled", 2, "10"), 2, False),
        (seen("PartFilled", 0), 2, False),
        (seen("Cancelled", 1, "10"), 2, True),
        (seen("Cancelled", 2, "10"), 2, False),
        (seen("Cancelled"), 2, True),
        (seen("Rejected"), 2, True),
        (seen("Unknown"), 1, True),
        (seen("Working"), 1, True),
        (seen("Working", 1, "10"), 2, False),  # a fill without its status
        (seen(None), 1, False),
        (seen("Accepted", 0, "0"), 1, True),
        (seen("Filled", 1, "0"), 1, False),  # a fill at price 0 is not priced
        (seen("Filled"), None, False),  # filled with nothing filled, whatever the quantity
        (Observed("working", Decimal(0), None, "NinjaTrader: Filled|X is NaN"), None, False),
    ],
)
def test_values_agree(observed: Observed, quantity: int | None, agrees: bool) -> None:
    assert observed.agrees(None if quantity is None else Decimal(quantity)) is agrees


def test_settled_for_market_and_resting_orders() -> None:
    one = Decimal(1)
    assert not seen("Working").settled(one, market=True)
    assert seen("Working").settled(one, market=False)
    assert seen("TriggerPending").settled(one, market=False)
    assert not seen("Submitted").settled(one, market=False)
    assert seen("PartFilled", 1, "5").settled(Decimal(2), market=False)
    assert not seen("PartFilled", 1, "5").settled(Decimal(2), market=True)
    assert seen("Unknown").settled(one, market=True) and seen("Unknown").final
    assert not seen("Filled", 1).settled(one, market=True)


def test_results_from_values() -> None:
    order = Order.market("ES", "buy", 2)
    values = {"OrderStatus|X": "Filled", "Filled|X": "2", "AvgFillPrice|X": "6000.5"}
    result = result_for(values, "X", plugin="ninja", order=order)
    assert result is not None
    assert (result.status, result.filled_quantity, result.average_price, result.sent) == (
        OrderStatus.FILLED,
        2,
        Decimal("6000.5"),
        True,
    )
    values["Filled|X"] = "1"
    stale = result_for(values, "X", plugin="ninja", order=order)
    assert stale is not None and stale.status is OrderStatus.UNKNOWN and stale.sent is True
    assert result_for({}, "X", plugin="ninja", order=order) is None
    rejected = result_for({"OrderStatus|X": "Rejected"}, "X", plugin="ninja", order=order)
    assert rejected is not None and rejected.error_code is ErrorCode.REJECTED
    unknown = result_for({"OrderStatus|X": "Unknown"}, "X", plugin="ninja", client_order_id="c")
    assert unknown is not None and unknown.status is OrderStatus.UNKNOWN and unknown.side is None
    odd = result_for({"OrderStatus|X": "Something"}, "X", plugin="ninja", order=order)
    assert odd is not None and odd.status is OrderStatus.UNKNOWN and "'something'" in odd.error
    bad = observe({"Filled|X": "nan", "AvgFillPrice|X": "x"}, "X")
    assert (bad.state, bad.filled, bad.average) == (None, Decimal(0), None)
    assert bad.bad is not None and "NinjaTrader: Filled|X" in bad.bad
    assert parse_state(" Part Filled ") == "partfilled"


def test_order_lists_and_simulation_accounts() -> None:
    assert order_ids("A|B||C") == frozenset({"A", "B", "C"})
    assert order_ids("") == frozenset()
    assert is_simulation("Sim101") and is_simulation("Playback101") and is_simulation("sim2")
    assert is_simulation("LX-4402917") is None


@given(
    st.lists(st.sampled_from(["ab", "abc", "b", "bc", "", "x|", "ab|c"]), max_size=6),
    st.sampled_from(["ab", "abc", "b", "bc", "c", "x"]),
)
def test_an_id_is_listed_only_as_a_whole_entry(parts: list[str], order_id: str) -> None:
    listing = "|".join(parts)
    assert listed(listing, order_id) is (order_id in order_ids(listing))


def test_listed_at_the_edges() -> None:
    assert listed("a|b", "a") and listed("a|b", "b") and listed("b", "b")
    assert not listed("ab|ba", "b") and not listed("", "a") and not listed("a", "")
    assert listed("xa|a", "a") and listed("ax|a|xa", "a") and not listed("ax|xa", "a")


def test_results_carry_the_raw_values_and_prices_below_one() -> None:
    order = Order.market("ES", "buy", 1)
    values = {"OrderStatus|X": "Filled", "Filled|X": "1", "AvgFillPrice|X": "0.5"}
    result = result_for(values, "X", plugin="ninja", order=order)
    assert result is not None and result.status is OrderStatus.FILLED
    assert result.average_price == Decimal("0.5")  # a price under 1 is a price
    assert result.raw == values


def test_an_average_pushed_without_a_fill_is_read_and_a_result_without_an_order_priced() -> None:
    values = {"OrderStatus|X": "Working", "AvgFillPrice|X": "5"}
    assert observe(values, "X") == Observed("working", Decimal(0), Decimal(5))
    values = {"OrderStatus|X": "Filled", "Filled|X": "2", "AvgFillPrice|X": "6000.5"}
    found = result_for(values, "X", plugin="ninja", client_order_id="c", symbol="ES")
    assert found is not None and found.status is OrderStatus.FILLED
    assert (found.filled_quantity, found.average_price) == (2, Decimal("6000.5"))
    values = {"OrderStatus|X": "Working", "AvgFillPrice|X": "5"}  # no fill: no price
    working = result_for(values, "X", plugin="ninja", client_order_id="c")
    assert working is not None and working.average_price is None
    order = Order.limit("ES", "buy", 1, "5000")
    placed = result_for(values, "X", plugin="ninja", order=order)
    assert placed is not None and placed.average_price is None and placed.raw == values


def test_an_unknown_state_is_quoted_to_40_characters() -> None:
    state = "Q" * 40 + "R" * 10
    result = result_for({"OrderStatus|X": state}, "X", plugin="ninja", client_order_id="c")
    assert result is not None and result.status is OrderStatus.UNKNOWN
    assert f"'{'q' * 40}'" in (result.error or "") and "qr" not in (result.error or "")


@example(quantity=Decimal(2**31 - 1), tif=TimeInForce.GTC)
@example(quantity=Decimal(2**31), tif=TimeInForce.DAY)
@example(quantity=Decimal("2147483647.5"), tif=TimeInForce.GTC)
@given(
    quantity=st.decimals(min_value="0.0001", max_value="1e12", allow_nan=False, places=4)
    | st.integers(1, 10**12).map(Decimal)
    | st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(3)),
    tif=st.sampled_from(list(TimeInForce)),
)
def test_the_quick_refusal_check_is_quantity_denial(quantity: Decimal, tif: TimeInForce) -> None:
    """The plugin judges an order placeable from its written quantity (no point: whole)
    and its time in force; that is exactly what quantity_denial lets through."""
    from fks_exec_ninja.mapping import whole_and_day_or_gtc, wire_number

    order = Order.market("ES", "buy", quantity, time_in_force=tif)
    assert whole_and_day_or_gtc(wire_number(order.quantity), tif) is (
        quantity_denial(order) is None
    )


def test_a_fill_without_its_price_is_observed_as_pushed() -> None:
    """Filled may come before AvgFillPrice (or alone): the fill is read, the price None."""
    seen = observe({"OrderStatus|X": "Working", "Filled|X": "1"}, "X")
    assert seen == Observed("working", Decimal(1), None) and not seen.agrees(Decimal(2))
    assert observe({"Filled|X": "2"}, "X") == Observed(None, Decimal(2), None)
    priced = observe({"OrderStatus|X": "Filled", "AvgFillPrice|X": "5"}, "X")
    assert priced == Observed("filled", Decimal(0), Decimal(5))


def test_observed_values_cannot_be_changed() -> None:
    seen = observe({"OrderStatus|X": "Working"}, "X")
    with pytest.raises(AttributeError):
        seen.state = "filled"  # type: ignore[misc]


def test_numbers_are_written_in_plain_digits() -> None:
    from fks_exec_ninja import mapping

    for text, shown in [("2.50", "2.5"), ("2.5", "2.5"), ("1E+2", "100"), ("100.0", "100")]:
        assert mapping.wire_number(Decimal(text)) == shown
    for text, shown in [("5000", "5000"), ("10", "10"), ("1E-7", "0.0000001"), ("0.000", "0")]:
        assert mapping.wire_number(Decimal(text)) == shown
    assert mapping.wire_number(Decimal("0")) == "0" and mapping.wire_number(Decimal("-0")) == "-0"
    assert mapping.wire_number(Decimal("-0.0")) == "-0"
    assert mapping.wire_number(Decimal("1e2")) == "100"
    assert mapping.wire_number(None) == "0"


_SCALED = st.builds(
    lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**40), 10**40), st.integers(-40, 40)
)


@given(st.decimals(allow_nan=False, allow_infinity=False) | _SCALED)
def test_a_number_is_its_exact_value_in_plain_digits(value: Decimal) -> None:
    """What the DLL's number formatting gives: no exponent, no trailing zeros, and never
    rounded to the decimal context's precision (28 digits by default)."""
    from fks_exec_ninja import mapping

    exact = Context(prec=200)
    assert mapping.wire_number(value) == format(value.normalize(exact), "f")
    with localcontext(Context(prec=3, capitals=0)):  # a caller's context changes nothing
        assert mapping.wire_number(value) == format(value.normalize(exact), "f")
