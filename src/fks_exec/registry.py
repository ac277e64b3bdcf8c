"""The one owner of plugin lifecycle: :class:`PluginRegistry`.

Finding and loading plugins is :class:`~fks_exec._discovery.PluginCatalog`'s job
(synchronous, no I/O, entry points read once and lazily); this class adds what happens
to a loaded plugin: start (once; concurrent callers wait for the first), failure (the
error and when it happened, so a plugin that failed is left alone for a while), health
and close. Everything is fail-soft: a plugin that cannot be imported or started is
recorded with its error and logged, and the others keep working (``strict=True``
makes such failures fatal instead). The executor asks this registry, and nothing
else, whether a plugin is started.

This module imports asyncio and the plugin base class only inside the methods that use
them, so listing plugins stays cheap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fks_exec._discovery import ENTRY_POINT_GROUP, INSTALL_HINTS, PluginCatalog, PluginInfo
from fks_exec.errors import (
    BrokerUnavailable,
    ConfigurationError,
    FksExecError,
    PluginInitError,
    PluginLoadError,
)

if TYPE_CHECKING:
    from fks_exec.models import HealthStatus
    from fks_exec.plugin import ExecutionPlugin


__all__ = ["ENTRY_POINT_GROUP", "INSTALL_HINTS", "PluginInfo", "PluginRegistry"]

logger = logging.getLogger("fks_exec.registry")

DEFAULT_HEALTH_TIMEOUT_S = 5.0


class PluginRegistry(PluginCatalog):
    """The set of plugins available to an executor, loaded lazily and started fail-soft.

    ``enabled`` and ``disabled`` default to the ``FKS_EXEC_PLUGINS`` (allowlist) and
    ``FKS_EXEC_DISABLED`` (denylist) variables. ``discover`` defaults to True: installed
    entry points are read on first need. Pass ``discover=False`` for a registry that
    holds only what is :meth:`register`-ed.
    """

    def __init__(
        self,
        *,
        enabled: Iterable[str] | None = None,
        disabled: Iterable[str] | None = None,
        discover: bool = True,
        group: str = ENTRY_POINT_GROUP,
    ) -> None:
        super().__init__(enabled=enabled, disabled=disabled, discover=discover, group=group)
        self._failures: dict[str, BaseException] = {}
        self._failed_at: dict[str, float] = {}
        self._init_locks: dict[str, Any] = {}  # name -> asyncio.Lock
        self.instances: Mapping[str, ExecutionPlugin] = self._instances
        """Every loaded plugin by name, started or not, to read (the executor's hot path
        reads it and the plugin's ``is_initialized`` instead of calling :meth:`started`)."""

    def register(
        self,
        name: str,
        plugin: ExecutionPlugin | type[ExecutionPlugin],
        *,
        replace: bool = False,
    ) -> None:
        """Add a plugin class or instance by hand (tests, notebooks); a failure recorded
        under ``name`` is forgotten. Raises as :meth:`PluginCatalog.register`."""
        super().register(name, plugin, replace=replace)
        self._forget_failure(name)

    def load(self, name: str) -> ExecutionPlugin:
        """Import and instantiate a plugin (once); a :class:`PluginLoadError` is also
        recorded in :attr:`failures`. Raises as :meth:`PluginCatalog.load`."""
        fresh = name not in self._instances
        try:
            instance = super().load(name)
        except PluginLoadError as exc:
            self._record_failure(name, exc)
            raise
        if fresh:  # loaded at last: an earlier load failure no longer holds
            self._forget_failure(name)
        return instance

    # ------------------------------------------------------------------ state

    def started(self, name: str) -> ExecutionPlugin | None:
        """The plugin if it is loaded and started, else None (never loads or starts)."""
        plugin = self._instances.get(name)
        return plugin if plugin is not None and plugin.is_initialized else None

    def is_initialized(self, name: str) -> bool:
        """True when the plugin is loaded and its ``init`` succeeded."""
        return self.started(name) is not None

    @property
    def failures(self) -> Mapping[str, BaseException]:
        """Plugins that failed to load or start, with their errors (read-only view)."""
        return MappingProxyType(self._failures)

    def failed_within(self, name: str, seconds: float) -> BaseException | None:
        """The error of ``name``'s last failed load or start if it was less than
        ``seconds`` ago (the executor leaves such a plugin alone), else None."""
        failed_at = self._failed_at.get(name)
        if failed_at is None or time.monotonic() - failed_at >= seconds:
            return None
        return self._failures.get(name)

    def _record_failure(self, name: str, error: BaseException) -> None:
        self._failures[name] = error
        self._failed_at[name] = time.monotonic()

    def _forget_failure(self, name: str) -> None:
        self._failures.pop(name, None)
        self._failed_at.pop(name, None)

    # ------------------------------------------------------------------ lifecycle

    async def init(self, name: str, config: Mapping[str, Any] | None = None) -> ExecutionPlugin:
        """Load and start one plugin (once; concurrent callers wait for the first).

        Raises what :meth:`load` raises, :class:`ConfigurationError` and
        :class:`PluginInitError`; the failure is also recorded in :attr:`failures`.
        """
        import asyncio

        plugin = self.get(name)
        lock = self._init_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if plugin.is_initialized:
                return plugin
            try:
                await plugin.init(config)
            except FksExecError as exc:
                self._record_failure(name, exc)
                raise
            except Exception as exc:  # a plugin overriding init() outside the contract
                error = PluginInitError(f"plugin {name!r} failed to start: {exc}")
                self._record_failure(name, error)
                raise error from exc
            self._forget_failure(name)
        return plugin

    async def ensure_started(
        self, name: str, config: Mapping[str, Any] | None, retry_after_s: float
    ) -> ExecutionPlugin:
        """The plugin, started now if it is not yet, unless it failed less than
        ``retry_after_s`` ago (then its error is raised again at once).

        Raises :class:`PluginNotFound` for an unknown name, :class:`ConfigurationError`
        for settings to fix (never an outage: a fallback would hide the mistake) and
        :class:`BrokerUnavailable` when it cannot be loaded or started.
        """
        plugin = self.started(name)
        if plugin is not None:
            return plugin
        error = self.failed_within(name, retry_after_s)
        if error is not None:
            if isinstance(error, ConfigurationError):
                raise ConfigurationError(str(error))
            raise BrokerUnavailable(f"plugin {name!r} is unavailable: {error}")
        try:
            return await self.init(name, config)
        except (PluginLoadError, PluginInitError) as exc:
            raise BrokerUnavailable(f"plugin {name!r} is unavailable: {exc}") from exc

    async def init_all(
        self,
        configs: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        names: Iterable[str] | None = None,
        strict: bool = False,
    ) -> dict[str, BaseException]:
        """Start the enabled plugins (or ``names``) concurrently; return the failures.

        A plugin that fails to load or start is logged as a warning, recorded in
        :attr:`failures` and skipped; the rest go on. With ``strict=True`` the first
        failure is raised instead, after every start has finished.
        """
        import asyncio

        configs = configs or {}
        selected = sorted(set(names) if names is not None else self.list_names())
        outcomes = await asyncio.gather(
            *(self.init(name, configs.get(name)) for name in selected), return_exceptions=True
        )
        failures: dict[str, BaseException] = {}
        for name, outcome in zip(selected, outcomes, strict=False):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome  # cancellation and interrupts are not plugin failures
                failures[name] = outcome
                logger.warning("plugin %r is unavailable: %s", name, outcome)
        if strict and failures:
            name, error = next(iter(failures.items()))
            raise error
        return failures

    async def health(self, timeout: float = DEFAULT_HEALTH_TIMEOUT_S) -> dict[str, HealthStatus]:
        """Every started or failed plugin's health, checked concurrently.

        A check that raises or takes longer than ``timeout`` seconds is reported as
        unhealthy; this method never raises for a plugin's failure.
        """
        import asyncio

        from fks_exec.models import HealthStatus

        started = {n: p for n, p in self._instances.items() if p.is_initialized}
        report = {
            name: HealthStatus(healthy=False, detail=f"failed to start: {error}")
            for name, error in self._failures.items()
            if name not in started
        }
        checks = await asyncio.gather(
            *(_timed_health(p, timeout) for p in started.values()), return_exceptions=False
        )
        report.update(zip(started, checks, strict=False))
        return dict(sorted(report.items()))

    async def close_all(self) -> None:
        """Close every started plugin; one failing ``close`` is logged, the rest still run."""
        import asyncio

        plugins = [p for p in self._instances.values() if p.is_initialized]
        outcomes = await asyncio.gather(*(p.close() for p in plugins), return_exceptions=True)
        for plugin, outcome in zip(plugins, outcomes, strict=False):
            if isinstance(outcome, BaseException):
                logger.error("closing plugin %r failed: %r", plugin.name, outcome)


async def _timed_health(plugin: ExecutionPlugin, timeout: float) -> HealthStatus:
    import asyncio

    from fks_exec.models import HealthStatus

    try:
        return await asyncio.wait_for(plugin.health_check(), timeout)
    except asyncio.TimeoutError:
        return HealthStatus(
            healthy=False, latency_ms=timeout * 1000, detail="health check timed out"
        )
    except Exception as exc:
        return HealthStatus(healthy=False, detail=plugin.redact(f"{type(exc).__name__}: {exc}"))
