"""A restart adopts the exits of a live bracket and sizes them only once NinjaTrader has
pushed what they filled (review bug 3).

The earlier process placed the entry (2, filled) and its exits; while no process
watched, the stop filled 1 and NinjaTrader's OCO cut the target to 1 (long 1 open). The
new process connects; NinjaTrader lists the three orders and re-pushes their values one
at a time (``value_order=LATEST_IN_ORDER``, ``step_interval_s`` apart): the entry's
first, the exits' later, or -- ``Repush.NONE`` -- none. Start-up reconciliation
(``get_order``) and ``resume_order`` run meanwhile. Sized before the exits' values, the
target would be changed to 2 with 1 open (a fill of it sells 2: short 1);
docs/plugins/ninja.md, *After a restart*: exits are "never sized on a guess".
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from fks_exec import ExecutionResult, OrderStatus
from fks_exec_ninja.bracket_legs import exit_ids
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import (
    PushOrder,
    ReferenceAtiServer,
    Repush,
    ServerSettings,
    ValueOrder,
)

from .ninja_helpers import ES, start
from .test_bracket_sizes import bracket, covered, fill_part

SPACING = 0.05


def name(settings: object) -> str:
    return str(getattr(settings, "name", settings))


@pytest.mark.parametrize("push_order", list(PushOrder), ids=name)
@pytest.mark.parametrize("repush", list(Repush), ids=name)
async def test_adopted_exits_are_sized_only_once_their_fills_are_pushed(
    repush: Repush, push_order: PushOrder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ServerSettings(push_order=push_order, repush=repush, repush_delay_s=0.05)
    async with ReferenceAtiServer(settings) as nt:
        entry = bracket(2)
        entry_id = order_id_for(entry.client_order_id)
        stop_id, target_id, _ = exit_ids(entry.client_order_id, 1)
        first = await start(nt)
        await first.execute_order(entry)
        nt.set_last_price(ES, Decimal("5989"))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
        await first.close()
        fill_part(nt, stop_id, 1, "5900")  # nobody watching; the OCO cuts the target to 1
        assert [nt.order(i).quantity for i in (stop_id, target_id)] == [2, 1]  # type: ignore[union-attr]
        nt.configure(value_order=ValueOrder.LATEST_IN_ORDER, step_interval_s=SPACING)
        second = await start(nt, fill_agreement_s=0.1, order_list_wait_s=0.5)
        try:
            since = len(nt.commands)
            with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
                found = await second.get_order(entry.client_order_id)
                assert found is not None
                await second.resume_order(entry, found)
                await nt.flushed()
                await asyncio.sleep(SPACING * 12 + 0.3)  # every value read, the grace over
            assert nt.position("Sim101", ES) == 1 and covered(nt, entry_id)
            changes = [c.text.split(";") for c in nt.commands[since:]]
            assert [f for f in changes if f[10] == target_id and f[4] != "1"] == []
            assert all(f[0] == "CHANGE" for f in changes)  # adopted: nothing placed
            if repush is Repush.NONE:  # nothing known of them: left as they are, a warning
                assert changes == []
                assert "what they filled is not known" in caplog.text
        finally:
            await second.close()


async def test_an_adopted_exit_whose_fill_number_never_comes_is_sized_after_the_grace() -> None:
    """NinjaTrader pushes the adopted exits' states but no ``Filled`` (one that pushes
    only what changed never pushes a 0): after ``fill_agreement_s`` their states are
    taken as they stand and they are sized to what is open."""
    async with ReferenceAtiServer(ServerSettings(repush=Repush.NONE)) as nt:
        entry = bracket(2)
        entry_id = order_id_for(entry.client_order_id)
        stop_id, target_id, _ = exit_ids(entry.client_order_id, 1)
        first = await start(nt)
        await first.execute_order(entry)
        fill_part(nt, entry_id, 1, "5990")
        await nt.wait_until(lambda: covered(nt, entry_id), 3)
        await first.close()
        fill_part(nt, entry_id, 1, "5990")  # the second contract, while nobody watched
        second = await start(nt, fill_agreement_s=0.1)
        try:
            since = len(nt.commands)
            filled = ExecutionResult.for_order(
                entry,
                plugin="ninja",
                status=OrderStatus.FILLED,
                filled_quantity=2,
                average_price=Decimal(5990),
            )
            await second.resume_order(entry, filled)
            for order_id in (stop_id, target_id):
                nt.push_value(f"OrderStatus|{order_id}", "Working")
            await nt.wait_until(lambda: nt.position("Sim101", ES) == 2 and covered(nt, entry_id), 3)
            assert [c.text.split(";")[0] for c in nt.commands[since:]] == ["CHANGE", "CHANGE"]
        finally:
            await second.close()
