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
from collections import namedtuple
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.numbers import BROKER
from fks_exec_mt5.results import LegAnswer, Reply, from_send
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started
from .records import FUZZ, Deal, HistoryOrder, SendResult, anything, looked_up

D = Decimal


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    """What the plugin's ``result_for`` does, without a plugin."""
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


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
    result = looked_up(records, deals, "abc")
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
        result = looked_up([record], deals, "abc")
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


@pytest.fixture
async def plugin(hedging: FakeMetaTrader5) -> AsyncIterator[Mt5Plugin]:
    """The plugin on a hedging reference fake (``plugin.session.mt5`` is the fake until
    a test tampers with it)."""
    started_plugin = await started(hedging)
    yield started_plugin
    await started_plugin.close()


async def test_a_fill_larger_than_the_order_from_the_terminal_is_unknown(
    plugin: Mt5Plugin, hedging: FakeMetaTrader5
) -> None:
    plugin.session.mt5 = _Tampered(hedging, "order_send", volume=5.0)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert "order_send volume 5.0 is above the 0.1 lots asked" in (result.error or "")


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
    function: str, fields: dict[str, Any], named: str, plugin: Mt5Plugin, hedging: FakeMetaTrader5
) -> None:
    terminal = hedging
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))  # a position to read
    plugin.session.mt5 = _Tampered(terminal, function, **fields)
    plugin.session.forget_symbols()
    before = len(terminal.order_arrivals())
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.REJECTED and result.sent is False
    assert named in (result.error or "") and BROKER in (result.error or "")
    assert len(terminal.order_arrivals()) == before


async def test_a_market_order_without_a_price_is_refused_before_sending(
    plugin: Mt5Plugin, hedging: FakeMetaTrader5
) -> None:
    plugin.session.mt5 = _Tampered(hedging, "symbol_info_tick", ask=0.0)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.sent is False and result.error_code is not None
    assert result.error_code.value == "market_closed" and "no ask price" in (result.error or "")
    assert not hedging.order_arrivals()


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


def test_a_done_answer_for_part_of_the_lots_is_a_partial_fill() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    result = from_send(
        [LegAnswer(sent=_done(volume=0.05), volume=D("0.1"))], order, D("0.1"), build=build
    )
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert (result.filled_quantity, result.average_price) == (D("0.05"), D("1.1"))


_TWO = [D("0.1"), D("0.1")]


@pytest.mark.parametrize(
    ("answers", "status", "sent"),
    [
        ([LegAnswer(lost=(-10005, "IPC timeout"), volume=D("0.1"))], "unknown", None),
        ([LegAnswer(unsent="no fresh price", volume=D("0.1"))], "rejected", False),
        ([LegAnswer(sent=_done(retcode=10027, deal=0), volume=D("0.1"))], "rejected", False),
        ([LegAnswer(sent=_done(retcode=10031, deal=0), volume=D("0.1"))], "rejected", False),
        ([LegAnswer(sent=_done(retcode=10006, deal=0), volume=D("0.1"))], "rejected", True),
        ([LegAnswer(sent=_done(retcode=10030, deal=0), volume=D("0.1"))], "rejected", True),
        ([LegAnswer(sent=_done(retcode=10012, deal=0), volume=D("0.1"))], "unknown", None),
        ([LegAnswer(sent=_done(deal=0), volume=D("0.1"))], "unknown", None),  # no deal
        ([LegAnswer(sent=_done(volume=0.05), volume=D("0.1"))], "partially_filled", True),
        (
            [LegAnswer(sent=_done(retcode=10010, volume=0.05), volume=D("0.1"))],
            "partially_filled",
            True,
        ),
    ],
)
@pytest.mark.parametrize("legs", [1, 2])
def test_each_way_an_order_falls_short_says_whether_it_was_sent(
    answers: list[LegAnswer], status: str, sent: bool | None, legs: int
) -> None:
    """Whether the order reached the server is said once, where it is known: a rejection
    by its retcode (10027 and 10031: the terminal kept it), an answer never sent: no;
    an unknown result: not known (None); a partial fill: it was. As the first leg of two,
    the second never sent, the same holds."""
    order = Order.market("EURUSD", "sell", "0.2" if legs == 2 else "0.1")
    result = from_send(answers, order, D("0.1") * legs, build=build, legs=legs)
    assert (result.status.value, result.sent) == (status, sent), result
    if legs == 2:
        assert "never sent (0.1 lots)" in (result.error or ""), result


def test_a_queued_leg_is_accepted_alone_and_unknown_before_legs_never_sent() -> None:
    queued = [LegAnswer(sent=_done(retcode=10008, deal=0), volume=D("0.1"))]
    alone = from_send(queued, Order.market("EURUSD", "sell", "0.1"), D("0.1"), build=build)
    assert (alone.status, alone.sent) == (OrderStatus.ACCEPTED, True), alone
    split = Order.market("EURUSD", "sell", "0.2")
    first = from_send(queued, split, D("0.2"), build=build, legs=2)
    assert (first.status, first.sent) == (OrderStatus.UNKNOWN, None), first


def test_leg_status_gives_the_status_and_code_only() -> None:
    """Whether a rejected leg reached the server is its retcode's; leg_status gives no flag
    beside it (it used to, and no caller read it for anything but a rejection)."""
    from fks_exec_mt5.results import leg_status

    assert leg_status(_done(), pending=False) == (OrderStatus.FILLED, None)
    assert leg_status(_done(deal=0), pending=True) == (OrderStatus.ACCEPTED, None)
    assert leg_status(_done(deal=0), pending=False)[0] is OrderStatus.UNKNOWN
    assert len(leg_status(_done(retcode=10006, deal=0), pending=False)) == 2
