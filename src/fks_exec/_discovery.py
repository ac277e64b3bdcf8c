"""Finding and loading plugins, synchronously and without I/O: :class:`PluginCatalog`.

Plugins are found through the ``fks_exec.plugins`` entry-point group, read once and
lazily (on the first question that needs them), without importing any plugin; a
plugin is imported and instantiated when first loaded. Starting, failing and closing
plugins is :class:`~fks_exec.registry.PluginRegistry`'s job, built on this catalog.

This module imports only what discovery needs (the plugin base class is imported by
the methods that use it), so listing plugins stays cheap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from fks_exec._names import parse_name_list, split_instance
from fks_exec.errors import ConfigurationError, PluginLoadError, PluginNotFound

if TYPE_CHECKING:
    from fks_exec.plugin import ExecutionPlugin


__all__ = ["ENTRY_POINT_GROUP", "INSTALL_HINTS", "PluginCatalog", "PluginInfo"]

logger = logging.getLogger("fks_exec.registry")

ENTRY_POINT_GROUP = "fks_exec.plugins"

INSTALL_HINTS: Mapping[str, str] = MappingProxyType(
    {"ccxt": "fks-exec-ccxt", "mt5": "fks-exec-mt5", "ninja": "fks-exec-ninja"}
)
"""Distributions that provide the well-known plugins, for 'pip install' hints."""


class PluginInfo(NamedTuple):
    """A discovered or registered plugin, described without importing it."""

    name: str
    target: str
    """``module:attribute`` of the entry point, or ``<registered>``."""
    distribution: str | None = None
    version: str | None = None


class PluginCatalog:
    """The plugins installed (entry points) or registered by hand, loaded lazily.

    ``enabled`` and ``disabled`` default to the ``FKS_EXEC_PLUGINS`` (allowlist) and
    ``FKS_EXEC_DISABLED`` (denylist) variables. ``discover`` defaults to True: installed
    entry points are read on first need. Pass ``discover=False`` for a registry that
    holds only what is :meth:`register`-ed.
    """

    def __init__(
        self,
        *,
        enabled: Iterable[str] | None,
        disabled: Iterable[str] | None,
        discover: bool,
        group: str,
    ) -> None:  # no defaults: PluginRegistry, the only subclass, documents and passes them
        env_enabled = os.environ.get("FKS_EXEC_PLUGINS")
        self._enabled = (
            frozenset(enabled)
            if enabled is not None
            else (frozenset(parse_name_list(env_enabled)) if env_enabled else None)
        )
        self._disabled = frozenset(
            disabled
            if disabled is not None
            else parse_name_list(os.environ.get("FKS_EXEC_DISABLED"))
        )
        self._group = group
        self._discover_pending = discover
        self._infos: dict[str, PluginInfo] = {}
        self._entry_points: dict[str, EntryPoint] = {}
        self._conflicts: dict[str, str] = {}
        self._registered: dict[str, ExecutionPlugin | type[ExecutionPlugin]] = {}
        self._instances: dict[str, ExecutionPlugin] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} plugins={sorted(self._known())}>"

    # ------------------------------------------------------------------ discovery

    def discover(self) -> list[PluginInfo]:
        """Read the entry points of the group without importing them.

        Returns every plugin found, sorted by name, enabled or not. A name claimed by
        two distributions is recorded as a failure of that name (loading it raises
        :class:`PluginLoadError` naming both) and logged; it never stops discovery.
        """
        by_name: dict[str, list[EntryPoint]] = {}
        for ep in entry_points(group=self._group):
            by_name.setdefault(ep.name, []).append(ep)
        for name, eps in by_name.items():
            dists = {_dist_name(ep): ep for ep in eps}
            if len(dists) > 1:
                owners = " and ".join(sorted(f"{d} ({ep.value})" for d, ep in dists.items()))
                message = (
                    f"plugin name {name!r} is claimed by two distributions: {owners}; "
                    "uninstall one of them"
                )
                self._conflicts[name] = message
                logger.warning("%s", message)
                continue
            ep = eps[0]
            self._entry_points[name] = ep
            self._infos[name] = PluginInfo(
                name=name,
                target=ep.value,
                distribution=_dist_name(ep),
                version=ep.dist.version if ep.dist is not None else None,
            )
        self._discover_pending = False
        return [self._infos[name] for name in sorted(self._infos)]

    def _ensure_discovered(self) -> None:
        if self._discover_pending:
            self.discover()

    def register(
        self,
        name: str,
        plugin: ExecutionPlugin | type[ExecutionPlugin],
        *,
        replace: bool,
    ) -> None:
        """Add a plugin class or instance by hand (tests, notebooks).

        Raises ``ValueError`` when ``name`` is taken (pass ``replace=True`` to
        override) and ``TypeError`` when ``plugin`` is not an ``ExecutionPlugin``.
        """
        if not _is_plugin(plugin):
            raise TypeError(
                f"register({name!r}, ...) takes an ExecutionPlugin subclass or instance, "
                f"got {plugin!r}"
            )
        self._ensure_discovered()
        if not replace and (name in self._registered or name in self._instances):
            raise ValueError(f"plugin {name!r} is already registered; pass replace=True")
        from fks_exec.plugin import ExecutionPlugin

        kind = _kind(name)
        if isinstance(plugin, ExecutionPlugin) and kind != name and plugin.name != name:
            plugin.bind_instance_name(name)  # an object registered as 'ccxt:okx' is that
        self._registered[name] = plugin
        self._instances.pop(name, None)
        self._conflicts.pop(name, None)
        self._infos[name] = PluginInfo(name=name, target="<registered>")

    # ------------------------------------------------------------------ queries

    def _known(self) -> set[str]:
        self._ensure_discovered()
        return set(self._infos) | set(self._conflicts) | set(self._registered)

    def is_enabled(self, name: str) -> bool:
        """True unless ``name`` is outside the allowlist or on the denylist.

        A named instance (``ccxt:okx-testnet``) is enabled when it or its plugin is
        allowed and neither is denied.
        """
        kind = _kind(name)
        if name in self._registered:
            return name not in self._disabled
        allowed = self._enabled is None or name in self._enabled or kind in self._enabled
        return allowed and name not in self._disabled and kind not in self._disabled

    def list_names(self) -> list[str]:
        """Names of the enabled plugins, sorted."""
        return sorted(name for name in self._known() if self.is_enabled(name))

    def list_infos(self) -> list[PluginInfo]:
        """Every known plugin (enabled or not), sorted by name."""
        self._ensure_discovered()
        return [self._infos[name] for name in sorted(self._infos)]

    def is_loaded(self, name: str) -> bool:
        """True when the plugin has been imported and instantiated."""
        return name in self._instances

    # ------------------------------------------------------------------ loading

    def load(self, name: str) -> ExecutionPlugin:
        """Import and instantiate a plugin (once; later calls return the same instance).

        Raises :class:`PluginNotFound` for an unknown name (listing the known ones and
        the distribution to install), :class:`ConfigurationError` for a disabled one and
        :class:`PluginLoadError` when the import fails or two distributions claim it.
        """
        instance = self._instances.get(name)
        if instance is not None:
            return instance
        known = self._known()
        if name not in known and _kind(name) not in known:
            raise PluginNotFound(self._not_found_message(name))
        if not self.is_enabled(name):
            raise ConfigurationError(
                f"plugin {name!r} is disabled (FKS_EXEC_PLUGINS / FKS_EXEC_DISABLED); "
                "enable it there to use it"
            )
        conflict = self._conflicts.get(name) or self._conflicts.get(_kind(name))
        if conflict is not None:
            raise PluginLoadError(conflict)
        try:
            instance = self._instantiate(name)
        except Exception as exc:
            error = PluginLoadError(f"plugin {name!r} failed to load: {type(exc).__name__}: {exc}")
            if name in INSTALL_HINTS and isinstance(exc, ImportError):
                error = PluginLoadError(
                    f"{error}; reinstall it with: pip install {INSTALL_HINTS[name]}"
                )
            logger.warning("%s", error)
            raise error from exc
        self._instances[name] = instance
        return instance

    def get(self, name: str) -> ExecutionPlugin:
        """Return the plugin instance, loading it if needed. Raises as :meth:`load`."""
        return self._instances.get(name) or self.load(name)

    def _instantiate(self, name: str) -> ExecutionPlugin:
        from fks_exec.plugin import ExecutionPlugin

        kind = _kind(name)
        if name in self._registered:
            obj: Any = self._registered[name]
        elif kind in self._registered:
            obj = self._registered[kind]
            if isinstance(obj, ExecutionPlugin):  # one object cannot be two instances
                obj = type(obj)
        else:
            obj = self._entry_points[kind].load()
        if isinstance(obj, ExecutionPlugin):
            return obj
        if isinstance(obj, type) and issubclass(obj, ExecutionPlugin):
            instance = obj()
            if kind != name:
                instance.bind_instance_name(name)
            elif getattr(obj, "name", name) != name:
                logger.warning(
                    "plugin class %s says its name is %r but is registered as %r",
                    obj.__qualname__,
                    obj.name,
                    name,
                )
            return instance
        raise TypeError(f"{obj!r} is not an ExecutionPlugin subclass or instance")

    def _not_found_message(self, name: str) -> str:
        import difflib

        known = sorted(self._known())
        parts = [f"no plugin named {name!r}."]
        if name in INSTALL_HINTS:
            parts.append(f"Install it with: pip install {INSTALL_HINTS[name]}.")
        else:
            close = difflib.get_close_matches(name, known + list(INSTALL_HINTS), n=1)
            if close:
                parts.append(f"Did you mean {close[0]!r}?")
        parts.append(f"Known plugins: {', '.join(known) or 'none'}.")
        missing = [f"{n} (pip install {d})" for n, d in INSTALL_HINTS.items() if n not in known]
        if missing and name not in INSTALL_HINTS:
            parts.append(f"Installable: {', '.join(missing)}.")
        return " ".join(parts)


def _dist_name(ep: EntryPoint) -> str | None:
    dist = ep.dist
    return None if dist is None else dist.name


def _is_plugin(obj: object) -> bool:
    from fks_exec.plugin import ExecutionPlugin

    return isinstance(obj, ExecutionPlugin) or (
        isinstance(obj, type) and issubclass(obj, ExecutionPlugin)
    )


def _kind(name: str) -> str:
    """The plugin a name refers to: ``ccxt`` for ``ccxt`` and for ``ccxt:okx-testnet``.

    Raises :class:`ConfigurationError` for a malformed instance name.
    """
    try:
        return split_instance(name)[0]
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
