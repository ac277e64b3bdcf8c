"""Shared fixtures: a scriptable plugin and registries that ignore the environment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from fks_exec import (
    BrokerUnavailable,
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    PluginConfig,
    PluginRegistry,
)


class ScriptedConfig(PluginConfig):
    api_key: SecretStr | None = None
    fail_connect: bool = False


class ScriptedPlugin(ExecutionPlugin):
    """A plugin whose behaviour each test scripts through ``on_order``."""

    name: ClassVar[str] = "scripted"
    config_model: ClassVar[type[ScriptedConfig]] = ScriptedConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.GET_ORDER, Capability.CANCEL_ORDER}
    )

    def __init__(self, name: str = "scripted") -> None:
        self.name = name  # type: ignore[misc]
        super().__init__()
        self.sent: list[Order] = []
        self.known: dict[str, ExecutionResult] = {}
        self.on_order: Callable[[Order], Any] | None = None
        self.health_delay_s = 0.0
        self.closed = 0
        self.close_error: Exception | None = None

    async def _connect(self, config: ScriptedConfig) -> None:
        if config.fail_connect:
            raise ConnectionRefusedError("terminal not running")

    async def _execute_order(self, order: Order) -> ExecutionResult:
        action = self.on_order(order) if self.on_order else None
        if isinstance(action, BrokerUnavailable):
            raise action
        self.sent.append(order)
        if isinstance(action, BaseException):
            # The broker got it (recorded as filled) but the answer is lost.
            self.known[order.client_order_id] = ExecutionResult.for_order(
                order, plugin=self.name, status=OrderStatus.ACCEPTED, order_id=f"S{len(self.sent)}"
            )
            raise action
        if isinstance(action, ExecutionResult):
            return action
        result = ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.FILLED,
            order_id=f"S{len(self.sent)}",
            filled_quantity=order.quantity,
            average_price=order.price or 100,
        )
        self.known[order.client_order_id] = result
        return result

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=2)

    async def _health_check(self) -> HealthStatus:
        await asyncio.sleep(self.health_delay_s)
        return HealthStatus(healthy=True)

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return self.known.get(client_order_id)

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        return ExecutionResult(
            plugin=self.name,
            status=OrderStatus.CANCELED,
            client_order_id=None,
            order_id=order_id,
            symbol=symbol or "?",
            side=None,
            quantity=None,
        )

    async def _close(self) -> None:
        self.closed += 1
        if self.close_error is not None:
            raise self.close_error


@pytest.fixture
def make_plugin() -> Callable[[str], ScriptedPlugin]:
    return ScriptedPlugin


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> PluginRegistry:
    """A registry with only the built-in mock discovered and no FKS_EXEC_* influence."""
    for key in list(__import__("os").environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)
    return PluginRegistry()
