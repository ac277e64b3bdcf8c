"""The order half of the plugin (fks_exec_mt5.plugin) where a call fails part-way:
re-initializing after a failure, the account an order names, close_position's quantity
and hedged pairs, close-by and cancel answers of every kind.

docs/plugins/mt5.md: "After a failure the plugin re-initializes the terminal on its next
call"; "An order whose account is neither the login nor account is refused before
sending"; the retcode and last_error tables (*What each answer becomes*). Written for the
survivors of the module's first mutation run.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderSide, OrderStatus
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started
from .scripted import Record, Recording, hedged_pair, opened

D = Decimal


async def on_recording(terminal: FakeMetaTrader5, **answers: Any) -> tuple[Mt5Plugin, Recording]:
    recording = Recording(terminal, **answers)
    plugin = await started(recording)  # type: ignore[arg-type]
    return plugin, recording


def answer(**fields: Any) -> Any:
    """An order_send answer: ``fields`` over a refusal that did nothing."""
    base = {"retcode": c.TRADE_RETCODE_REJECT, "deal": 0, "order": 0, "volume": 0.0}
    base.update({"price": 0.0, "bid": 1.1, "ask": 1.1002, "comment": "Request rejected"})
    base.update({"request_id": 1, "retcode_external": 0})
    base.update(fields)
    return Record(base)


def answers_in_turn(*replies: Any) -> Any:
    """order_send's next answers (a reply, or None for the real call), then the real ones."""
    queue = list(replies)

    def send(real: Any, request: Any) -> Any:
        reply = queue.pop(0) if queue else None
        return real(request) if reply is None else reply

    return send


# --------------------------------------------------------------------------- re-initializing


async def test_a_first_leg_refused_at_the_link_reinitializes_on_the_next_call() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin, recording = await on_recording(terminal)
    terminal.refuse_next()  # -10004: nothing left
    with pytest.raises(BrokerUnavailable, match="IPC failed before sending"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert recording.count("initialize") == 1
    assert (await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))).success
    assert recording.count("initialize") == 2
    await plugin.close()


@pytest.mark.parametrize("acted", [False, True])
async def test_a_lost_answer_is_unknown_and_reinitializes_on_the_next_call(acted: bool) -> None:
    terminal = FakeMetaTrader5.netting()
    plugin, recording = await on_recording(terminal)
    terminal.lose_next_answer(after_broker_acted=acted)
    lost = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert lost.status is OrderStatus.UNKNOWN and lost.sent is None, lost
    assert recording.count("initialize") == 1
    assert (await plugin.health_check()).healthy
    assert recording.count("initialize") == 2
    await plugin.close()


async def test_a_lost_leg_of_a_hedging_exit_reinitializes_and_answered_legs_do_not() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording = await on_recording(terminal)
    opened(terminal, c.ORDER_TYPE_BUY, 0.1)
    # a sell of 0.3: one request closing the 0.1 ticket, one selling the other 0.2
    both = await plugin.execute_order(Order.market("EURUSD", "sell", "0.3"))
    assert both.status is OrderStatus.FILLED and both.filled_quantity == D("0.3"), both
    assert recording.count("order_send") == 2
    await plugin.health_check()
    assert recording.count("initialize") == 1  # every leg was answered: no re-initialize
    opened(terminal, c.ORDER_TYPE_SELL, 0.1)

    def second_lost(real: Any, request: Any) -> Any:
        if recording.count("order_send") == 4:  # the second leg of this order
            terminal.lose_next_answer(after_broker_acted=False)
        return real(request)

    recording.answers["order_send"] = second_lost
    partly = await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
    assert partly.status is not OrderStatus.FILLED, partly
    await plugin.health_check()
    assert recording.count("initialize") == 2
    await plugin.close()


async def test_a_connection_retcode_that_is_no_integer_is_read_not_taken_as_unsent() -> None:
    # 10031 "no connection with the trade server" means nothing was sent; a reply whose
    # retcode only compares equal to it (a Decimal: no integer the package gives) is an
    # impossible reply, read by the results and never taken for "nothing was sent".
    terminal = FakeMetaTrader5.netting()
    weird = answer(retcode=D(c.TRADE_RETCODE_CONNECTION), comment="No connection")
    plugin, _ = await on_recording(terminal, order_send=answers_in_turn(weird))
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.UNKNOWN, result
    await plugin.close()


# --------------------------------------------------------------------------- accounts


async def test_an_order_may_name_the_login_or_the_configured_account_only() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal, account="main")
    for name in ("main", "5000001", None):
        order = Order.market("EURUSD", "buy", "0.01", account=name)
        assert (await plugin.execute_order(order)).status is OrderStatus.FILLED
    other = await plugin.execute_order(Order.market("EURUSD", "buy", "0.01", account="other"))
    assert other.status is OrderStatus.REJECTED and other.sent is False
    assert "connected to account 5000001" in (other.error or "")
    await plugin.close()


# --------------------------------------------------------------------------- close_position


async def test_a_flat_hedged_pair_is_closed_by_only_when_no_quantity_is_asked() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    hedged_pair(terminal)  # a long, then a short, of 0.1 each: flat
    assert await plugin.close_position("EURUSD", D("0.1")) == []
    assert len(await plugin.tickets("EURUSD")) == 2
    (closed,) = await plugin.close_position("EURUSD")
    assert closed.status is OrderStatus.FILLED and closed.quantity == D("0.1")
    assert closed.side is OrderSide.SELL  # the older ticket, the long, is closed by a sell
    assert await plugin.tickets("EURUSD") == []
    await plugin.close()


async def test_a_pair_older_than_a_short_is_closed_by_with_a_buy() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    opened(terminal, c.ORDER_TYPE_SELL, 0.1)
    opened(terminal, c.ORDER_TYPE_BUY, 0.1)
    (closed,) = await plugin.close_position("EURUSD")
    assert closed.status is OrderStatus.FILLED and closed.side is OrderSide.BUY
    await plugin.close()


async def test_a_quantity_closes_only_that_and_leaves_the_pairs() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    opened(terminal, c.ORDER_TYPE_BUY, 0.3)
    opened(terminal, c.ORDER_TYPE_SELL, 0.1)  # net long 0.2
    results = await plugin.close_position("EURUSD", D("0.1"))
    assert [r.status for r in results] == [OrderStatus.FILLED]
    assert len(await plugin.tickets("EURUSD")) == 2  # the pair is left alone
    await plugin.close()


async def test_a_quantity_below_the_volume_minimum_is_refused_before_sending() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin, recording = await on_recording(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    (refused,) = await plugin.close_position("EURUSD", D("0.001"))
    assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
    assert refused.error_code is ErrorCode.INVALID_ORDER
    assert "nothing was sent" in (refused.error or "")
    assert recording.count("order_send") == 1
    await plugin.close()


# --------------------------------------------------------------------------- close-by answers


async def test_a_close_by_without_an_answer_is_unknown_and_reinitializes() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording = await on_recording(terminal)
    hedged_pair(terminal)
    terminal.fail_next("order_send", c.RES_E_INTERNAL_FAIL_TIMEOUT)  # may have been sent
    (lost,) = await plugin.close_position("EURUSD")
    assert lost.status is OrderStatus.UNKNOWN and lost.error_code is ErrorCode.NETWORK, lost
    assert "no answer" in (lost.error or "")
    await plugin.health_check()
    assert recording.count("initialize") == 2
    await plugin.close()


async def test_a_close_by_the_package_refused_is_rejected_unsent() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording = await on_recording(terminal)
    hedged_pair(terminal)
    terminal.fail_next("order_send", c.RES_E_INVALID_PARAMS)  # nothing left
    (refused,) = await plugin.close_position("EURUSD")
    assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
    assert refused.error_code is ErrorCode.INVALID_ORDER
    await plugin.health_check()
    assert recording.count("initialize") == 1
    await plugin.close()


async def test_a_close_by_answer_without_a_number_is_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, _ = await on_recording(terminal, order_send=answers_in_turn(answer(retcode="done")))
    hedged_pair(terminal)
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.mt5"):
        (unknown,) = await plugin.close_position("EURUSD")
    assert unknown.status is OrderStatus.UNKNOWN and unknown.error_code is ErrorCode.UNKNOWN
    assert any("its fate is unknown" in r.getMessage() for r in caplog.records)
    await plugin.close()


@pytest.mark.parametrize(
    ("retcode", "code"),
    [(c.TRADE_RETCODE_MARKET_CLOSED, ErrorCode.MARKET_CLOSED), (10999, ErrorCode.REJECTED)],
)
async def test_a_refused_close_by_keeps_the_retcodes_meaning(retcode: int, code: ErrorCode) -> None:
    terminal = FakeMetaTrader5.hedging()
    refusal = answer(retcode=retcode, comment="Market closed")
    plugin, _ = await on_recording(terminal, order_send=answers_in_turn(refusal))
    hedged_pair(terminal)
    (refused,) = await plugin.close_position("EURUSD")
    assert refused.status is OrderStatus.REJECTED and refused.error_code is code, refused
    assert f"{retcode} Market closed" in (refused.error or "")
    await plugin.close()


# --------------------------------------------------------------------------- cancel answers


async def working(terminal: FakeMetaTrader5, **answers: Any) -> tuple[Mt5Plugin, Recording, str]:
    plugin, recording = await on_recording(terminal, **answers)
    placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.04")))
    assert placed.status is OrderStatus.ACCEPTED and placed.order_id is not None, placed
    return plugin, recording, placed.order_id


async def test_a_cancel_refused_at_the_link_is_unavailable_and_reinitializes() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    terminal.fail_next("order_send", c.RES_E_INTERNAL_FAIL_CONNECT)
    with pytest.raises(BrokerUnavailable, match="IPC failed before sending"):
        await plugin.cancel_order(ticket)
    assert (await plugin.cancel_order(ticket)).status is OrderStatus.CANCELED
    assert recording.count("initialize") == 2
    await plugin.close()


async def test_a_cancel_the_package_refused_is_rejected_unsent() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    terminal.fail_next("order_send", c.RES_E_INVALID_PARAMS)
    refused = await plugin.cancel_order(ticket)
    assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
    assert refused.error_code is ErrorCode.INVALID_ORDER
    assert (await plugin.cancel_order(ticket)).status is OrderStatus.CANCELED
    assert recording.count("initialize") == 1
    await plugin.close()


async def test_a_cancel_without_an_answer_is_unknown_and_reinitializes() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    terminal.fail_next("order_send", c.RES_E_INTERNAL_FAIL_TIMEOUT)
    lost = await plugin.cancel_order(ticket)
    assert lost.status is OrderStatus.UNKNOWN and lost.error_code is ErrorCode.NETWORK, lost
    await plugin.health_check()
    assert recording.count("initialize") == 2
    await plugin.close()


async def test_a_cancel_answer_without_a_number_is_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    recording.answers["order_send"] = answers_in_turn(answer(retcode="done"))
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.mt5"):
        unknown = await plugin.cancel_order(ticket)
    assert unknown.status is OrderStatus.UNKNOWN and unknown.error_code is ErrorCode.UNKNOWN
    assert any("its fate is unknown" in r.getMessage() for r in caplog.records)
    await plugin.close()


@pytest.mark.parametrize(
    ("retcode", "status", "code"),
    [
        (c.TRADE_RETCODE_MARKET_CLOSED, OrderStatus.REJECTED, ErrorCode.MARKET_CLOSED),
        (c.TRADE_RETCODE_TIMEOUT, OrderStatus.UNKNOWN, ErrorCode.TIMEOUT),
        (10999, OrderStatus.REJECTED, ErrorCode.REJECTED),
    ],
)
async def test_a_refused_cancel_keeps_the_retcodes_meaning(
    retcode: int, status: OrderStatus, code: ErrorCode
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    recording.answers["order_send"] = answers_in_turn(answer(retcode=retcode))
    refused = await plugin.cancel_order(ticket)
    assert refused.status is status and refused.error_code is code, refused
    assert f"{retcode} Request rejected" in (refused.error or "")
    await plugin.close()


async def test_a_cancel_of_an_id_that_is_no_ticket_number_says_so() -> None:
    plugin = await started(FakeMetaTrader5.hedging())
    with pytest.raises(ValueError, match="MT5 order ids are ticket numbers, not 'abc'"):
        await plugin.cancel_order("abc")
    await plugin.close()
