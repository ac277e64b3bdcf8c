"""Which plugins an executor uses, and which one an order goes to: :class:`Routes`
(checked once, looked up per order) and :class:`Plan` (routes, configs, the
paper/live guard).

``plugin=`` wins, then the first symbol glob that matches, then the default. Fallbacks
name the plugins tried, in order, when one is unavailable (nothing was sent).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from fks_exec._paper_guard import PaperLiveGuard
from fks_exec.config import check_durations
from fks_exec.errors import ConfigurationError, FksExecError, RoutingError
from fks_exec.models import Order
from fks_exec.registry import PluginRegistry

__all__ = [
    "Plan",
    "Routes",
    "call_error",
    "check_limits",
    "checked_configs",
    "checked_names",
    "plugin_error",
]

_ROUTE_CACHE_LIMIT = 10_000


class Routes:
    """The executor's ``default``, ``routes`` and ``fallbacks``, validated.

    Raises :class:`ConfigurationError` for a malformed route or fallback list.
    """

    def __init__(
        self,
        default: str | None,
        routes: Mapping[str, str] | None,
        fallbacks: Mapping[str, Iterable[str]] | None,
    ) -> None:
        self.default = default or None
        self.routes = _checked_routes(routes or {})
        self.fallbacks: dict[str, tuple[str, ...]] = {
            primary: tuple(checked_names(names, f"fallbacks[{primary!r}]"))
            for primary, names in (fallbacks or {}).items()
        }
        self.sole = self.default if not self.routes else None
        """The plugin every symbol goes to (no routes: the default), or None; the
        executor's hot path reads it before any symbol."""
        self._cache: dict[str, str] = {}
        self.resolved: Mapping[str, str] = self._cache
        """Symbols already routed (without ``plugin=``) and their plugin, to read: the
        executor's hot path looks here before calling :meth:`route`."""

    def __repr__(self) -> str:
        return f"default={self.default!r} routes={self.routes!r} fallbacks={self.fallbacks!r}"

    def route(self, symbol: str, plugin: str | None = None) -> str:
        """Name the plugin an order for ``symbol`` goes to (``plugin`` if given).

        Raises :class:`RoutingError` when no explicit plugin, route or default applies.
        """
        if plugin:
            if not isinstance(plugin, str):
                raise plugin_error(plugin)
            return plugin
        cached = self._cache.get(symbol)
        if cached is not None:
            return cached
        chosen = next(
            (name for pattern, name in self.routes.items() if fnmatch.fnmatchcase(symbol, pattern)),
            self.default,
        )
        if chosen is None:
            raise RoutingError(
                f"no plugin for symbol {symbol!r}: pass plugin=, add a route "
                "(routes= or FKS_EXEC_ROUTES) or set a default (default= or FKS_EXEC_DEFAULT)"
            )
        if len(self._cache) >= _ROUTE_CACHE_LIMIT:
            self._cache.clear()
        self._cache[symbol] = chosen
        return chosen

    def candidates(self, primary: str) -> tuple[str, ...]:
        """``primary`` and then its fallbacks, in the order they are tried."""
        return (primary, *self.fallbacks.get(primary, ()))

    def named(self) -> set[str]:
        """Every plugin the default, the routes and the fallbacks name."""
        named = {self.default} if self.default else set()
        named.update(self.routes.values())
        for primary, others in self.fallbacks.items():
            named.add(primary)
            named.update(others)
        return named


class Plan:
    """What an executor is configured to use: its :class:`Routes`, each plugin's
    config, and the :class:`PaperLiveGuard` over its fallbacks.

    Raises :class:`ConfigurationError` for malformed routes, fallbacks, configs or
    allowed paper fallbacks.
    """

    def __init__(
        self,
        default: str | None,
        routes: Mapping[str, str] | None,
        fallbacks: Mapping[str, Iterable[str]] | None,
        configs: Mapping[str, Mapping[str, Any]] | None,
        allow_paper_fallback: Mapping[str, Iterable[str]] | None,
    ) -> None:
        self.routes = Routes(default, routes, fallbacks)
        self.configs: dict[str, Mapping[str, Any]] = checked_configs(configs)
        allowed = {
            primary: checked_names(names, f"allow_paper_fallback[{primary!r}]")
            for primary, names in (allow_paper_fallback or {}).items()
        }
        self.paper_guard = PaperLiveGuard(self.routes.fallbacks, allowed, self.configs)

    def planned(self, registry: PluginRegistry) -> list[str]:
        """The plugins named by routes, fallbacks and configs (all of ``registry``'s
        enabled ones when none is named), sorted."""
        named = self.routes.named() | set(self.configs)
        return sorted(named) if named else registry.list_names()

    def live_candidates(self, registry: PluginRegistry) -> list[str]:
        """The planned plugins that may reach real money: all but those configured with
        ``paper=True`` (none when the registry cannot even list its plugins)."""
        try:
            named = self.planned(registry)
        except FksExecError:
            named = []
        return [n for n in named if self.configs.get(n, {}).get("paper") is not True]


def call_error(order: object, plugin: object) -> TypeError:
    """The ``TypeError`` for an ``execute(order, plugin)`` whose ``order`` is not an
    :class:`~fks_exec.Order` (said first) or whose ``plugin`` is not None or a name."""
    if not isinstance(order, Order):
        return TypeError(
            f"execute takes an Order, got {type(order).__name__}; build one with "
            "Order.market(...) or Order.limit(...)"
        )
    return plugin_error(plugin)


def plugin_error(plugin: object) -> TypeError:
    """The ``TypeError`` for a ``plugin=`` that is neither None nor a plugin name."""
    return TypeError(
        f"plugin= takes a plugin name (text such as 'mock' or 'ccxt:okx-testnet') or "
        f"None, got {type(plugin).__name__} {plugin!r}; nothing was sent"
    )


def check_limits(*, reconcile_attempts: int, history_size: int, **durations_s: float) -> None:
    """Refuse an executor's counts and durations (seconds) out of range with a
    :class:`ConfigurationError` naming the setting."""
    check_durations(**durations_s)
    if reconcile_attempts < 0:
        raise ConfigurationError(f"reconcile_attempts must be 0 or more, got {reconcile_attempts}")
    if durations_s["health_timeout_s"] <= 0:
        raise ConfigurationError(
            f"health_timeout_s must be more than 0 s, got {durations_s['health_timeout_s']}"
        )
    if history_size < 1:
        raise ConfigurationError(f"history_size must be at least 1, got {history_size}")


def checked_configs(configs: Any) -> dict[str, Mapping[str, Any]]:
    """``configs`` as ``{plugin: {field: value}}`` (None is ``{}``).

    Raises :class:`ConfigurationError` naming the entry that is not a dict of settings.
    """
    if configs is None:
        return {}
    if not isinstance(configs, Mapping):
        raise ConfigurationError("configs must map plugin names to dicts of settings")
    checked: dict[str, Mapping[str, Any]] = {}
    for name, values in configs.items():
        if values is None:
            values = {}
        if not isinstance(name, str) or not isinstance(values, Mapping):
            raise ConfigurationError(
                f"configs[{name!r}] must be a dict of settings, e.g. {{'mock': {{'cash': 1000}}}}"
            )
        checked[name] = dict(values)
    return checked


def _checked_routes(routes: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(routes, Mapping):
        raise ConfigurationError("routes must be a mapping of symbol glob to plugin name")
    for pattern, name in routes.items():
        if not isinstance(pattern, str) or not pattern or not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"route {pattern!r} -> {name!r} is invalid; use e.g. {{'*/USDT': 'ccxt'}}"
            )
    return dict(routes)


def checked_names(names: Iterable[str], what: str) -> list[str]:
    """``names`` as a list of plugin names. Raises :class:`ConfigurationError` (saying
    ``what`` was wrong) for a bare string or an entry that is not a non-empty string."""
    if isinstance(names, str):
        raise ConfigurationError(f"{what} must be a list of plugin names, not a string")
    checked = list(names)
    if not all(isinstance(n, str) and n for n in checked):
        raise ConfigurationError(f"{what} must contain plugin names")
    return checked
