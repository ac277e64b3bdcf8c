"""The pytest fixtures give the same test whatever ``FKS_EXEC_*`` the machine sets.

A user who exports ``FKS_EXEC_PLUGINS=ccxt`` in the shell for live trading and then
runs the strategy's unit tests must not find the mock disabled by it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Executor, Order, OrderStatus, PluginRegistry
from fks_exec.mock import MockBroker


@pytest.fixture(autouse=True)
def _hostile_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # autouse: set before the fixtures under test are built
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "ccxt")
    monkeypatch.setenv("FKS_EXEC_DISABLED", "mock")


def test_the_registry_fixture_keeps_the_mock_enabled(fks_registry: PluginRegistry) -> None:
    assert fks_registry.is_enabled("mock")
    assert fks_registry.list_names() == ["mock"]


async def test_the_executor_fixture_fills_on_the_mock(
    fks_executor: Executor, fks_mock_broker: MockBroker
) -> None:
    fks_mock_broker.set_price("BTC/USDT", last="50000")
    order = Order.market("BTC/USDT", "buy", Decimal("0.01"), client_order_id="env-1")
    result = await fks_executor.execute(order)
    assert result.status is OrderStatus.FILLED
    assert result.sent is True
