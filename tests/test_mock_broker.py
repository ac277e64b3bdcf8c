from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec.mock import MockBroker

D = Decimal


@pytest.fixture
def broker() -> MockBroker:
    b = MockBroker(cash=100_000)
    b.set_price("BTC/USDT", bid=100, ask=101)
    return b


def test_market_orders_fill_at_the_touch(broker: MockBroker) -> None:
    buy = broker.submit(Order.market("BTC/USDT", "buy", 2))
    sell = broker.submit(Order.market("BTC/USDT", "sell", 1))
    assert (buy.status, buy.filled_quantity, buy.average_price) == (OrderStatus.FILLED, 2, 101)
    assert (sell.status, sell.average_price) == (OrderStatus.FILLED, 100)
    assert broker.position("BTC/USDT") == 1
    assert broker.cash == D(100_000) - 202 + 100
    assert broker.realized_pnl("BTC/USDT") == -1


def test_marketable_limit_fills_at_the_better_price(broker: MockBroker) -> None:
    result = broker.submit(Order.limit("BTC/USDT", "buy", 1, 105))
    assert result.status is OrderStatus.FILLED
    assert result.average_price == 101


def test_resting_limit_fills_at_its_limit_when_crossed(broker: MockBroker) -> None:
    result = broker.submit(Order.limit("BTC/USDT", "buy", 1, 99))
    assert result.status is OrderStatus.ACCEPTED
    assert result.filled_quantity == 0
    assert broker.set_price("BTC/USDT", bid=99.5, ask=99.8) == []  # not crossed yet
    fills = broker.set_price("BTC/USDT", bid=97, ask=98)
    assert [(f.quantity, f.price, f.liquidity) for f in fills] == [(1, 99, "maker")]
    assert broker.order(result.order_id or "").statuses == [
        OrderStatus.PENDING,
        OrderStatus.ACCEPTED,
        OrderStatus.FILLED,
    ]


def test_cancel_and_cancel_twice(broker: MockBroker) -> None:
    result = broker.submit(Order.limit("BTC/USDT", "sell", 1, 120))
    canceled = broker.cancel(result.order_id or "")
    assert canceled.status is OrderStatus.CANCELED
    again = broker.cancel(result.order_id or "")
    assert again.status is OrderStatus.REJECTED
    assert "canceled" in (again.error or "")
    assert broker.cancel("nope").error_code is ErrorCode.INVALID_ORDER
    assert broker.set_price("BTC/USDT", bid=130, ask=131) == []


def test_unknown_symbol_and_insufficient_funds_are_rejected(broker: MockBroker) -> None:
    unknown = broker.submit(Order.market("ETH/USDT", "buy", 1))
    assert unknown.error_code is ErrorCode.INVALID_ORDER
    assert "set_price" in (unknown.error or "")
    poor = broker.submit(Order.market("BTC/USDT", "buy", 10_000))
    assert poor.error_code is ErrorCode.INSUFFICIENT_FUNDS
    assert broker.fills == type(broker.fills)(maxlen=broker.history_limit)


def test_stop_triggers_then_fills_as_market(broker: MockBroker) -> None:
    stop = broker.submit(Order.stop("BTC/USDT", "buy", 1, 105))
    assert stop.status is OrderStatus.ACCEPTED
    broker.set_price("BTC/USDT", bid=104, ask=104.5)
    assert broker.order(stop.order_id or "").status is OrderStatus.ACCEPTED
    fills = broker.set_price("BTC/USDT", bid=105, ask=106)
    assert [(f.price, f.liquidity) for f in fills] == [(D(106), "taker")]
    already = broker.submit(Order.stop("BTC/USDT", "buy", 1, 100))
    assert already.error_code is ErrorCode.INVALID_ORDER


def test_positions_are_netted_with_average_price(broker: MockBroker) -> None:
    broker.submit(Order.market("BTC/USDT", "buy", 1))
    broker.set_price("BTC/USDT", bid=110, ask=111)
    broker.submit(Order.market("BTC/USDT", "buy", 1))
    (pos,) = broker.positions()
    assert pos.quantity == 2
    assert pos.average_price == 106
    assert pos.unrealized_pnl == (D("110.5") - 106) * 2
    broker.submit(Order.market("BTC/USDT", "sell", 3))  # flips short
    (pos,) = broker.positions()
    assert pos.quantity == -1
    assert pos.average_price == 110
    assert broker.realized_pnl() == (110 - 106) * 2


def test_faults(broker: MockBroker) -> None:
    broker.reject_next(ErrorCode.MARKET_CLOSED, "session closed")
    closed = broker.submit(Order.market("BTC/USDT", "buy", 1))
    assert closed.error_code is ErrorCode.MARKET_CLOSED
    assert closed.error == "session closed"
    broker.disconnect()
    with pytest.raises(BrokerUnavailable):
        broker.submit(Order.market("BTC/USDT", "buy", 1))
    broker.reconnect()
    order = Order.market("BTC/USDT", "buy", 1)
    broker.fail_next_with(TimeoutError("lost answer"), after_send=True)
    with pytest.raises(TimeoutError):
        broker.submit(order)
    record = broker.find(order.client_order_id)
    assert record is not None
    assert record.status is OrderStatus.FILLED


def test_duplicate_client_id_is_refused_like_a_venue(broker: MockBroker) -> None:
    order = Order.market("BTC/USDT", "buy", 1)
    broker.submit(order)
    dup = broker.submit(order)
    assert dup.error_code is ErrorCode.INVALID_ORDER
    assert "duplicate" in (dup.error or "")
    assert broker.position("BTC/USDT") == 1


def test_bad_quotes_are_refused(broker: MockBroker) -> None:
    with pytest.raises(ValueError, match="crossed"):
        broker.set_price("X", bid=2, ask=1)
    with pytest.raises(ValueError, match="positive"):
        broker.set_price("X", last=0)
    with pytest.raises(ValueError, match="both"):
        broker.set_price("X", bid=1)
