"""An order's result does not depend on the order NinjaTrader pushes its values in.

NinjaTrader pushes ``OrderStatus|id``, ``Filled|id`` and ``AvgFillPrice|id`` separately;
neither the DLL nor the help pages say in which order, or whether unchanged values are
pushed again. The property: for fills, partial fills, cancels and rejects, pushed in any
order within each update, with or without repetitions, cut into reads anywhere, the
waiter answers with the final truth (market orders) and never with a wrong fill.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_ninja.states import result_for
from fks_exec_ninja.testing.reference import PushOrder, Repetition, ServerSettings, combinations
from fks_exec_ninja.tracking import AGREED, DISAGREED, Waiters

from .ninja_helpers import running

# One NinjaTrader update: (state, filled, average).
Update = tuple[str, int, Decimal]


@st.composite
def lifecycles(draw: st.DrawFn) -> tuple[int, list[Update], OrderStatus]:
    """A market order's updates, ending filled, part filled then cancelled, or rejected."""
    quantity = draw(st.integers(1, 5))
    updates: list[Update] = [("Submitted", 0, Decimal(0)), ("Accepted", 0, Decimal(0))]
    end = draw(st.sampled_from(["fill", "cancel", "reject"]))
    if end == "reject":
        return quantity, [*updates, ("Rejected", 0, Decimal(0))], OrderStatus.REJECTED
    updates.append(("Working", 0, Decimal(0)))
    cuts = sorted(draw(st.sets(st.integers(1, quantity), min_size=1, max_size=quantity)))
    if end == "fill" and cuts[-1] != quantity:
        cuts.append(quantity)
    if end == "cancel" and cuts[-1] == quantity:
        cuts.pop()
    cost = Decimal(0)
    previous = 0
    for filled in cuts:
        price = Decimal(5000) + draw(st.integers(0, 8)) * Decimal("0.25")
        cost += (filled - previous) * price
        previous = filled
        state = "Filled" if filled == quantity else "PartFilled"
        updates.append((state, filled, (cost / filled).quantize(Decimal("0.0001"))))
    if end == "cancel":
        filled, average = updates[-1][1], updates[-1][2]
        updates.append(("CancelPending", filled, average))
        updates.append(("Cancelled", filled, average))
        return quantity, updates, OrderStatus.CANCELED
    return quantity, updates, OrderStatus.FILLED


ORDERS = [p.value for p in PushOrder]


@st.composite
def pushes(draw: st.DrawFn, updates: list[Update]) -> tuple[list[list[tuple[str, str]]], bool]:
    """The updates as reads of (key, value): per update a push order (one for all of
    them, or one drawn for each), changed or all values, and the stream cut into reads
    anywhere; and whether every value of each update came in one push order with the
    average after the fill (the answer must be the truth then, not merely never a
    wrong one: the last fill's average is pushed after it)."""
    every, fixed = draw(st.booleans()), draw(st.booleans())
    one_order = draw(st.sampled_from(ORDERS))
    flat: list[tuple[str, str]] = []
    last: dict[str, str] = {}
    for state, filled, average in updates:
        texts = {"OrderStatus": state, "Filled": str(filled), "AvgFillPrice": str(average)}
        for name in one_order if fixed else draw(st.sampled_from(ORDERS)):
            if every or last.get(name, "0" if name != "OrderStatus" else "") != texts[name]:
                flat.append((f"{name}|X", texts[name]))
                last[name] = texts[name]
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(flat))), max_size=len(flat))))
    reads, start = [], 0
    for cut in [*cuts, len(flat)]:
        if cut > start:
            reads.append(flat[start:cut])
            start = cut
    average_last = one_order.index("AvgFillPrice") > one_order.index("Filled")
    return reads, every and fixed and average_last


@settings(max_examples=300, deadline=None)
@given(data=st.data(), lifecycle=lifecycles())
def test_a_market_order_is_answered_with_its_final_truth_whatever_the_push_order(
    data: st.DataObject, lifecycle: tuple[int, list[Update], OrderStatus]
) -> None:
    """Answered as the plugin answers (``unknown`` when the wait ended with no average
    pushed after a later fill): never a wrong fill or price; and the final truth when
    every value of each update was pushed, in one push order, the average after the
    fill."""
    quantity, updates, status = lifecycle
    reads, complete = data.draw(pushes(updates))
    order = Order.market("ES", "buy", quantity)
    _, final_filled, final_average = updates[-1]

    async def run() -> None:
        values: dict[str, str] = {}
        waiters = Waiters(values)

        async def feed() -> None:
            for read in reads:
                await asyncio.sleep(0)
                for key, value in read:
                    values[key] = value
                    waiters.on_value(key, value)
                waiters.on_batch()

        feeder = asyncio.ensure_future(feed())
        waiter = waiters.start("X", None, Decimal(quantity), 5, 0.05, market=True)
        how = AGREED if waiters.arm(waiter) else await waiter.future
        waiters.finish(waiter)
        await feeder
        if how == DISAGREED and waiter.stale:  # what the plugin answers: unknown
            assert not complete, reads
            return
        # What the plugin answers: the values that settled the wait, else the latest.
        seen = waiter.seen if how == AGREED else None
        result = result_for(values, "X", plugin="ninja", order=order, seen=seen)
        assert result is not None, how
        assert (result.status, result.filled_quantity) == (status, final_filled), how
        if final_filled:
            assert result.average_price == final_average, how

    asyncio.run(run())


@pytest.mark.parametrize(
    "server",
    list(combinations("push_order", "repetition", base=ServerSettings(fill_pieces=3))),
    ids=lambda s: f"{s.push_order.name}-{s.repetition.value}",
)
async def test_filled_against_the_reference_server_in_every_push_order(
    server: ServerSettings,
) -> None:
    """Three fills at one price. A NinjaTrader that pushes every value of each update,
    the average after the fill, gives the last fill its average: ``filled`` at the true
    average. One that pushes the average first (it may be the earlier fills', pushed
    late) or only what changed (the unchanged average is never pushed again, which
    cannot be told from one still to come): ``unknown`` -- never a fill at an average
    that may be stale -- and ``get_order`` then has the fill at its average."""
    async with running(server, fill_agreement_s=0.1) as (nt, plugin):
        result = await plugin.execute_order(Order.market("ES", "buy", 3))
        truth = nt.order(result.order_id or "")
        assert truth is not None
        order = server.push_order.value
        if server.repetition is Repetition.CHANGED_ONLY or order.index(
            "AvgFillPrice"
        ) < order.index("Filled"):
            assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
            assert "no average price after it" in (result.error or "")
            result = await plugin.get_order(result.client_order_id or "")  # type: ignore[assignment]
            assert result is not None
        assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, 3)
        assert result.average_price == truth.avg_fill_price


@pytest.mark.parametrize("push_order", list(PushOrder), ids=lambda p: p.name)
async def test_partial_fill_then_cancel_is_reported_with_what_filled(
    push_order: PushOrder,
) -> None:
    server = ServerSettings(
        fill_pieces=3, cancel_after_fills=1, push_order=push_order, repetition=Repetition.ALL_VALUES
    )
    async with running(server, fill_agreement_s=0.1) as (_nt, plugin):
        result = await plugin.execute_order(Order.market("ES", "sell", 3))
        assert (result.status, result.filled_quantity) == (OrderStatus.CANCELED, 1)
        assert result.average_price is not None
