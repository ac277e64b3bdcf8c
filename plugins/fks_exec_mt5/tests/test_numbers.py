"""Numbers from the terminal are read with the core's bounds, or refused naming the field.

``fks_exec_mt5.numbers`` (and the one-pass readers of positions and symbols built on it)
must refuse exactly what ``broker_decimal`` refuses, name the field and the fault, and
take every number a real account reports. Issue 20 point 4; the fuzzing vocabulary is
in ``records.py``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec_mt5 import constants as c
from fks_exec_mt5 import numbers
from fks_exec_mt5.exposure import Ticket
from fks_exec_mt5.numbers import (
    BROKER,
    decimal_of,
    float_decimal,
    int_of,
    price_or_none,
    time_ms_of,
)
from fks_exec_mt5.prechecks import SymbolRules

from .records import (
    EDGES,
    FUZZ,
    Position,
    anything,
    number_or_anything,
    odd_floats,
    plausible_float,
)

D = Decimal


# --------------------------------------------------------------------------- numbers


@given(st.one_of(st.floats(), odd_floats), st.booleans())
@settings(max_examples=300)
def test_the_fast_path_has_exactly_the_bounds_of_broker_decimal(
    value: float, negative: bool
) -> None:
    try:
        expected: Decimal | None = broker_decimal(
            value, broker=BROKER, field="f", allow_negative=negative, allow_none=False
        )
    except BadBrokerNumber:
        expected = None
    if expected is None:
        with pytest.raises(BadBrokerNumber, match=f"{BROKER}: f "):
            decimal_of(value, "f", negative=negative)
    else:
        got = decimal_of(value, "f", negative=negative)
        assert got == expected and str(got) == str(expected)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
@settings(max_examples=200)
def test_a_remembered_double_gives_the_text_of_its_own_conversion(values: list[float]) -> None:
    """Asked again (and after other values), each double is its own ``Decimal(repr())``,
    sign of a zero included."""
    for value in [*values, *reversed(values), 0.0, -0.0, *values]:
        got = float_decimal(value)
        assert str(got) == str(Decimal(repr(value)))


def test_doubles_are_remembered_up_to_a_bound_then_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remembered: dict[float, Decimal] = {}
    monkeypatch.setattr(numbers, "_DECIMALS", remembered)
    first = float_decimal(1.25)
    assert float_decimal(1.25) is first  # a lookup, not a new conversion
    float_decimal(0.0)
    float_decimal(-0.0)
    assert list(remembered) == [1.25]  # zeros are not kept: 0.0 and -0.0 are one key
    for n in range(1, numbers._DECIMALS_KEPT):
        float_decimal(n + 0.5)
    assert len(remembered) == numbers._DECIMALS_KEPT  # every one kept, up to the bound
    float_decimal(numbers._DECIMALS_KEPT + 0.5)
    assert len(remembered) == 1  # it was full at the last one: started afresh
    assert list(remembered) == [numbers._DECIMALS_KEPT + 0.5]
    assert float_decimal(1.25) is not first and float_decimal(1.25) == first


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (math.nan, "not finite"),
        (math.inf, "not finite"),
        (-0.5, "negative"),
        (1e30, "out of range"),
        (True, "boolean"),
        (None, "missing"),
        ("1e40000000", "out of range"),
        ("1" * 65, "65 characters"),
    ],
)
def test_decimal_of_names_the_field_and_the_fault(value: Any, why: str) -> None:
    with pytest.raises(BadBrokerNumber, match=f"order_send price.*{why}"):
        decimal_of(value, "order_send price")


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (7, 7), (2**64 - 1, 2**64 - 1), (3.0, 3)])
def test_int_of_takes_plain_and_integral_numbers(value: Any, expected: int) -> None:
    assert int_of(value, "deal") == expected and type(int_of(value, "deal")) is int


@pytest.mark.parametrize("value", [True, 2**64, -(2**64), 1.5, math.nan, math.inf, "7", None, -1])
def test_int_of_refuses_what_is_not_an_integer_in_range(value: Any) -> None:
    with pytest.raises(BadBrokerNumber, match="MetaTrader 5: deal"):
        int_of(value, "deal")


def test_negative_integers_only_where_allowed_and_times_end_in_the_year_3000() -> None:
    assert int_of(-5, "x", negative=True) == -5
    assert time_ms_of(32_503_679_999_999, "t") == 32_503_679_999_999
    with pytest.raises(BadBrokerNumber, match="t 32503680000000 is not a time"):
        time_ms_of(32_503_680_000_000, "t")


def test_int_of_bounds_negatives_by_magnitude_too() -> None:
    assert int_of(-(2**64) + 1, "x", negative=True) == -(2**64) + 1
    with pytest.raises(BadBrokerNumber, match="x is out of range"):
        int_of(-(2**64), "x", negative=True)


def test_int_of_quotes_at_most_twenty_characters_of_what_it_refuses() -> None:
    with pytest.raises(BadBrokerNumber) as refused:
        int_of("abcdefghijklmnopqrstuvwxyz", "deal")
    assert str(refused.value) == (f"{BROKER}: deal is not an integer (a str: abcdefghijklmnopqrst)")


@pytest.mark.parametrize(
    ("value", "expected"), [(0.0, None), (-0.0, None), (1.1, D("1.1")), (5e-324, D("5E-324"))]
)
def test_a_price_of_zero_means_none(value: float, expected: Decimal | None) -> None:
    assert price_or_none(value, "sl") == expected


def test_a_price_or_none_refuses_what_decimal_of_refuses() -> None:
    with pytest.raises(BadBrokerNumber, match="sl is negative"):
        price_or_none(-1.0, "sl")


# --------------------------------------------------------------------------- positions

positions = st.builds(
    Position,
    ticket=st.one_of(st.integers(min_value=0, max_value=2**40), anything),
    symbol=st.just("EURUSD"),
    type=st.one_of(st.sampled_from([0, 1]), anything),
    volume=number_or_anything,
    price_open=number_or_anything,
    sl=number_or_anything,
    tp=number_or_anything,
    magic=st.one_of(st.integers(min_value=0, max_value=2**40), anything),
    time_msc=st.one_of(st.integers(min_value=0, max_value=2**45), anything),
    profit=st.one_of(st.floats(min_value=-1e6, max_value=1e6), anything),
)


@given(positions)
@FUZZ
def test_a_position_is_read_with_bounds_or_refused_naming_the_field(record: Any) -> None:
    refusal = ""
    try:
        got = Ticket.of(record)
    except BadBrokerNumber as exc:
        refusal = str(exc)
    if refusal:
        event("refused")
        assert refusal.startswith(f"{BROKER}: position")
        return
    event("read")
    assert got.volume > 0 and got.price_open >= 0 and (got.sl is None or got.sl > 0)
    assert got.buy is (record.type == c.POSITION_TYPE_BUY) and got.magic == record.magic


@given(positions)
@FUZZ
def test_a_position_is_read_the_same_in_one_pass_and_field_by_field(record: Any) -> None:
    refusal = ""
    try:
        expected = Ticket.checked(record)
    except BadBrokerNumber as exc:
        refusal = str(exc)
    if refusal:
        event("refused")
        with pytest.raises(BadBrokerNumber) as raised:
            Ticket.of(record)
        assert str(raised.value) == refusal
        return
    event("read")
    got = Ticket.of(record)
    assert got == expected and [str(v) for v in got] == [str(v) for v in expected]


USUAL_POSITION = Position(7, "EURUSD", c.POSITION_TYPE_SELL, 0.1, 1.1, 0.0, 1.05, 9, 1_000, -2.5)
NUMERIC_FIELDS = ["ticket", "type", "volume", "price_open", "sl", "tp", "magic", "time_msc"]
NUMERIC_FIELDS.append("profit")


def _read(reader: Any, record: Any) -> Any:
    try:
        return reader(record)
    except BadBrokerNumber as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
@pytest.mark.parametrize("value", EDGES, ids=repr)
def test_one_pass_and_field_by_field_agree_at_every_bound(field: str, value: Any) -> None:
    record = USUAL_POSITION._replace(**{field: value})
    one_pass, checked = _read(Ticket.of, record), _read(Ticket.checked, record)
    assert one_pass == checked
    assert [str(v) for v in one_pass] == [str(v) for v in checked]


@st.composite
def nearly_usual_positions(draw: st.DrawFn) -> Any:
    """A usual position with up to two fields made odd (most examples stay readable)."""
    fields = USUAL_POSITION._asdict()
    for name in draw(st.lists(st.sampled_from(NUMERIC_FIELDS), max_size=2, unique=True)):
        fields[name] = draw(st.one_of(st.sampled_from(EDGES), anything, plausible_float))
    return Position(**fields)


@given(nearly_usual_positions())
@FUZZ
def test_nearly_usual_positions_read_the_same_both_ways(record: Any) -> None:
    one_pass, checked = _read(Ticket.of, record), _read(Ticket.checked, record)
    event("refused" if isinstance(checked, str) else "read")
    assert one_pass == checked


@pytest.mark.parametrize("reader", [Ticket.of, Ticket.checked], ids=["one pass", "checked"])
def test_a_usual_position_is_read_exactly(reader: Any) -> None:
    assert reader(USUAL_POSITION) == Ticket(
        7, "EURUSD", False, D("0.1"), D("1.1"), None, D("1.05"), 9, 1_000, D("-2.5")
    )
    bought = reader(USUAL_POSITION._replace(type=c.POSITION_TYPE_BUY, sl=1.0, tp=0.0))
    assert bought.buy and (bought.sl, bought.tp) == (D("1.0"), None)


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("volume", 0.0, "position 7 volume is 0"),
        ("type", 1.5, "position 7 type is not an integer"),
        ("magic", -1, "position 7 magic is negative"),
        ("time_msc", 32_503_680_000_000, "position 7 time_msc 32503680000000 is not a time"),
        ("profit", math.nan, "position 7 profit is not finite"),
        ("price_open", -1.0, "position 7 price_open is negative"),
        ("sl", math.inf, "position 7 sl is not finite"),
        ("tp", -1.0, "position 7 tp is negative"),
        ("ticket", -7, "position ticket is negative"),
    ],
)
def test_a_refused_position_names_the_ticket_and_the_field(
    field: str, value: Any, named: str
) -> None:
    for reader in (Ticket.of, Ticket.checked):
        with pytest.raises(BadBrokerNumber, match=named):
            reader(USUAL_POSITION._replace(**{field: value}))


# --------------------------------------------------------------------------- symbols

SymbolInfo = namedtuple(
    "SymbolInfo",
    "name point trade_tick_size digits volume_step volume_min volume_max volume_limit "
    "trade_stops_level trade_freeze_level filling_mode trade_exemode expiration_mode "
    "trade_mode select",
)
symbols = st.builds(
    SymbolInfo,
    name=st.just("EURUSD"),
    point=st.one_of(st.just(1e-05), anything),
    trade_tick_size=st.one_of(st.just(1e-05), anything),
    digits=st.one_of(st.just(5), anything),
    volume_step=st.one_of(st.just(0.01), anything),
    volume_min=st.one_of(st.just(0.01), anything),
    volume_max=st.one_of(st.just(100.0), anything),
    volume_limit=st.one_of(st.just(0.0), anything),
    trade_stops_level=st.one_of(st.just(0), anything),
    trade_freeze_level=st.one_of(st.just(0), anything),
    filling_mode=st.one_of(st.just(3), anything),
    trade_exemode=st.one_of(st.just(2), anything),
    expiration_mode=st.one_of(st.just(15), anything),
    trade_mode=st.one_of(st.just(4), anything),
    select=st.just(True),
)


@given(symbols)
@FUZZ
def test_a_symbol_is_read_with_bounds_or_refused_naming_the_field(info: Any) -> None:
    refusal = ""
    try:
        rules = SymbolRules.of(info)
    except BadBrokerNumber as exc:
        refusal = str(exc)
    if refusal:
        event("refused")
        assert refusal.startswith(f"{BROKER}: symbol_info('EURUSD').")
        return
    event("read")
    assert rules.point > 0 and rules.step > 0 and rules.tick > 0
    for value in (rules.volume_min, rules.volume_max, rules.volume_limit, rules.stops_level):
        assert value.is_finite() and value >= 0
    assert 0 <= rules.digits <= 20
