"""Bracket decisions do not depend on which of NinjaTrader's values is read first.

NinjaTrader pushes ``OrderStatus|id``, ``Filled|id`` and ``AvgFillPrice|id`` as Value
messages of their own (DLL ``AtiSocket.Loop``; ``AtiSocket.Send`` writes each field on
its own), in an order nothing documents, live and when it re-pushes its orders to a
client that connects again. The reference server sets that order
(``ServerSettings.value_order``: as it happened, or the latest value of each key in
order, reversed, or shuffled, each in a read of its own ``step_interval_s`` apart) and
whether it re-pushes on reconnect (``repush``). Whatever it is:

- an entry's ``Cancelled`` read before the fill that came just before it: the fill
  still gets its exits (docs/plugins/ninja.md, Brackets: "a fill read after the entry's
  final state still counts"; review bug 1);
- the take-profit's ``Cancelled`` (NinjaTrader's OCO) read before the stop's fill that
  caused it: the bracket goes on, and the entry's later fill gets a new pair (bug 2);
- a partial ``close_position`` whose fill is pushed after its answer: the exits are cut
  to what is left when the fill comes (bug 4).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus
from fks_exec_ninja.bracket_legs import exit_ids
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import (
    OcoPartialFill,
    PushOrder,
    ReferenceAtiServer,
    Repush,
    ServerSettings,
    ValueOrder,
)

from .ninja_helpers import ES, running
from .test_bracket_sizes import bracket, covered, fill_part, working_exits

GRACE = 0.25  # fill_agreement_s: longer than the server's spacing of the values
SPACING = 0.02  # step_interval_s: each value its own read, this far apart
NOT_PUSHED = "pushed nothing of bracket entry"


def server(**settings: object) -> ServerSettings:
    return ServerSettings(step_interval_s=SPACING, repush_delay_s=0.05).with_(**settings)


def name(settings: object) -> str:
    return str(getattr(settings, "name", settings))


async def reconnected(nt: ReferenceAtiServer, plugin: object) -> None:
    """Let the plugin connect again and take in what the server re-pushes."""
    nt.reconnect()
    await plugin.connection.wait_connected(3)  # type: ignore[attr-defined]
    await asyncio.sleep(GRACE + 0.2)
    await nt.flushed()


# ----------------------------------------------------------- bug 1: entry cancelled


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
@pytest.mark.parametrize("value_order", list(ValueOrder), ids=name)
async def test_an_entry_cancelled_after_a_part_fill_keeps_exits_whatever_is_read_first(
    value_order: ValueOrder, push_order: PushOrder
) -> None:
    settings = server(
        fill_pieces=2, cancel_after_fills=1, value_order=value_order, push_order=push_order
    )
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = bracket(2)
        assert (await plugin.execute_order(entry)).status is OrderStatus.ACCEPTED
        entry_id = order_id_for(entry.client_order_id)
        nt.set_last_price(ES, Decimal("5989"))  # 1 fills, NinjaTrader cancels the rest
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)
        assert nt.order(entry_id).state == "Cancelled"  # type: ignore[union-attr]
        assert all(v == 1 for v in nt.order_arrivals().values())


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
@pytest.mark.parametrize("repush", list(Repush), ids=name)
async def test_an_entry_cancelled_while_disconnected_keeps_exits_for_what_filled(
    repush: Repush, push_order: PushOrder, caplog: pytest.LogCaptureFixture
) -> None:
    """The part fill and the cancel happen while the connection is down; NinjaTrader
    re-pushes the entry's values the other way round (its state first for some push
    orders). Re-pushed: the fill gets its exits. Not re-pushed: it is not known here,
    nothing is placed on a guess, and a warning names the entry."""
    settings = server(
        fill_pieces=2,
        cancel_after_fills=1,
        value_order=ValueOrder.LATEST_REVERSED,
        push_order=push_order,
        repush=repush,
    )
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = bracket(2)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.disconnect()
            nt.set_last_price(ES, Decimal("5989"))  # pushed to nobody
            await reconnected(nt, plugin)
        if repush is Repush.NONE:
            assert working_exits(nt, entry_id) == []
            assert any(
                entry_id in r.getMessage() and NOT_PUSHED in r.getMessage() for r in caplog.records
            )
        else:
            await nt.wait_until(lambda: covered(nt, entry_id), 3)
            assert nt.position("Sim101", ES) == 1


# ----------------------------------------------------------- bug 2: OCO cancel first


async def _stop_fills_then_entry_fills_more(nt: ReferenceAtiServer, entry: Order) -> str:
    """The entry (2) fills 1, its exits go out for 1; returns the entry id."""
    entry_id = order_id_for(entry.client_order_id)
    fill_part(nt, entry_id, 1, "5990")
    await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)
    await nt.flushed()
    return entry_id


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
@pytest.mark.parametrize("value_order", list(ValueOrder), ids=name)
async def test_the_targets_oco_cancel_read_before_the_stops_fill_keeps_the_bracket(
    value_order: ValueOrder, push_order: PushOrder
) -> None:
    settings = server(value_order=value_order, push_order=push_order)
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = bracket(2)
        await plugin.execute_order(entry)
        entry_id = await _stop_fills_then_entry_fills_more(nt, entry)
        stop_id, target_id, _ = exit_ids(entry.client_order_id, 1)
        fill_part(nt, stop_id, 1, "5900")  # flat; NinjaTrader's OCO cancels the target
        await nt.flushed()
        await asyncio.sleep(SPACING * 10)  # every value of it read
        assert nt.order(target_id).state == "Cancelled"  # type: ignore[union-attr]
        fill_part(nt, entry_id, 1, "5990")  # the entry's second contract
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)
        second = set(exit_ids(entry.client_order_id, 2)[:2])
        assert {o.order_id for o in working_exits(nt, entry_id)} == second
        assert all(v == 1 for v in nt.order_arrivals().values())


@pytest.mark.parametrize("value_order", list(ValueOrder), ids=name)
async def test_a_stop_part_fill_whose_oco_cancels_the_target_gets_a_new_pair(
    value_order: ValueOrder,
) -> None:
    """NinjaTrader's OCO cancelling the others at a partial fill: the stop fills 1 of
    2 and the target is cancelled -- read first or not, what is open (1) gets a pair."""
    settings = server(value_order=value_order, oco_partial_fill=OcoPartialFill.CANCEL_OTHERS)
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = Order.market("ES", "buy", 2, stop_loss="5900", take_profit="6100")
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
        stop_id, _, _ = exit_ids(entry.client_order_id, 1)
        fill_part(nt, stop_id, 1, "5900")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)
        second = set(exit_ids(entry.client_order_id, 2)[:2])
        assert {o.order_id for o in working_exits(nt, entry_id)} == second


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
@pytest.mark.parametrize("repush", list(Repush), ids=name)
async def test_the_oco_cancel_re_pushed_first_after_a_reconnect_keeps_the_bracket(
    repush: Repush, push_order: PushOrder, caplog: pytest.LogCaptureFixture
) -> None:
    """The stop fills while the connection is down. NinjaTrader re-pushes its orders
    the other way round: the target's ``Cancelled`` before the stop's fill. The bracket
    goes on; the entry's next fill gets a new pair. Not re-pushed at all: a warning."""
    settings = server(value_order=ValueOrder.LATEST_REVERSED, push_order=push_order, repush=repush)
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = bracket(2)
        await plugin.execute_order(entry)
        entry_id = await _stop_fills_then_entry_fills_more(nt, entry)
        stop_id, _, _ = exit_ids(entry.client_order_id, 1)
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.disconnect()
            fill_part(nt, stop_id, 1, "5900")
            await reconnected(nt, plugin)
        if repush is Repush.NONE:
            assert any(NOT_PUSHED in r.getMessage() for r in caplog.records)
            return
        assert not any("no longer kept" in r.getMessage() for r in caplog.records)
        fill_part(nt, entry_id, 1, "5990")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)


# ----------------------------------------------------------- bug 4: a late close fill


def _long_two() -> Order:
    return Order.market("ES", "buy", 2, stop_loss="5900", take_profit="6100")


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
async def test_a_partial_close_answered_before_its_fill_cuts_the_exits_when_it_comes(
    push_order: PushOrder,
) -> None:
    """The closing order's values come after ``order_timeout_s`` (a slow NinjaTrader):
    its answer is ``unknown``; its fill, when pushed, cuts the exits to what is left."""
    async with running(server(push_order=push_order), order_timeout_s=0.3) as (nt, plugin):
        entry = _long_two()
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
        nt.set_latency(0.6)
        (closed,) = await plugin.close_position("ES", Decimal(1))
        nt.set_latency(0)
        assert closed.status is OrderStatus.UNKNOWN and closed.error_code is not None
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
async def test_a_partial_close_whose_fill_number_comes_after_the_grace_cuts_the_exits(
    push_order: PushOrder,
) -> None:
    """Its state read first and its ``Filled`` past ``fill_agreement_s``: the answer is
    ``unknown`` (the values disagreed); the fill cuts the exits when it is read."""
    settings = server(value_order=ValueOrder.LATEST_REVERSED, push_order=push_order)
    async with running(settings, fill_agreement_s=0.01) as (nt, plugin):
        entry = _long_two()
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
        nt.configure(step_interval_s=0.1)
        (closed,) = await plugin.close_position("ES", Decimal(1))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id), 3)
        assert closed.status in (OrderStatus.FILLED, OrderStatus.UNKNOWN)


@pytest.mark.parametrize("repush", list(Repush), ids=name)
async def test_a_partial_close_whose_answer_was_lost_cuts_the_exits_when_re_pushed(
    repush: Repush, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection drops after NinjaTrader filled the close: the answer is
    ``unknown``; NinjaTrader's re-push of the close's fill cuts the exits. Not
    re-pushed: nothing is known of it, and a warning names the bracket."""
    settings = server(value_order=ValueOrder.LATEST_SHUFFLED, repush=repush)
    async with running(settings, fill_agreement_s=GRACE) as (nt, plugin):
        entry = _long_two()
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
        nt.lose_next_answer(after_broker_acted=True)
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            (closed,) = await plugin.close_position("ES", Decimal(1))
            assert closed.status is OrderStatus.UNKNOWN
            await plugin.connection.wait_connected(3)  # type: ignore[union-attr]
            await asyncio.sleep(GRACE + 0.2)
        assert nt.position("Sim101", ES) == 1
        if repush is Repush.NONE:
            assert any(
                entry_id in r.getMessage() and NOT_PUSHED in r.getMessage() for r in caplog.records
            )
        else:
            await nt.wait_until(lambda: covered(nt, entry_id), 3)


async def test_closing_the_plugin_ends_the_brackets_waits() -> None:
    """A bracket waiting for its values when the plugin closes is never looked at
    again (no timer outlives the plugin)."""
    async with running(server(), fill_agreement_s=GRACE) as (nt, plugin):
        entry = bracket(2)
        placed = await plugin.execute_order(entry)
        assert (await plugin.cancel_order(placed.order_id or "")).status is OrderStatus.CANCELED
        await nt.wait_until(lambda: len(plugin._brackets._graces) == 1, 2)
    assert len(plugin._brackets._graces) == 0
