"""fks-exec: one order API for trading strategy code over many brokers.

Build an :class:`Order`, hand it to an :class:`Executor` (or :class:`SyncExecutor`),
and an installed broker plugin executes it::

    from fks_exec import Executor, Order

    async with Executor(default="mock") as ex:
        result = await ex.execute(Order.market("BTC/USDT", "buy", "0.01"))

The public names below are imported on first use, so ``import fks_exec`` and plugin
discovery stay cheap for command-line tools.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# A library logs; the application decides where records go (no "No handlers" warning).
logging.getLogger("fks_exec").addHandler(logging.NullHandler())

_EXPORTS = {
    "BrokerUnavailable": "fks_exec.errors",
    "Capability": "fks_exec.plugin",
    "ConfigurationError": "fks_exec.errors",
    "DuplicateClientOrderId": "fks_exec.errors",
    "ErrorCode": "fks_exec.models",
    "ExecutionPlugin": "fks_exec.plugin",
    "ExecutionResult": "fks_exec.models",
    "Executor": "fks_exec.executor",
    "FksExecError": "fks_exec.errors",
    "HealthStatus": "fks_exec.models",
    "MarketData": "fks_exec.models",
    "NotSupported": "fks_exec.errors",
    "Order": "fks_exec.models",
    "OrderDenied": "fks_exec.errors",
    "OrderSide": "fks_exec.models",
    "OrderStatus": "fks_exec.models",
    "OrderType": "fks_exec.models",
    "OutcomeUnknown": "fks_exec.errors",
    "PluginConfig": "fks_exec.config",
    "PluginInfo": "fks_exec.registry",
    "PluginInitError": "fks_exec.errors",
    "PluginLoadError": "fks_exec.errors",
    "PluginNotFound": "fks_exec.errors",
    "PluginRegistry": "fks_exec.registry",
    "Position": "fks_exec.models",
    "RoutingError": "fks_exec.errors",
    "SyncExecutor": "fks_exec.sync",
    "TimeInForce": "fks_exec.models",
}

__all__ = [
    "BrokerUnavailable",
    "Capability",
    "ConfigurationError",
    "DuplicateClientOrderId",
    "ErrorCode",
    "ExecutionPlugin",
    "ExecutionResult",
    "Executor",
    "FksExecError",
    "HealthStatus",
    "MarketData",
    "NotSupported",
    "Order",
    "OrderDenied",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OutcomeUnknown",
    "PluginConfig",
    "PluginInfo",
    "PluginInitError",
    "PluginLoadError",
    "PluginNotFound",
    "PluginRegistry",
    "Position",
    "RoutingError",
    "SyncExecutor",
    "TimeInForce",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fks_exec' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fks_exec.config import PluginConfig
    from fks_exec.errors import (
        BrokerUnavailable,
        ConfigurationError,
        DuplicateClientOrderId,
        FksExecError,
        NotSupported,
        OrderDenied,
        OutcomeUnknown,
        PluginInitError,
        PluginLoadError,
        PluginNotFound,
        RoutingError,
    )
    from fks_exec.executor import Executor
    from fks_exec.models import (
        ErrorCode,
        ExecutionResult,
        HealthStatus,
        MarketData,
        Order,
        OrderSide,
        OrderStatus,
        OrderType,
        Position,
        TimeInForce,
    )
    from fks_exec.plugin import Capability, ExecutionPlugin
    from fks_exec.registry import PluginInfo, PluginRegistry
    from fks_exec.sync import SyncExecutor
