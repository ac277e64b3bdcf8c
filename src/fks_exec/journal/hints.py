"""A plugin's lookup hints for the journal: what a later process needs to find an order
again at the broker (see :meth:`~fks_exec.plugin.ExecutionPlugin.lookup_hints`)."""

from __future__ import annotations

from typing import TypeGuard

from fks_exec.models import ExecutionResult, Order
from fks_exec.plugin import ExecutionPlugin

__all__ = ["gives_hints", "lookup_hints"]

_NO_HINTS_HOOK = ExecutionPlugin._lookup_hints


def gives_hints(plugin: ExecutionPlugin | None) -> TypeGuard[ExecutionPlugin]:
    """True when ``plugin`` has its own ``_lookup_hints`` hook: one that keeps the base
    class's gives no hints and is never asked (False without a plugin). Never raises."""
    return plugin is not None and (
        getattr(plugin._lookup_hints, "__func__", None) is not _NO_HINTS_HOOK
    )


def lookup_hints(
    plugin: ExecutionPlugin | None, order: Order, result: ExecutionResult | None
) -> dict[str, str]:
    """The plugin's hints for finding ``order`` again ({} without a plugin, or for a
    plugin that keeps the base class's hook, which gives none, without calling it)."""
    if not gives_hints(plugin):
        return {}
    return plugin.lookup_hints(order, result)
