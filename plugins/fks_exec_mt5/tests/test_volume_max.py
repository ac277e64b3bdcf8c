"""SYMBOL_VOLUME_MAX is "maximal volume for a deal" (MQL5 marketinfoconstants): it
bounds each request, not an order or a holding. A close above it goes as several
closes of the position (each its own leg, as hedging splits are); an order that would
open more than it in one deal is refused before sending."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5.exposure import Leg, split_closes
from fks_exec_mt5.mapping import rounded_volume
from fks_exec_mt5.prechecks import SymbolRules
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted
from .test_mapping import info

D = Decimal
RICH = {"account_options": {"balance": D(10**9)}}


@given(
    steps=st.integers(min_value=1, max_value=5000),
    per=st.integers(min_value=1, max_value=700),
    step=st.sampled_from([D("0.01"), D("0.1"), D(1), D("0.05")]),
)
def test_a_close_is_split_into_deals_of_at_most_the_maximum(
    steps: int, per: int, step: Decimal
) -> None:
    volume, most = steps * step, per * step
    split = split_closes([Leg(volume, 7)], most, step)
    assert sum(leg.volume for leg in split) == volume
    assert all(0 < leg.volume <= most and leg.volume % step == 0 for leg in split)
    assert {leg.position for leg in split} == {7}
    assert len(split) == -(-steps // per)  # as few deals as can be
    assert max(leg.volume for leg in split) - min(leg.volume for leg in split) <= step


def test_only_closes_on_the_grid_and_above_the_maximum_are_split() -> None:
    step, most = D("0.01"), D(100)
    opening, small, off_grid = Leg(D(150)), Leg(D(100), 3), Leg(D("150.005"), 4)
    assert split_closes([opening, small, off_grid], most, step) == [opening, small, off_grid]
    assert split_closes([Leg(D(150), 5)], D(0), step) == [Leg(D(150), 5)]  # no limit
    assert split_closes([Leg(D(201), 5)], most, D(1)) == [
        Leg(D(67), 5),
        Leg(D(67), 5),
        Leg(D(67), 5),
    ]
    # a maximum below the step: one step a deal (the per-deal check refuses it)
    assert split_closes([Leg(D(2), 5)], D("0.5"), D(1)) == [Leg(D(1), 5), Leg(D(1), 5)]


def _requests(scripted: Scripted) -> list[tuple[Any, float]]:
    return [(request.get("position"), request["volume"]) for request in scripted.sent]


@pytest.mark.parametrize("account", ["netting", "hedging"])
async def test_close_position_flattens_a_holding_above_the_maximum(account: str) -> None:
    terminal = getattr(FakeMetaTrader5, account)(**RICH)  # volume_max 100 on EURUSD
    plugin = await started(terminal)
    try:
        for _ in range(3):
            await plugin.execute_order(Order.market("EURUSD", "buy", "70"))
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        (closed,) = await plugin.close_position("EURUSD")
        assert closed.status is OrderStatus.FILLED, closed
        assert (closed.quantity, closed.filled_quantity) == (D(210), D(210))
        assert terminal.net_volume("EURUSD", MAGIC) == 0
        sizes = _requests(scripted)
        assert all(volume <= 100 and position is not None for position, volume in sizes)
        assert sum(volume for _, volume in sizes) == 210
        if account == "netting":
            assert [volume for _, volume in sizes] == [70.0, 70.0, 70.0]
    finally:
        await plugin.close()


async def test_a_netting_close_of_a_quantity_above_the_maximum_goes_in_deals() -> None:
    terminal = FakeMetaTrader5.netting(**RICH)
    plugin = await started(terminal)
    try:
        for _ in range(3):
            await plugin.execute_order(Order.market("EURUSD", "buy", "80"))
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        (closed,) = await plugin.close_position("EURUSD", D("150.5"))
        assert closed.status is OrderStatus.FILLED, closed
        assert [volume for _, volume in _requests(scripted)] == [75.25, 75.25]
        assert terminal.net_volume("EURUSD", MAGIC) == D("89.5")
    finally:
        await plugin.close()


@pytest.mark.parametrize("account", ["netting", "hedging"])
@pytest.mark.parametrize("kind", ["market", "limit"])
async def test_opening_more_than_the_maximum_in_one_deal_is_refused_before_sending(
    account: str, kind: str
) -> None:
    terminal = getattr(FakeMetaTrader5, account)(**RICH)
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        order = (
            Order.market("EURUSD", "buy", "100.01")
            if kind == "market"
            else Order.limit("EURUSD", "buy", "100.01", D("1.05"))
        )
        refused = await plugin.execute_order(order)
        assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        assert "above its maximum 100" in (refused.error or "")
        assert "SYMBOL_VOLUME_MAX, per deal" in (refused.error or "")
        assert scripted.sent == []
        exact = await plugin.execute_order(Order.market("EURUSD", "buy", "100"))
        assert exact.status is OrderStatus.FILLED, exact
    finally:
        await plugin.close()


@given(
    steps=st.integers(min_value=1, max_value=10**6),
    step=st.sampled_from([D("0.01"), D("0.1"), D("1.0"), D(1), D("0.05"), D("10.0")]),
)
def test_rounded_lots_have_a_plain_exponent(steps: int, step: Decimal) -> None:
    rules = SymbolRules.of(info(volume_step=float(step), volume_min=0.0, volume_max=0.0))
    lots = rounded_volume(steps * step, rules)
    assert lots == steps * step
    exponent = lots.as_tuple().exponent
    assert isinstance(exponent, int) and exponent <= 0, lots  # never 1E+1
    assert "E" not in str(lots)
    assert lots == lots.normalize() or lots == lots.to_integral_value()
