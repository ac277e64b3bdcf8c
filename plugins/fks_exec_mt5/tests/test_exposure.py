"""Planning exits over hedging tickets and the FIFO rule (no terminal)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec.errors import OrderDenied
from fks_exec_mt5.exposure import Leg, Ticket, fifo_blocker, net, owned, plan_hedging_exit

D = Decimal


def ticket(
    number: int, buy: bool, volume: str, *, age: int | None = None, magic: int = 1
) -> Ticket:
    return Ticket(
        ticket=number,
        symbol="EURUSD",
        buy=buy,
        volume=D(volume),
        price_open=D("1.1"),
        sl=None,
        tp=None,
        magic=magic,
        time_msc=number if age is None else age,
        profit=D(0),
    )


def test_an_exit_closes_the_other_side_oldest_first_then_opens_the_rest() -> None:
    tickets = [ticket(3, True, "0.3"), ticket(1, True, "0.5"), ticket(2, False, "0.4")]
    assert plan_hedging_exit(tickets, False, D("0.6"), reduce_only=False) == [
        Leg(D("0.5"), 1),
        Leg(D("0.1"), 3),
    ]
    assert plan_hedging_exit(tickets, False, D("0.8"), reduce_only=False) == [
        Leg(D("0.5"), 1),
        Leg(D("0.3"), 3),
    ]
    assert plan_hedging_exit(tickets, False, D("1"), reduce_only=False) == [
        Leg(D("0.5"), 1),
        Leg(D("0.3"), 3),
        Leg(D("0.2")),
    ]
    assert plan_hedging_exit(tickets, True, D("0.4"), reduce_only=True) == [Leg(D("0.4"), 2)]
    with pytest.raises(OrderDenied, match=r"reduce_only buy 0\.5: only 0\.4 lots"):
        plan_hedging_exit(tickets, True, D("0.5"), reduce_only=True)
    with pytest.raises(OrderDenied, match=r"reduce_only sell 0\.9: only 0\.8 lots"):
        plan_hedging_exit(tickets, False, D("0.9"), reduce_only=True)
    assert plan_hedging_exit([], True, D("0.5"), reduce_only=False) == [Leg(D("0.5"))]


def test_equal_times_are_ordered_by_ticket() -> None:
    tickets = [ticket(9, True, "0.1", age=5), ticket(4, True, "0.1", age=5)]
    assert plan_hedging_exit(tickets, False, D("0.1"), reduce_only=True) == [Leg(D("0.1"), 4)]


@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=50)), min_size=0, max_size=6
    ),
    st.booleans(),
    st.integers(min_value=1, max_value=200),
)
def test_a_plan_changes_net_exposure_by_exactly_the_order(
    held: list[tuple[bool, int]], buy: bool, lots: int
) -> None:
    tickets = [ticket(i + 1, side, str(D(v) / 100)) for i, (side, v) in enumerate(held)]
    quantity = D(lots) / 100
    legs = plan_hedging_exit(tickets, buy, quantity, reduce_only=False)
    assert sum((leg.volume for leg in legs), D(0)) == quantity
    by_number = {t.ticket: t for t in tickets}
    for leg in legs:
        if leg.position is not None:
            assert by_number[leg.position].buy != buy
            assert leg.volume <= by_number[leg.position].volume
    assert sum(1 for leg in legs if leg.position is None) <= 1
    assert legs[-1].position is None or sum(leg.volume for leg in legs) == quantity


def test_owned_and_net() -> None:
    tickets = [ticket(1, True, "0.5", magic=7), ticket(2, False, "0.2", magic=8)]
    assert owned(tickets, 7, others_too=False) == [tickets[0]]
    assert owned(tickets, 7, others_too=True) == tickets
    assert net(tickets) == D("0.3")
    assert tickets[1].signed == D("-0.2") and tickets[0].age_key == (1, 1)


def test_fifo_names_an_older_position_that_must_close_first() -> None:
    old_other = ticket(1, True, "0.1", magic=0)
    mine = ticket(2, True, "0.2")
    assert fifo_blocker([old_other, mine], [Leg(D("0.2"), 2)]) == old_other
    assert fifo_blocker([old_other, mine], [Leg(D("0.1"), 1), Leg(D("0.2"), 2)]) is None
    assert fifo_blocker([mine], [Leg(D("0.2"), 2)]) is None
    assert fifo_blocker([old_other, mine], [Leg(D("0.3"))]) is None  # opening is never blocked
    newer = ticket(3, False, "0.1", magic=0)
    assert fifo_blocker([mine, newer], [Leg(D("0.2"), 2)]) is None
    assert fifo_blocker([mine], [Leg(D("0.2"), 99)]) is None
    # a leg naming a ticket no longer listed does not stop the check of the next one
    assert fifo_blocker([old_other, mine], [Leg(D("0.1"), 99), Leg(D("0.2"), 2)]) == old_other


def test_tickets_and_legs_are_values() -> None:
    with pytest.raises(AttributeError):
        ticket(1, True, "0.1").volume = D(1)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Leg(D("0.1")).volume = D(1)  # type: ignore[misc]
