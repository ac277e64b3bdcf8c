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


def test_the_fee_is_part_of_the_buying_power_an_order_needs() -> None:
    b = MockBroker(cash=1000, taker_fee_bps=100)  # 1 %
    b.set_price(SYM, bid=100, ask=100)
    refused = b.submit(Order.market(SYM, "buy", "9.95"))  # 995 + 9.95 fee > 1000
    assert refused.error_code is ErrorCode.INSUFFICIENT_FUNDS
    assert "needs 1004.95 USD" in (refused.error or "")
    assert b.submit(Order.market(SYM, "buy", "9.9")).status is OrderStatus.FILLED  # 999.9


def test_a_resting_limit_reserves_at_its_own_price_not_the_quote() -> None:
    b = MockBroker(cash=1000)
    b.set_price(SYM, bid=100, ask=101)
    resting = b.submit(Order.limit(SYM, "buy", 15, 60))  # 900 at its limit (1515 at the ask)
    assert resting.status is OrderStatus.ACCEPTED
    assert b.buying_power() == 100


def test_closing_a_long_of_exactly_one_realizes_its_profit() -> None:
    b = MockBroker(cash=1000)
    b.set_price(SYM, bid=100, ask=101)
    b.submit(Order.market(SYM, "buy", 1))
    b.set_price(SYM, bid=110, ask=111)
    b.submit(Order.market(SYM, "sell", 1))
    assert (b.position(SYM), b.realized_pnl(SYM), b.cash) == (0, 9, 1009)


def test_a_partial_close_realizes_the_average_cost_of_what_it_closes() -> None:
    b = MockBroker(cash=1000)
    b.set_price(SYM, bid=100, ask=101)
    b.submit(Order.market(SYM, "buy", 4))  # cost 404
    b.set_price(SYM, bid=110, ask=111)
    b.submit(Order.market(SYM, "sell", 2))  # closes half: removes 202 of cost
    assert b.realized_pnl(SYM) == 2 * 110 - 202
    (position,) = b.positions()
    assert (position.quantity, position.average_price) == (2, 101)


def test_going_flat_cancels_the_bracket_exits_but_not_other_orders() -> None:
    b = MockBroker(cash=10_000)
    b.set_price(SYM, bid=100, ask=101)
    entry = b.submit(Order.market(SYM, "buy", 1, stop_loss=90, take_profit=120))
    unrelated = b.submit(Order.limit(SYM, "buy", 1, 50))
    b.submit(Order.market(SYM, "sell", 1))
    assert b.position(SYM) == 0
    assert b.order(f"{entry.order_id}-SL").status is OrderStatus.CANCELED
    assert b.order(f"{entry.order_id}-TP").status is OrderStatus.CANCELED
    assert b.order(unrelated.order_id or "").status is OrderStatus.ACCEPTED


def test_latency_jitter_varies_the_delay_within_its_bounds() -> None:
    b = MockBroker()
    b.set_latency(0.01, 0.02, seed=7)
    delays = [b.next_delay() for _ in range(20)]
    assert len(set(delays)) > 1 and all(0.01 <= d <= 0.03 for d in delays)
    b.set_latency(0.01)
    assert {b.next_delay() for _ in range(3)} == {0.01}
