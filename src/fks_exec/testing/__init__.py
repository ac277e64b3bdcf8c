"""Tools for testing strategies and plugins against fks-exec.

* pytest fixtures (loaded automatically when fks-exec is installed):
  ``fks_mock_broker``, ``fks_mock_plugin``, ``fks_registry``, ``fks_executor``,
  ``fks_sync_executor`` (see :mod:`fks_exec.testing.pytest_plugin`);
* hypothesis strategies: :func:`orders`, :func:`invalid_order_inputs`
  (:mod:`fks_exec.testing.strategies`; needs ``pip install hypothesis``);
* the plugin conformance suite every plugin's tests subclass:
  :class:`PluginConformance` and :class:`ConformanceTarget`;
* :class:`FaultInjection`, the fault vocabulary every fake broker implements;
* :func:`isolated_registry`, a registry holding exactly the plugins given, untouched by
  what is installed and by ``FKS_EXEC_*`` variables.

Names are imported on first use, so the pytest plugin does not pull hypothesis in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ConformanceTarget": "fks_exec.testing.conformance",
    "FaultInjection": "fks_exec.testing.faults",
    "PluginConformance": "fks_exec.testing.conformance",
    "invalid_order_inputs": "fks_exec.testing.strategies",
    "isolated_registry": "fks_exec.testing.registries",
    "orders": "fks_exec.testing.strategies",
}

__all__ = [
    "ConformanceTarget",
    "FaultInjection",
    "PluginConformance",
    "invalid_order_inputs",
    "isolated_registry",
    "orders",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fks_exec.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from fks_exec.testing.conformance import ConformanceTarget, PluginConformance
    from fks_exec.testing.faults import FaultInjection
    from fks_exec.testing.registries import isolated_registry
    from fks_exec.testing.strategies import invalid_order_inputs, orders
