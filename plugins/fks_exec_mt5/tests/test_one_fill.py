"""The short path for the usual answer (one market leg, done, with its deal) gives what
the general path over legs gives, for every single-leg answer (results.py).

``from_send`` takes the short path only for that answer; with ``_from_send`` swapped
for the general ``_legs`` the same answers must give the same results (all but the
build time), refusals and ``unknown`` texts included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from unittest import mock

from hypothesis import event, given
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import constants as c
from fks_exec_mt5 import results
from fks_exec_mt5.results import LegAnswer, from_send

from .records import FUZZ, SendResult

D = Decimal


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


lots = st.integers(min_value=1, max_value=100_000).map(lambda n: D(n) / 100)
"""Volumes on a 0.01 grid: a lot count has a few digits, so volume x price is exact."""
prices = st.one_of(
    st.floats(min_value=1e-5, max_value=1e6),
    st.sampled_from([0.0, 1.1, 1.08123, 150.5, -1.0, float("nan")]),
)
retcodes = st.sampled_from(  # done most often: the short path's answer
    [
        *[c.TRADE_RETCODE_DONE] * 6,
        c.TRADE_RETCODE_DONE_PARTIAL,
        c.TRADE_RETCODE_PLACED,
        c.TRADE_RETCODE_REJECT,
        c.TRADE_RETCODE_REQUOTE,
        c.TRADE_RETCODE_CONNECTION,
    ]
)


@st.composite
def single_answers(draw: Any) -> tuple[Order, LegAnswer, Decimal]:
    asked = draw(lots)
    quantity = asked + draw(st.sampled_from([D(0), D("0.01"), D(1)]))
    got = draw(st.one_of(st.sampled_from([asked, asked, D(0), asked / 2]), lots))
    sent = SendResult(
        retcode=draw(retcodes),
        deal=draw(st.sampled_from([7, 7, 7, 0, 2**64])),
        order=draw(st.sampled_from([0, 9, 123456789])),
        volume=float(got),
        price=draw(prices),
        bid=1.1,
        ask=1.1001,
        comment="Request executed",
        request_id=1,
        retcode_external=0,
    )
    kind = draw(st.sampled_from(["market", "market", "limit"]))
    side = draw(st.sampled_from(["buy", "sell"]))
    order = (
        Order.market("EURUSD", side, quantity)
        if kind == "market"
        else Order.limit("EURUSD", side, quantity, "1.05")
    )
    leg_volume = draw(st.sampled_from([asked, None]))
    return order, LegAnswer(sent=sent, volume=leg_volume), asked


def _outcome(answer: LegAnswer, order: Order, volume: Decimal) -> Any:
    """The result's fields but its build time, with its two Decimals as text; or the
    error the builder raised (for contradictions the checks before it let through)."""
    try:
        result = from_send([answer], order, volume, build=build)
    except ValueError as exc:
        return f"raised {type(exc).__name__}: {exc}".split("[type=")[0]
    fields = result.model_dump()
    fields.pop("timestamp")
    fields["numbers"] = [str(result.filled_quantity), str(result.average_price)]
    return fields


@given(single_answers())
@FUZZ
def test_the_one_fill_path_gives_what_the_general_path_gives(
    case: tuple[Order, LegAnswer, Decimal],
) -> None:
    order, answer, volume = case
    short = _outcome(answer, order, volume)
    with mock.patch.object(results, "_from_send", results._legs):
        general = _outcome(answer, order, volume)
    event(short if isinstance(short, str) else short["status"].value)
    assert short == general


def test_a_whole_fill_is_filled_at_the_deal_price() -> None:
    order = Order.market("EURUSD", "buy", "0.1")
    sent = SendResult(c.TRADE_RETCODE_DONE, 7, 9, 0.1, 1.1, 1.1, 1.1001, "done", 1, 0)
    result = from_send([LegAnswer(sent=sent, volume=D("0.1"))], order, D("0.1"), build=build)
    assert result.status is OrderStatus.FILLED
    assert result.order_id == "9"
    assert (result.filled_quantity, result.average_price) == (D("0.1"), D("1.1"))
    assert result.raw == {
        "retcode": c.TRADE_RETCODE_DONE,
        "deal": 7,
        "order": 9,
        "volume": 0.1,
        "price": 1.1,
        "bid": 1.1,
        "ask": 1.1001,
        "comment": "done",
        "request_id": 1,
        "retcode_external": 0,
    }


def test_a_fill_above_the_lots_asked_overall_is_unknown() -> None:
    order = Order.market("EURUSD", "buy", "0.2")
    sent = SendResult(c.TRADE_RETCODE_DONE, 7, 9, 0.2, 1.1, 1.1, 1.1001, "done", 1, 0)
    result = from_send([LegAnswer(sent=sent)], order, D("0.1"), build=build)
    assert result.status is OrderStatus.UNKNOWN
    assert result.error is not None and "add up to 0.2, above the 0.1 lots asked" in result.error
