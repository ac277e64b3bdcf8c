"""Hedging: an order split over several tickets is reported against the ORDER's lots,
not the legs found in the history: legs never sent leave no trace there, so a partly
done split order is ``partially_filled`` (or ``unknown`` where that cannot be told),
never ``filled``, in the reconciled retry, ``get_order`` and ``find_order``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.history import from_history
from fks_exec_mt5.servertime import ServerClock
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import ACCOUNTS, MAGIC, started
from .records import Deal, HistoryOrder

D = Decimal
HEDGING = sorted(name for name in ACCOUNTS if name.startswith("hedging"))


class FailingLeg:
    """The fake, with the ``leg``-th order_send (1-based) failing as ``how``: its answer
    lost after the server acted (``lost-after``) or before (``lost-before``), or a
    request the server refuses (``refused``, a volume off the grid)."""

    def __init__(self, terminal: FakeMetaTrader5, leg: int, how: str) -> None:
        self.terminal, self.leg, self.how, self.sends = terminal, leg, how, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terminal, name)

    def order_send(self, request: dict[str, Any]) -> Any:
        self.sends += 1
        if self.sends == self.leg:
            if self.how == "refused":
                request = {**request, "volume": 0.123456}
            elif self.how.startswith("lost"):
                self.terminal.lose_next_answer(after_broker_acted=self.how == "lost-after")
        return self.terminal.order_send(request)


def _honest(found: ExecutionResult | None, asked: Decimal, done: Decimal) -> None:
    """``found`` never says more than was done, and measures it against ``asked``."""
    if found is None or found.status is OrderStatus.UNKNOWN:
        return
    assert found.quantity == asked, found
    assert found.filled_quantity == done, (found, done)
    if found.status is OrderStatus.FILLED:
        assert done == asked, found
    if 0 < done < asked:
        assert found.status is OrderStatus.PARTIALLY_FILLED, found


async def test_a_lost_first_leg_answer_reconciles_to_partially_filled() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.3"))
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
        order = Order.market("EURUSD", "sell", "0.6", client_order_id="legs-A")
        terminal.lose_next_answer(after_broker_acted=True)
        first = await plugin.execute_order(order)
        assert first.status is OrderStatus.UNKNOWN
        retry = await plugin.execute_order(order)
        assert retry.status is OrderStatus.PARTIALLY_FILLED, retry
        assert (retry.quantity, retry.filled_quantity) == (D("0.6"), D("0.3"))
        assert "0.3 of 0.6 lots" in (retry.error or "")
        assert terminal.net_volume("EURUSD", MAGIC) == D("0.2")  # nothing more was sent
    finally:
        await plugin.close()


async def test_a_refused_later_leg_is_partially_filled_in_get_order_and_after_restart() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.3"))
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
    plugin.session.mt5 = FailingLeg(terminal, 2, "refused")
    order = Order.market("EURUSD", "sell", "0.6", client_order_id="legs-B")
    result = await plugin.execute_order(order)
    assert result.status is OrderStatus.PARTIALLY_FILLED
    hints = plugin.lookup_hints(order, result)
    assert hints["lots"] == "0.6"
    found = await plugin.get_order("legs-B")
    assert found is not None and found.status is OrderStatus.PARTIALLY_FILLED, found
    assert (found.quantity, found.filled_quantity) == (D("0.6"), D("0.3"))
    await plugin.close()
    restarted = await started(terminal)
    try:
        blind = await restarted.get_order("legs-B")
        assert blind is not None and blind.status is OrderStatus.UNKNOWN, blind
        assert "find_order" in (blind.error or "")
        hinted = await restarted.find_order("legs-B", hints)
        assert hinted is not None and hinted.status is OrderStatus.PARTIALLY_FILLED, hinted
        assert (hinted.quantity, hinted.filled_quantity) == (D("0.6"), D("0.3"))
        # Hints given before the result (the executor's claim) carry the quantity.
        early = {k: v for k, v in hints.items() if k != "lots"} | {"quantity": "0.6"}
        again = await restarted.find_order("legs-B", early)
        assert again is not None and again.status is OrderStatus.PARTIALLY_FILLED
    finally:
        await restarted.close()


async def test_an_order_that_opened_or_closed_part_of_a_ticket_is_known_after_restart() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.3", client_order_id="open"))
    await plugin.execute_order(Order.market("EURUSD", "sell", "0.1", client_order_id="part"))
    await plugin.close()
    restarted = await started(terminal)
    try:
        for cid, lots in (("open", D("0.3")), ("part", D("0.1"))):
            found = await restarted.get_order(cid)
            assert found is not None and found.status is OrderStatus.FILLED, found
            assert found.quantity == lots == found.filled_quantity
    finally:
        await restarted.close()


_TICKETS = st.lists(st.integers(min_value=1, max_value=5).map(lambda n: D(n) / 10), max_size=3)


@pytest.mark.parametrize("account", HEDGING)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tickets=_TICKETS,
    tenths=st.integers(min_value=1, max_value=15),
    leg=st.integers(min_value=1, max_value=4),
    how=st.sampled_from(["none", "lost-after", "lost-before", "refused"]),
)
@example(tickets=[D("0.3"), D("0.2")], tenths=6, leg=1, how="lost-after")
@example(tickets=[D("0.3"), D("0.2")], tenths=6, leg=2, how="refused")
@example(tickets=[D("0.3"), D("0.2")], tenths=5, leg=2, how="lost-before")
async def test_a_split_order_is_never_reported_as_more_than_was_done(
    account: str, tickets: list[Decimal], tenths: int, leg: int, how: str
) -> None:
    terminal = ACCOUNTS[account]()
    plugin = await started(terminal)
    for volume in tickets:
        assert (await plugin.execute_order(Order.market("EURUSD", "buy", volume))).success
    asked = D(tenths) / 10
    before = terminal.net_volume("EURUSD", MAGIC)
    plugin.session.mt5 = FailingLeg(terminal, leg, how)
    order = Order.market("EURUSD", "sell", asked, client_order_id="split")
    result = await plugin.execute_order(order)
    plugin.session.mt5 = terminal
    done = before - terminal.net_volume("EURUSD", MAGIC)
    if result.status is not OrderStatus.UNKNOWN:
        _honest(result, asked, done)
    hints = plugin.lookup_hints(order, result)
    _honest(await plugin.execute_order(order), asked, done)  # the reconciled retry
    _honest(await plugin.get_order("split"), asked, done)
    await plugin.close()
    restarted = await started(terminal)
    try:
        _honest(await restarted.find_order("split", hints), asked, done)
        blind = await restarted.get_order("split")
        if blind is not None and blind.status is not OrderStatus.UNKNOWN:
            assert blind.filled_quantity == done
            assert blind.status is not OrderStatus.FILLED or done == asked, blind
    finally:
        await restarted.close()


def _leg(ticket: int, state: int, lots: str) -> Any:
    return HistoryOrder(ticket, "EURUSD", c.ORDER_TYPE_SELL, state, float(lots), MAGIC, "c", 0)


def _read(records: list[Any], deals: list[Any], lots: str | None = None) -> ExecutionResult:
    return from_history(
        records,
        deals,
        plugin="mt5",
        client_order_id="legs",
        clock=ServerClock(0),
        lots=None if lots is None else D(lots),
    )


def test_legs_short_of_the_orders_lots_name_the_lots_missing() -> None:
    found = _read([_leg(1, c.ORDER_STATE_FILLED, "0.3")], [Deal(11, 1, 0.3, 1.1)], lots="0.5")
    assert (found.status, found.quantity, found.filled_quantity) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.5"),
        D("0.3"),
    )
    assert found.error == (
        "0.3 of 0.5 lots filled over the 1 leg(s) found; no leg for the other 0.2 lots is in "
        "the history (refused, or never sent: an order's legs after one that failed are not sent)"
    )


def test_a_partly_filled_leg_with_every_leg_found_or_a_working_one_has_no_error() -> None:
    partial = _read([_leg(1, c.ORDER_STATE_PARTIAL, "0.3")], [Deal(11, 1, 0.1, 1.1)], lots="0.3")
    assert partial.status is OrderStatus.PARTIALLY_FILLED and partial.error is None, partial
    working = _read([_leg(1, c.ORDER_STATE_PLACED, "0.3")], [], lots="0.5")
    assert working.status is OrderStatus.ACCEPTED and working.error is None, working
    assert working.quantity == D("0.5")


def test_a_refused_leg_after_a_filled_one_is_partially_filled_a_refused_order_rejected() -> None:
    legs = [_leg(1, c.ORDER_STATE_FILLED, "0.3"), _leg(2, c.ORDER_STATE_REJECTED, "0.2")]
    later = _read(legs, [Deal(11, 1, 0.3, 1.1)])
    assert later.status is OrderStatus.PARTIALLY_FILLED, later
    assert (later.quantity, later.filled_quantity, later.error_code) == (D("0.5"), D("0.3"), None)
    # One order, refused, whatever deal the history shows for it: rejected.
    alone = _read([_leg(1, c.ORDER_STATE_REJECTED, "0.3")], [Deal(11, 1, 0.1, 1.1)])
    assert alone.status is OrderStatus.REJECTED, alone
    assert alone.error == "rejected by the trade server"
