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


def _filled_bracket(
    values: dict[str, str], brackets: Brackets, quantity: int = 2, side: str = "buy"
) -> tuple[Order, str, str, str]:
    """A bracket entry of ``quantity`` wholly filled, its exits placed (and ``values``
    saying they work); returns it, its id and its stop's and target's ids."""
    entry = Order.market(
        ES,
        side,
        quantity,
        stop_loss="5900" if side == "buy" else "6100",
        take_profit="6100" if side == "buy" else "5900",
    )
    entry_id = order_id_for(entry.client_order_id)
    values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": str(quantity)})
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.on_order_value(entry_id)
    stop_id, target_id = exit_ids(entry)
    values.update({f"OrderStatus|{stop_id}": "Working", f"OrderStatus|{target_id}": "Working"})
    return entry, entry_id, stop_id, target_id


def commands_of(sent: list[str]) -> list[tuple[str, str, str]]:
    """(command, quantity, order id) of each line sent."""
    return [(p[0], p[4], p[10]) for p in (line.split(";") for line in sent)]


def test_a_partial_close_cuts_short_brackets_too_and_never_grows_exits() -> None:
    """A short position partly bought back cuts the short bracket's exits; a position
    the brackets fit in changes nothing; a long bracket on a short account loses its."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, short_stop, short_target = _filled_bracket(values, brackets, 3, "sell")
    del sent[:]
    brackets.cut_to_position("Sim101", ES, Decimal(-5))  # short 5 held: the short 3 fit
    brackets.cut_to_position("Sim101", ES, Decimal(-3))
    assert sent == []
    brackets.cut_to_position("Sim101", ES, Decimal(-1))  # 2 of the short bought back
    assert commands_of(sent) == [("CHANGE", "1", short_stop), ("CHANGE", "1", short_target)]
    longs: dict[str, str] = {}
    other, sent_long, _ = made(longs)
    _, _, long_stop, long_target = _filled_bracket(longs, other, 2, "buy")
    del sent_long[:]
    other.cut_to_position("Sim101", ES, Decimal(-1))  # the account is short now
    assert commands_of(sent_long) == [("CANCEL", "0", long_stop), ("CANCEL", "0", long_target)]


def test_a_stop_partial_close_sequence_follows_the_order_of_the_brackets() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    first = _filled_bracket(values, brackets, 2)
    second = _filled_bracket(values, brackets, 2)
    del sent[:]
    brackets.cut_to_position("Sim101", ES, Decimal(3))  # 1 of 4 closed: the older one cut
    assert commands_of(sent) == [("CHANGE", "1", first[2]), ("CHANGE", "1", first[3])]
    assert second[0] is not first[0]


def test_both_exits_cancelled_by_hand_name_the_stop() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, stop_id, target_id = _filled_bracket(values, brackets)
    values.update({f"OrderStatus|{stop_id}": "Cancelled", f"OrderStatus|{target_id}": "Cancelled"})
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("fks_exec.plugins.ninja")
    logger.addHandler(handler)
    try:
        brackets.on_order_value(target_id)
    finally:
        logger.removeHandler(handler)
    (record,) = records
    assert stop_id in record.getMessage() and "stop-loss" in record.getMessage()
    assert [line.split(";")[0] for line in sent] == ["PLACE", "PLACE"]  # nothing more


def test_a_target_part_filled_and_the_stop_cancelled_gets_a_new_pair_for_what_is_open() -> None:
    """NinjaTrader's OCO set to cancel the others on a partial fill: the target filled 1
    of 2 and the stop is gone; what is left of the target is cancelled and a new pair
    covers the 1 still open; the new pair is followed (its fill ends the bracket)."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    entry, entry_id, stop_id, target_id = _filled_bracket(values, brackets)
    del sent[:]
    values.update(
        {
            f"OrderStatus|{target_id}": "PartFilled",
            f"Filled|{target_id}": "1",
            f"OrderStatus|{stop_id}": "Cancelled",
        }
    )
    brackets.on_order_value(target_id)
    stop2, target2, _ = exit_ids_of(entry, 2)
    assert commands_of(sent) == [
        ("CANCEL", "0", target_id),
        ("PLACE", "1", stop2),
        ("PLACE", "1", target2),
    ]
    brackets.on_order_value(target_id)  # looked at again: the CANCEL is not sent twice
    assert len(sent) == 3
    values.update({f"OrderStatus|{target2}": "Filled", f"Filled|{target2}": "1"})
    values[f"OrderStatus|{target_id}"] = "Cancelled"
    values[f"OrderStatus|{stop2}"] = "Working"
    brackets.on_order_value(target2)  # the new pair's fill is followed
    assert commands_of(sent)[3:] == [("CANCEL", "0", stop2)]
    values[f"OrderStatus|{stop2}"] = "Cancelled"
    brackets.on_order_value(stop2)
    assert len(brackets) == 0 and entry_id not in brackets.watched


def exit_ids_of(entry: Order, generation: int) -> tuple[str, str, str]:
    tail = "" if generation == 1 else f".{generation}"
    return tuple(  # type: ignore[return-value]
        order_id_for(entry.client_order_id, s + tail) for s in ("-sl", "-tp", "-oco")
    )


def test_a_new_pair_skips_ids_another_order_has() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    entry, _, stop_id, target_id = _filled_bracket(values, brackets, 3)
    values[f"OrderStatus|{exit_ids_of(entry, 2)[0]}"] = "Working"  # somebody's '-sl.2'
    del sent[:]
    values.update({f"OrderStatus|{target_id}": "PartFilled", f"Filled|{target_id}": "1"})
    values[f"OrderStatus|{stop_id}"] = "Cancelled"
    brackets.on_order_value(target_id)
    third = exit_ids_of(entry, 3)
    assert [c[2] for c in commands_of(sent)] == [target_id, third[0], third[1]]
    assert sent[1].split(";")[9] == third[2]  # their OCO id too


def test_exits_end_with_the_bracket_only_once_the_rest_of_the_pair_ended() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, stop_id, target_id = _filled_bracket(values, brackets)
    values.update({f"OrderStatus|{target_id}": "Filled", f"Filled|{target_id}": "2"})
    brackets.on_order_value(target_id)
    assert commands_of(sent)[-1] == ("CANCEL", "0", stop_id)  # if the OCO has not yet
    assert len(brackets) == 1 and stop_id in brackets.watched  # the stop's end is awaited
    values[f"OrderStatus|{stop_id}"] = "Cancelled"
    brackets.on_order_value(stop_id)
    assert len(brackets) == 0


def test_exit_ids_taken_by_other_orders_refuse_the_bracket() -> None:
    entry = bracket_entry()
    stop_id, target_id = exit_ids(entry)
    oco = exit_ids_of(entry, 1)[2]
    for values, remembered in (
        ({f"OrderStatus|{stop_id}": "Working"}, set()),  # NinjaTrader has it
        ({}, {target_id}),  # this process placed it
        ({"Orders|Sim101": f"x|{oco}"}, set()),  # the account's list has it
    ):
        brackets = Brackets(values, [].append, lambda _i, _o: None, remembered=remembered)
        refusal = brackets.refusal(entry, "Sim101")
        assert refusal is not None and "another client_order_id" in refusal
    clean = Brackets({"Orders|Sim101": "x"}, [].append, lambda _i, _o: None)
    assert clean.refusal(entry, "Sim101") is None
    clean.add(entry, order_id_for(entry.client_order_id), "Sim101", ES)
    assert clean.refusal(entry, "Sim101") is not None  # its own ids are now kept here
    assert (
        clean.exit_of(stop_id) is not None
        and clean.exit_of(order_id_for(entry.client_order_id)) is None
    )


def test_after_a_reconnect_an_exit_is_placed_again_only_when_the_fresh_list_lacks_it() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, entry_id, stop_id, target_id = _filled_bracket(values, brackets)
    entry_values = {k: v for k, v in values.items() if entry_id in k}
    values.clear()  # a reconnect clears what was pushed
    values.update(entry_values)
    del sent[:]
    brackets.reconnected()
    assert sent == []  # no list yet: nothing is known to be missing
    values[f"OrderStatus|{stop_id}"] = "Working"  # the stop's values came back
    values["Orders|Sim101"] = entry_id  # a list that lacks both exits
    brackets.refresh()
    assert commands_of(sent) == [("PLACE", "2", target_id)]
    brackets.refresh()
    assert len(sent) == 1


def test_brackets_not_pushed_again_are_named_unless_final_and_shown() -> None:
    values: dict[str, str] = {}
    brackets, _, _ = made(values)
    _, entry_id, stop_id, target_id = _filled_bracket(values, brackets)
    assert brackets.not_pushed_again() == []
    del values[f"OrderStatus|{stop_id}"]
    assert [b.entry_id for b in brackets.not_pushed_again()] == [entry_id]
    values[f"OrderStatus|{stop_id}"] = "Working"
    del values[f"OrderStatus|{entry_id}"]  # the entry is final (it filled): not needed
    assert brackets.not_pushed_again() == []
    working = bracket_entry()
    working_id = order_id_for(working.client_order_id)
    brackets.add(working, working_id, "Sim101", ES)
    assert [b.entry_id for b in brackets.not_pushed_again()] == [working_id]
    assert target_id in brackets.watched


def test_resumed_exits_adopted_are_named_when_not_pushed_again() -> None:
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {"Orders|Sim101": f"{entry_id}|{stop_id}|{target_id}"}
    brackets, sent, _ = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert sent == []  # what they filled is not known: never sized on a guess
    assert [b.entry_id for b in brackets.not_pushed_again()] == [entry_id]
    for order_id in (stop_id, target_id):
        values.update({f"OrderStatus|{order_id}": "Working", f"Filled|{order_id}": "0"})
        brackets.on_order_value(order_id)
    assert commands_of(sent) == [("CHANGE", "2", stop_id), ("CHANGE", "2", target_id)]
    assert brackets.not_pushed_again() == []


def test_a_cancelled_exit_that_fills_before_its_cancel_lands_shrinks_the_new_pair() -> None:
    """The old target, cancelled when its pair was replaced, fills its last lot before
    NinjaTrader takes the CANCEL: that lot left the position too, so the new pair (for
    1) is cancelled rather than left to open a short."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    entry, _, stop_id, target_id = _filled_bracket(values, brackets)
    values.update({f"OrderStatus|{target_id}": "PartFilled", f"Filled|{target_id}": "1"})
    values[f"OrderStatus|{stop_id}"] = "Cancelled"
    brackets.on_order_value(target_id)
    stop2, target2, _ = exit_ids_of(entry, 2)
    values.update({f"OrderStatus|{stop2}": "Working", f"OrderStatus|{target2}": "Working"})
    del sent[:]
    values.update({f"OrderStatus|{target_id}": "Filled", f"Filled|{target_id}": "2"})
    brackets.on_order_value(target_id)
    assert commands_of(sent) == [("CANCEL", "0", stop2), ("CANCEL", "0", target2)]


def test_forget_ends_the_watch_of_an_entry_whose_place_was_not_sent() -> None:
    brackets, sent, _ = made({})
    entry = bracket_entry()
    entry_id = order_id_for(entry.client_order_id)
    brackets.add(entry, entry_id, "Sim101", ES)
    brackets.forget("not-an-entry")
    assert len(brackets) == 1
    brackets.forget(entry_id)
    assert len(brackets) == 0 and brackets.watched == {} and sent == []


def test_a_fill_of_one_exit_sends_no_change_its_oco_shrinks_the_other() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, _, target_id = _filled_bracket(values, brackets, 3)
    del sent[:]
    values.update({f"OrderStatus|{target_id}": "PartFilled", f"Filled|{target_id}": "1"})
    brackets.on_order_value(target_id)
    assert sent == []  # NinjaTrader's OCO takes the stop down to 2 itself


def test_an_exit_said_filled_with_an_old_number_waits_for_its_last_one() -> None:
    """A stop part filled 1 of 2, then its ``Filled`` state is read before its last
    ``Filled`` number: the 1 is not the whole story, so no new pair is placed for a
    lot that is not open."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, stop_id, target_id = _filled_bracket(values, brackets)
    values.update({f"OrderStatus|{stop_id}": "PartFilled", f"Filled|{stop_id}": "1"})
    brackets.on_order_value(stop_id)
    del sent[:]
    values[f"OrderStatus|{stop_id}"] = "Filled"
    values[f"OrderStatus|{target_id}"] = "Cancelled"  # the OCO
    brackets.on_order_value(stop_id)
    assert sent == [] and len(brackets) == 1
    values[f"Filled|{stop_id}"] = "2"
    brackets.on_order_value(stop_id)
    assert sent == [] and len(brackets) == 0  # flat: nothing to protect, nothing sent


def test_a_replaced_exit_said_filled_without_its_number_holds_the_bracket() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, stop_id, target_id = _filled_bracket(values, brackets)
    brackets.cut_to_position("Sim101", ES, Decimal(0))  # both exits cancelled
    assert [c[0] for c in commands_of(sent)][-2:] == ["CANCEL", "CANCEL"]
    values.update({f"OrderStatus|{stop_id}": "Filled", f"OrderStatus|{target_id}": "Cancelled"})
    brackets.on_order_value(stop_id)  # the stop filled before its CANCEL: how much?
    assert len(brackets) == 1
    values[f"Filled|{stop_id}"] = "2"
    brackets.on_order_value(stop_id)
    assert len(brackets) == 0


@pytest.mark.parametrize("quantity", [1, 2])
def test_an_exit_lost_in_a_drop_is_placed_again_for_what_is_open_and_only_it(
    quantity: int, caplog: pytest.LogCaptureFixture
) -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, entry_id, stop_id, target_id = _filled_bracket(values, brackets, quantity)
    kept = {k: v for k, v in values.items() if entry_id in k or stop_id in k}
    values.clear()
    values.update(kept)  # the stop's values are pushed again, the target's never came
    values["Orders|Sim101"] = entry_id
    del sent[:]
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
        brackets.reconnected()
    assert commands_of(sent) == [("PLACE", str(quantity), target_id)]
    (record,) = caplog.records
    assert target_id in record.getMessage() and stop_id not in record.getMessage()


def test_an_exit_lost_in_a_drop_when_nothing_is_open_is_not_placed_again() -> None:
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, entry_id, stop_id, _ = _filled_bracket(values, brackets)
    values.clear()
    values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "2"})
    values.update({f"OrderStatus|{stop_id}": "Filled", f"Filled|{stop_id}": "2"})
    values["Orders|Sim101"] = f"{entry_id}|{stop_id}"
    del sent[:]
    brackets.reconnected()
    assert sent == []  # the stop closed it all: the lost target is not needed


def test_an_exit_filled_at_the_size_the_oco_cut_it_to_is_taken_as_filled() -> None:
    """The stop fills 1 and the target, cut to 1 by the OCO, fills that 1, both read in
    one pass: the target is wholly filled (not waiting for a bigger number), so the
    entry's next fill gets a new pair."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    entry, entry_id, stop_id, target_id = _filled_bracket(values, brackets, 2)
    values[f"OrderStatus|{entry_id}"] = "PartFilled"  # of 3: more may fill
    brackets._entries[entry_id].entry = entry.model_copy(update={"quantity": Decimal(3)})
    brackets._entries[entry_id].entry_final = False
    del sent[:]
    values.update({f"OrderStatus|{stop_id}": "Cancelled", f"Filled|{stop_id}": "1"})
    values.update({f"OrderStatus|{target_id}": "Filled", f"Filled|{target_id}": "1"})
    brackets.on_order_value(target_id)
    values.update({f"OrderStatus|{entry_id}": "Filled", f"Filled|{entry_id}": "3"})
    brackets.on_order_value(entry_id)
    second = exit_ids_of(entry, 2)
    assert commands_of(sent) == [("PLACE", "1", second[0]), ("PLACE", "1", second[1])]


def test_an_exit_said_filled_short_of_its_size_after_the_oco_cut_still_waits() -> None:
    """Stop part filled 1 (the target cut to 3), then the target part filled 1: the
    target's state ``Filled`` with its old number 1 is short of the 3 it was cut to, so
    nothing is placed until its last number comes."""
    values: dict[str, str] = {}
    brackets, sent, _ = made(values)
    _, _, stop_id, target_id = _filled_bracket(values, brackets, 4)
    values.update({f"OrderStatus|{stop_id}": "PartFilled", f"Filled|{stop_id}": "1"})
    brackets.on_order_value(stop_id)
    values.update({f"OrderStatus|{target_id}": "PartFilled", f"Filled|{target_id}": "1"})
    brackets.on_order_value(target_id)
    del sent[:]
    values[f"OrderStatus|{target_id}"] = "Filled"  # its Filled 3 not read yet
    brackets.on_order_value(target_id)
    assert sent == []


def _resumed(
    stop_state: str, stop_filled: str
) -> tuple[Brackets, list[str], dict[str, str], str, str]:
    entry = bracket_entry(3)
    entry_id = order_id_for(entry.client_order_id)
    stop_id, target_id = exit_ids(entry)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": "3",
        f"OrderStatus|{stop_id}": stop_state,
        f"Filled|{stop_id}": stop_filled,
        f"OrderStatus|{target_id}": "Working",
    }
    brackets, sent, _ = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(3), final=True)
    return brackets, sent, values, stop_id, target_id


def test_adopted_exits_count_what_their_pair_had_filled() -> None:
    """Resumed with the stop part filled 1: the target is changed to 2; its ``Filled``
    state with the number 1 is short of those 2, so nothing is placed yet."""
    brackets, sent, values, stop_id, target_id = _resumed("PartFilled", "1")
    assert commands_of(sent) == [("CHANGE", "3", stop_id), ("CHANGE", "2", target_id)]
    values.update({f"OrderStatus|{target_id}": "Filled", f"Filled|{target_id}": "1"})
    brackets.on_order_value(target_id)
    assert len(sent) == 2


def test_an_adopted_exit_filled_to_its_size_ends_the_pair() -> None:
    brackets, sent, values, stop_id, target_id = _resumed("PartFilled", "1")
    values.update({f"OrderStatus|{stop_id}": "Filled", f"Filled|{stop_id}": "3"})
    brackets.on_order_value(stop_id)
    assert commands_of(sent)[2:] == [("CANCEL", "0", target_id)]
