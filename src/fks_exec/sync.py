"""Blocking twin of the executor for scripts and notebooks: :class:`SyncExecutor`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
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
    ``RuntimeError``. It may be called from several threads at once; to drive a
    simulator (the mock's quotes) from a thread, use :meth:`call_in_loop`.
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
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[Any]] = set()

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
        with self._lock:
            if self._closed:
                coro.close()
                raise RuntimeError("this SyncExecutor is closed; create a new one")
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
            self._pending.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise RuntimeError(
                "SyncExecutor.close() ended this call before it finished; an order it was "
                "sending is recorded unknown in the journal: reconcile it with get_order"
            ) from None
        finally:
            self._pending.discard(future)

    def call_in_loop(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run the plain ``function(*args, **kwargs)`` on the executor's loop thread and
        return its value: the thread-safe way to drive a plugin's simulator (e.g.
        ``ex.call_in_loop(broker.set_price, "BTC/USD", last=65000)``) while other
        threads send orders. Raises what ``function`` raises, ``RuntimeError`` after
        :meth:`close`.
        """

        async def call() -> T:
            return function(*args, **kwargs)

        return self._run(call())

    def start(self, *, strict: bool = False) -> dict[str, BaseException]:
        """Start the planned plugins; see :meth:`Executor.start`."""
        return self._run(self._executor.start(strict=strict))

    def close(self) -> None:
        """Close the executor, wake every caller still blocked, stop the loop.

        No new call starts once ``close`` begins (it raises ``RuntimeError``). Orders in
        flight are awaited up to the executor's ``close_timeout_s`` and recorded
        ``unknown`` if still unresolved (their callers get that result); any other
        call still blocked then raises ``RuntimeError`` saying so. Safe to call twice.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            asyncio.run_coroutine_threadsafe(self._executor.close(), self._loop).result()
        finally:
            for future in list(self._pending):
                future.cancel()  # wakes its caller with the RuntimeError of _run
            with contextlib.suppress(concurrent.futures.TimeoutError):
                asyncio.run_coroutine_threadsafe(_settle_tasks(), self._loop).result(5)
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
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        symbol: str | None = None,
        plugin: str | None = None,
    ) -> ExecutionResult:
        """Cancel an order by the broker's id or its client order id; see
        :meth:`Executor.cancel`."""
        return self._run(
            self._executor.cancel(
                order_id, client_order_id=client_order_id, symbol=symbol, plugin=plugin
            )
        )

    def fetch_data(self, symbol: str, plugin: str | None = None) -> MarketData:
        """Quote a symbol; see :meth:`Executor.fetch_data`."""
        return self._run(self._executor.fetch_data(symbol, plugin))

    def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions; see :meth:`Executor.positions`."""
        return self._run(self._executor.positions(plugin))

    def health(self) -> dict[str, HealthStatus]:
        """Plugins' health; see :meth:`Executor.health`."""
        return self._run(self._executor.health())


async def _settle_tasks() -> None:
    # Let cancelled calls unwind (and record what they must) before the loop stops.
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if others:
        await asyncio.wait(others, timeout=2)
