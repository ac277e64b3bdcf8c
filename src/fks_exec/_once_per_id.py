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

import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from fks_exec._dispatch import Dispatcher
from fks_exec._order_memory import Entry, IdMemory, JournaledMemory, OrderMemory
from fks_exec._routing import Routes
from fks_exec._shutdown import ShutdownGate
from fks_exec.errors import (
    BrokerUnavailable,
    DuplicateClientOrderId,
    FksExecError,
    PluginNotFound,
    RoutingError,
)
from fks_exec.journal import JournalEntry, JournalState
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.journal.models import was_not_sent
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin
from fks_exec.registry import PluginRegistry

__all__ = ["OncePerClientId", "not_taken"]

_UNKNOWN = OrderStatus.UNKNOWN  # each OrderStatus.X read costs ~0.3 us on Python 3.11

logger = logging.getLogger("fks_exec.executor")


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
        *,
        order_memory: OrderMemory,
        journaled: JournaledMemory | None,
        routes: Routes,
        gate: ShutdownGate,
    ) -> None:
        self._memory = memory
        self._keeper = keeper
        self._registry = registry
        self._dispatch = dispatch
        self._execute = execute
        self._stats = stats
        self._order_memory, self._journaled = order_memory, journaled
        """The executor's own order memory (beside an SQL journal) and its memory
        journal's records (None beside an SQL journal), for :meth:`first_send`."""
        self._routes, self._fallbacks, self._gate = routes, routes.fallbacks, gate

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
            instance = await self._lookup_plugin(recorded)
            outcome, result = await self._keeper.reconcile(instance, recorded)
            if outcome == "not_sent":  # the plugin proved it never arrived: send it now
                self._memory.forget(entry)
                return await self._execute(order, plugin or recorded.plugin)
        try:
            self._check_plugin(order, plugin, recorded.plugin)
        except DuplicateClientOrderId:
            self._memory.forget(entry)
            raise
        self._memory.settle(entry, result)
        return result

    def _check_plugin(self, order: Order, asked: str | None, taker: str | None) -> None:
        """Refuse a repeat of ``order``'s id meant for another plugin than ``taker``, the
        one that took it (or was to take it): the plugin ``asked`` for, else the one
        its symbol routes to, must be ``taker`` or have it among its fallbacks. Nothing
        is checked while ``taker`` is not known or the symbol routes nowhere. Raises
        :class:`DuplicateClientOrderId` (nothing was sent)."""
        if taker is None:
            return
        target = asked
        if target is None:
            try:
                target = self._routes.route(order.symbol)
            except RoutingError:
                return
        if taker != target and taker not in self._fallbacks.get(target, ()):
            raise DuplicateClientOrderId.other_plugin(order.client_order_id, taker, target)

    async def _lookup_plugin(self, recorded: JournalEntry) -> ExecutionPlugin:
        """The plugin that took ``recorded``, started (as a first send would start it,
        with its start-up reconciliation) to look the order up. Raises
        :class:`BrokerUnavailable` when it cannot be started (nothing was looked up or
        sent; the entry stays open for the next reconciliation) or the executor closes."""
        cid, name = recorded.client_order_id, recorded.plugin
        try:
            started = await self._dispatch.start_plugin(name)
        except (BrokerUnavailable, PluginNotFound) as exc:
            self._keeper.leave_open(recorded)
            raise BrokerUnavailable(
                f"order {cid} is in the journal as {recorded.state.value} for plugin "
                f"{name!r}, which could not be started ({exc}); it was not looked up at the "
                "broker and is not sent again: execute it again or call get_order once the "
                "plugin is available"
            ) from exc
        self._gate.refuse(f"order {cid}")  # closed while it started: nothing looked up
        return started

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
        self._check_plugin(order, plugin, entry.plugin)
        if result.status is OrderStatus.UNKNOWN and entry.plugin is not None:
            result = await self._dispatch.reconcile(entry.plugin, result, entry.order)
            try:
                if result.status is not OrderStatus.UNKNOWN:
                    self._keeper.record_soon(result, "reconciled")
            except Exception as exc:
                return self.unrecorded(entry, result, exc)
            self._memory.settle(entry, result)
        return result

    # ------------------------------------------------------------------ first sends

    async def first_send(
        self,
        order: Order,
        cid: str,
        primary: str,
        ready: ExecutionPlugin | None,
        plugin: str | None,
    ) -> ExecutionResult:
        """The first send of ``order`` (its id ``cid`` not remembered), routed to
        ``primary`` (``ready`` if started), for every case the executor's fast path does
        not take: claim the id (an SQL journal through the keeper and the order memory),
        send through the dispatcher (a plugin to start, fallbacks, a recovery pending) or
        straight to the started plugin through the shutdown gate, and record the answer.
        Raises what :meth:`~fks_exec.executor.Executor.execute` raises."""
        if ready is not None and not ready._initialized:
            ready = None
        memory, keeper, journaled = self._memory, self._keeper, self._journaled
        since = self._gate.epoch  # a close from now on refuses the send
        entry: Entry | None
        if journaled is None:
            entry = self._order_memory.begin(order)
            claimed = False
        else:  # the memory journal's record is the memory: claiming it begins it
            # (it needs no opening; the keeper opens it with the plugin's recovery)
            keeper.refuse_if_held()  # by another executor: claim nothing in its journal
            entry = journaled.claim(order, primary, ready, cid)
            if entry is None:  # held in a state only the journal explains
                record = journaled.entries[cid]
                return await self.journaled(record, record.entry(), order, plugin)
            claimed = True
        try:
            if not claimed:
                if keeper.claims_at_once:
                    recorded = keeper.claim_now(order, primary, ready)
                else:
                    recorded = await keeper.claim(order, primary, ready)
                if recorded is not None:
                    return await self.journaled(entry, recorded, order, plugin)
                claimed = True
            if ready is None or primary in self._fallbacks or primary not in keeper.recovered:
                result, status = await self._dispatch.send(entry, primary, since), None
                taker = (  # the plugin that got it gives the hints (maybe started now)
                    ready
                    if ready is not None and entry.plugin == primary
                    else self._registry.started(entry.plugin or "")
                )
            else:  # a started plugin with no fallbacks to consider
                entry.plugin, taker = primary, ready
                try:
                    result = await self._gate.send(ready, order, memory.entries, since)
                except BrokerUnavailable as exc:
                    raise not_taken(cid, primary, exc) from exc
                status = result.status
                if status is _UNKNOWN:
                    result = await self._dispatch.reconcile(primary, result, order)
                    status = None
        except FksExecError as exc:
            await self.not_sent(entry, exc, claimed)
            raise
        except BaseException:
            self.interrupted(entry, claimed)
            raise
        if result.sent is False:
            await self.refused(entry, result, taker)
            return result
        try:
            if journaled is not None:  # record it, index it, wake its waiters: one call
                journaled.answered(entry, result, taker, status)  # type: ignore[arg-type]
                return result
            keeper.record_sent(result, taker, order)  # queued (its intent is durable)
        except Exception as exc:
            return self.unrecorded(entry, result, exc)
        memory.settle(entry, result)
        return result

    def unrecorded(
        self, entry: Entry, result: ExecutionResult, error: Exception
    ) -> ExecutionResult:
        """The answer of a send whose recording failed with ``error``: logged, remembered
        (waking the repeats waiting for it) and returned, so the caller gets the result
        of what was sent, not the error. The journal keeps the intent open (the next
        start reconciles it)."""
        logger.error(
            "order %s was sent (%s) but recording its answer failed (%s: %s); the journal "
            "keeps it open until the next start reconciles it",
            entry.order.client_order_id,
            result.status.value,
            type(error).__name__,
            error,
        )
        self._memory.settle(entry, result)
        return result

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
        try:
            if claimed:
                self._keeper.record_soon(interrupted, "interrupted")
        finally:  # a repeat must never wait for it forever
            self._memory.settle(entry, interrupted)


def not_taken(cid: str, primary: str, exc: BrokerUnavailable) -> BrokerUnavailable:
    """The error of an order no plugin could take (``exc``: why ``primary`` did not)."""
    return BrokerUnavailable(
        f"order {cid} was not sent; no plugin could take it ({primary}: {exc})"
    )
