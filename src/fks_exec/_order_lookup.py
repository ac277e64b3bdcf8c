"""Finding an order again for ``get_order``, ``cancel`` and ``spent_result``: :class:`OrderLookup`.

Memory first (the plugin that took a recent order and its broker id), then the journal
(which plugin instance, which symbol and which lookup hints, for any order this or an
earlier process sent), then the symbol's route or the default.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fks_exec._order_memory import IdMemory
from fks_exec._routing import Routes
from fks_exec.errors import RoutingError
from fks_exec.journal import JournalEntry, JournalState
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.journal.models import reopens, status_news, was_not_sent
from fks_exec.models import ErrorCode, ExecutionResult, OrderStatus
from fks_exec.plugin import ExecutionPlugin

__all__ = ["OrderLookup"]


class OrderLookup:
    """Answers questions about orders already sent; ``start_plugin(name)`` returns the
    named plugin started (the executor's :meth:`~fks_exec.executor.Executor.plugin`)."""

    def __init__(
        self,
        memory: IdMemory,
        keeper: JournalKeeper,
        routes: Routes,
        start_plugin: Callable[[str], Awaitable[ExecutionPlugin]],
    ) -> None:
        self._memory = memory
        self._keeper = keeper
        self._routes = routes
        self._start_plugin = start_plugin

    async def get_order(
        self, client_order_id: str, plugin: str | None = None
    ) -> ExecutionResult | None:
        """What :meth:`fks_exec.Executor.get_order` does (its docstring says it all)."""
        entry = self._memory.get(client_order_id)
        name = plugin or (entry.plugin if entry else None)
        recorded = None
        if entry is None:
            recorded = await self._journaled(client_order_id)
            name = name or (recorded.plugin if recorded is not None else None)
        name = name or self._routes.default
        if name is None:
            raise RoutingError(
                f"cannot tell which plugin has order {client_order_id!r}; pass plugin="
            )
        instance = await self._start_plugin(name)
        # The plugin that took the order is asked with what it needs to find it again
        # (its lookup hints: MT5 a split order's lots, say), as reconciling asks it.
        if entry is not None and entry.plugin == name:
            hints = instance.lookup_hints(entry.order, entry.result)
            found = await instance.find_order(client_order_id, hints)
        elif recorded is not None and recorded.plugin == name:
            hints = {**instance.lookup_hints(recorded.order, recorded.result), **recorded.hints}
            found = await instance.find_order(client_order_id, hints)
        else:
            found = await instance.get_order(client_order_id)
        if found is None:
            return None
        if entry is not None:
            # Only the plugin that took the order speaks for it: another plugin's answer
            # (plugin= naming a different one) is returned, never recorded over it.
            if entry.result is not None and entry.plugin in (None, name):
                if status_news(entry.result, found):
                    self._keeper.record_soon(found, "status")
                if not reopens(entry.result, found):  # a final order stays as it ended
                    self._memory.settle(entry, found)
        else:
            await self._keeper.note_status(found, name)
        return found

    async def cancel(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        symbol: str | None = None,
        plugin: str | None = None,
    ) -> ExecutionResult:
        """What :meth:`fks_exec.Executor.cancel` does (its docstring says it all)."""
        if (order_id is None) == (client_order_id is None):
            raise ValueError("cancel needs order_id= (the broker's id) or client_order_id=")
        if client_order_id is not None:
            taker, broker_id, known_symbol = await self._cancel_target(client_order_id, plugin)
            return await (await self._start_plugin(taker)).cancel_order(
                broker_id, symbol or known_symbol
            )
        assert order_id is not None
        entry = self._memory.by_order_id(order_id)
        name = plugin or (entry.plugin if entry else None)
        if name is None:
            if symbol is None and self._routes.default is None:
                raise RoutingError(f"cannot tell which plugin has order {order_id!r}; pass plugin=")
            name = self._routes.route(symbol) if symbol is not None else self._routes.default
        assert name is not None
        if symbol is None and entry is not None:
            symbol = entry.order.symbol
        return await (await self._start_plugin(name)).cancel_order(order_id, symbol)

    async def _cancel_target(self, cid: str, plugin: str | None) -> tuple[str, str, str]:
        """(plugin, broker order id, symbol) of the order sent under ``cid``."""
        entry = self._memory.get(cid)
        if entry is not None and entry.plugin is not None:
            name, order, result = entry.plugin, entry.order, entry.result
            hints: Mapping[str, str] = {}
        else:
            recorded = await self._journaled(cid)
            if recorded is None or recorded.state is JournalState.NOT_SENT:
                raise RoutingError(
                    f"no order was sent under client order id {cid!r} (neither remembered "
                    "nor in the journal); cancel it by order_id= with plugin="
                )
            name, order, result, hints = (
                recorded.plugin, recorded.order, recorded.result, recorded.hints,
            )  # fmt: skip
        if plugin is not None and plugin != name:  # its broker id means nothing there
            raise RoutingError(
                f"order {cid!r} was sent through {name!r}, not {plugin!r}; nothing was "
                f"cancelled: cancel it with plugin={name!r} or without plugin="
            )
        if result is None or not result.order_id:
            instance = await self._start_plugin(name)
            result = await instance.find_order(cid, {**instance.lookup_hints(order), **hints})
        if result is None or not result.order_id:
            raise RoutingError(
                f"the broker has not given order {cid!r} an order id yet; look it up with "
                "get_order and cancel it by order_id= once it has one"
            )
        return name, result.order_id, order.symbol

    async def _journaled(self, client_order_id: str) -> JournalEntry | None:
        await self._keeper.ensure_open()
        return await self._keeper.journal.get(client_order_id)

    async def spent_result(self, client_order_id: str) -> ExecutionResult | None:
        """The result recorded for ``client_order_id`` when its order was (or may have
        been) sent, from memory or the journal; None when the id is unused or its order
        was certainly not sent. Waits for a call in flight. Raises
        :class:`~fks_exec.journal.JournalError` when the journal cannot be read.
        """
        entry = self._memory.get(client_order_id)
        if entry is not None:
            await entry.settled()
        if entry is not None and entry.result is not None:
            return None if was_not_sent(entry.result) else entry.result
        recorded = await self._journaled(client_order_id)
        if recorded is None or recorded.state is JournalState.NOT_SENT:
            return None
        if recorded.result is not None:
            return recorded.result
        return ExecutionResult.for_order(
            recorded.order,
            plugin=recorded.plugin,
            status=OrderStatus.UNKNOWN,
            error="the order was being sent when its process stopped; reconcile it",
            error_code=ErrorCode.UNKNOWN,
        )
