"""Bracket exits cover what is open, never more, against the reference server: an exit
that fills while the entry still fills, an exit that part fills, a partial close, an
exit rejected or lost in a drop, exit ids another order has, and a property over random
sequences of entry and exit fills under both OCO rules the server can be set to.

docs/plugins/ninja.md, *Brackets*: the exits always cover the bracket's open quantity
(the entry's fills less its exits' fills, less what a partial close took away).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_ninja.bracket_legs import exit_ids
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import (
    OcoPartialFill,
    PushOrder,
    ReferenceAtiServer,
    Repetition,
    Repush,
    ServerSettings,
    ValueOrder,
)
from fks_exec_ninja.testing.reference.orders import Order as BookOrder

from .ninja_helpers import ES, running, start

OCO_RULES = list(OcoPartialFill)


def fill_part(nt: ReferenceAtiServer, order_id: str, quantity: int, price: str) -> None:
    """Fill ``quantity`` of the server's order ``order_id`` at ``price`` and push it (the
    server's own fill: position, OCO and pushes), as a market trading through it would."""
    book = nt.book
    book.begin()
    book.fill(book.orders[order_id], quantity, Decimal(price))
    nt._send_steps(book.take(), origin=None)


def working_exits(nt: ReferenceAtiServer, entry_id: str) -> list[BookOrder]:
    """The server's working orders of the instrument other than the entry."""
    return [
        o
        for o in nt.book.orders.values()
        if o.order_id != entry_id and o.instrument == ES and not o.is_terminal
    ]


def covered(nt: ReferenceAtiServer, entry_id: str) -> bool:
    """Each side of the exits (stop, target) covers exactly the position; none when flat."""
    position = nt.position("Sim101", ES)
    exits = working_exits(nt, entry_id)
    stops = sum(o.quantity - o.filled for o in exits if o.order_type == "STOPMARKET")
    targets = sum(o.quantity - o.filled for o in exits if o.order_type == "LIMIT")
    return stops == targets == position


def bracket(quantity: int, cid: str | None = None) -> Order:
    extra = {} if cid is None else {"client_order_id": cid}
    return Order.limit("ES", "buy", quantity, "5990", stop_loss="5900", take_profit="6100", **extra)


async def settled(nt: ReferenceAtiServer, entry_id: str) -> None:
    await nt.wait_until(lambda: covered(nt, entry_id), 3)


@pytest.mark.parametrize("per_field", [False, True], ids=["whole", "per-field"])
@pytest.mark.parametrize("oco", OCO_RULES, ids=lambda rule: rule.value)
async def test_an_exit_that_fills_while_the_entry_fills_leaves_later_fills_protected(
    oco: OcoPartialFill, per_field: bool
) -> None:
    server = ServerSettings(oco_partial_fill=oco, write_per_field=per_field)
    async with running(server) as (nt, plugin):
        entry = bracket(4)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        _, target_id, _ = exit_ids(entry.client_order_id, 1)
        fill_part(nt, entry_id, 2, "5990")
        await settled(nt, entry_id)
        fill_part(nt, target_id, 2, "6100")  # the target fills: flat, the OCO ends the stop
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0 and covered(nt, entry_id))
        fill_part(nt, entry_id, 2, "5990")  # then the entry fills the rest
        await settled(nt, entry_id)
        second = set(exit_ids(entry.client_order_id, 2)[:2])
        assert {o.order_id for o in working_exits(nt, entry_id)} == second
        assert all(v == 1 for v in nt.order_arrivals().values())


@pytest.mark.parametrize("per_field", [False, True], ids=["whole", "per-field"])
@pytest.mark.parametrize("oco", OCO_RULES, ids=lambda rule: rule.value)
async def test_an_exit_that_part_fills_shrinks_and_the_entry_grows_the_rest(
    oco: OcoPartialFill, per_field: bool
) -> None:
    """The target fills 1 of 2, the entry then fills 2 more: both sides cover 3, not the
    entry's 4 (a stop for 4 would leave the account short 1 when it fires)."""
    server = ServerSettings(oco_partial_fill=oco, write_per_field=per_field)
    async with running(server) as (nt, plugin):
        entry = bracket(4)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        _, target_id, _ = exit_ids(entry.client_order_id, 1)
        fill_part(nt, entry_id, 2, "5990")
        await settled(nt, entry_id)
        fill_part(nt, target_id, 1, "6100")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id))
        fill_part(nt, entry_id, 2, "5990")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 3 and covered(nt, entry_id))
        nt.set_last_price(ES, Decimal("5899"))  # the stop fires: flat, not short
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0)
        await asyncio.sleep(0.05)
        assert nt.position("Sim101", ES) == 0 and working_exits(nt, entry_id) == []


async def test_a_partial_close_cuts_the_exits_to_what_is_left() -> None:
    async with running() as (nt, plugin):
        entry = Order.market("ES", "buy", 3, stop_loss="5900", take_profit="6100")
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await settled(nt, entry_id)
        (closed,) = await plugin.close_position("ES", Decimal(2))
        assert (closed.status, closed.filled_quantity) == (OrderStatus.FILLED, 2)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 1 and covered(nt, entry_id))
        nt.set_last_price(ES, Decimal("5899"))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0)
        assert working_exits(nt, entry_id) == []


async def test_a_full_close_ends_the_bracket_quietly(caplog: pytest.LogCaptureFixture) -> None:
    async with running() as (nt, plugin):
        entry = Order.market("ES", "buy", 2, stop_loss="5900", take_profit="6100")
        await plugin.execute_order(entry)
        await settled(nt, order_id_for(entry.client_order_id))
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            (closed,) = await plugin.close_position("ES", None)
            await asyncio.sleep(0.05)
        assert closed.status is OrderStatus.FILLED and nt.position("Sim101", ES) == 0
        assert len(plugin._brackets) == 0 and not caplog.records


async def test_a_rejected_stop_is_logged_as_an_error_and_the_bracket_let_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The market gaps through the entry and the stop at once: NinjaTrader refuses the
    stop (wrong side of the market). Nothing is sent again; an error says what is open."""
    async with running() as (nt, plugin):
        entry = Order.limit("ES", "buy", 2, "5990", stop_loss="5985", take_profit="6100")
        await plugin.execute_order(entry)
        stop_id, _, _ = exit_ids(entry.client_order_id, 1)
        with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.ninja"):
            nt.set_last_price(ES, Decimal("5980"))
            await nt.wait_until(lambda: len(plugin._brackets) == 0)
        (record,) = [r for r in caplog.records if stop_id in r.getMessage()]
        assert "rejected" in record.getMessage() and "2 of ES" in record.getMessage()
        assert nt.order_arrivals()[stop_id] == 1


async def test_an_exit_lost_in_a_drop_is_placed_again_once_the_fresh_list_lacks_it() -> None:
    async with running() as (nt, plugin):
        entry = bracket(2)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        stop_id, target_id, _ = exit_ids(entry.client_order_id, 1)
        nt.lose_next_answer(after_broker_acted=False)  # the stop's PLACE dies with the line
        fill_part(nt, entry_id, 1, "5990")
        await nt.wait_until(lambda: nt.order(stop_id) is not None)
        await settled(nt, entry_id)
        fill_part(nt, entry_id, 1, "5990")
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id))
        arrivals = nt.order_arrivals()
        assert arrivals[stop_id] == arrivals[target_id] == 1


@pytest.mark.parametrize("repush", [Repush.NONE, Repush.ALL], ids=lambda r: r.value)
async def test_a_bracket_not_pushed_again_after_a_reconnect_is_warned_of(
    repush: Repush, caplog: pytest.LogCaptureFixture
) -> None:
    """A NinjaTrader that re-pushes nothing on reconnect leaves fills made while the line
    was down unknown here: a warning names the entry (and none when it re-pushes)."""
    async with running(ServerSettings(repush=repush)) as (nt, plugin):
        entry = bracket(3)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        fill_part(nt, entry_id, 1, "5990")
        await settled(nt, entry_id)
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.disconnect()
            fill_part(nt, entry_id, 1, "5990")
            nt.reconnect()
            await plugin.connection.wait_connected(3)  # type: ignore[union-attr]
            await asyncio.sleep(0.5)
        warned = [r for r in caplog.records if "pushed nothing of bracket entry" in r.getMessage()]
        assert [entry_id in r.getMessage() for r in warned] == (
            [True] if repush is Repush.NONE else []
        )


async def test_a_bracket_whose_exit_id_an_order_has_is_refused_before_sending() -> None:
    async with running() as (nt, plugin):
        own = Order.limit("ES", "buy", 1, "5000", client_order_id="t-7-sl")
        mine = await plugin.execute_order(own)
        assert mine.status is OrderStatus.ACCEPTED
        refused = await plugin.execute_order(bracket(2, cid="t-7"))
        assert (refused.status, refused.sent) == (OrderStatus.REJECTED, False)
        assert "another client_order_id" in (refused.error or "")
        assert order_id_for("t-7") not in nt.order_arrivals()


async def test_an_order_with_the_id_of_a_placed_exit_is_refused_not_answered_as_it() -> None:
    """The exit is at NinjaTrader already: an order whose id is the exit's is refused,
    never answered with the exit's state as if it were that order."""
    async with running() as (nt, plugin):
        entry = Order.market("ES", "buy", 1, stop_loss="5900", take_profit="6100")
        entry = entry.model_copy(update={"client_order_id": "t-9"})
        assert (await plugin.execute_order(entry)).status is OrderStatus.FILLED
        await settled(nt, order_id_for("t-9"))
        own = Order.limit("ES", "sell", 1, "6100", client_order_id="t-9-tp")
        refused = await plugin.execute_order(own)
        assert (refused.status, refused.sent) == (OrderStatus.REJECTED, False)
        assert "bracket exit" in (refused.error or "")


async def test_an_order_with_the_id_of_a_kept_exit_is_refused_before_sending() -> None:
    async with running() as (nt, plugin):
        assert (await plugin.execute_order(bracket(2, cid="t-8"))).status is OrderStatus.ACCEPTED
        own = Order.limit("ES", "buy", 1, "5000", client_order_id="t-8-tp")
        refused = await plugin.execute_order(own)
        assert (refused.status, refused.sent) == (OrderStatus.REJECTED, False)
        assert order_id_for("t-8-tp") not in nt.order_arrivals()


_STEP = st.one_of(
    st.tuples(st.just("entry"), st.integers(1, 3)),
    st.tuples(st.just("stop"), st.integers(1, 3)),
    st.tuples(st.just("target"), st.integers(1, 3)),
    st.tuples(st.just("cancel"), st.just(0)),  # NinjaTrader cancels the rest of the entry
)
_GRACE = 0.05  # fill_agreement_s of the walks


def cancel_at_ninjatrader(nt: ReferenceAtiServer, order_id: str) -> None:
    """Cancel the server's order ``order_id`` and push it (its OCO group with it)."""
    book = nt.book
    book.begin()
    book.cancel(book.orders[order_id])
    nt._send_steps(book.take(), origin=None)


async def _walk(server: ServerSettings, quantity: int, steps: list[tuple[str, int]]) -> None:
    async with running(server, fill_agreement_s=_GRACE) as (nt, plugin):
        entry = bracket(quantity)
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        for kind, size in steps:
            if kind in ("entry", "cancel"):
                target = nt.order(entry_id)
            else:
                pick = "STOPMARKET" if kind == "stop" else "LIMIT"
                live = [o for o in working_exits(nt, entry_id) if o.order_type == pick]
                target = live[0] if live else None
            if target is None or target.is_terminal:
                continue
            if kind == "cancel":
                cancel_at_ninjatrader(nt, entry_id)
            else:
                price = {"entry": "5990", "stop": "5900", "target": "6100"}[kind]
                fill_part(nt, target.order_id, size, price)
            await nt.wait_until(lambda: covered(nt, entry_id), 3)
            assert nt.position("Sim101", ES) >= 0  # never reversed by an exit
        await nt.flushed()
        await asyncio.sleep(3 * _GRACE)  # whatever waited for its values has decided
        assert covered(nt, entry_id)
        assert all(v == 1 for v in nt.order_arrivals().values())


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    server=st.builds(
        ServerSettings,
        oco_partial_fill=st.sampled_from(OCO_RULES),
        write_per_field=st.booleans(),
        push_order=st.sampled_from(list(PushOrder)),
        repetition=st.sampled_from(list(Repetition)),
        value_order=st.sampled_from(list(ValueOrder)),
        value_order_seed=st.integers(0, 2**16),
        step_interval_s=st.sampled_from([0.0, 0.004]),
    ),
    quantity=st.integers(1, 5),
    steps=st.lists(_STEP, min_size=1, max_size=7),
)
def test_exits_cover_exactly_the_position_after_every_fill(
    server: ServerSettings, quantity: int, steps: list[tuple[str, int]]
) -> None:
    """Random fills of the entry and either exit, and NinjaTrader cancelling the rest of
    the entry, in any order and size, under every inferred push setting (OCO rule, push
    order, repetition, each update written whole or field by field, and the values of
    each step pushed as they happened or only the latest of each key -- in order,
    reversed or shuffled, one read each: an entry's ``Cancelled`` before its last fill,
    an exit's OCO ``Cancelled`` before the other exit's fill): after each one settles,
    and once more when every wait is over, each side of the exits covers exactly the
    position (none when flat), and no order reaches NinjaTrader twice."""
    asyncio.run(_walk(server, quantity, steps))


async def test_a_partial_close_of_a_short_cuts_its_exits_to_what_is_left() -> None:
    async with running() as (nt, plugin):
        entry = Order.market("ES", "sell", 3, stop_loss="6100", take_profit="5900")
        await plugin.execute_order(entry)
        entry_id = order_id_for(entry.client_order_id)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == -3)
        await nt.wait_until(lambda: short_covered(nt, entry_id))
        (closed,) = await plugin.close_position("ES", Decimal(2))
        assert (closed.status, closed.filled_quantity) == (OrderStatus.FILLED, 2)
        await nt.wait_until(lambda: nt.position("Sim101", ES) == -1 and short_covered(nt, entry_id))


def short_covered(nt: ReferenceAtiServer, entry_id: str) -> bool:
    """:func:`covered` for a short position: each side of the exits covers what is short."""
    short = -nt.position("Sim101", ES)
    exits = working_exits(nt, entry_id)
    stops = sum(o.quantity - o.filled for o in exits if o.order_type == "STOPMARKET")
    targets = sum(o.quantity - o.filled for o in exits if o.order_type == "LIMIT")
    return stops == targets == short


async def test_exits_lost_in_a_drop_are_placed_again_once_the_late_list_comes() -> None:
    """After a reconnect the plugin waits for the account's order list before looking
    for exits lost in the drop: a list NinjaTrader pushes late still finds them."""
    server = ServerSettings(push_account_values_on_connect=False)
    async with ReferenceAtiServer(server) as nt:
        nt_ready = asyncio.get_running_loop().call_later(0.05, nt.push_value, "Orders|Sim101", "")
        plugin = await start(nt, order_list_wait_s=3)
        try:
            entry = bracket(2)
            await plugin.execute_order(entry)
            entry_id = order_id_for(entry.client_order_id)
            stop_id, _, _ = exit_ids(entry.client_order_id, 1)
            nt.lose_next_answer(after_broker_acted=False)  # the stop's PLACE dies with the line
            fill_part(nt, entry_id, 2, "5990")
            await plugin.connection.wait_connected(3)  # type: ignore[union-attr]
            await asyncio.sleep(0.3)
            assert nt.order(stop_id) is None  # no list yet: nothing placed again
            nt.push_value("Orders|Sim101", entry_id)
            await nt.wait_until(lambda: nt.order(stop_id) is not None)
            assert nt.order_arrivals()[stop_id] == 1
        finally:
            nt_ready.cancel()
            await plugin.close()
