"""Brackets that wait for their values (bracket_graces.py, brackets.py) and partial
closes followed by their fills (bracket_closes.py), without a socket, fast.

A decision that something is over -- an entry final with nothing filled, an exit
cancelled while none of its pair filled, a bracket done -- waits ``grace_s`` first,
since NinjaTrader's value that would change it (a fill) may still be on its way; so
does sizing an adopted exit whose ``Filled`` has not been pushed. Every wait is
bounded, started once, and ends with the bracket (docs/plugins/ninja.md, Brackets).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from fks_exec import Order
from fks_exec_ninja.bracket_closes import MAX_CLOSES, Closes
from fks_exec_ninja.bracket_graces import Graces
from fks_exec_ninja.bracket_legs import Bracket
from fks_exec_ninja.brackets import Brackets
from fks_exec_ninja.mapping import order_id_for

from .test_brackets import bracket_entry, commands_of, exit_ids, exit_ids_of

ES = "ES 03-27"
GRACE = 0.02


def made(values: dict[str, str]) -> tuple[Brackets, list[str]]:
    sent: list[str] = []
    return Brackets(values, sent.append, lambda _i, _o: None, grace_s=GRACE), sent


async def graced() -> None:
    """Let every grace in progress run out (and the look it starts happen)."""
    await asyncio.sleep(GRACE * 3)


def no_callback_errors(caplog: pytest.LogCaptureFixture) -> bool:
    return not [r for r in caplog.records if r.name == "asyncio"]


def working(values: dict[str, str], *order_ids: str) -> None:
    for order_id in order_ids:
        values[f"OrderStatus|{order_id}"] = "Working"


async def test_an_entry_cancelled_with_nothing_filled_ends_only_after_the_grace() -> None:
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    values = {f"OrderStatus|{entry_id}": "Cancelled"}
    brackets, sent = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    brackets.on_order_value(entry_id)  # looked at again: still one wait
    assert len(brackets) == 1 and len(brackets._graces) == 1
    await graced()
    assert len(brackets) == 0 and len(brackets._graces) == 0 and sent == []


async def test_a_fill_read_after_the_entrys_cancel_within_the_grace_gets_its_exits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    values = {f"OrderStatus|{entry_id}": "Cancelled"}
    brackets, sent = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    values.update({f"Filled|{entry_id}": "1", f"AvgFillPrice|{entry_id}": "6000"})
    brackets.on_order_value(entry_id)
    assert [(c, q) for c, q, _ in commands_of(sent)] == [("PLACE", "1")] * 2
    assert len(brackets._graces) == 0  # the wait ended with the decision
    await graced()
    assert len(brackets) == 1 and no_callback_errors(caplog)


async def test_an_exit_cancelled_first_waits_for_the_other_exits_fill() -> None:
    """NinjaTrader's OCO cancelled the target because the stop filled; the target's
    ``Cancelled`` is read first. Within the grace the stop's fill comes: the bracket
    goes on, and the entry's next fill gets a new pair."""
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{entry_id}": "PartFilled", f"Filled|{entry_id}": "1"}
    brackets, sent = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    working(values, stop_id, target_id)
    values[f"OrderStatus|{target_id}"] = "Cancelled"
    brackets.on_order_value(target_id)
    assert len(brackets) == 1  # not ended by hand yet
    values.update({f"OrderStatus|{stop_id}": "Filled", f"Filled|{stop_id}": "1"})
    brackets.on_order_value(stop_id)
    await graced()
    assert len(brackets) == 1
    values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"})
    brackets.on_order_value(entry_id)
    stop2, target2, _ = exit_ids_of(entry, 2)
    assert commands_of(sent)[2:] == [("PLACE", "1", stop2), ("PLACE", "1", target2)]


async def test_an_exit_cancelled_by_hand_ends_the_bracket_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"}
    brackets, _sent = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    working(values, stop_id)
    values[f"OrderStatus|{target_id}"] = "Cancelled"
    with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.ninja"):
        brackets.on_order_value(target_id)
        assert len(brackets) == 1 and not caplog.records
        await graced()
    assert len(brackets) == 0
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert target_id in caplog.records[0].getMessage()


async def test_a_bracket_done_with_its_entry_final_ends_after_the_grace() -> None:
    """The stop filled what the entry filled and the entry's rest is cancelled: over,
    unless a fill of the entry is still to be read -- it is, within the grace."""
    entry = bracket_entry(3)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{entry_id}": "PartFilled", f"Filled|{entry_id}": "1"}
    brackets, sent = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    values.update({f"OrderStatus|{stop_id}": "Filled", f"Filled|{stop_id}": "1"})
    values[f"OrderStatus|{target_id}"] = "Cancelled"
    values[f"OrderStatus|{entry_id}"] = "Cancelled"
    brackets.on_order_value(stop_id)
    assert len(brackets) == 1
    values[f"Filled|{entry_id}"] = "2"  # read after the entry's Cancelled
    brackets.on_order_value(entry_id)
    stop2, target2, _ = exit_ids_of(entry, 2)
    assert commands_of(sent)[2:] == [("PLACE", "1", stop2), ("PLACE", "1", target2)]
    await graced()
    assert len(brackets) == 1


async def test_a_wait_that_decided_nothing_starts_again_for_the_next_decision() -> None:
    """Adopted exits whose states came without their ``Filled``: sized after a grace.
    The next decision that something is over waits a grace of its own."""
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "2",
        "Orders|Sim101": f"{entry_id}|{stop_id}|{target_id}",
    }
    brackets, sent = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert sent == []
    working(values, stop_id, target_id)
    brackets.on_order_value(stop_id)
    assert sent == []  # their fills may still come
    await graced()
    assert commands_of(sent) == [("CHANGE", "2", stop_id), ("CHANGE", "2", target_id)]
    values[f"OrderStatus|{stop_id}"] = "Cancelled"
    values[f"OrderStatus|{target_id}"] = "Cancelled"
    brackets.on_order_value(stop_id)
    assert len(brackets) == 1  # a new wait, not the one that ran out
    await graced()
    assert len(brackets) == 0


async def test_an_adopted_exit_with_its_fill_pushed_is_sized_at_once() -> None:
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "2",
        f"OrderStatus|{stop_id}": "PartFilled",
        f"Filled|{stop_id}": "1",
        f"OrderStatus|{target_id}": "Working",
        f"Filled|{target_id}": "0",
    }
    brackets, sent = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert commands_of(sent) == [("CHANGE", "2", stop_id), ("CHANGE", "1", target_id)]


async def test_an_earlier_pairs_exit_pushed_without_its_fill_waits_the_grace() -> None:
    entry = bracket_entry(3)
    entry_id = order_id_for(entry.client_order_id)
    stop1, target1, _ = exit_ids_of(entry, 1)
    stop2, target2, _ = exit_ids_of(entry, 2)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "3",
        f"OrderStatus|{target1}": "Filled",
        f"Filled|{target1}": "1",
        f"OrderStatus|{stop1}": "Cancelled",  # no Filled|stop1 pushed
        f"OrderStatus|{stop2}": "Working",
        f"Filled|{stop2}": "0",
        f"OrderStatus|{target2}": "Working",
        f"Filled|{target2}": "0",
    }
    brackets, sent = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(3), final=True)
    assert sent == []
    await graced()
    assert commands_of(sent) == [("CHANGE", "2", stop2), ("CHANGE", "2", target2)]


async def test_a_bracket_forgotten_or_closed_while_waiting_is_never_looked_at_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    for how in ("forget", "close"):
        entry = bracket_entry(2)
        entry_id = order_id_for(entry.client_order_id)
        values = {f"OrderStatus|{entry_id}": "Cancelled"}
        brackets, sent = made(values)
        brackets.add(entry, entry_id, "Sim101", ES)
        brackets.on_order_value(entry_id)
        if how == "forget":
            brackets.forget(entry_id)
        else:
            brackets.close()
        assert len(brackets._graces) == 0
        values.update({f"Filled|{entry_id}": "1", f"AvgFillPrice|{entry_id}": "6000"})
        await graced()
        assert sent == [] and no_callback_errors(caplog)


async def test_graces_wait_once_and_not_at_all_without_a_grace() -> None:
    looked: list[Bracket] = []
    entry = bracket_entry(1)
    bracket = Bracket(entry, "E", "Sim101", ES)
    assert Graces(None, looked.append).wait(bracket) is True
    graces = Graces(GRACE, looked.append)
    assert graces.wait(bracket) is False and graces.wait(bracket) is False
    assert graces.waited is bracket and len(graces) == 1
    await graced()
    assert looked == [bracket] and bracket.graced and len(graces) == 0
    assert graces.wait(bracket) is True  # its moment has passed
    graces.settled(bracket)
    assert not bracket.graced and graces.wait(bracket) is False
    graces.cancel(bracket)
    graces.cancel(bracket)  # nothing to cancel: no error
    await graced()
    assert looked == [bracket]


# ------------------------------------------------------------------ partial closes


def filled_bracket(values: dict[str, str], brackets: Brackets, side: str = "buy") -> list[str]:
    entry = Order.market(
        ES,
        side,
        2,
        stop_loss="5900" if side == "buy" else "6100",
        take_profit="6100" if side == "buy" else "5900",
    )
    entry_id = order_id_for(entry.client_order_id)
    values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"})
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    return list(exit_ids(entry))


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_a_partial_close_cuts_the_exits_as_its_fill_comes(side: str) -> None:
    values: dict[str, str] = {}
    brackets = Brackets(values, (sent := []).append, lambda _i, _o: None)
    stop_id, target_id = filled_bracket(values, brackets, side)
    held = Decimal(2) if side == "buy" else Decimal(-2)
    brackets.closing_order("C", "Sim101", ES, held, Decimal(1))
    del sent[:]
    values["OrderStatus|C"] = "Filled"  # its number not read yet: nothing cut
    brackets.on_order_value("C")
    assert sent == []
    values["Filled|C"] = "1"
    brackets.on_order_value("C")
    assert commands_of(sent) == [("CHANGE", "1", stop_id), ("CHANGE", "1", target_id)]
    assert "C" not in brackets._closes  # wholly filled: followed no more
    brackets.on_order_value("C")
    assert len(sent) == 2


def test_a_partial_close_is_followed_only_where_brackets_are_and_while_it_may_fill() -> None:
    values: dict[str, str] = {}
    brackets = Brackets(values, [].append, lambda _i, _o: None)
    filled_bracket(values, brackets)
    brackets.closing_order("N", "Sim101", "NQ 03-27", Decimal(2), Decimal(1))
    brackets.closing_order("O", "Other", ES, Decimal(2), Decimal(1))
    assert len(brackets._closes) == 0
    brackets.closing_order("C", "Sim101", ES, Decimal(2), Decimal(1))
    brackets.not_closing("C")
    assert len(brackets._closes) == 0


def test_a_close_cuts_on_each_new_fill_only() -> None:
    """A state pushed without a new fill cuts nothing, even when the brackets cover
    more than was held (the cut is made by the close's fills alone)."""
    cuts: list[tuple[str, str, Decimal]] = []
    values: dict[str, str] = {}
    closes = Closes(values, lambda a, i, p: cuts.append((a, i, p)))
    closes.add("C", "Sim101", ES, Decimal(3), Decimal(2))
    closes.filled("unknown id")
    values["OrderStatus|C"] = "Working"
    closes.filled("C")
    assert cuts == []
    values["Filled|C"] = "1"
    closes.filled("C")
    closes.filled("C")
    values["Filled|C"] = "5"  # more than its quantity: counted as its quantity
    closes.filled("C")
    assert cuts == [("Sim101", ES, Decimal(2)), ("Sim101", ES, Decimal(1))]
    assert "C" not in closes and len(closes) == 0


def test_the_closes_followed_are_bounded_the_oldest_forgotten_first() -> None:
    closes = Closes({}, lambda a, i, p: None)
    for number in range(MAX_CLOSES + 1):
        closes.add(str(number), "Sim101", ES, Decimal(2), Decimal(1))
    assert len(closes) == MAX_CLOSES == 64 and "0" not in closes and "64" in closes


async def test_the_warning_names_only_the_exits_nothing_was_pushed_of(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The stop is listed and has had nothing pushed; the target is unknown to
    NinjaTrader (to be placed). Only the stop's fills are unknown: the warning names it
    alone."""
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "2",
        "Orders|Sim101": f"{entry_id}|{stop_id}",
    }
    brackets, sent = made(values)
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
        brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    (record,) = caplog.records
    assert stop_id in record.getMessage() and target_id not in record.getMessage()
    assert sent == []  # nothing placed while the stop's fills are not known
    values.update({f"OrderStatus|{stop_id}": "Working", f"Filled|{stop_id}": "0"})
    brackets.on_order_value(stop_id)
    assert commands_of(sent) == [("CHANGE", "2", stop_id), ("PLACE", "2", target_id)]


async def test_an_exit_that_shows_up_before_it_is_placed_is_adopted_and_followed() -> None:
    """At the restart NinjaTrader lists the stop only; by the time the stop's values
    come, its list shows the target too (the earlier process's PLACE got there): the
    target is adopted, not placed again, and counted among the exits NinjaTrader must
    push again after a reconnect."""
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "2",
        "Orders|Sim101": f"{entry_id}|{stop_id}",
    }
    brackets, sent = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    values["Orders|Sim101"] = f"{entry_id}|{stop_id}|{target_id}"
    values.update({f"OrderStatus|{stop_id}": "Working", f"Filled|{stop_id}": "0"})
    brackets.on_order_value(stop_id)
    assert commands_of(sent) == [("CHANGE", "2", stop_id), ("CHANGE", "2", target_id)]
    assert [b.entry_id for b in brackets.not_pushed_again()] == [entry_id]
