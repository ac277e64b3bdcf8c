"""Broken replies are never definite answers (issue 20 point 4).

Every number the plugin reads from a MetaTrader5 result goes through
``fks_exec_mt5.numbers`` with the core's ``broker_decimal`` bounds. The reply parsers
are fuzzed with struct-sequence-like records (named tuples, like the bridge decodes)
whose fields take any value; end to end, a terminal whose answers are tampered with
gives ``unknown`` (never a fill it did not prove) with a warning naming the field.
"""

from __future__ import annotations

import logging
import math
import os
from collections import namedtuple
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Ticket
from fks_exec_mt5.numbers import BROKER, decimal_of, int_of, time_ms_of
from fks_exec_mt5.prechecks import SymbolRules
from fks_exec_mt5.results import LegAnswer, Reply, from_history, from_send
from fks_exec_mt5.servertime import ServerClock
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started

D = Decimal
FUZZ = settings(
    max_examples=int(os.environ.get("FKS_EXEC_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Short in ``make test``; ``FKS_EXEC_FUZZ_EXAMPLES=5000`` for a long run."""

SendResult = namedtuple(
    "OrderSendResult",
    "retcode deal order volume price bid ask comment request_id retcode_external",
)
Position = namedtuple(
    "TradePosition", "ticket symbol type volume price_open sl tp magic time_msc profit"
)
HistoryOrder = namedtuple(
    "TradeOrder", "ticket symbol type state volume_initial magic comment time_setup_msc"
)
Deal = namedtuple("TradeDeal", "ticket order volume price")

_odd_floats = st.sampled_from(
    [math.nan, math.inf, -math.inf, -0.0, -1.0, 0.0, 1e30, -1e30, 9.99e29, 5e-324, 1e308]
)
anything = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    _odd_floats,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**64, 2**64 - 1, -1, 0, 1, 10**40, 32_503_680_000_000, 32_503_679_999_999]),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["1e40000000", "nan", "0.1", ""]),
)
plausible_float = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
number_or_anything = st.one_of(plausible_float, anything)


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    """What the plugin's ``result_for`` does, without a plugin."""
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


# --------------------------------------------------------------------------- numbers


@given(st.one_of(st.floats(), _odd_floats), st.booleans())
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


# --------------------------------------------------------------------------- order_send

send_results = st.builds(
    SendResult,
    retcode=st.one_of(
        st.sampled_from(
            [c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_DONE_PARTIAL, c.TRADE_RETCODE_REJECT, 10008]
        ),
        anything,
    ),
    deal=st.one_of(st.sampled_from([0, 7]), anything),
    order=st.one_of(st.just(9), anything),
    volume=st.one_of(st.sampled_from([0.1, 0.05, 0.2, 0.0]), anything),
    price=st.one_of(st.sampled_from([1.1, 0.0]), anything),
    bid=anything,
    ask=anything,
    comment=st.one_of(st.just("Request executed"), st.text(max_size=5)),
    request_id=st.one_of(st.just(1), anything),
    retcode_external=st.one_of(st.just(0), anything),
)


@given(st.lists(send_results, min_size=1, max_size=3), st.booleans())
@FUZZ
def test_no_order_send_reply_crashes_the_parser_or_passes_for_a_fill_it_cannot_be(
    replies: list[Any], pending: bool
) -> None:
    order = (
        Order.limit("EURUSD", "buy", "0.1", D("1.05"))
        if pending
        else Order.market("EURUSD", "buy", "0.1")
    )
    answers = [LegAnswer(sent=reply, volume=D("0.1")) for reply in replies]
    result = from_send(answers, order, D("0.1"), build=build)
    event(result.status.value)
    if result.status is OrderStatus.UNKNOWN:
        assert result.sent is None
        return
    assert result.filled_quantity <= D("0.1")
    if result.filled_quantity > 0:
        assert result.average_price is not None and result.average_price > 0
        assert any(int(r.deal) for r in replies if type(r.deal) is int) or any(
            r.retcode == c.TRADE_RETCODE_DONE_PARTIAL for r in replies
        )
    if result.status is OrderStatus.FILLED:
        first = replies[0]
        assert first.retcode == c.TRADE_RETCODE_DONE and first.deal and first.price > 0


@given(send_results)
@FUZZ
def test_a_reply_is_read_the_same_by_the_fast_path_and_field_by_field(reply: Any) -> None:
    refusal = ""
    try:
        expected = Reply.checked(reply).plausible(D("0.1"))
    except BadBrokerNumber as exc:
        refusal = str(exc)
    if refusal:
        event("refused")
        with pytest.raises(BadBrokerNumber) as raised:
            Reply.of(reply, D("0.1"))
        assert str(raised.value) == refusal
        return
    event("read")
    got = Reply.of(reply, D("0.1"))
    assert got == expected and [str(v) for v in got] == [str(v) for v in expected]


def _done(**fields: Any) -> Any:
    values = {
        "retcode": c.TRADE_RETCODE_DONE,
        "deal": 7,
        "order": 9,
        "volume": 0.1,
        "price": 1.1,
        "bid": 1.1,
        "ask": 1.1001,
        "comment": "Request executed",
        "request_id": 1,
        "retcode_external": 0,
    }
    values.update(fields)
    return SendResult(**values)


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        (_done(volume=0.2), "order_send volume 0.2 is above the 0.1 lots asked"),
        (_done(price=math.nan), "order_send price is not finite"),
        (_done(price=-1.1), "order_send price is negative"),
        (_done(price=0.0), "order_send price is 0 for a fill"),
        (_done(volume=0.0), "order_send volume is 0 for a fill"),
        (_done(retcode=c.TRADE_RETCODE_REJECT), "retcode 10006 (not done) beside deal 7"),
        (_done(deal=True), "order_send deal is not an integer"),
        (_done(volume="1e40000000"), "order_send volume is out of range"),
        (_done(retcode=c.TRADE_RETCODE_DONE_PARTIAL), "10010 (part done) with all 0.1 lots"),
    ],
)
def test_an_impossible_reply_is_unknown_with_a_warning_naming_the_field(
    reply: Any, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.mt5"):
        result = from_send(
            [LegAnswer(sent=reply, volume=D("0.1"))],
            order,
            D("0.1"),
            build=build,
        )
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert result.filled_quantity == 0 and named in (result.error or "")
    assert any(named in r.getMessage() and BROKER in r.getMessage() for r in caplog.records)


def test_two_legs_that_add_up_to_more_than_the_order_are_unknown() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    legs = [LegAnswer(sent=_done(volume=0.1), volume=D("0.1"))] * 2
    result = from_send(legs, order, D("0.1"), build=build)
    assert result.status is OrderStatus.UNKNOWN
    assert "add up to 0.2, above the 0.1 lots asked" in (result.error or "")


def test_a_sound_reply_is_still_a_fill() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    result = from_send([LegAnswer(sent=_done(), volume=D("0.1"))], order, D("0.1"), build=build)
    assert result.status is OrderStatus.FILLED and result.average_price == D("1.1")


# --------------------------------------------------------------------------- history

orders_history = st.builds(
    HistoryOrder,
    ticket=st.one_of(st.just(9), anything),
    symbol=st.just("EURUSD"),
    type=st.one_of(st.sampled_from([0, 1, 2]), anything),
    state=st.one_of(st.sampled_from([1, 2, 4, 5]), anything),
    volume_initial=st.one_of(st.sampled_from([0.1, 0.2]), anything),
    magic=st.just(1),
    comment=st.just("x"),
    time_setup_msc=st.one_of(st.just(1_700_000_000_000), anything),
)
deals_history = st.builds(
    Deal,
    ticket=st.just(3),
    order=st.just(9),
    volume=st.one_of(st.sampled_from([0.1, 0.05]), anything),
    price=st.one_of(st.just(1.1), anything),
)


@given(st.lists(orders_history, min_size=1, max_size=2), st.lists(deals_history, max_size=3))
@FUZZ
def test_no_history_crashes_the_parser_or_gives_more_than_was_ordered(
    records: list[Any], deals: list[Any]
) -> None:
    result = from_history(records, deals, plugin="mt5", client_order_id="abc", clock=ServerClock(0))
    event(result.status.value)
    if result.status is OrderStatus.UNKNOWN:
        assert result.error and BROKER in result.error
        return
    assert result.quantity is not None and result.filled_quantity <= result.quantity
    if result.filled_quantity:
        assert result.average_price is not None and result.average_price > 0


def test_deals_above_the_order_make_a_lookup_unknown(caplog: pytest.LogCaptureFixture) -> None:
    record = HistoryOrder(9, "EURUSD", 0, c.ORDER_STATE_FILLED, 0.1, 1, "x", 0)
    deals = [Deal(3, 9, 0.1, 1.1), Deal(4, 9, 0.1, 1.1)]
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.mt5"):
        result = from_history(
            [record], deals, plugin="mt5", client_order_id="abc", clock=ServerClock(0)
        )
    assert result.status is OrderStatus.UNKNOWN and result.filled_quantity == 0
    assert "deals of order 9 add up to 0.2 lots, above the 0.1 ordered" in (result.error or "")
    assert any("deals of order 9" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- end to end


class _Tampered:
    """The reference fake with one function's answer changed, like a broken link."""

    def __init__(self, terminal: FakeMetaTrader5, function: str, **fields: Any) -> None:
        self._terminal = terminal
        self._function = function
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._terminal, name)
        if name != self._function:
            return real

        def tampered(*args: Any, **kwargs: Any) -> Any:
            value = real(*args, **kwargs)
            if isinstance(value, tuple) and not hasattr(value, "_asdict"):
                return tuple(_changed(v, self._fields) for v in value)
            return _changed(value, self._fields)

        return tampered


def _changed(record: Any, fields: dict[str, Any]) -> Any:
    if record is None:
        return None
    values = {**record._asdict(), **fields}
    return namedtuple(type(record).__name__, list(values))(**values)  # type: ignore[misc]


async def test_a_fill_larger_than_the_order_from_the_terminal_is_unknown() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(_Tampered(terminal, "order_send", volume=5.0))  # type: ignore[arg-type]
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert "order_send volume 5.0 is above the 0.1 lots asked" in (result.error or "")
    await plugin.close()


@pytest.mark.parametrize(
    ("function", "fields", "named"),
    [
        ("symbol_info", {"volume_step": math.nan}, "volume_step is not finite"),
        ("symbol_info", {"point": 0.0}, "point is 0"),
        ("symbol_info_tick", {"ask": math.inf}, "tick ask is not finite"),
        ("symbol_info_tick", {"ask": -1.1}, "tick ask is negative"),
        ("symbol_info_tick", {"time_msc": 10**20}, "time_msc is out of range"),
        ("positions_get", {"volume": math.nan}, "volume is not finite"),
    ],
)
async def test_a_broken_read_before_sending_refuses_the_order_and_sends_nothing(
    function: str, fields: dict[str, Any], named: str
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))  # a position to read
    plugin.session.mt5 = _Tampered(terminal, function, **fields)
    plugin.session.forget_symbols()
    before = len(terminal.order_arrivals())
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.REJECTED and result.sent is False
    assert named in (result.error or "") and BROKER in (result.error or "")
    assert len(terminal.order_arrivals()) == before
    await plugin.close()


async def test_a_market_order_without_a_price_is_refused_before_sending() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    plugin.session.mt5 = _Tampered(terminal, "symbol_info_tick", ask=0.0)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.sent is False and result.error_code is not None
    assert result.error_code.value == "market_closed" and "no ask price" in (result.error or "")
    assert not terminal.order_arrivals()
    await plugin.close()


# --------------------------------------------------------------------------- exact cases


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"volume": 1e30}, "order_send volume is out of range"),
        ({"price": 1e30}, "order_send price is out of range"),
        ({"deal": 2**64}, "order_send deal is out of range"),
        ({"retcode": -1}, "order_send retcode is negative"),
        ({"volume": -0.1}, "order_send volume is negative"),
        ({"deal": -1}, "order_send deal is negative"),
        ({"order": -1}, "order_send order is negative"),
        ({"order": 2**64}, "order_send order is out of range"),
        ({"order": 9.5}, "order_send order is not an integer"),
        ({"volume": 1}, "order_send volume 1 is above"),
    ],
)
def test_reply_bounds_are_exact(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(BadBrokerNumber, match=named):
        Reply.of(_done(**fields), D("0.1"))


def test_a_reply_below_one_and_without_a_deal_is_read_as_it_is() -> None:
    reply = Reply.of(_done(price=0.5, deal=0, retcode=10008, volume=0.0), D("0.1"))
    assert (reply.price, reply.deal, reply.volume) == (D("0.5"), 0, D("0.0"))


def _order_record(ticket: int, kind: int, state: int, volume: float, stamp: int) -> Any:
    return HistoryOrder(ticket, "EURUSD", kind, state, volume, 1, "x", stamp)


@pytest.mark.parametrize(
    ("kind", "side"),
    [(c.ORDER_TYPE_BUY, "buy"), (c.ORDER_TYPE_SELL, "sell"), (c.ORDER_TYPE_BUY_LIMIT, "buy")],
)
def test_history_reads_the_side_of_the_last_order(kind: int, side: str) -> None:
    record = _order_record(9, kind, c.ORDER_STATE_PLACED, 0.1, 0)
    result = from_history([record], [], plugin="mt5", client_order_id="a", clock=ServerClock(0))
    assert result.side is not None and result.side.value == side


@pytest.mark.parametrize(
    ("state", "deals", "status"),
    [
        (c.ORDER_STATE_CANCELED, [Deal(3, 9, 0.05, 1.1)], OrderStatus.PARTIALLY_FILLED),
        (c.ORDER_STATE_CANCELED, [Deal(3, 9, 0.1, 1.1)], OrderStatus.FILLED),
        (c.ORDER_STATE_PARTIAL, [Deal(3, 9, 0.1, 1.1)], OrderStatus.FILLED),
        (c.ORDER_STATE_PARTIAL, [Deal(3, 9, 0.05, 1.1)], OrderStatus.PARTIALLY_FILLED),
        (c.ORDER_STATE_FILLED, [], OrderStatus.ACCEPTED),
        (c.ORDER_STATE_REJECTED, [], OrderStatus.REJECTED),
    ],
)
def test_history_status_comes_from_the_deals_and_the_last_state(
    state: int, deals: list[Any], status: OrderStatus
) -> None:
    record = _order_record(9, c.ORDER_TYPE_BUY, state, 0.1, 0)
    result = from_history([record], deals, plugin="mt5", client_order_id="a", clock=ServerClock(0))
    assert result.status is status
    rejected = status is OrderStatus.REJECTED
    assert (result.error == "rejected by the trade server") is rejected
    assert result.error_code == (ErrorCode.REJECTED if rejected else None)


def test_history_takes_its_time_from_the_first_order_and_its_ticket_from_the_last() -> None:
    first = _order_record(8, c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1_700_000_000_000)
    last = _order_record(9, c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1_700_000_360_000)
    deals = [Deal(3, 8, 0.1, 1.1), Deal(4, 9, 0.1, 1.2)]
    result = from_history(
        [first, last], deals, plugin="mt5", client_order_id="a", clock=ServerClock(0)
    )
    assert result.order_id == "9" and result.timestamp.timestamp() == 1_700_000_000
    assert result.quantity == D("0.2") and result.average_price == D("1.15")


def test_a_lost_answer_is_unknown_and_an_unsent_leg_is_a_refusal_or_a_partial_fill() -> None:
    order = Order.market("EURUSD", "buy", "0.2")
    lost = from_send(
        [LegAnswer(lost=(-10005, "IPC timeout"), volume=D("0.2"))], order, D("0.2"), build=build
    )
    assert lost.status is OrderStatus.UNKNOWN and lost.sent is None
    assert "no answer (-10005, IPC timeout)" in (lost.error or "")
    unsent = from_send(
        [LegAnswer(unsent="no fresh price", volume=D("0.2"))], order, D("0.2"), build=build
    )
    assert unsent.status is OrderStatus.REJECTED and unsent.sent is False
    assert unsent.error == "no fresh price" and unsent.error_code is not None
    assert unsent.error_code.value == "network"
    half = from_send(
        [
            LegAnswer(sent=_done(volume=0.1), volume=D("0.1")),
            LegAnswer(unsent="no fresh price", volume=D("0.1")),
        ],
        order,
        D("0.2"),
        build=build,
    )
    assert half.status is OrderStatus.PARTIALLY_FILLED and half.filled_quantity == D("0.1")
    assert half.error == "0.1 of 0.2 lots filled; then no fresh price"
    rejected = from_send(
        [LegAnswer(sent=_done(retcode=c.TRADE_RETCODE_NO_MONEY, deal=0), volume=D("0.2"))],
        order,
        D("0.2"),
        build=build,
    )
    assert rejected.error_code is not None and rejected.error_code.value == "insufficient_funds"
