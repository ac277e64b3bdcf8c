"""A restart while a later generation of exits works (brackets.py, ``resume``).

An exit that filled while the entry still filled makes the bracket replace its pair
with a new generation (``-sl.2``, ``-tp.2``). A new process resuming the entry must
follow the newest generation NinjaTrader shows, never place the first one again (that
would double the exits: both stops fire and reverse the position), count what the
earlier generations' exits filled, and cancel an earlier exit still working.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec import Order
from fks_exec_ninja.mapping import order_id_for

from .test_brackets import ES, bracket_entry, commands_of, exit_ids_of, made


def _filled_entry(quantity: int = 3) -> tuple[Order, str, dict[str, str]]:
    entry = bracket_entry(quantity)
    entry_id = order_id_for(entry.client_order_id)
    values = {
        f"OrderStatus|{entry_id}": "Filled",
        f"Filled|{entry_id}": str(quantity),
        f"AvgFillPrice|{entry_id}": "6000",
    }
    return entry, entry_id, values


def test_resume_follows_the_second_generation_sized_to_what_is_open() -> None:
    entry, entry_id, values = _filled_entry(3)
    stop1, target1, _ = exit_ids_of(entry, 1)
    stop2, target2, _ = exit_ids_of(entry, 2)
    values.update(
        {
            f"OrderStatus|{target1}": "Filled",  # the first target took 1 off
            f"Filled|{target1}": "1",
            f"OrderStatus|{stop1}": "Cancelled",  # by its OCO
            f"OrderStatus|{stop2}": "Working",
            f"OrderStatus|{target2}": "Working",
        }
    )
    brackets, sent, remembered = made(values)
    done = brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(3), final=True)
    assert done == "2 exit(s) adopted, 0 to place"
    assert commands_of(sent) == [("CHANGE", "2", stop2), ("CHANGE", "2", target2)]
    assert set(remembered) == {stop2, target2}
    assert {stop1, target1, stop2, target2} <= set(brackets.watched)
    del sent[:]
    values.update({f"OrderStatus|{stop2}": "Filled", f"Filled|{stop2}": "2"})
    values[f"OrderStatus|{target2}"] = "Cancelled"
    brackets.on_order_value(stop2)
    assert sent == [] and len(brackets) == 0  # flat: the bracket did its work


def test_resume_never_places_a_first_generation_ninjatrader_no_longer_shows() -> None:
    # NinjaTrader restarted meanwhile: its list keeps working orders only.
    entry, entry_id, values = _filled_entry(2)
    first = set(exit_ids_of(entry, 1))
    stop2, target2, _ = exit_ids_of(entry, 2)
    values["Orders|Sim101"] = f"{stop2}|{target2}"
    brackets, sent, _ = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(2), final=True)
    assert [c for c, _, _ in commands_of(sent)] == ["CHANGE", "CHANGE"]
    assert {i for _, _, i in commands_of(sent)} == {stop2, target2}
    assert not first & {i for _, _, i in commands_of(sent)}  # nothing of gen 1, no CANCEL


def test_resume_cancels_an_earlier_exit_still_working_and_follows_the_latest() -> None:
    # The earlier process's CANCEL of the first stop never got through.
    entry, entry_id, values = _filled_entry(3)
    stop1, target1, _ = exit_ids_of(entry, 1)
    stop2, target2, _ = exit_ids_of(entry, 2)
    stop3, target3, _ = exit_ids_of(entry, 3)
    values.update(
        {
            f"OrderStatus|{target1}": "Filled",
            f"Filled|{target1}": "1",
            f"OrderStatus|{stop1}": "Working",
            f"OrderStatus|{target2}": "Filled",
            f"Filled|{target2}": "1",
            f"OrderStatus|{stop2}": "Cancelled",
            f"OrderStatus|{stop3}": "Working",
            f"OrderStatus|{target3}": "Working",
        }
    )
    brackets, sent, _ = made(values)
    brackets.resume(entry, entry_id, "Sim101", ES, filled=Decimal(3), final=True)
    assert commands_of(sent) == [
        ("CANCEL", "0", stop1),
        ("CHANGE", "1", stop3),
        ("CHANGE", "1", target3),
    ]
