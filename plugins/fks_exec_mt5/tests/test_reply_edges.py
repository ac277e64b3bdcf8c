"""Exact cases of reading order_send answers and history records (results.py).

Every field of an OrderSendResult at and beside its bounds is read the same by the
one-pass reader and field by field; the error text of a refusal carries its hint; a
partial fill followed by a leg that could not be sent keeps the partial fill's own
reason; a history record without ``time_setup_msc`` gets no 1970 timestamp.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import constants as c
from fks_exec_mt5.history import from_history
from fks_exec_mt5.results import LegAnswer, Reply, from_send
from fks_exec_mt5.retcodes import HINTS
from fks_exec_mt5.servertime import ServerClock

from .records import EDGES, Deal, HistoryOrder, SendResult, looked_up

D = Decimal
DONE = SendResult(c.TRADE_RETCODE_DONE, 7, 9, 0.1, 1.1, 1.1, 1.1001, "Request executed", 1, 0)


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


def _read(reply: Any, reader: Any) -> Any:
    try:
        return reader(reply)
    except BadBrokerNumber as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("field", ["retcode", "deal", "order", "volume", "price"])
@pytest.mark.parametrize("value", [*EDGES, -0.5, 0.5, "1.1", 1], ids=repr)
def test_one_pass_and_field_by_field_read_every_answer_field_alike(field: str, value: Any) -> None:
    reply = DONE._replace(**{field: value})
    one_pass = _read(reply, lambda r: Reply.of(r, D("0.1")))
    checked = _read(reply, lambda r: Reply.checked(r).plausible(D("0.1")))
    assert one_pass == checked
    if not isinstance(one_pass, str):
        assert [str(v) for v in one_pass] == [str(v) for v in checked]


@pytest.mark.parametrize("retcode", sorted(HINTS))
def test_a_refusal_with_a_hint_says_what_to_do(retcode: int) -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    reply = DONE._replace(retcode=retcode, deal=0, volume=0.0, price=0.0, comment="x")
    result = from_send([LegAnswer(sent=reply, volume=D("0.1"))], order, D("0.1"), build=build)
    assert result.error == f"{retcode} x: {HINTS[retcode]}"


def test_a_refusal_without_a_hint_is_the_code_and_the_comment() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    reply = DONE._replace(retcode=c.TRADE_RETCODE_REJECT, deal=0, comment="Request rejected")
    result = from_send([LegAnswer(sent=reply, volume=D("0.1"))], order, D("0.1"), build=build)
    assert result.status is OrderStatus.REJECTED
    assert result.error == f"{c.TRADE_RETCODE_REJECT} Request rejected"


def test_a_partial_fill_then_an_unsent_leg_keeps_the_partial_fills_reason() -> None:
    order = Order.market("EURUSD", "buy", "0.3")
    partial = DONE._replace(retcode=c.TRADE_RETCODE_DONE_PARTIAL, volume=0.05, comment="part")
    answers = [
        LegAnswer(sent=partial, volume=D("0.1")),
        LegAnswer(unsent="no fresh price for EURUSD", volume=D("0.2")),
    ]
    result = from_send(answers, order, D("0.3"), build=build)
    assert result.status is OrderStatus.PARTIALLY_FILLED and result.filled_quantity == D("0.05")
    assert result.error == f"0.05 of 0.3 lots filled; then {c.TRADE_RETCODE_DONE_PARTIAL} part"


def test_a_partial_leg_then_a_full_leg_adds_both_fills() -> None:
    order = Order.market("EURUSD", "buy", "0.3")
    partial = DONE._replace(retcode=c.TRADE_RETCODE_DONE_PARTIAL, volume=0.05, price=1.0)
    answers = [
        LegAnswer(sent=partial, volume=D("0.1")),
        LegAnswer(sent=DONE._replace(volume=0.2, price=1.3, order=10), volume=D("0.2")),
    ]
    result = from_send(answers, order, D("0.3"), build=build)
    assert result.status is OrderStatus.PARTIALLY_FILLED and result.filled_quantity == D("0.25")
    assert result.average_price == (D("0.05") * D("1.0") + D("0.2") * D("1.3")) / D("0.25")
    assert result.order_id == "10" and result.raw is not None and len(result.raw["legs"]) == 2


def test_nothing_after_a_lost_answer_is_read() -> None:
    order = Order.market("EURUSD", "buy", "0.2")
    answers = [
        LegAnswer(lost=(c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout"), volume=D("0.1")),
        LegAnswer(sent=DONE, volume=D("0.1")),
    ]
    result = from_send(answers, order, D("0.2"), build=build)
    assert result.status is OrderStatus.UNKNOWN and result.filled_quantity == 0
    assert result.order_id is None


def test_nothing_after_a_refused_leg_is_read() -> None:
    order = Order.market("EURUSD", "buy", "0.2")
    refused = DONE._replace(retcode=c.TRADE_RETCODE_REJECT, deal=0, volume=0.0, comment="no")
    answers = [LegAnswer(sent=refused, volume=D("0.1")), LegAnswer(sent=DONE, volume=D("0.1"))]
    result = from_send(answers, order, D("0.2"), build=build)
    assert result.status is OrderStatus.REJECTED and result.filled_quantity == 0


@pytest.mark.parametrize("asked", [None, D("0.1")], ids=["leg-volume-unknown", "leg-volume-known"])
@pytest.mark.parametrize("kind", ["market", "limit"])
def test_10010_part_done_for_all_lots_is_unknown_not_a_validation_error(
    asked: Decimal | None, kind: str
) -> None:
    """MetaQuotes: 10010 is "only part of the request was completed"; an answer that
    fills every lot with it contradicts itself, so its fate is unknown (reconcile), and
    no pydantic error escapes whatever the leg knew of its own volume."""
    order = (
        Order.market("EURUSD", "buy", "0.1")
        if kind == "market"
        else Order.limit("EURUSD", "buy", "0.1", "1.0")
    )
    partial = DONE._replace(retcode=c.TRADE_RETCODE_DONE_PARTIAL, volume=0.1, comment="part")
    result = from_send([LegAnswer(sent=partial, volume=asked)], order, D("0.1"), build=build)
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert result.error_code is ErrorCode.UNKNOWN
    said = (
        f"order_send answers fill all 0.1 lots, yet say {c.TRADE_RETCODE_DONE_PARTIAL} part"
        if asked is None
        else f"order_send retcode {c.TRADE_RETCODE_DONE_PARTIAL} (part done) with all 0.1 lots"
    )
    assert result.error == (
        f"MetaTrader 5: {said}; not a definite answer: reconcile with get_order, do not resend"
    )


def test_legs_that_fill_every_lot_and_then_a_failure_are_unknown() -> None:
    """Legs without their own volumes that fill all 0.2 lots, then a refused leg: no
    definite answer (the volumes cannot be trusted), never a ValidationError."""
    order = Order.market("EURUSD", "buy", "0.2")
    refused = DONE._replace(retcode=c.TRADE_RETCODE_REJECT, deal=0, volume=0.0, comment="no")
    answers = [LegAnswer(sent=DONE._replace(volume=0.2)), LegAnswer(sent=refused)]
    result = from_send(answers, order, D("0.2"), build=build)
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert result.error == (
        f"MetaTrader 5: order_send answers fill all 0.2 lots, yet say "
        f"{c.TRADE_RETCODE_REJECT} no; not a definite answer: reconcile with get_order, "
        "do not resend"
    )


def test_a_partial_leg_short_of_the_lots_stays_a_partial_fill_without_a_leg_volume() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    partial = DONE._replace(retcode=c.TRADE_RETCODE_DONE_PARTIAL, volume=0.09, comment="part")
    result = from_send([LegAnswer(sent=partial)], order, D("0.1"), build=build)
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert result.filled_quantity == D("0.09")


OldOrder = namedtuple("OldOrder", "ticket symbol type state volume_initial magic comment")


def test_a_history_record_without_a_setup_time_keeps_the_lookups_own_time() -> None:
    before = datetime.now(timezone.utc)
    record = OldOrder(9, "EURUSD", c.ORDER_TYPE_BUY, c.ORDER_STATE_PLACED, 0.1, 1, "x")
    result = from_history([record], [], plugin="mt5", client_order_id="a", clock=ServerClock(0))
    assert result.status is OrderStatus.ACCEPTED
    assert result.timestamp >= before - timedelta(seconds=1)


# --------------------------------------------------------------------------- history


def _order_record(ticket: int, kind: int, state: int, volume: float, stamp: int) -> Any:
    return HistoryOrder(ticket, "EURUSD", kind, state, volume, 1, "x", stamp)


@pytest.mark.parametrize(
    ("kind", "side"),
    [(c.ORDER_TYPE_BUY, "buy"), (c.ORDER_TYPE_SELL, "sell"), (c.ORDER_TYPE_BUY_LIMIT, "buy")],
)
def test_history_reads_the_side_of_the_last_order(kind: int, side: str) -> None:
    record = _order_record(9, kind, c.ORDER_STATE_PLACED, 0.1, 0)
    result = looked_up([record], [])
    assert result.side is not None and result.side.value == side


@pytest.mark.parametrize(
    ("state", "deals", "status"),
    [
        # canceled or expired with a part filled: final, the rest is gone (an IOC's
        # rest, a partly filled pending order deleted or expired)
        (c.ORDER_STATE_CANCELED, [Deal(3, 9, 0.05, 1.1)], OrderStatus.CANCELED),
        (c.ORDER_STATE_EXPIRED, [Deal(3, 9, 0.05, 1.1)], OrderStatus.EXPIRED),
        (c.ORDER_STATE_CANCELED, [Deal(3, 9, 0.1, 1.1)], OrderStatus.FILLED),
        (c.ORDER_STATE_EXPIRED, [Deal(3, 9, 0.1, 1.1)], OrderStatus.FILLED),
        (c.ORDER_STATE_PLACED, [Deal(3, 9, 0.05, 1.1)], OrderStatus.PARTIALLY_FILLED),
        (c.ORDER_STATE_CANCELED, [], OrderStatus.CANCELED),
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
    result = looked_up([record], deals)
    assert result.status is status
    filled = sum((D(str(deal.volume)) for deal in deals), D(0))
    assert result.filled_quantity == filled and result.quantity == D("0.1")
    assert result.average_price == (D("1.1") if deals else None)
    rejected = status is OrderStatus.REJECTED
    assert (result.error == "rejected by the trade server") is rejected
    assert result.error_code == (ErrorCode.REJECTED if rejected else None)


def test_history_takes_its_time_from_the_first_order_and_its_ticket_from_the_last() -> None:
    first = _order_record(8, c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1_700_000_000_000)
    last = _order_record(9, c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1_700_000_360_000)
    deals = [Deal(3, 8, 0.1, 1.1), Deal(4, 9, 0.1, 1.2)]
    result = looked_up([first, last], deals)
    assert result.order_id == "9" and result.timestamp.timestamp() == 1_700_000_000
    assert result.quantity == D("0.2") and result.average_price == D("1.15")


@pytest.mark.parametrize(("volume", "price"), [(0.0, 1.1), (0.1, 0.0)])
def test_a_history_deal_without_a_volume_or_a_price_makes_the_lookup_unknown(
    volume: float, price: float
) -> None:
    record = _order_record(9, c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 0)
    result = looked_up([record], [Deal(3, 9, volume, price)])
    assert result.status is OrderStatus.UNKNOWN and result.filled_quantity == 0
    assert f"deal 3 has volume {D(repr(volume))} at price {D(repr(price))}" in (result.error or "")
