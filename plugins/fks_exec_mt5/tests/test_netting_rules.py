"""Netting accounts: pending orders follow the same ownership rule as market orders,
and no fill of this program's orders deletes a stop loss or take profit another of its
orders set (MetaQuotes' SL/TP inheritance rules), on every netting setting of the fake."""

from __future__ import annotations

from collections import namedtuple
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fks_exec import BrokerUnavailable, Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec_mt5 import constants as c
from fks_exec_mt5.netting import stops_conflict
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import ACCOUNTS, MAGIC, started
from .scripted import IPC_DOWN, nothing

D = Decimal
NETTING = sorted(name for name in ACCOUNTS if name.startswith("netting"))


def _pending(kind: str, side: str, **stops: Decimal) -> Order:
    buy = side == "buy"
    if kind == "limit":
        return Order.limit("EURUSD", side, "0.3", D("1.0950") if buy else D("1.1050"), **stops)
    if kind == "stop":
        return Order.stop("EURUSD", side, "0.3", D("1.1050") if buy else D("1.0950"), **stops)
    stop, limit = (D("1.1050"), D("1.1040")) if buy else (D("1.0950"), D("1.0960"))
    return Order.stop_limit("EURUSD", side, "0.3", stop, limit, **stops)


@pytest.mark.parametrize("account", NETTING)
@pytest.mark.parametrize("kind", ["limit", "stop", "stop_limit"])
@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_a_pending_order_on_another_programs_netting_position_is_refused_unsent(
    account: str, kind: str, side: str
) -> None:
    terminal = ACCOUNTS[account]()
    terminal.add_position(
        "EURUSD", 0, "0.2", magic=777, sl="1.0800", tp="1.1300", reason=terminal.ORDER_REASON_EXPERT
    )
    plugin = await started(terminal)
    try:
        market = await plugin.execute_order(Order.market("EURUSD", side, "0.3"))
        result = await plugin.execute_order(_pending(kind, side))
        for refused in (market, result):
            assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
            assert "belongs to magic 777" in (refused.error or "")
            assert "manage_other_positions" in (refused.error or "")
        assert terminal.order_arrivals() == {} and not terminal.orders_get()
        terminal.set_tick("EURUSD", "1.0900", "1.0901")
        terminal.set_tick("EURUSD", "1.1100", "1.1101")
        assert terminal.net_volume("EURUSD", 777) == D("0.2")
        assert [(p.sl, p.tp) for p in terminal.positions_get(symbol="EURUSD")] == [(1.08, 1.13)]
    finally:
        await plugin.close()


async def test_with_manage_other_positions_a_pending_order_on_it_is_placed() -> None:
    terminal = FakeMetaTrader5.netting()
    terminal.add_position("EURUSD", 0, "0.2", magic=777, reason=terminal.ORDER_REASON_EXPERT)
    plugin = await started(terminal, manage_other_positions=True)
    try:
        result = await plugin.execute_order(_pending("limit", "sell"))
        assert result.status is OrderStatus.ACCEPTED, result
    finally:
        await plugin.close()


@pytest.mark.parametrize("account", NETTING)
async def test_a_stop_loss_a_working_pending_order_would_delete_is_refused_unsent(
    account: str,
) -> None:
    terminal = ACCOUNTS[account]()
    plugin = await started(terminal)
    try:
        placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.0950")))
        assert placed.status is OrderStatus.ACCEPTED
        result = await plugin.execute_order(
            Order.market("EURUSD", "buy", "0.2", stop_loss=D("1.0900"), take_profit=D("1.1200"))
        )
        assert result.status is OrderStatus.REJECTED and result.sent is False, result
        error = result.error or ""
        assert f"pending order {placed.order_id}" in error and "stop loss" in error
        assert "Cancel order" in error and "stop_loss=1.0900" in error
        assert terminal.net_volume("EURUSD") == 0
        # Placed again with the levels, the limit fills without deleting them.
        assert (await plugin.cancel_order(str(placed.order_id))).status is OrderStatus.CANCELED
        again = Order.limit(
            "EURUSD", "buy", "0.1", D("1.0950"), stop_loss=D("1.0900"), take_profit=D("1.1200")
        )
        assert (await plugin.execute_order(again)).status is OrderStatus.ACCEPTED
        opened = await plugin.execute_order(
            Order.market("EURUSD", "buy", "0.2", stop_loss=D("1.0900"), take_profit=D("1.1200"))
        )
        assert opened.status is OrderStatus.FILLED, opened
        terminal.set_tick("EURUSD", "1.0949", "1.0950")
        (position,) = terminal.positions_get(symbol="EURUSD")
        assert (position.volume, position.sl, position.tp) == (0.3, 1.09, 1.12)
    finally:
        await plugin.close()


async def test_a_pending_order_without_a_level_a_working_one_sets_is_refused() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    try:
        first = Order.limit("EURUSD", "buy", "0.1", D("1.0950"), stop_loss=D("1.0900"))
        assert (await plugin.execute_order(first)).status is OrderStatus.ACCEPTED
        second = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.0940")))
        assert second.status is OrderStatus.REJECTED and second.sent is False
        assert "carries no stop loss" in (second.error or "")
        # The other side and market orders without levels are not affected.
        sell = await plugin.execute_order(Order.limit("EURUSD", "sell", "0.1", D("1.1050")))
        assert sell.status is OrderStatus.ACCEPTED
        market = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert market.status is OrderStatus.FILLED
    finally:
        await plugin.close()


async def test_another_programs_pending_orders_do_not_block_this_ones_stops() -> None:
    terminal = FakeMetaTrader5.netting()
    terminal.add_pending_order("EURUSD", terminal.ORDER_TYPE_BUY_LIMIT, "0.1", "1.0950", magic=777)
    plugin = await started(terminal)
    try:
        result = await plugin.execute_order(
            Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.0900"))
        )
        assert result.status is OrderStatus.FILLED, result
    finally:
        await plugin.close()


_ACTION = st.one_of(
    st.tuples(st.sampled_from(["market", "limit", "sell"]), st.booleans(), st.booleans()),
    st.just(("fill", False, False)),
)


@pytest.mark.parametrize("account", NETTING)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(_ACTION, max_size=7))
@example(actions=[("limit", False, False), ("market", True, True), ("fill", False, False)])
@example(actions=[("limit", True, False), ("limit", False, False), ("fill", False, False)])
async def test_no_fill_deletes_a_level_the_netting_position_had(
    account: str, actions: list[tuple[str, bool, bool]]
) -> None:
    """Whatever the order of market buys and sells, buy limits (with or without SL/TP)
    and fills, a fill of this program's orders never deletes the stop loss or take
    profit of a position that keeps its direction (MetaQuotes' inheritance rules delete
    them for an order without them; a reversal takes the reversing order's)."""
    terminal = ACCOUNTS[account]()
    plugin = await started(terminal)

    def levels() -> tuple[float, float, int] | None:
        found = terminal.positions_get(symbol="EURUSD")
        return (found[0].sl, found[0].tp, found[0].type) if found else None

    try:
        for kind, with_sl, with_tp in actions:
            before = levels()
            if kind == "fill":
                terminal.set_tick("EURUSD", "1.0899", "1.0900")  # every buy limit fills
            else:
                terminal.set_tick("EURUSD", "1.1000", "1.1001")
                stops = {}
                sell = kind == "sell"
                if with_sl:
                    stops["stop_loss"] = D("1.2000") if sell else D("1.0500")
                if with_tp:
                    stops["take_profit"] = D("1.0000") if sell else D("1.2000")
                if kind == "limit":
                    order = Order.limit("EURUSD", "buy", "0.1", D("1.0950"), **stops)
                else:
                    order = Order.market("EURUSD", "sell" if sell else "buy", "0.1", **stops)
                result = await plugin.execute_order(order)
                assert result.status is not OrderStatus.UNKNOWN, result
                if result.status is OrderStatus.REJECTED:
                    assert result.sent is False, result
            after = levels()
            if before is not None and after is not None and before[2] == after[2]:
                assert not (before[0] and not after[0]), (kind, before, after)
                assert not (before[1] and not after[1]), (kind, before, after)
    finally:
        await plugin.close()


_Working = namedtuple("_Working", "ticket type magic sl tp price_open")


def _working(
    ticket: int, kind: int, *, magic: int = MAGIC, sl: float = 0.0, tp: float = 0.0
) -> Any:
    return _Working(ticket, kind, magic, sl, tp, 1.095)


def test_the_refusal_names_the_working_orders_side_and_price() -> None:
    for buy, kind, side in (
        (True, c.ORDER_TYPE_BUY_LIMIT, "buy"),
        (False, c.ORDER_TYPE_SELL_STOP, "sell"),
    ):
        with pytest.raises(OrderDenied) as denied:
            stops_conflict(
                "EURUSD",
                buy,
                (D("1.09"), None),
                pending=False,
                working=[_working(7, kind)],
                magic=MAGIC,
            )
        assert str(denied.value) == (
            f"this order sets a stop loss on the EURUSD position, but pending order 7 ({side} "
            "at 1.095) carries none: on a netting account, when that order fills MetaTrader "
            "replaces the position's SL/TP with its own and a missing stop loss is deleted "
            "(SL/TP inheritance). Cancel order 7 and place it again with stop_loss=1.09, "
            "then send this order"
        )


def test_orders_of_the_other_side_or_another_magic_are_skipped_not_the_end_of_the_list() -> None:
    conflicting = _working(9, c.ORDER_TYPE_BUY_STOP)
    for skipped in (
        _working(8, c.ORDER_TYPE_SELL_LIMIT),
        _working(8, c.ORDER_TYPE_BUY_LIMIT, magic=777),
    ):
        with pytest.raises(OrderDenied, match="pending order 9 "):
            stops_conflict(
                "EURUSD",
                True,
                (None, D("1.12")),
                pending=False,
                working=[skipped, conflicting],
                magic=MAGIC,
            )
    # magic None: every program's orders count.
    with pytest.raises(OrderDenied, match="pending order 8 "):
        stops_conflict(
            "EURUSD",
            True,
            (None, D("1.12")),
            pending=False,
            working=[_working(8, c.ORDER_TYPE_BUY_LIMIT, magic=777)],
            magic=None,
        )


def test_a_take_profit_alone_is_checked_against_the_take_profit() -> None:
    sl_only = _working(5, c.ORDER_TYPE_BUY_LIMIT, sl=1.09)
    with pytest.raises(OrderDenied) as denied:
        stops_conflict(
            "EURUSD", True, (None, D("1.12")), pending=False, working=[sl_only], magic=MAGIC
        )
    assert str(denied.value).startswith("this order sets a take profit on the EURUSD position")
    assert "with take_profit=1.12, then" in str(denied.value)
    tp_only = _working(6, c.ORDER_TYPE_BUY_LIMIT, tp=1.12)
    with pytest.raises(OrderDenied) as denied:
        stops_conflict(
            "EURUSD", True, (D("1.09"), None), pending=True, working=[tp_only], magic=MAGIC
        )
    assert str(denied.value).startswith("this order sets a stop loss")
    with pytest.raises(OrderDenied) as denied:
        stops_conflict(
            "EURUSD",
            True,
            (D("1.09"), None),
            pending=True,
            working=[_working(6, c.ORDER_TYPE_BUY_LIMIT, sl=1.08, tp=1.12)],
            magic=MAGIC,
        )
    assert str(denied.value).startswith(
        "this pending order carries no take profit, but pending order 6 (buy at 1.095) sets 1.12"
    )
    # Levels that agree pass, and a market order ignores levels only the working order sets.
    stops_conflict(
        "EURUSD",
        True,
        (D("1.09"), D("1.12")),
        pending=True,
        working=[_working(6, c.ORDER_TYPE_BUY_LIMIT, sl=1.08, tp=1.12)],
        magic=MAGIC,
    )
    stops_conflict(
        "EURUSD",
        True,
        (D("1.09"), None),
        pending=False,
        working=[_working(6, c.ORDER_TYPE_BUY_LIMIT, sl=1.08, tp=1.12)],
        magic=MAGIC,
    )


async def test_no_working_orders_read_as_none_with_no_error_is_none_and_an_error_is_a_link_down(
    netted: tuple[Any, Any],
) -> None:
    """orders_get answering None: with last_error RES_S_OK it means no orders (the
    order goes), with an error the link is down (nothing sent)."""
    plugin, scripted = netted
    scripted.then("orders_get", nothing).then("last_error", lambda real: (c.RES_S_OK, "Success"))
    placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.0950")))
    assert placed.status is OrderStatus.ACCEPTED, placed
    scripted.then("orders_get", nothing)
    scripted.then("last_error", lambda real: (IPC_DOWN, "IPC down"))
    scripted.then("last_error", lambda real: (IPC_DOWN, "IPC down"))
    sent = len(scripted.sent)
    with pytest.raises(BrokerUnavailable, match=r"orders_get failed \(-10004, IPC down\)"):
        await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.0940")))
    assert len(scripted.sent) == sent  # nothing was sent
