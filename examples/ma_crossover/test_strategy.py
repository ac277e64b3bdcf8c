"""Unit tests of the crossover strategy, written with the fks-exec testing kit.

``fks_mock_broker`` and ``fks_executor`` come from fks-exec's pytest plugin; nothing
else is needed. Each test feeds prices: the strategy sees them as closes, and the
mock broker quotes them (bid = ask = the price) and fills against them.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from strategy import MovingAverageCrossover

from fks_exec import ErrorCode, Executor, OrderStatus
from fks_exec.mock import MockBroker

SYMBOL = "BTC/USDT"
FALLING_THEN_RISING = [110, 108, 106, 104, 102, 100, 103, 107, 111]


def feed(broker: MockBroker, strategy: MovingAverageCrossover, prices: list[int]) -> None:
    async def run() -> None:
        for price in prices:
            broker.set_price(SYMBOL, last=price)
            await strategy.on_price(Decimal(price))

    asyncio.run(run())


def test_buys_on_the_golden_cross_with_a_stop_loss(
    fks_mock_broker: MockBroker, fks_executor: Executor
) -> None:
    strategy = MovingAverageCrossover(fks_executor, SYMBOL, Decimal("0.5"))
    feed(fks_mock_broker, strategy, FALLING_THEN_RISING)
    (entry,) = strategy.results
    assert entry.status is OrderStatus.FILLED
    assert entry.average_price == Decimal(111)
    assert fks_mock_broker.position(SYMBOL) == Decimal("0.5")
    stop = fks_mock_broker.order(f"{entry.order_id}-SL")
    assert stop.order.stop_price == Decimal("108.78")  # 2 % below the entry
    assert stop.status is OrderStatus.ACCEPTED


def test_the_stop_loss_closes_the_position_on_a_crash(
    fks_mock_broker: MockBroker, fks_executor: Executor
) -> None:
    strategy = MovingAverageCrossover(fks_executor, SYMBOL, Decimal("0.5"))
    feed(fks_mock_broker, strategy, [*FALLING_THEN_RISING, 100])
    assert fks_mock_broker.position(SYMBOL) == 0
    exit_fill = fks_mock_broker.fills[-1]
    # The price gapped through the stop at 108.78: the stop fills at the market.
    assert (exit_fill.side, exit_fill.price) == ("sell", Decimal(100))
    assert fks_mock_broker.realized_pnl(SYMBOL) == Decimal("0.5") * (100 - 111)


def test_sells_on_the_death_cross(fks_mock_broker: MockBroker, fks_executor: Executor) -> None:
    strategy = MovingAverageCrossover(
        fks_executor, SYMBOL, Decimal("0.5"), stop_loss_fraction=Decimal("0.2")
    )
    feed(fks_mock_broker, strategy, [*FALLING_THEN_RISING, 112, 110, 105, 100])
    assert [(r.side, r.average_price) for r in strategy.results] == [
        ("buy", Decimal(111)),
        ("sell", Decimal(100)),
    ]
    assert fks_mock_broker.position(SYMBOL) == 0
    # The stop loss went away with the position it protected.
    assert fks_mock_broker.open_orders == []


def test_a_rejected_entry_leaves_no_position(
    fks_mock_broker: MockBroker, fks_executor: Executor
) -> None:
    strategy = MovingAverageCrossover(fks_executor, SYMBOL, Decimal("0.5"))
    fks_mock_broker.reject_next(ErrorCode.INSUFFICIENT_FUNDS, "margin call")
    feed(fks_mock_broker, strategy, FALLING_THEN_RISING)
    (entry,) = strategy.results
    assert entry.error_code is ErrorCode.INSUFFICIENT_FUNDS
    assert fks_mock_broker.position(SYMBOL) == 0


def test_a_lost_answer_is_reconciled_not_doubled(
    fks_mock_broker: MockBroker, fks_executor: Executor
) -> None:
    strategy = MovingAverageCrossover(fks_executor, SYMBOL, Decimal("0.5"))
    fks_mock_broker.fail_next_with(TimeoutError("answer lost"), after_send=True)
    feed(fks_mock_broker, strategy, [*FALLING_THEN_RISING, 112, 113])
    (entry,) = strategy.results
    assert entry.status is OrderStatus.FILLED  # found again by its client order id
    assert fks_mock_broker.position(SYMBOL) == Decimal("0.5")
