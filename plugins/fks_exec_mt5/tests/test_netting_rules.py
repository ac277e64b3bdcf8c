"""Netting accounts: pending orders follow the same ownership rule as market orders,
and no fill of this program's orders deletes a stop loss or take profit another of its
orders set (MetaQuotes' SL/TP inheritance rules), on every netting setting of the fake."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import ACCOUNTS, started

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
