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

    ``start_plugin(name)`` returns the named plugin started and reconciled (the
    executor's :meth:`~fks_exec.executor.Executor.plugin`); ``stats`` is the executor's counter;
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
        self.start_plugin = start_plugin
        """The executor's :meth:`~fks_exec.executor.Executor.plugin`, for its other parts."""
        self._stats = stats
        self.reconcile_attempts = reconcile_attempts
        self.reconcile_delay_s = reconcile_delay_s

    async def send(self, entry: Entry, primary: str, since: object) -> ExecutionResult:
        """Send ``entry``'s order through ``primary`` or, while nothing was sent, its
        fallbacks in order; ``entry.plugin`` names the one that got it. Raises
        :class:`BrokerUnavailable` (nothing was sent) when none could take it or once
        the executor closes (``since``: the gate's ``epoch`` when the call came in),
        also while a plugin was starting for it, and :class:`ConfigurationError` /
        :class:`PluginNotFound` from starting a plugin."""
        order, gate = entry.order, self._gate
        what = f"order {order.client_order_id}"
        failures: list[str] = []
        candidates = self._routes.candidates(primary)
        last = candidates[-1]
        for name in candidates:
            if since is not gate.epoch:  # closing: no fallback is even started
                raise gate.refusal(what)
            try:
                plugin = await self.started(name, order, since)  # started and reconciled
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
                result = await gate.send(plugin, order, self.claims, since)
            except BrokerUnavailable as exc:
                failures.append(f"{name}: {exc}")
                if name is not last:  # the last one's failure is in the error raised
                    logger.warning("order %s not sent to %r: %s", order.client_order_id, name, exc)
                continue
            if name != primary:
                logger.warning("order %s went to fallback %r", order.client_order_id, name)
                self._stats["fallback"] += 1
            if result.status is OrderStatus.UNKNOWN:
                result = await self.reconcile(name, result, order)
            return result
        if since is not gate.epoch:  # the last candidate failed as the executor closed
            raise gate.refusal(what)
        raise BrokerUnavailable(
            f"order {order.client_order_id} was not sent; no plugin could take it ("
            + "; ".join(failures)
            + ")"
        )

    async def started(self, name: str, order: Order, since: object) -> ExecutionPlugin:
        """Plugin ``name``, started (and reconciled) for ``order``. While it starts the
        order is in the gate's ``starting`` (a close that outlasts the start records it
        not sent). Raises :class:`BrokerUnavailable` when a close began since ``since``
        (a plugin that finished starting after the close ended is closed again), and
        what starting it raises."""
        gate, cid = self._gate, order.client_order_id
        gate.starting[cid] = order
        try:
            plugin = await self.start_plugin(name)
        finally:
            gate.starting.pop(cid, None)
        if self._keeper.shut:  # it started after close() had closed every plugin
            await plugin.close()
        if since is not gate.epoch:  # a close began since: nothing is sent
            raise gate.refusal(f"order {cid}")
        return plugin

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
