"""The executor's calls beside sending an order: :class:`ExecutorQueries`.

Looking orders up, cancelling them, quotes, positions, health and history: each call
picks the plugin (explicit, the one that took the order, the route, the default) and
delegates, never sending an order of its own except ``close_position``'s. It is a base
class of :class:`~fks_exec.executor.Executor` (documented there) and not meant to be
used alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from fks_exec.errors import BrokerUnavailable, OutcomeUnknown, RoutingError
from fks_exec.models import (
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    Position,
)

if TYPE_CHECKING:  # signals sit on top of the executor; imported at run time on use
    from fks_exec._dispatch import Dispatcher
    from fks_exec._order_lookup import OrderLookup
    from fks_exec._order_memory import IdMemory
    from fks_exec._routing import Routes
    from fks_exec._shutdown import ShutdownGate
    from fks_exec.plugin import ExecutionPlugin
    from fks_exec.registry import PluginRegistry
    from fks_exec.signals import Signal, SignalMapping

__all__ = ["ExecutorQueries"]


class ExecutorQueries:
    """Lookups, cancels, quotes, positions, health and history (see the module docstring)."""

    _lookup: OrderLookup
    _dispatch: Dispatcher
    _memory: IdMemory
    _routes: Routes
    _registry: PluginRegistry
    _shutdown: ShutdownGate
    _health_timeout_s: float

    if TYPE_CHECKING:

        def route(self, symbol: str, plugin: str | None = None) -> str: ...
        async def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult: ...
        async def plugin(self, name: str) -> ExecutionPlugin: ...

    async def get_order(
        self, client_order_id: str, plugin: str | None = None
    ) -> ExecutionResult | None:
        """Ask the broker for an order by client order id (safe to call repeatedly).

        The plugin is ``plugin``, else the one that took the order (remembered, or in
        the journal), else the default. An answer of the plugin that took the order also
        updates what the executor remembers and journals of it; another plugin's answer
        (``plugin`` naming a different one) is returned and recorded nowhere. Raises
        :class:`RoutingError` when no plugin can be chosen and what the plugin's
        ``get_order`` raises.
        """
        return await self._lookup.get_order(client_order_id, plugin)

    async def cancel(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        symbol: str | None = None,
        plugin: str | None = None,
    ) -> ExecutionResult:
        """Cancel a working order by the broker's ``order_id`` or by the
        ``client_order_id`` it was sent under (pass one of them).

        The plugin is ``plugin``, else the one that took the order, else (for an
        ``order_id`` the executor does not remember) the route of ``symbol``, else the
        default. A ``client_order_id`` is found in memory or, beyond the in-memory
        history, in the journal: the plugin instance that took it, its symbol, and its
        broker id (looked up at the broker with the journaled hints when the journal
        has none); ``plugin``, if given, must be that plugin. Raises ``ValueError``
        unless exactly one id is given, :class:`RoutingError` when no plugin applies, a
        client order id is unknown (or has no broker id yet) or was sent through
        another plugin than ``plugin`` (nothing is cancelled), and what the plugin's
        ``cancel_order`` raises.
        """
        return await self._lookup.cancel(
            order_id, client_order_id=client_order_id, symbol=symbol, plugin=plugin
        )

    async def spent_result(self, client_order_id: str) -> ExecutionResult | None:
        """The result recorded for ``client_order_id`` when its order was (or may have
        been) sent, from memory or the journal; None when the id is unused or its order
        was certainly not sent. Waits for a call in flight. Raises
        :class:`~fks_exec.journal.JournalError` when the journal cannot be read.
        """
        return await self._lookup.spent_result(client_order_id)

    async def execute_signal(
        self, signal: Signal | bytes | str | Mapping[str, Any], mapping: SignalMapping | None = None
    ) -> ExecutionResult:
        """Execute a trading signal; see :func:`fks_exec.signals.execute_signal`.

        ``signal`` is a :class:`~fks_exec.signals.Signal` or a raw alert body (parsed
        with :func:`~fks_exec.signals.parse_signal`). Raises what that function raises.
        """
        from fks_exec.signals import Signal, execute_signal, parse_signal

        if not isinstance(signal, Signal):
            signal = parse_signal(signal)
        return await execute_signal(self, signal, mapping)

    # ------------------------------------------------------------------ reads

    async def fetch_data(self, symbol: str, plugin: str | None = None) -> MarketData:
        """Quote ``symbol`` from its routed plugin, trying fallbacks when it is unavailable.

        Raises :class:`RoutingError`, :class:`PluginNotFound` and
        :class:`BrokerUnavailable` (every candidate failed).
        """
        primary = self.route(symbol, plugin)
        failures = []
        for name in self._routes.candidates(primary):
            try:
                return await (await self.plugin(name)).fetch_data(symbol)
            except BrokerUnavailable as exc:
                failures.append(f"{name}: {exc}")
        raise BrokerUnavailable(f"no quote for {symbol!r} (" + "; ".join(failures) + ")")

    async def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions at ``plugin`` (default: the default plugin).

        Raises :class:`RoutingError` without either, and what the plugin raises.
        """
        name = plugin or self._routes.default
        if name is None:
            raise RoutingError("positions() needs plugin= when no default plugin is set")
        return await (await self.plugin(name)).positions()

    async def close_position(
        self, symbol: str, quantity: Decimal | None = None, *, plugin: str | None = None
    ) -> list[ExecutionResult]:
        """Close the position in ``symbol`` (all, or ``quantity``) at its routed plugin.

        Returns the results of the orders sent; a closing order answered ``unknown`` is
        looked up first, as :meth:`execute` does. Raises :class:`RoutingError`,
        :class:`NotSupported`, what the plugin's ``close_position`` raises, and
        :class:`OutcomeUnknown` (with every result in ``results``) when a closing order
        is still unknown after the lookups: check ``positions()`` before closing again.
        Never falls back (a position lives at one broker).
        """
        self._shutdown.refuse(f"closing the position in {symbol}")
        name = self.route(symbol, plugin)
        results = await (await self.plugin(name)).close_position(symbol, quantity)
        settled = []
        for result in results:
            order = _closing_order(result) if result.status is OrderStatus.UNKNOWN else None
            if order is not None:
                result = await self._dispatch.reconcile(name, result, order)
            settled.append(result)
        unknown = [r.client_order_id for r in settled if r.status is OrderStatus.UNKNOWN]
        if unknown:
            raise OutcomeUnknown(
                f"closing {symbol!r} on {name!r}: {len(unknown)} of {len(settled)} closing "
                f"orders got no answer, and looking them up found nothing ({unknown}); they "
                "may have been executed: check positions() before closing again",
                settled,
            )
        return settled

    async def health(self) -> dict[str, HealthStatus]:
        """Health of every started (or failed) plugin, checked concurrently with a timeout."""
        return await self._registry.health(timeout=self._health_timeout_s)

    def history(self) -> list[ExecutionResult]:
        """The settled results this executor remembers, oldest first (the newest
        ``history_size``; with the ``memory`` journal, every one it keeps, in the order
        their ids were first claimed)."""
        return self._memory.results()


def _closing_order(result: ExecutionResult) -> Order | None:
    """The order ``result`` answers, as far as a lookup needs it (symbol, side, quantity,
    client order id, for the plugin's lookup hints), or None when the result does not
    say enough, or names an id the order model refuses, to look it up."""
    if result.side is None or result.quantity is None:
        return None
    try:
        return Order.market(
            result.symbol,
            result.side,
            result.quantity,
            client_order_id=result.client_order_id,
        )
    except ValidationError:
        return None
