"""Bracket exits (brackets.py) without a socket: what resume() says it did, what it
remembers, following again after a reconnect, a write that fails.

docs/plugins/ninja.md, *Brackets*: exits are placed at the entry's first fill, sized
to what filled; after a restart, exits NinjaTrader shows are adopted, never placed
twice; a bracket whose exit is already final is left alone.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, Order
from fks_exec_ninja.brackets import Brackets
from fks_exec_ninja.mapping import order_id_for

ES = "ES 03-27"


def bracket_entry(quantity: int = 2) -> Order:
    return Order.market(ES, "buy", quantity, stop_loss="5900", take_profit="6100")


def made(
    values: dict[str, str],
) -> tuple[Brackets, list[str], dict[str, Order]]:
    sent: list[str] = []
    remembered: dict[str, Order] = {}
    brackets = Brackets(values, sent.append, remembered.__setitem__)
    return brackets, sent, remembered


def exit_ids(entry: Order) -> tuple[str, str]:
    cid = entry.client_order_id
    return order_id_for(cid, "-sl"), order_id_for(cid, "-tp")


def test_resume_of_a_working_entry_says_what_it_will_place_and_follows_it() -> None:
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    values = {f"OrderStatus|{entry_id}": "Working"}
    brackets, sent, remembered = made(values)
    done = brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(0), final=False)
    assert done == "0 exit(s) adopted, 2 to place; following the entry"
    assert sent == [] and entry_id in brackets.watched
    assert set(remembered) == set(exit_ids(entry))  # get_order finds the exits by id


def test_resume_adopts_an_exit_ninjatrader_shows_and_counts_the_other_to_place() -> None:
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "2",
        f"AvgFillPrice|{entry_id}": "6000",
        f"OrderStatus|{stop_id}": "Working",
    }
    brackets, sent, remembered = made(values)
    done = brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert done == "1 exit(s) adopted, 1 to place"  # final: the entry will not fill more
    assert len(brackets) == 1  # its exits are followed until they end (one may part fill)
    assert [line.split(";")[0] for line in sent] == ["CHANGE", "PLACE"]
    assert stop_id in sent[0] and target_id in sent[1]
    assert set(remembered) == {stop_id, target_id}


def test_resume_with_both_exits_final_names_the_stop_and_sends_nothing() -> None:
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{stop_id}": "Filled", f"OrderStatus|{target_id}": "Cancelled"}
    brackets, sent, remembered = made(values)
    done = brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert done == f"exit {stop_id} is already final at NinjaTrader; nothing sent"
    assert sent == [] and remembered == {} and len(brackets) == 0


def test_refresh_follows_every_watched_entry_again() -> None:
    """After a reconnect the values are pushed afresh: an entry that filled meanwhile
    gets its exits at refresh(), sized to what filled."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    entries = [bracket_entry(), bracket_entry(3)]
    for entry in entries:
        brackets.add(entry, order_id_for(entry.client_order_id), "Sim101", ES)
    for entry, filled in zip(entries, ("1", "3"), strict=True):
        entry_id = order_id_for(entry.client_order_id)
        values[f"OrderStatus|{entry_id}"] = "PartFilled" if filled == "1" else "Filled"
        values[f"Filled|{entry_id}"] = filled
        values[f"AvgFillPrice|{entry_id}"] = "6000"
    brackets.refresh()
    places = [line.split(";") for line in sent]
    assert [(p[0], p[4]) for p in places] == [("PLACE", "1")] * 2 + [("PLACE", "3")] * 2
    # both followed: the filled one's exits work on (one may part fill, the other shrink)
    followed = {order_id_for(e.client_order_id, s) for e in entries for s in ("", "-sl", "-tp")}
    assert len(brackets) == 2 and set(brackets.watched) == followed


def test_exits_that_cannot_be_written_are_logged_and_tried_again_at_the_next_fill(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    values = {f"OrderStatus|{entry_id}": "PartFilled", f"Filled|{entry_id}": "1"}
    values[f"AvgFillPrice|{entry_id}"] = "6000"
    up = False
    sent: list[str] = []

    def send(line: str) -> None:
        if not up:
            raise BrokerUnavailable("not connected")
        sent.append(line)

    brackets = Brackets(values, send, lambda order_id, order: None)
    brackets.add(entry, entry_id, "Sim101", ES)
    with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.ninja"):
        brackets.on_order_value(entry_id)
    assert any(entry_id in r.getMessage() for r in caplog.records)
    assert entry_id in brackets.watched and sent == []
    up = True
    brackets.on_order_value(entry_id)
    assert [line.split(";")[4] for line in sent] == ["1", "1"]


def test_a_fill_read_after_the_entry_ended_still_grows_the_exits() -> None:
    """NinjaTrader's client writes each field on its own, so a read may end between an
    update's values: the entry's ``Cancelled`` can come before its last ``Filled``. The
    bracket is followed until that fill is in the exits."""
    entry = bracket_entry(3)
    entry_id = order_id_for(entry.client_order_id)
    values = {f"OrderStatus|{entry_id}": "PartFilled", f"Filled|{entry_id}": "1"}
    brackets, sent, _ = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    values[f"OrderStatus|{entry_id}"] = "Cancelled"  # read before the fill that came with it
    brackets.on_order_value(entry_id)
    values[f"Filled|{entry_id}"] = "2"
    brackets.on_order_value(entry_id)
    assert [(p[0], p[4]) for p in (line.split(";") for line in sent)] == [
        ("PLACE", "1"),
        ("PLACE", "1"),
        ("CHANGE", "2"),
        ("CHANGE", "2"),
    ]
    assert len(brackets) == 1  # its exits work on


def test_an_exit_said_filled_without_its_number_decides_nothing_until_it_comes() -> None:
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"}
    brackets, sent, _ = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    del sent[:]
    values[f"OrderStatus|{target_id}"] = "Filled"  # its Filled|id not read yet
    values[f"OrderStatus|{stop_id}"] = "Working"
    brackets.on_order_value(target_id)
    assert sent == [] and len(brackets) == 1
    values[f"Filled|{target_id}"] = "2"
    brackets.on_order_value(target_id)
    assert [line.split(";")[0] for line in sent] == ["CANCEL"]  # what is left of the OCO
    assert stop_id in sent[0]
    values[f"OrderStatus|{stop_id}"] = "Cancelled"
    brackets.on_order_value(stop_id)
    assert len(brackets) == 0 and brackets.watched == {}


def test_an_exit_cancelled_at_ninjatrader_before_any_fill_lets_the_bracket_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cancelled by hand (none of its exits filled): nothing is placed again, and the
    error says what may be open without protection."""
    entry = bracket_entry(2)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"}
    brackets, sent, _ = made(values)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    del sent[:]
    values.update({f"OrderStatus|{stop_id}": "Cancelled", f"OrderStatus|{target_id}": "Working"})
    with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.ninja"):
        brackets.on_order_value(stop_id)
    assert sent == [] and len(brackets) == 0
    (record,) = caplog.records
    assert "stop-loss" in record.getMessage() and "cancelled" in record.getMessage()


def test_a_partial_close_cuts_the_oldest_bracket_first() -> None:
    entries = [bracket_entry(2), bracket_entry(2)]
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    for entry in entries:
        entry_id = order_id_for(entry.client_order_id)
        values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"})
        brackets.add(entry, entry_id, "Sim101", ES)
        brackets.on_order_value(entry_id)
    del sent[:]
    brackets.cut_to_position("Sim101", ES, Decimal(1))  # 4 held, 3 closed
    older = exit_ids(entries[0])
    newer = exit_ids(entries[1])
    commands = [(p[0], p[4], p[10]) for p in (line.split(";") for line in sent)]
    assert commands == [
        ("CANCEL", "0", older[0]),
        ("CANCEL", "0", older[1]),
        ("CHANGE", "1", newer[0]),
        ("CHANGE", "1", newer[1]),
    ]
