"""The mock's ledger as a data structure: what the mutation run found unpinned (issue 12)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec.mock.accounting import Ledger, PositionState


def test_a_position_state_takes_no_attribute_it_does_not_declare() -> None:
    state = PositionState(quantity=Decimal(1), cost=Decimal(5))
    assert (state.quantity, state.cost, state.realized_pnl) == (Decimal(1), Decimal(5), 0)
    with pytest.raises(AttributeError):
        state.quantiy = Decimal(2)  # type: ignore[attr-defined]  # a typo must not pass


def test_has_open_is_a_flag_that_follows_the_positions() -> None:
    ledger = Ledger()
    assert ledger.has_open is False
    ledger.apply("X", Decimal(2), Decimal(10), Decimal(10))
    assert ledger.has_open is True
    ledger.apply("X", Decimal(-2), Decimal(12), Decimal(12))
    assert ledger.has_open is False
    assert ledger.positions["X"].realized_pnl == Decimal(4)
