"""The account's order list as a set (fks_exec_ninja.account.OrderLists): whether an id
is listed is the same answer as :func:`listed` gives, whatever NinjaTrader pushes, and
placing an order does not search the list (it holds every order of the account and
grows with it: a search per order placed made each order cost more than the last)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec.models import OrderStatus
from fks_exec_ninja import account as account_module
from fks_exec_ninja.account import OrderLists, listed
from fks_exec_ninja.brackets import Brackets
from fks_exec_ninja.mapping import order_id_for

from .test_lookups import places, running, working

_IDS = ["ab", "abc", "b", "bc", "", "x|", "ab|c", "c"]
_ASKED = [part for part in _IDS if "|" not in part]  # an order id never holds a bar
_PUSH = st.tuples(st.sampled_from(["extend", "replace", "same"]), st.lists(st.sampled_from(_IDS)))


@given(
    st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), _PUSH), max_size=12),
    st.integers(1, 3),
)
def test_a_look_up_answers_as_listed_does_over_any_pushes(
    pushes: list[tuple[str, tuple[str, list[str]]]], max_accounts: int
) -> None:
    lists, current = OrderLists(max_accounts), {"A": "", "B": "", "C": ""}
    for account, (how, parts) in pushes:
        added = "|".join(parts)
        if how == "extend":  # NinjaTrader's usual push: the list with ids appended
            before = current[account]
            current[account] = before + "|" + added if before and added else before + added
        elif how == "replace":  # another list (a restart, ids gone)
            current[account] = added
        else:  # the same text again, as a new string
            current[account] = "".join(list(current[account]))
        for name, listing in current.items():
            for order_id in _ASKED:
                assert lists.has(name, listing, order_id) is listed(listing, order_id)


def test_a_list_extended_after_a_trailing_bar_or_by_a_bar_adds_the_new_ids() -> None:
    lists = OrderLists()
    assert lists.has("A", "a|", "a") and not lists.has("A", "a|b", "ab")
    assert lists.has("A", "a|b", "b") and lists.has("A", "a|b|c", "c")
    assert not lists.has("A", "a|bc", "b") and lists.has("A", "a|bc", "bc")  # not an extension
    assert not lists.has("A", "", "a") and not lists.has("A", "", "")


class _Watched(str):
    """A pushed list that counts the searches made in it."""

    searches = 0

    def __contains__(self, part: object) -> bool:
        _Watched.searches += 1
        return str.__contains__(self, part)  # type: ignore[operator]

    def find(self, *args: object) -> int:
        _Watched.searches += 1
        return str.find(self, *args)  # type: ignore[arg-type]


async def test_placing_orders_does_not_search_the_account_list() -> None:
    listing = "|".join(f"{n:032x}" for n in range(2_000))
    async with running([("Orders|Sim101", listing)], working) as (nt, plugin):
        plugin.ati.values["Orders|Sim101"] = _Watched(plugin.ati.values["Orders|Sim101"])
        _Watched.searches = 0
        orders = [Order.limit("ES 03-27", "buy", 1, "5000") for _ in range(20)]
        for order in orders:
            assert (await plugin.execute_order(order)).status is OrderStatus.ACCEPTED
        assert _Watched.searches == 0 and len(places(nt)) == 20
        listed_id = Order.limit("ES 03-27", "buy", 1, "5000", client_order_id=f"{7:032x}")
        again = await plugin.execute_order(listed_id)  # still found in the list
        assert again.status is OrderStatus.UNKNOWN and len(places(nt)) == 20
        assert _Watched.searches == 0  # found in the set, not by a search of the list


async def test_an_order_placed_before_the_list_came_does_not_search_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first orders wait for the account's list; whether theirs is in it is a set
    look-up too (the list may hold every order of a long history)."""
    listing = "|".join(f"{n:032x}" for n in range(2_000))
    searched: list[tuple[object, ...]] = []

    def search(*args: object) -> bool:
        searched.append(args)
        return True

    monkeypatch.setattr(account_module, "listed", search)
    async with running([], working) as (nt, plugin):
        listed_id = Order.limit("ES 03-27", "buy", 1, "5000", client_order_id=f"{7:032x}")
        new = Order.limit("ES 03-27", "buy", 1, "5000")
        pending = [asyncio.ensure_future(plugin.execute_order(o)) for o in (listed_id, new)]
        await asyncio.sleep(0.05)  # both wait for the list
        nt.push([("Orders|Sim101", listing)])
        again, placed = await asyncio.gather(*pending)
        assert searched == []
        assert again.status is OrderStatus.UNKNOWN and placed.status is OrderStatus.ACCEPTED
        assert [p[10] for p in places(nt)] == [order_id_for(new.client_order_id)]


def test_a_bracket_fill_does_not_search_the_account_list() -> None:
    """Protecting an entry's fill asks whether each exit is at NinjaTrader already: the
    account's list (every order of its history) is looked up as a set, never searched;
    an exit the list holds is changed, one it does not hold is placed."""
    entry = Order.limit("ES 03-27", "buy", 2, "5990", stop_loss="5900", take_profit="6100")
    entry_id = order_id_for(entry.client_order_id)
    stop_id = order_id_for(entry.client_order_id, "-sl")
    ids = [f"{n:032x}" for n in range(2_000)] + [stop_id]
    values: dict[str, str] = {"Orders|Sim101": _Watched("|".join(ids))}
    sent: list[str] = []
    brackets = Brackets(values, sent.append, lambda _id, _order: None)
    brackets.add(entry, entry_id, "Sim101", "ES 03-27")
    values.update({f"OrderStatus|{entry_id}": "PartFilled", f"Filled|{entry_id}": "1"})
    values[f"AvgFillPrice|{entry_id}"] = "5990"
    _Watched.searches = 0
    brackets.on_order_value(entry_id)
    assert _Watched.searches == 0
    assert [line.split(";")[0] for line in sent] == ["CHANGE", "PLACE"]


class _Split(str):
    """A pushed list that counts how often it is split whole (and compared)."""

    splits = compares = 0

    def startswith(self, *args: object) -> bool:
        _Split.compares += 1
        return str.startswith(self, *args)  # type: ignore[arg-type]

    def split(self, *args: object, **kwargs: object) -> list[str]:
        _Split.splits += 1
        return str.split(self, *args, **kwargs)  # type: ignore[arg-type]


def _splits(lists: OrderLists, account: str, listing: str, order_id: str) -> tuple[bool, int]:
    _Split.splits = 0
    return lists.has(account, _Split(listing), order_id), _Split.splits


def test_a_list_is_split_once_and_an_extension_adds_only_its_tail() -> None:
    lists = OrderLists()
    first = _Split("a|b")
    _Split.splits = 0
    assert lists.has("A", first, "a") and _Split.splits == 1
    _Split.compares = 0
    assert lists.has("A", first, "b") and (_Split.splits, _Split.compares) == (1, 0)  # as it was
    assert _splits(lists, "A", "a|b|c", "c") == (True, 0)  # appended after a bar
    assert _splits(lists, "A", "a|b|c|", "b") == (True, 0)
    assert _splits(lists, "A", "a|b|c|d", "d") == (True, 0)  # after a trailing bar
    assert _splits(lists, "A", "a|b|c|d", "c") == (True, 0)  # the same text again
    assert _splits(lists, "A", "a|b|c|de", "de") == (True, 1)  # "d" grew: split again
    assert _splits(lists, "A", "a|b|c|de", "d") == (False, 0)
    assert _splits(lists, "A", "b|c|de", "a") == (False, 1)  # not an extension


def test_an_id_grown_in_place_is_not_taken_as_a_new_one() -> None:
    lists = OrderLists()
    assert lists.has("A", "ab", "ab") and not lists.has("A", "abc", "ab")
    assert lists.has("A", "abc", "abc") and not lists.has("A", "abc", "c")


def test_the_lists_kept_are_bounded_by_accounts() -> None:
    assert OrderLists().max_accounts == 64
    lists = OrderLists(max_accounts=2)
    a, b = _Split("x"), _Split("y")
    lists.has("A", a, "x")
    lists.has("B", b, "y")
    _Split.splits = 0
    assert lists.has("A", a, "x") and lists.has("B", b, "y") and _Split.splits == 0  # both kept
    lists.has("C", _Split("z"), "z")  # a third: the others are forgotten
    assert len(lists._lists) <= 2 and lists.has("A", a, "x") and _Split.splits == 2
