from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    ConfigurationError,
    ErrorCode,
    NotSupported,
    Order,
    OrderStatus,
    PluginInitError,
)
from fks_exec.mock import MockPlugin

SECRET = "sk-live-9f8e7d6c5b4a"


async def started(make_plugin: Any, **config: Any) -> Any:
    plugin = make_plugin()
    await plugin.init({"api_key": SECRET, **config})
    return plugin


async def test_optional_methods_name_plugin_and_capability(make_plugin: Any) -> None:
    plugin = await started(make_plugin)
    with pytest.raises(NotSupported, match=r"'scripted' does not support positions.*'positions'"):
        await plugin.positions()


@pytest.mark.parametrize(
    ("order", "what"),
    [
        (Order.stop("X", "buy", 1, 10), "stop orders"),
        (Order.market("X", "buy", 1, stop_loss=5), "stop_loss/take_profit"),
        (Order.market("X", "buy", 1, reduce_only=True), "reduce_only"),
    ],
)
async def test_unsupported_order_features_are_denied_without_sending(
    make_plugin: Any, order: Order, what: str
) -> None:
    plugin = await started(make_plugin)
    result = await plugin.execute_order(order)
    assert result.status is OrderStatus.REJECTED
    assert result.error_code is ErrorCode.NOT_SUPPORTED
    assert what in (result.error or "")
    assert plugin.sent == []


async def test_exception_after_sending_becomes_unknown_not_lost(make_plugin: Any) -> None:
    plugin = await started(make_plugin)
    plugin.on_order = lambda order: ConnectionResetError("peer reset")
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert result.status is OrderStatus.UNKNOWN
    assert result.success is False
    assert "do not resend" in (result.error or "")
    plugin.on_order = lambda order: asyncio.TimeoutError()
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert result.error_code is ErrorCode.TIMEOUT


async def test_broker_unavailable_propagates(make_plugin: Any) -> None:
    plugin = await started(make_plugin)
    plugin.on_order = lambda order: BrokerUnavailable("socket closed")
    with pytest.raises(BrokerUnavailable, match="socket closed"):
        await plugin.execute_order(Order.market("X", "buy", 1))


async def test_not_initialized_is_unavailable_and_unhealthy(make_plugin: Any) -> None:
    plugin = make_plugin()
    with pytest.raises(BrokerUnavailable, match="not initialized"):
        await plugin.execute_order(Order.market("X", "buy", 1))
    assert (await plugin.health_check()).healthy is False
    with pytest.raises(TypeError, match="takes an Order"):
        await plugin.execute_order({"symbol": "X"})


async def test_init_failure_is_plugin_init_error_without_secret(make_plugin: Any) -> None:
    plugin = make_plugin()
    with pytest.raises(PluginInitError, match="terminal not running") as info:
        await plugin.init({"api_key": SECRET, "fail_connect": True})
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigurationError, match="unknown config key"):
        await plugin.init({"api_kye": SECRET})


async def test_secrets_never_in_repr_errors_or_results(
    make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plugin = await started(make_plugin)
    plugin.on_order = lambda order: RuntimeError(f"bad signature for key {SECRET}")
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert SECRET not in (result.error or "")
    assert "**********" in (result.error or "")
    assert SECRET not in repr(plugin) + repr(plugin.config) + str(plugin.config.model_dump())
    assert SECRET not in caplog.text
    with pytest.raises(ConfigurationError) as info:
        await make_plugin().init({"api_key": SECRET, "fail_connect": "maybe"})
    assert SECRET not in str(info.value)
    assert "maybe" not in str(info.value)


async def test_close_is_idempotent_and_init_twice_is_refused(make_plugin: Any) -> None:
    plugin = await started(make_plugin)
    with pytest.raises(PluginInitError, match="already initialized"):
        await plugin.init()
    await plugin.close()
    await plugin.close()
    assert plugin.closed == 1
    assert not plugin.is_initialized


async def test_health_check_exceptions_are_reported_not_raised() -> None:
    plugin = MockPlugin()
    await plugin.init()

    async def broken() -> Any:
        raise OSError("pipe broken")

    plugin._health_check = broken  # type: ignore[method-assign]
    status = await plugin.health_check()
    assert status.healthy is False
    assert "pipe broken" in status.detail
    assert status.latency_ms is not None
