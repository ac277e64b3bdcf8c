"""The read methods every plugin offers through its guard: quotes, health, lookups.

:class:`PluginReads` is a base class of :class:`~fks_exec.plugin.ExecutionPlugin`
(where the methods are documented in the hook table) and not meant to be used alone.
Each method checks state and capability, runs its hook inside the guard (secrets
masked, stray exceptions translated to :class:`BrokerUnavailable`) and finishes the
results it returns.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fks_exec._capability import Capability
from fks_exec._plugin_guard import PluginGuard, ms_since
from fks_exec.models import ExecutionResult, HealthStatus, MarketData, Order, Position

__all__ = ["PluginReads"]


class PluginReads(PluginGuard):
    """Quotes, health, order lookups and positions (see the module docstring)."""

    _bad_hints_logged = False
    """True once :meth:`lookup_hints` logged that ``_lookup_hints`` gave a non-mapping."""

    if TYPE_CHECKING:

        async def _fetch_data(self, symbol: str) -> MarketData: ...
        async def _health_check(self) -> HealthStatus: ...
        async def _get_order(self, client_order_id: str) -> ExecutionResult | None: ...
        async def _find_order(
            self, client_order_id: str, hints: Mapping[str, str]
        ) -> ExecutionResult | None: ...
        def _lookup_hints(
            self, order: Order, result: ExecutionResult | None
        ) -> Mapping[str, str]: ...
        async def _positions(self) -> list[Position]: ...

    async def fetch_data(self, symbol: str) -> MarketData:
        """Return the current quote for ``symbol``.

        Raises ``ValueError`` for an empty symbol and :class:`BrokerUnavailable` when
        the quote cannot be had (the masked cause is chained).
        """
        if not isinstance(symbol, str) or not symbol.strip():
            raise ValueError("fetch_data needs a non-empty symbol")
        self._require_initialized()
        return await self._read(self._fetch_data(symbol.strip()), f"fetch {symbol!r}")

    async def health_check(self) -> HealthStatus:
        """Report whether the plugin can trade now. Never raises for a broker failure."""
        if not self._initialized:
            return HealthStatus(healthy=False, detail="not initialized")
        started = time.perf_counter()
        try:
            status = await self._health_check()
        except Exception as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            return HealthStatus(healthy=False, latency_ms=ms_since(started), detail=detail)
        update: dict[str, Any] = {}
        if status.latency_ms is None:
            update["latency_ms"] = ms_since(started)
        if self._redactor.found_in(status.detail):
            update["detail"] = self.redact(status.detail)
        return status.model_copy(update=update) if update else status

    async def get_order(self, client_order_id: str) -> ExecutionResult | None:
        """Look an order up by its client order id; None when the broker has no such order.

        Safe to retry (a read). Raises :class:`NotSupported` without
        ``Capability.GET_ORDER`` and :class:`BrokerUnavailable` when the broker cannot
        be asked.
        """
        self._require(Capability.GET_ORDER, "get_order")
        self._require_initialized()
        found = await self._read(self._get_order(client_order_id), "look up order")
        return None if found is None else self._finish(found)

    async def find_order(
        self, client_order_id: str, hints: Mapping[str, str] | None = None
    ) -> ExecutionResult | None:
        """Look an order up with the ``hints`` that :meth:`lookup_hints` gave when it was
        sent (possibly by another process); None when the broker has no such order.

        A result with ``sent=False`` means the plugin proved the broker never received
        it. Raises what :meth:`get_order` raises.
        """
        self._require(Capability.GET_ORDER, "find_order")
        self._require_initialized()
        coro = self._find_order(client_order_id, dict(hints or {}))
        found = await self._read(coro, "look up order")
        return None if found is None else self._finish(found)

    def lookup_hints(self, order: Order, result: ExecutionResult | None = None) -> dict[str, str]:
        """What a later process needs to find ``order`` again at the broker (strings only).

        Never raises: a failing hook is logged and gives no hints; so does a hook that
        returns something other than a mapping (logged once per plugin object).
        """
        try:
            hints = self._lookup_hints(order, result)
            if isinstance(hints, Mapping):
                return {str(k): str(v) for k, v in hints.items()}
        except Exception as exc:
            self.log.warning("no lookup hints for %s: %s", order.client_order_id, self._masked(exc))
            return {}
        if not self._bad_hints_logged:
            self._bad_hints_logged = True
            self.log.error(
                "_lookup_hints returned %s, not a mapping: no lookup hints are journaled "
                "(orders are still sent); make the hook return a dict of strings, {} for none",
                type(hints).__name__,
            )
        return {}

    async def positions(self) -> list[Position]:
        """Return the open positions.

        Raises :class:`NotSupported` without the capability and :class:`BrokerUnavailable`
        when the broker cannot be asked.
        """
        self._require(Capability.POSITIONS, "positions")
        self._require_initialized()
        return await self._read(self._positions(), "read positions")
