"""fks_exec.testing.isolated_registry: exactly the plugins given, whatever the machine has
installed or set in its environment."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Executor, Order, OrderStatus, PluginNotFound
from fks_exec.mock import MockPlugin
from fks_exec.testing import isolated_registry


def test_it_holds_exactly_the_plugins_given_and_discovers_none() -> None:
    mock, spare = MockPlugin(), MockPlugin()
    registry = isolated_registry(mock=mock, **{"mock:spare": spare})
    assert registry.list_names() == ["mock", "mock:spare"]  # ccxt, mt5, ninja are installed
    assert registry.get("mock") is mock and registry.get("mock:spare") is spare
    assert spare.name == "mock:spare"
    assert [info.target for info in registry.list_infos()] == ["<registered>"] * 2
    with pytest.raises(PluginNotFound):  # installed, but not given: unknown here
        registry.get("ccxt")
    assert isolated_registry().list_names() == []


def test_the_allow_and_deny_lists_of_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "ccxt")
    monkeypatch.setenv("FKS_EXEC_DISABLED", "mock,mock:small")
    registry = isolated_registry(mock=MockPlugin())
    assert registry.list_names() == ["mock"]
    assert registry.is_enabled("mock") and registry.is_enabled("mock:small")
    assert not registry.is_enabled("ccxt")  # the allowlist is the names given


async def test_the_plugins_given_read_no_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_CASH", "1")  # would refuse an order of 10
    mock = MockPlugin()
    assert mock.use_env
    registry = isolated_registry(mock=mock)
    assert mock.use_env is False
    configs = {"mock": {"prices": {"X": "10"}}}
    async with Executor(registry, default="mock", configs=configs, journal="memory") as ex:
        result = await ex.execute(Order.market("X", "buy", 1))
    assert result.status is OrderStatus.FILLED and result.average_price == Decimal(10)


def test_a_class_or_other_value_is_refused_before_any_plugin_is_changed() -> None:
    mock = MockPlugin()
    with pytest.raises(TypeError, match="not the class MockPlugin: create the plugin first"):
        isolated_registry(mock=mock, other=MockPlugin)  # type: ignore[arg-type]
    assert mock.use_env  # nothing was changed
    with pytest.raises(TypeError, match="not a dict") as refused:
        isolated_registry(venue={"api_key": "s3cr3t"})  # type: ignore[arg-type]
    assert "s3cr3t" not in str(refused.value)  # only the type is named, never the value
