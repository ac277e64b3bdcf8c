"""Mock admission rules a mutation run found unpinned (issue 12): buying power at its
exact limit, an order that only closes while buying power is below zero, and a
fill-or-kill limit that is or is not marketable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.mock import MockBroker

SYM = "ES"


def _broker(cash: int = 1_000_000, **kwargs: object) -> MockBroker:
    broker = MockBroker(cash=cash, **kwargs)  # type: ignore[arg-type]
    broker.set_price(SYM, bid=100, ask=101)
    return broker


@pytest.mark.parametrize("fee_bps", [0, 10])
def test_an_order_needing_exactly_the_buying_power_left_is_accepted(fee_bps: int) -> None:
    # 5 at a limit of 100 needs 500 (+ 0.5 of fee at 10 bps): exactly the cash given
    cash = Decimal(500) + (Decimal("0.5") if fee_bps else 0)
    broker = MockBroker(cash=cash, taker_fee_bps=fee_bps)
    broker.set_price(SYM, bid=100, ask=101)
    placed = broker.submit(Order.limit(SYM, "buy", 5, 100))
    assert placed.status is OrderStatus.ACCEPTED
    assert broker.buying_power() == cash - 500
    # one unit more than buying power allows is refused, naming both figures
    broker = MockBroker(cash=cash - Decimal("0.01"), taker_fee_bps=fee_bps)
    broker.set_price(SYM, bid=100, ask=101)
    refused = broker.submit(Order.limit(SYM, "buy", 5, 100))
    assert (refused.status, refused.error_code) == (
        OrderStatus.REJECTED,
        ErrorCode.INSUFFICIENT_FUNDS,
    )


def _long_under_water(**kwargs: object) -> MockBroker:
    """A long bought with all of the cash, then marked far below its cost: buying
    power is below zero."""
    broker = _broker(cash=1_000, leverage=2, **kwargs)
    assert broker.submit(Order.market(SYM, "buy", 19)).status is OrderStatus.FILLED
    broker.set_price(SYM, bid=40, ask=41)
    assert broker.buying_power() < 0
    return broker


@pytest.mark.parametrize(
    "closing",
    [
        Order.limit(SYM, "sell", 19, 40),  # marketable: fills on arrival
        Order.limit(SYM, "sell", 10, 45),  # rests: it only reduces the long
        Order.stop(SYM, "sell", 19, 30),  # rests until the touch falls to 30
        Order.market(SYM, "sell", 19, time_in_force="ioc"),
    ],
    ids=["limit-marketable", "limit-resting", "stop", "market-ioc"],
)
def test_an_order_that_only_closes_is_accepted_with_buying_power_below_zero(
    closing: Order,
) -> None:
    broker = _long_under_water()
    result = broker.submit(closing)
    assert result.status is not OrderStatus.REJECTED, result.error
    assert result.error_code is None


def test_closing_a_losing_long_through_the_general_path_fills() -> None:
    # A quote with a size sends a market order through admission, not the short path.
    broker = _long_under_water()
    broker.set_price(SYM, bid=40, ask=41, size=100)
    assert broker.buying_power() < 0
    closed = broker.submit(Order.market(SYM, "sell", 19))
    assert (closed.status, closed.filled_quantity) == (OrderStatus.FILLED, Decimal(19))
    assert broker.position(SYM) == 0


def test_an_order_that_opens_is_refused_with_buying_power_below_zero() -> None:
    broker = _long_under_water()
    refused = broker.submit(Order.limit(SYM, "sell", 20, 45))  # 19 close, 1 opens a short
    assert refused.error_code is ErrorCode.INSUFFICIENT_FUNDS


def test_a_fill_or_kill_limit_that_is_not_marketable_is_rejected_not_canceled() -> None:
    broker = _broker()
    for order in (
        Order.limit(SYM, "buy", 1, 100, time_in_force="fok"),
        Order.limit(SYM, "sell", 1, 101, time_in_force="fok"),
    ):
        refused = broker.submit(order)
        assert (refused.status, refused.error_code, refused.error) == (
            OrderStatus.REJECTED,
            ErrorCode.REJECTED,
            "fill-or-kill order cannot be filled whole now",
        )
    assert broker.fills == type(broker.fills)()
    assert broker.open_orders == []


def test_a_marketable_fill_or_kill_limit_fills_whole_at_the_better_price() -> None:
    broker = _broker()
    buy = broker.submit(Order.limit(SYM, "buy", 3, 105, time_in_force="fok"))
    assert (buy.status, buy.filled_quantity, buy.average_price) == (
        OrderStatus.FILLED,
        Decimal(3),
        Decimal(101),
    )
    sell = broker.submit(Order.limit(SYM, "sell", 3, 99, time_in_force="fok"))
    assert (sell.status, sell.average_price) == (OrderStatus.FILLED, Decimal(100))
