from __future__ import annotations

import pytest
from hypothesis import given
from pydantic import ValidationError

from fks_exec import Order, OrderType
from fks_exec.testing import invalid_order_inputs, orders

pytest_plugins = ["pytester"]


@given(orders(symbols=["BTC/USDT", "ETH/USDT"], min_price="100", max_price="200"))
def test_drawn_orders_are_valid_and_in_range(order: Order) -> None:
    assert order.symbol in {"BTC/USDT", "ETH/USDT"}
    for price in (order.price, order.stop_price):
        if price is not None:
            assert 100 <= price <= 200
    Order.model_validate(order.model_dump())


@given(orders(types=["stop_limit"]))
def test_types_can_be_restricted(order: Order) -> None:
    assert order.type is OrderType.STOP_LIMIT


@given(invalid_order_inputs())
def test_invalid_inputs_are_always_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Order(**fields)  # type: ignore[arg-type]


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_orders_rejects_a_bad_range() -> None:
    with pytest.raises(ValueError, match="min_price"):
        orders(min_price=10, max_price=5).example()


STRATEGY_TEST = """
import asyncio
from decimal import Decimal
from fks_exec import Order, OrderStatus

def test_sync(fks_mock_broker, fks_sync_executor):
    fks_mock_broker.set_price("EURUSD", bid="1.0850", ask="1.0852")
    result = fks_sync_executor.execute(Order.market("EURUSD", "buy", 1000))
    assert result.status is OrderStatus.FILLED
    assert result.average_price == Decimal("1.0852")
    assert fks_mock_broker.position("EURUSD") == 1000

def test_async_via_asyncio_run(fks_mock_broker, fks_executor):
    fks_mock_broker.set_price("BTC/USDT", last=65000)
    async def trade():
        entry = await fks_executor.execute(
            Order.limit("BTC/USDT", "buy", "0.1", 64000, stop_loss=63000, take_profit=66000))
        assert entry.status is OrderStatus.ACCEPTED
        fks_mock_broker.set_price("BTC/USDT", last=63900)
        fks_mock_broker.set_price("BTC/USDT", last=66100)
        return await fks_executor.get_order(entry.client_order_id)
    filled = asyncio.run(trade())
    assert filled.status is OrderStatus.FILLED
    assert fks_mock_broker.position("BTC/USDT") == 0
    assert [f.price for f in fks_mock_broker.fills] == [Decimal(64000), Decimal(66000)]

def test_fixtures_ignore_the_environment(fks_registry, monkeypatch):
    assert fks_registry.list_names() == ["mock"]
"""


def test_fixtures_work_in_a_users_own_project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FKS_EXEC_DISABLED", "mock")
    monkeypatch.setenv("FKS_EXEC_MOCK_CASH", "not-a-number")
    pytester.makepyfile(test_strategy=STRATEGY_TEST)
    # A subprocess, as a user's pytest run would be: the fixtures come only from the
    # pytest11 entry point of the installed fks-exec, and no asyncio plugin is used.
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
