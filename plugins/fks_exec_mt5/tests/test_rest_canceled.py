"""What is left of an order the server ended with a part filled (outside review, 2026-12-04).

- MQL5 ENUM_ORDER_TYPE_FILLING (https://www.mql5.com/en/docs/constants/tradingconstants/
  orderproperties): under ORDER_FILLING_IOC "the remaining volume will be cancelled";
  under ORDER_FILLING_RETURN the rest "is processed further". So a market order sent
  IOC and answered 10010 DONE_PARTIAL is final, ``canceled`` with what filled; under
  Return (or an answer the policy cannot explain: 10010 under FOK) it stays
  ``partially_filled``, to be looked up.
- ORDER_STATE_CANCELED and ORDER_STATE_EXPIRED are terminal states: a history order in
  one of them with deals is ``canceled``/``expired`` with the deals' fill, not
  ``partially_filled`` for ever.
- TRADE_ACTION_REMOVE deletes an order's rest; the deals already done stay
  (ORDER_STATE_PARTIAL, ORDER_VOLUME_INITIAL, ORDER_VOLUME_CURRENT): a cancel's result
  carries what filled before it, read from the order's deals (HistoryDealsGet by
  ticket).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import constants as c
from fks_exec_mt5.history import filled_before_cancel, from_history
from fks_exec_mt5.results import LegAnswer, from_send
from fks_exec_mt5.servertime import ServerClock
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started
from .records import Deal, HistoryOrder, SendResult
from .scripted import Record, Scripted, opened

D = Decimal


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


def _part(volume: float = 0.3) -> SendResult:
    return SendResult(c.TRADE_RETCODE_DONE_PARTIAL, 7, 9, volume, 1.1, 1.1, 1.1001, "Partial", 1, 0)


@pytest.mark.parametrize(
    ("filling", "status"),
    [
        (c.ORDER_FILLING_IOC, OrderStatus.CANCELED),
        (c.ORDER_FILLING_RETURN, OrderStatus.PARTIALLY_FILLED),
        (c.ORDER_FILLING_FOK, OrderStatus.PARTIALLY_FILLED),  # FOK cannot part fill
        (None, OrderStatus.PARTIALLY_FILLED),
    ],
)
def test_a_part_fill_is_final_only_when_its_policy_canceled_the_rest(
    filling: int | None, status: OrderStatus
) -> None:
    order = Order.market("EURUSD", "buy", "0.5")
    answer = LegAnswer(sent=_part(), volume=D("0.5"), filling=filling)
    result = from_send([answer], order, D("0.5"), build=build)
    assert result.status is status, result
    assert result.filled_quantity == D("0.3") and result.average_price == D("1.1")
    assert result.quantity == D("0.5") and result.sent is True
    assert result.status.is_final is (filling == c.ORDER_FILLING_IOC)
    assert ("the server canceled the rest" in (result.error or "")) is result.status.is_final
    assert "0.3 of 0.5 lots filled" in (result.error or "")


def test_a_pending_order_answered_10010_stays_partially_filled_whatever_its_policy() -> None:
    order = Order.limit("EURUSD", "buy", "0.5", D("1.1"))
    answer = LegAnswer(sent=_part(), volume=D("0.5"), filling=c.ORDER_FILLING_IOC)
    result = from_send([answer], order, D("0.5"), build=build)
    assert result.status is OrderStatus.PARTIALLY_FILLED, result


async def test_an_ioc_split_order_whose_last_leg_part_filled_is_canceled_with_all_it_filled() -> (
    None
):
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    opened(terminal, c.ORDER_TYPE_BUY, 0.5)
    opened(terminal, c.ORDER_TYPE_BUY, 0.3)
    scripted = Scripted(terminal)

    def part_done(real: Any, request: dict[str, Any]) -> Any:
        done = real({**request, "volume": 0.1})  # the server fills 0.1 of the 0.3
        return Record({**done._asdict(), "retcode": c.TRADE_RETCODE_DONE_PARTIAL})

    scripted.then("order_send", lambda real, request: real(request))
    scripted.then("order_send", part_done)
    plugin.session.mt5 = scripted
    try:
        result = await plugin.execute_order(
            Order.market("EURUSD", "sell", "1.1", time_in_force="ioc")
        )
    finally:
        await plugin.close()
    assert [r["type_filling"] for r in scripted.sent] == [c.ORDER_FILLING_IOC] * 2
    assert result.status is OrderStatus.CANCELED, result
    assert result.filled_quantity == D("0.6") and result.quantity == D("1.1")
    assert "the server canceled the rest" in (result.error or "")
    assert "never sent (0.3 lots)" in (result.error or "")


async def test_a_part_fill_under_return_is_not_final() -> None:
    terminal = FakeMetaTrader5.netting()
    terminal.update_symbol(
        "EURUSD",
        execution_mode=c.SYMBOL_TRADE_EXECUTION_MARKET,
        filling_flags=0,
        return_for_market_orders=True,
        liquidity=D("0.3"),
    )
    plugin = await started(terminal)
    try:
        result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
    finally:
        await plugin.close()
    assert result.status is OrderStatus.PARTIALLY_FILLED, result
    assert result.filled_quantity == D("0.3")


# --------------------------------------------------------------------------- cancel


async def _partly_filled_pending(
    terminal: FakeMetaTrader5, deals: Any
) -> tuple[Any, Scripted, str]:
    """A placed buy limit of 1.0 lots the server reports 0.4 filled (the fake cannot
    part fill a pending order: its working record and deals are scripted as MT5 gives
    them), and a plugin whose next orders_get and history_deals_get answer so."""
    plugin = await started(terminal)
    placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "1.0", D("1.0950")))
    assert placed.status is OrderStatus.ACCEPTED, placed
    ticket = int(placed.order_id or 0)
    scripted = Scripted(terminal)

    def partial(real: Any, **kwargs: Any) -> Any:
        (record,) = real(**kwargs)
        return (
            Record({**record._asdict(), "state": c.ORDER_STATE_PARTIAL, "volume_current": 0.6}),
        )

    scripted.then("orders_get", partial)
    scripted.then("history_deals_get", lambda real, **kwargs: deals(ticket))
    plugin.session.mt5 = scripted
    return plugin, scripted, str(ticket)


async def test_a_cancel_of_a_partly_filled_order_reports_what_filled_before_it() -> None:
    terminal = FakeMetaTrader5.netting()

    def deals(ticket: int) -> Any:
        return (
            Deal(31, ticket, 0.25, 1.0950),
            Deal(32, ticket, 0.15, 1.0940),
            Deal(33, 1, 9.0, 2.0),
        )

    plugin, scripted, order_id = await _partly_filled_pending(terminal, deals)
    try:
        result = await plugin.cancel_order(order_id)
    finally:
        await plugin.close()
    assert scripted.sent[-1]["action"] == c.TRADE_ACTION_REMOVE
    assert result.status is OrderStatus.CANCELED and result.success, result
    assert result.filled_quantity == D("0.40") and result.quantity == D("1.0")
    assert result.average_price == (D("0.25") * D("1.0950") + D("0.15") * D("1.0940")) / D("0.4")
    assert result.side is not None and result.side.value == "buy"
    assert result.order_id == order_id and result.remaining_quantity == D("0.6")


@pytest.mark.parametrize(
    ("deals", "said"),
    [
        (lambda ticket: None, "its deals could not be read"),
        (lambda ticket: (Deal(31, ticket, 0.0, 1.095),), "volume 0"),
        (lambda ticket: (Deal(31, ticket, 1.5, 1.095),), "above its 1.0"),
    ],
)
async def test_a_cancel_whose_fill_cannot_be_read_says_so(
    deals: Any, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminal = FakeMetaTrader5.netting()
    plugin, _, order_id = await _partly_filled_pending(terminal, deals)
    with caplog.at_level(logging.WARNING):
        try:
            result = await plugin.cancel_order(order_id)
        finally:
            await plugin.close()
    assert result.status is OrderStatus.CANCELED and result.filled_quantity == 0, result
    assert said in (result.error or "") and "look it up with get_order" in (result.error or "")
    assert any("what filled before it is unknown" in r.getMessage() for r in caplog.records)


async def test_a_cancel_of_an_unfilled_order_reads_its_deals_and_reports_none() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "1.0", D("1.0950")))
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    read: list[Any] = []
    scripted.then("history_deals_get", lambda real, **kwargs: read.append(kwargs) or real(**kwargs))
    try:
        result = await plugin.cancel_order(placed.order_id or "")
    finally:
        await plugin.close()
    assert read == [{"ticket": int(placed.order_id or 0)}]
    assert result.status is OrderStatus.CANCELED and result.filled_quantity == 0, result
    assert result.error is None and result.quantity is None


# --------------------------------------------------------------------------- the readers


def _working(initial: float, current: float) -> Record:
    return Record(
        {
            "ticket": 9,
            "type": c.ORDER_TYPE_SELL_LIMIT,
            "volume_initial": initial,
            "volume_current": current,
        }
    )


def test_an_unfilled_order_whose_deals_could_not_be_read_has_no_fill_to_report() -> None:
    assert filled_before_cancel(_working(1.0, 1.0), None) == {}
    assert filled_before_cancel(_working(1.0, 1.0), ()) == {}
    with pytest.raises(BadBrokerNumber, match=r"had filled 0.1 of 1.0 lots"):
        filled_before_cancel(_working(1.0, 0.9), None)


def test_the_deals_of_the_canceled_order_alone_count_all_of_them() -> None:
    deals = (Deal(1, 8, 5.0, 2.0), Deal(2, 9, 0.5, 1.2), Deal(3, 7, 5.0, 2.0), Deal(4, 9, 0.5, 1.1))
    fields = filled_before_cancel(_working(1.0, 0.0), deals)
    assert fields == {
        "side": "sell",
        "quantity": D("1.0"),
        "filled_quantity": D("1.0"),  # all of it (filled before the REMOVE arrived)
        "average_price": D("1.15"),
    }
    with pytest.raises(BadBrokerNumber, match=r"above its 1\.0"):
        filled_before_cancel(_working(1.0, 0.0), (*deals, Deal(5, 9, 0.01, 1.1)))


def test_a_canceled_history_order_short_of_its_lots_and_unfilled_says_nothing_of_legs() -> None:
    record = HistoryOrder(9, "EURUSD", c.ORDER_TYPE_BUY, c.ORDER_STATE_CANCELED, 0.1, 1, "x", 0)
    result = from_history(
        [record], [], plugin="mt5", client_order_id="a", clock=ServerClock(0), lots=D("0.2")
    )
    assert result.status is OrderStatus.CANCELED and result.error is None, result
    filled = from_history(
        [record],
        [Deal(3, 9, 0.05, 1.1)],
        plugin="mt5",
        client_order_id="a",
        clock=ServerClock(0),
        lots=D("0.2"),
    )
    assert filled.status is OrderStatus.CANCELED and "no leg for the other 0.1 lots" in (
        filled.error or ""
    )


def test_a_lookup_names_the_symbol_of_the_last_leg() -> None:
    first = HistoryOrder(8, "EURUSD", c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1, "x", 0)
    last = HistoryOrder(9, "EURUSD.r", c.ORDER_TYPE_BUY, c.ORDER_STATE_FILLED, 0.1, 1, "x", 0)
    deals = [Deal(3, 8, 0.1, 1.1), Deal(4, 9, 0.1, 1.1)]
    result = from_history(
        [first, last], deals, plugin="mt5", client_order_id="a", clock=ServerClock(0)
    )
    assert result.symbol == "EURUSD.r"


# --------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("error", "fails"),
    [
        ((-10005, "IPC timeout"), True),
        ((c.RES_S_OK, "Success"), False),
        ((c.RES_E_NOT_FOUND, "Not found"), False),
    ],
)
async def test_a_lookup_whose_deals_read_failed_raises_instead_of_reading_no_fill(
    error: tuple[int, str], fails: bool
) -> None:
    # MQL5 history_deals_get: None "in case of an error", told by last_error(); before,
    # a None was read as "no deals", and a filled order read back accepted, filled 0.
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    try:
        filled = await plugin.execute_order(
            Order.market("EURUSD", "buy", "0.1", client_order_id="f-1")
        )
        assert filled.status is OrderStatus.FILLED
        scripted = Scripted(terminal)
        scripted.then("history_deals_get", lambda real, **kwargs: None)
        scripted.then("last_error", lambda real: error)
        plugin.session.mt5 = scripted
        if fails:
            with pytest.raises(BrokerUnavailable, match="history_deals_get"):
                await plugin.get_order("f-1")
        else:  # the terminal says it found none: the order reads as it stands, no fill
            found = await plugin.get_order("f-1")
            assert found is not None and found.status is OrderStatus.ACCEPTED
        again = await plugin.get_order("f-1")  # the next read sees the deal
        assert again is not None and again.status is OrderStatus.FILLED
    finally:
        await plugin.close()


async def test_a_cancel_naming_another_symbol_than_the_orders_is_refused_before_sending() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.0950")))
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        wrong = await plugin.cancel_order(placed.order_id or "", "USDJPY")
        assert wrong.status is OrderStatus.REJECTED and wrong.sent is False, wrong
        assert f"order {placed.order_id} is a EURUSD order, not USDJPY" in (wrong.error or "")
        assert scripted.sent == []  # nothing reached the terminal: the order works on
        right = await plugin.cancel_order(placed.order_id or "", "EURUSD")
        assert right.status is OrderStatus.CANCELED and right.symbol == "EURUSD"
    finally:
        await plugin.close()
