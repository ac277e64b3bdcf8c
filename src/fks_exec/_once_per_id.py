"""Each client order id sent at most once: :class:`OncePerClientId`.

What the end of a first send leaves in memory and the journal (its result; or, when
nothing was sent, nothing, so a retry sends; or, when the call was interrupted,
``unknown``), and what a second ``execute`` of a known id gets: never a second send of
an order that was (or may have been) sent, but the remembered or journaled result,
reconciled with the broker first when it is ``unknown`` or not final. Only an order
certainly not sent is sent again. A different order under a used id is
:class:`~fks_exec.errors.DuplicateClientOrderId`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from fks_exec._dispatch import Dispatcher
from fks_exec._order_memory import Entry, IdMemory
from fks_exec.errors import BrokerUnavailable, DuplicateClientOrderId, FksExecError
from fks_exec.journal import JournalEntry, JournalState
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.journal.models import was_not_sent
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin
from fks_exec.registry import PluginRegistry

__all__ = ["OncePerClientId"]


class OncePerClientId:
    """Keeps one executor's memory and journal right for every client order id;
    ``execute(order, plugin)`` is its :meth:`~fks_exec.executor.Executor.execute` (for
    a resend of an order not sent)."""

    def __init__(
        self,
        memory: IdMemory,
        keeper: JournalKeeper,
        registry: PluginRegistry,
        dispatch: Dispatcher,
        execute: Callable[[Order, str | None], Awaitable[ExecutionResult]],
        stats: Counter[str],
    ) -> None:
        self._memory = memory
        self._keeper = keeper
        self._registry = registry
        self._dispatch = dispatch
        self._execute = execute
        self._stats = stats

    async def journaled(
        self, entry: Entry, recorded: JournalEntry, order: Order, plugin: str | None
    ) -> ExecutionResult:
        """Answer a repeat of an id the journal already has (from an earlier process or
        another handle) from it, never sending again (unless the plugin proves it never
        arrived: then it is sent through ``plugin`` when this call names one, else
        through the plugin it was meant for). Raises :class:`DuplicateClientOrderId`
        for a different order."""
        self._stats["repeat"] += 1
        if not recorded.order.same_request(order):
            self._memory.forget(entry)
            raise DuplicateClientOrderId.reused(order.client_order_id, "the journal")
        entry.plugin = recorded.plugin
        if recorded.state is JournalState.FINAL and recorded.result is not None:
            result = recorded.result
        else:
            instance = self._registry.started(recorded.plugin)
            outcome, result = await self._keeper.reconcile(instance, recorded)
            if outcome == "not_sent":  # the plugin proved it never arrived: send it now
                self._memory.forget(entry)
                return await self._execute(order, plugin or recorded.plugin)
        self._memory.settle(entry, result)
        return result

    async def known(self, entry: Entry, order: Order, plugin: str | None) -> ExecutionResult:
        """Answer a repeat of an id in memory: wait for it while in flight, send it when
        nothing was sent (through ``plugin`` when this call names one, as a first call
        would), reconcile an ``unknown``, else return the result. Raises
        :class:`DuplicateClientOrderId` for a different order."""
        self._stats["repeat"] += 1
        if not entry.order.same_request(order):
            raise DuplicateClientOrderId.reused(order.client_order_id)
        if entry.result is None:  # the first call is still in flight: wait for it
            await entry.settled()
            if entry.result is None:  # the first call sent nothing and failed
                return await self._execute(order, plugin)
        result = entry.result
        if was_not_sent(result):  # refused before anything left: this retry is sent
            self._memory.forget(entry)
            return await self._execute(order, plugin)
        if result.status is OrderStatus.UNKNOWN and entry.plugin is not None:
            result = await self._dispatch.reconcile(entry.plugin, result, entry.order)
            if result.status is not OrderStatus.UNKNOWN:
                self._keeper.record_soon(result, "reconciled")
            self._memory.settle(entry, result)
        return result

    # ------------------------------------------------------------------ first sends

    async def refused(
        self, entry: Entry, result: ExecutionResult, taker: ExecutionPlugin | None
    ) -> None:
        """Record durably an answer with ``sent=False`` (a retry, maybe in another
        process, must see it) and settle ``entry``. Raises what the journal raises."""
        try:
            await self._keeper.record_result(result, taker, entry.order)
        finally:
            self._memory.settle(entry, result)

    async def not_sent(self, entry: Entry, error: FksExecError, claimed: bool) -> None:
        """Nothing reached a broker: record it (when the id was ``claimed``) and forget
        the id, so a retry sends it. Raises what the journal raises."""
        if isinstance(error, BrokerUnavailable):
            self._stats["not_sent"] += 1
        try:
            if claimed:
                await self._keeper.record_not_sent(entry.order, error)
        finally:
            self._memory.forget(entry)

    def interrupted(self, entry: Entry, claimed: bool) -> None:
        """The call was cancelled or interrupted while the order may have been in
        flight: remember (and journal) it as ``unknown``, to be reconciled, never resent."""
        interrupted = ExecutionResult.for_order(
            entry.order,
            plugin=entry.plugin or "?",
            status=OrderStatus.UNKNOWN,
            error="the call was cancelled while the order was in flight; "
            "reconcile with get_order, do not resend",
            error_code=ErrorCode.UNKNOWN,
        )
        if claimed:
            self._keeper.record_soon(interrupted, "interrupted")
        self._memory.settle(entry, interrupted)
