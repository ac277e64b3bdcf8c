"""Handing one claimed order to a plugin: :class:`Dispatcher`.

The primary plugin first, then its fallbacks, each only while nothing was sent
(:class:`BrokerUnavailable`); a fallback that would cross paper and live is refused.
An ``unknown`` answer is looked up at the broker with the plugin's own hints
(:meth:`Dispatcher.reconcile`), never sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping

from fks_exec._once import Claimed
from fks_exec._order_memory import Entry
from fks_exec._paper_guard import PaperLiveGuard
from fks_exec._routing import Routes
from fks_exec._shutdown import ShutdownGate
from fks_exec.errors import BrokerUnavailable, FksExecError
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.models import ExecutionResult, Order, OrderStatus
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec.registry import PluginRegistry

__all__ = ["Dispatcher"]

logger = logging.getLogger("fks_exec.executor")


class Dispatcher:
    """Sends claimed orders through the routed plugin or its fallbacks, and reconciles.

    ``start_plugin(name)`` returns the named plugin started (the executor's
    :meth:`~fks_exec.executor.Executor.plugin`); ``stats`` is the executor's counter;
    ``claims`` is the executor's record of ids, which its plugins consult
    (:meth:`~fks_exec.plugin.ExecutionPlugin.execute_claimed`).
    """

    def __init__(
        self,
        registry: PluginRegistry,
        routes: Routes,
        paper_guard: PaperLiveGuard,
        gate: ShutdownGate,
        keeper: JournalKeeper,
        start_plugin: Callable[[str], Awaitable[ExecutionPlugin]],
        stats: Counter[str],
        *,
        claims: Mapping[str, Claimed],
        reconcile_attempts: int,
        reconcile_delay_s: float,
    ) -> None:
        self.claims = claims
        self._registry = registry
        self._routes = routes
        self._paper_guard = paper_guard
        self._gate = gate
        self._keeper = keeper
        self._start_plugin = start_plugin
        self._stats = stats
        self.reconcile_attempts = reconcile_attempts
        self.reconcile_delay_s = reconcile_delay_s

    async def send(self, entry: Entry, primary: str) -> ExecutionResult:
        """Send ``entry``'s order through ``primary`` or, while nothing was sent, its
        fallbacks in order; ``entry.plugin`` names the one that got it. Raises
        :class:`BrokerUnavailable` (nothing was sent) when none could take it, and
        :class:`ConfigurationError` / :class:`PluginNotFound` from starting a plugin."""
        order = entry.order
        failures: list[str] = []
        for name in self._routes.candidates(primary):
            try:
                plugin = await self._start_plugin(name)  # started and reconciled
                refused = name != primary and self._paper_guard.refusal(
                    primary, name, self._registry.started
                )
                if refused:
                    failures.append(f"{name}: {refused}")
                    logger.error(
                        "order %s not sent to %r: %s", order.client_order_id, name, refused
                    )
                    continue
                if name != primary:  # the journal must name the plugin that gets it
                    await self._keeper.switch_plugin(order, name)
                entry.plugin = name
                result = await self._gate.send(plugin, order, self.claims)
            except BrokerUnavailable as exc:
                failures.append(f"{name}: {exc}")
                logger.warning("order %s not sent to %r: %s", order.client_order_id, name, exc)
                continue
            if name != primary:
                logger.warning("order %s went to fallback %r", order.client_order_id, name)
                self._stats["fallback"] += 1
            if result.status is OrderStatus.UNKNOWN:
                result = await self.reconcile(name, result, order)
            return result
        raise BrokerUnavailable(
            f"order {order.client_order_id} was not sent; no plugin could take it ("
            + "; ".join(failures)
            + ")"
        )

    async def reconcile(self, name: str, result: ExecutionResult, order: Order) -> ExecutionResult:
        """Look an ``unknown`` ``result`` up at plugin ``name`` (``reconcile_attempts``
        times, pausing ``reconcile_delay_s`` doubled each time) and return what the
        broker says, or ``result`` when it still does not know. Never raises for a
        failed lookup; not while the executor closes (the next start reconciles)."""
        cid = result.client_order_id
        if self._gate.closing:  # the journal keeps it open; the next start reconciles
            return result
        plugin = self._registry.get(name)
        if cid is None or not plugin.supports(Capability.GET_ORDER):
            return result
        hints = plugin.lookup_hints(order, result)
        delay = self.reconcile_delay_s
        for attempt in range(self.reconcile_attempts):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            try:
                found = await plugin.find_order(cid, hints)
            except FksExecError as exc:
                logger.info("reconciling %s on %r: lookup failed: %s", cid, name, exc)
                continue
            if found is not None and found.status is not OrderStatus.UNKNOWN:
                logger.info("order %s reconciled on %r: %s", cid, name, found.status.value)
                self._stats["reconciled"] += 1
                return found
        logger.warning("order %s on %r is still unknown after reconciling", cid, name)
        self._stats["still_unknown"] += 1
        return result
