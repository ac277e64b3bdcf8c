"""The mock broker: accounting the mutation run found unchecked (issue 12).

Each test pins what a strategy's paper results depend on: closing a position needs no
buying power, flipping needs it only for the new side, and the books add up.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.mock import MockBroker

D = Decimal
SYM = "X"


@pytest.fixture
def broker() -> MockBroker:
    """1000 USD, a 100/101 quote, and a long of 9 that leaves 91 of buying power."""
    b = MockBroker(cash=1000)
    b.set_price(SYM, bid=100, ask=101)
    assert b.submit(Order.market(SYM, "buy", 9)).status is OrderStatus.FILLED
    assert b.buying_power() == 91
    return b


def test_selling_to_close_a_long_needs_no_buying_power(broker: MockBroker) -> None:
    closed = broker.submit(Order.market(SYM, "sell", 9))
    assert (closed.status, closed.filled_quantity, closed.average_price) == ("filled", 9, 100)
    assert broker.position(SYM) == 0 and broker.cash == 991


def test_flipping_needs_buying_power_for_the_new_side_only(broker: MockBroker) -> None:
    too_far = broker.submit(Order.market(SYM, "sell", 10))  # closes 9, opens 1 short (100)
    assert (too_far.status, too_far.error_code) == ("rejected", ErrorCode.INSUFFICIENT_FUNDS)
    assert "needs 100.00 USD" in (too_far.error or "") and broker.position(SYM) == 9
    flipped = broker.submit(Order.market(SYM, "sell", "9.5"))  # opens 0.5 short (50)
    assert flipped.status is OrderStatus.FILLED and broker.position(SYM) == D("-0.5")


def test_buying_to_close_a_short_needs_no_buying_power() -> None:
    b = MockBroker(cash=1000)
    b.set_price(SYM, bid=100, ask=101)
    assert b.submit(Order.market(SYM, "sell", 9)).status is OrderStatus.FILLED
    b.set_price(SYM, bid=190, ask=191)  # the short lost 810: equity 190, exposure 1710
    assert b.buying_power() < 0
    closed = b.submit(Order.market(SYM, "buy", 9))
    assert closed.status is OrderStatus.FILLED and b.position(SYM) == 0
    assert b.realized_pnl(SYM) == 9 * (100 - 191)
