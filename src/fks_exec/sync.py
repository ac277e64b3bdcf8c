"""Blocking twin of the executor for scripts and notebooks: :class:`SyncExecutor`."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from fks_exec.executor import Executor
from fks_exec.models import ExecutionResult, HealthStatus, MarketData, Order, Position
from fks_exec.registry import PluginRegistry

__all__ = ["SyncExecutor"]

T = TypeVar("T")


class SyncExecutor:
    """The :class:`Executor` API, blocking.

    One event loop runs on a background thread for the executor's whole life, so plugin
    connections survive between calls and plugin authors write async code only. Use it
    as ``with SyncExecutor(default="mock") as ex: ex.execute(order)``. Takes the same
    arguments as :class:`Executor`, or an existing one as ``executor=``. Each method
    raises what its async twin raises; calling one after :meth:`close` raises
    ``RuntimeError``.
    """

    def __init__(
        self,
        registry: PluginRegistry | None = None,
        *,
        executor: Executor | None = None,
        **kwargs: Any,
    ) -> None:
        if executor is not None and (registry is not None or kwargs):
            raise TypeError("pass either executor= or Executor arguments, not both")
        self._executor = executor if executor is not None else Executor(registry, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fks-exec-sync-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

    @classmethod
    def from_env(cls, registry: PluginRegistry | None = None, **overrides: Any) -> SyncExecutor:
        """Like :meth:`Executor.from_env`, blocking."""
        return cls(executor=Executor.from_env(registry, **overrides))

    def __repr__(self) -> str:
        return f"<SyncExecutor {self._executor!r}>"

    def __enter__(self) -> SyncExecutor:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def executor(self) -> Executor:
        """The async executor doing the work."""
        return self._executor

    @property
    def registry(self) -> PluginRegistry:
        """The registry the executor takes its plugins from."""
        return self._executor.registry

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError("this SyncExecutor is closed; create a new one")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def start(self, *, strict: bool = False) -> dict[str, BaseException]:
        """Start the planned plugins; see :meth:`Executor.start`."""
        return self._run(self._executor.start(strict=strict))

    def close(self) -> None:
        """Close every plugin and stop the background loop. Safe to call twice."""
        if self._closed:
            return
        try:
            self._run(self._executor.close())
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Send an order; see :meth:`Executor.execute`."""
        return self._run(self._executor.execute(order, plugin))

    def execute_signal(self, signal: Any, mapping: Any = None) -> ExecutionResult:
        """Execute a trading signal; see :meth:`Executor.execute_signal`."""
        return self._run(self._executor.execute_signal(signal, mapping))

    def get_order(self, client_order_id: str, plugin: str | None = None) -> ExecutionResult | None:
        """Look an order up; see :meth:`Executor.get_order`."""
        return self._run(self._executor.get_order(client_order_id, plugin))

    def cancel(
        self, order_id: str, *, symbol: str | None = None, plugin: str | None = None
    ) -> ExecutionResult:
        """Cancel an order; see :meth:`Executor.cancel`."""
        return self._run(self._executor.cancel(order_id, symbol=symbol, plugin=plugin))

    def fetch_data(self, symbol: str, plugin: str | None = None) -> MarketData:
        """Quote a symbol; see :meth:`Executor.fetch_data`."""
        return self._run(self._executor.fetch_data(symbol, plugin))

    def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions; see :meth:`Executor.positions`."""
        return self._run(self._executor.positions(plugin))

    def health(self) -> dict[str, HealthStatus]:
        """Plugins' health; see :meth:`Executor.health`."""
        return self._run(self._executor.health())
