"""Routing orders to plugins: :class:`Executor`.

The executor picks a plugin for each order (explicit ``plugin=`` > first matching
symbol route > ``default``), starts it on first use, falls back to other plugins only
when nothing was sent (:class:`BrokerUnavailable`), never executes one client order id
twice, and reconciles orders whose fate is ``unknown`` through ``get_order``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any

from fks_exec._paper_guard import PaperLiveGuard
from fks_exec._shutdown import ShutdownGate
from fks_exec.config import ExecutorSettings, check_durations
from fks_exec.errors import (
    BrokerUnavailable,
    ConfigurationError,
    DuplicateClientOrderId,
    FksExecError,
    PluginInitError,
    PluginLoadError,
    RoutingError,
)
from fks_exec.journal import Journal, JournalEntry, JournalState, choose_journal
from fks_exec.journal.keeper import JournalKeeper, summary_line
from fks_exec.journal.models import was_not_sent
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec.registry import DEFAULT_HEALTH_TIMEOUT_S, PluginRegistry

if TYPE_CHECKING:  # signals sit on top of the executor; imported at run time on use
    from fks_exec.signals import Signal, SignalMapping

__all__ = ["Executor"]

logger = logging.getLogger("fks_exec.executor")

_ROUTE_CACHE_LIMIT = 10_000


@dataclass(slots=True)
class _Entry:
    """What the executor remembers of one client order id."""

    order: Order
    plugin: str | None = None
    result: ExecutionResult | None = None
    waiters: list[asyncio.Future[None]] | None = None

    def settle(self) -> None:
        if self.waiters:
            for waiter in self.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.waiters = None


class Executor:
    """Routes orders to plugins and returns their :class:`ExecutionResult`.

    Use it as ``async with Executor(default="mock") as ex: await ex.execute(order)``;
    entering starts the plugins it needs (fail-soft), leaving closes every plugin.

    Args:
        registry: where plugins come from; a discovering :class:`PluginRegistry` if None.
        default: plugin for symbols no route matches.
        routes: ``{glob: plugin}`` matched against the symbol in order, e.g.
            ``{"*/USDT": "ccxt", "EURUSD": "mt5", "ES *": "ninja"}``.
        fallbacks: ``{plugin: [plugin, ...]}`` tried in order when a plugin is
            unavailable (nothing sent). Never used after an order may have been sent.
            A pair that mixes paper and live is refused (:class:`ConfigurationError` at
            start, or when a lazily started plugin connects) unless allowed below.
        allow_paper_fallback: ``{plugin: [fallback, ...]}`` pairs allowed to cross
            paper and live (``{"ccxt": ["mock"]}``); see docs/paper-and-live.md.
        configs: ``{plugin: {field: value}}``, merged over FKS_EXEC_<PLUGIN>_* variables.
            A plugin name may name an instance (``ccxt:okx-testnet``), whose variables
            are ``FKS_EXEC_CCXT__OKX_TESTNET_*``.
        reconcile_attempts: ``get_order`` lookups for an order whose fate is unknown.
        reconcile_delay_s: first pause between those lookups (doubled each time).
        history_size: settled client order ids kept in memory (oldest forgotten; ids in
            flight never are). The journal is the long memory.
        journal: a :class:`~fks_exec.journal.Journal` or a spec (``memory``, a file
            path, ``sqlite:///path``); by default FKS_EXEC_JOURNAL, else an SQLite
            file in the per-user state directory when a live plugin is planned, else
            ``memory`` (see docs/journal.md).
        health_timeout_s: per-plugin limit of a health check.
        retry_init_after_s: how long a plugin that failed to start is left alone before
            the next order tries to start it again.
        close_timeout_s: how long :meth:`close` waits for orders in flight before it
            records them ``unknown`` and closes the plugins.

    Raises :class:`ConfigurationError` for malformed routes, fallbacks or sizes.
    """

    def __init__(
        self,
        registry: PluginRegistry | None = None,
        *,
        default: str | None = None,
        routes: Mapping[str, str] | None = None,
        fallbacks: Mapping[str, Iterable[str]] | None = None,
        configs: Mapping[str, Mapping[str, Any]] | None = None,
        reconcile_attempts: int = 3,
        reconcile_delay_s: float = 0.2,
        history_size: int = 10_000,
        health_timeout_s: float = DEFAULT_HEALTH_TIMEOUT_S,
        retry_init_after_s: float = 30.0,
        journal: Journal | str | None = None,
        allow_paper_fallback: Mapping[str, Iterable[str]] | None = None,
        close_timeout_s: float = 10.0,
    ) -> None:
        self._registry = registry if registry is not None else PluginRegistry()
        self._default = default or None
        self._routes = _checked_routes(routes or {})
        self._fallbacks = {
            primary: tuple(_checked_names(names, f"fallbacks[{primary!r}]"))
            for primary, names in (fallbacks or {}).items()
        }
        self._configs: dict[str, Mapping[str, Any]] = _checked_configs(configs)
        self._paper_guard = PaperLiveGuard(
            self._fallbacks,
            {
                primary: _checked_names(names, f"allow_paper_fallback[{primary!r}]")
                for primary, names in (allow_paper_fallback or {}).items()
            },
            self._configs,
        )
        if reconcile_attempts < 0 or reconcile_delay_s < 0 or health_timeout_s <= 0:
            raise ConfigurationError(
                "reconcile_attempts and reconcile_delay_s must be >= 0, health_timeout_s > 0"
            )
        if history_size < 1:
            raise ConfigurationError("history_size must be at least 1")
        check_durations(
            reconcile_delay_s=reconcile_delay_s,
            health_timeout_s=health_timeout_s,
            retry_init_after_s=retry_init_after_s,
            close_timeout_s=close_timeout_s,
        )
        self._shutdown = ShutdownGate(close_timeout_s)
        self._reconcile_attempts = reconcile_attempts
        self._reconcile_delay_s = reconcile_delay_s
        self._history_size = history_size
        self._health_timeout_s = health_timeout_s
        self._retry_init_after_s = retry_init_after_s
        self._orders: OrderedDict[str, _Entry] = OrderedDict()
        self._order_ids: dict[str, str] = {}
        self._route_cache: dict[str, str] = {}
        self._ready: dict[str, ExecutionPlugin] = {}
        self._keeper = JournalKeeper(
            choose_journal(journal, self._live_candidates(), max_closed=history_size)
        )
        self.stats: Counter[str] = Counter()
        """Counts for monitoring: ``reconciled``, ``still_unknown``, ``fallback``,
        ``not_sent`` (BrokerUnavailable), ``repeat`` (an id executed again)."""

    @classmethod
    def from_env(cls, registry: PluginRegistry | None = None, **overrides: Any) -> Executor:
        """Build an executor from FKS_EXEC_DEFAULT, _ROUTES, _FALLBACKS, _PLUGINS, _DISABLED.

        Keyword ``overrides`` win over the variables. Raises :class:`ConfigurationError`
        naming a malformed variable.
        """
        settings = ExecutorSettings.from_env()
        if registry is None:
            registry = PluginRegistry(enabled=settings.plugins, disabled=settings.disabled)
        kwargs: dict[str, Any] = {
            "default": settings.default,
            "routes": settings.routes,
            "fallbacks": settings.fallbacks,
            "allow_paper_fallback": settings.allow_paper_fallback,
        }
        kwargs.update(overrides)
        return cls(registry, **kwargs)

    def __repr__(self) -> str:
        return (
            f"<Executor default={self._default!r} routes={self._routes!r} "
            f"fallbacks={self._fallbacks!r}>"
        )

    @property
    def journal(self) -> Journal:
        """The journal that remembers every client order id (see docs/journal.md)."""
        return self._keeper.journal

    def _live_candidates(self) -> list[str]:
        # Plugins that may reach real money: all planned ones except the mock and
        # those configured with paper=True.
        named = [self._default] if self._default else []
        named += [*self._routes.values(), *self._fallbacks, *self._configs]
        named += [n for names in self._fallbacks.values() for n in names]
        if not named:
            try:
                named = self._registry.list_names()
            except FksExecError:
                named = []
        return [n for n in named if self._configs.get(n, {}).get("paper") is not True]

    @property
    def registry(self) -> PluginRegistry:
        """The registry the executor takes its plugins from."""
        return self._registry

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Executor:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def planned_plugins(self) -> list[str]:
        """The plugins this executor is configured to use (all enabled ones if none named)."""
        named = {self._default} if self._default else set()
        named.update(self._routes.values())
        for primary, others in self._fallbacks.items():
            named.add(primary)
            named.update(others)
        named.update(self._configs)
        return sorted(named) if named else self._registry.list_names()

    async def start(self, *, strict: bool = False) -> dict[str, BaseException]:
        """Start the planned plugins concurrently and return those that failed.

        A plugin named in the configuration that is not installed raises
        :class:`PluginNotFound` at once (a typo should not wait for the first order);
        one that fails to start is logged and skipped unless ``strict=True``.
        """
        self._shutdown.reopen()
        planned = self.planned_plugins()
        known = set(self._registry.list_names())
        for name in planned:
            if name not in known:
                self._registry.load(name)  # raises PluginNotFound / ConfigurationError
        # Refused pairs are refused before anything connects (what the configs say),
        # and again once the started plugins have said what they trade.
        self._paper_guard.check(self._started)
        await self._keeper.ensure_open()
        failures = await self._registry.init_all(self._configs, names=planned, strict=strict)
        started = [n for n in planned if n not in failures and self._registry.is_initialized(n)]
        try:
            self._paper_guard.check(self._started)
        except ConfigurationError:
            await self.close()
            raise
        found = {n: await self._keeper.recover(n, self._registry.get(n)) for n in started}
        if any(found.values()):
            logger.warning(summary_line(self.journal.location, found))
        else:
            logger.info(summary_line(self.journal.location, found))
        return failures

    async def close(self) -> None:
        """Close every started plugin and the journal (after committing queued writes);
        a failing ``close`` is logged, never raised.

        From its first moment no new order is sent (:meth:`execute` raises
        :class:`BrokerUnavailable`); orders in flight are awaited up to
        ``close_timeout_s``, then recorded ``unknown``; only then do plugins close.
        :meth:`start` (or entering again) opens the executor again.
        """
        await self._shutdown.drain()
        self._ready.clear()
        await self._registry.close_all()
        try:
            await self._keeper.close()
        except FksExecError as exc:
            logger.error("closing the journal failed: %s", exc)

    # ------------------------------------------------------------------ routing

    def route(self, symbol: str, plugin: str | None = None) -> str:
        """Name the plugin an order for ``symbol`` goes to.

        Raises :class:`RoutingError` when no explicit plugin, route or default applies.
        """
        if plugin:
            return plugin
        cached = self._route_cache.get(symbol)
        if cached is not None:
            return cached
        chosen = next(
            (
                name
                for pattern, name in self._routes.items()
                if fnmatch.fnmatchcase(symbol, pattern)
            ),
            self._default,
        )
        if chosen is None:
            raise RoutingError(
                f"no plugin for symbol {symbol!r}: pass plugin=, add a route "
                "(routes= or FKS_EXEC_ROUTES) or set a default (default= or FKS_EXEC_DEFAULT)"
            )
        if len(self._route_cache) >= _ROUTE_CACHE_LIMIT:
            self._route_cache.clear()
        self._route_cache[symbol] = chosen
        return chosen

    async def plugin(self, name: str) -> ExecutionPlugin:
        """Return the named plugin, started (with its config) if it was not yet.

        Raises :class:`PluginNotFound` for an unknown name, :class:`ConfigurationError`
        for invalid settings and :class:`BrokerUnavailable` when it cannot be loaded or
        started.
        """
        plugin = self._ready.get(name)
        if plugin is not None and plugin.is_initialized:
            return plugin
        registry = self._registry
        if registry.is_initialized(name):
            plugin = registry.get(name)
            await self._recover(name, plugin)
            self._ready[name] = plugin
            return plugin
        error = registry.failed_within(name, self._retry_init_after_s)
        if error is not None:
            if isinstance(error, ConfigurationError):
                raise ConfigurationError(str(error))
            raise BrokerUnavailable(f"plugin {name!r} is unavailable: {error}")
        try:
            plugin = await registry.init(name, self._configs.get(name))
        except ConfigurationError:
            raise  # a setting to fix, not an outage: falling back would hide the mistake
        except (PluginLoadError, PluginInitError) as exc:
            raise BrokerUnavailable(f"plugin {name!r} is unavailable: {exc}") from exc
        self._paper_guard.check(self._started, [name])  # now it says paper or live
        await self._recover(name, plugin)
        self._ready[name] = plugin
        return plugin

    def _started(self, name: str) -> ExecutionPlugin | None:
        registry = self._registry
        return registry.get(name) if registry.is_initialized(name) else None

    async def _recover(self, name: str, plugin: ExecutionPlugin) -> None:
        # No order reaches a plugin before the entries an earlier process left open
        # for it are reconciled (start() does this for the plugins it starts).
        if not self._keeper.is_recovered(name):
            found = await self._keeper.recover(name, plugin)
            if found:
                logger.warning(summary_line(self.journal.location, {name: found}))

    # ------------------------------------------------------------------ orders

    async def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Send ``order`` through the routed plugin (or ``plugin``) and return the result.

        A client order id already in the journal (from this process or an earlier one)
        is never sent again: the recorded result is returned, reconciled with the
        broker first when it is not final. Only an id whose order was certainly not
        sent (``sent=False`` or :class:`BrokerUnavailable`) is sent again. The intent
        is committed to the journal before the order is handed to a plugin.

        Raises ``TypeError`` for a non-Order, :class:`DuplicateClientOrderId` when the
        id was used for a different order, :class:`RoutingError` when no plugin
        applies, :class:`PluginNotFound` for an unknown plugin, and
        :class:`BrokerUnavailable` when no plugin (primary or fallback) could be
        reached, and :class:`~fks_exec.journal.JournalError` when the intent could not
        be committed; in those cases nothing was sent. Once :meth:`close` has begun it
        raises :class:`BrokerUnavailable` (nothing sent); a call already in flight then
        gets its result, or ``unknown`` if it is still unresolved after
        ``close_timeout_s``.
        """
        with self._shutdown.call(f"order {getattr(order, 'client_order_id', '?')}"):
            return await self._execute(order, plugin)

    async def _execute(self, order: Order, plugin: str | None) -> ExecutionResult:
        """:meth:`execute`, counted by the shutdown gate."""
        if not isinstance(order, Order):
            raise TypeError(
                f"execute takes an Order, got {type(order).__name__}; build one with "
                "Order.market(...) or Order.limit(...)"
            )
        cid = order.client_order_id
        entry = self._orders.get(cid)
        if entry is not None:
            return await self._repeat(entry, order)
        entry = _Entry(order)
        orders = self._orders
        orders[cid] = entry
        if len(orders) > self._history_size:
            self._forget_oldest()
        claimed = False
        try:
            primary = plugin or self._route_cache.get(order.symbol) or self.route(order.symbol)
            ready = self._ready.get(primary)
            claim = await self._keeper.claim(order, primary, ready)
            if not claim.claimed:
                return await self._recorded(entry, claim.entry, order)
            claimed = True
            if ready is not None and ready.is_initialized and primary not in self._fallbacks:
                # Fast path: a started plugin with no fallbacks to consider.
                entry.plugin = primary
                try:
                    result = await self._shutdown.send(ready, order)
                except BrokerUnavailable as exc:
                    raise BrokerUnavailable(
                        f"order {cid} was not sent; no plugin could take it ({primary}: {exc})"
                    ) from exc
                if result.status is OrderStatus.UNKNOWN:
                    result = await self._reconcile(primary, result, order)
            else:
                result = await self._send(entry, primary)
        except FksExecError as exc:
            # Nothing reached a broker: forget the id so a retry can send it.
            if isinstance(exc, BrokerUnavailable):
                self.stats["not_sent"] += 1
            self._orders.pop(cid, None)
            try:
                if claimed:
                    await self._keeper.record_not_sent(order, exc)
            finally:
                entry.settle()
            raise
        except BaseException:
            # Cancelled or interrupted while the order may have been in flight.
            entry.result = ExecutionResult.for_order(
                order,
                plugin=entry.plugin or "?",
                status=OrderStatus.UNKNOWN,
                error="the call was cancelled while the order was in flight; "
                "reconcile with get_order, do not resend",
                error_code=ErrorCode.UNKNOWN,
            )
            if claimed:
                self._keeper.record_soon(entry.result, "interrupted")
            entry.settle()
            raise
        entry.result = result
        if result.order_id:
            self._order_ids[result.order_id] = cid
        try:
            await self._keeper.record_result(result, self._ready.get(entry.plugin or ""), order)
        finally:
            if entry.waiters:
                entry.settle()
        return result

    async def _recorded(
        self, entry: _Entry, recorded: JournalEntry, order: Order
    ) -> ExecutionResult:
        # The journal already has this id, from an earlier process or another handle:
        # answer from it, never send again.
        self.stats["repeat"] += 1
        if not recorded.order.same_request(order):
            self._orders.pop(order.client_order_id, None)
            entry.settle()
            raise DuplicateClientOrderId.reused(order.client_order_id, "the journal")
        entry.plugin = recorded.plugin
        if recorded.state is JournalState.FINAL and recorded.result is not None:
            result = recorded.result
        else:
            instance = (
                self._registry.get(recorded.plugin)
                if self._registry.is_initialized(recorded.plugin)
                else None
            )
            outcome, result = await self._keeper.reconcile(instance, recorded)
            if outcome == "not_sent":  # the plugin proved it never arrived: send it now
                self._orders.pop(order.client_order_id, None)
                entry.settle()
                return await self.execute(order, recorded.plugin)
        entry.result = result
        entry.settle()
        return result

    async def _repeat(self, entry: _Entry, order: Order) -> ExecutionResult:
        self.stats["repeat"] += 1
        if not entry.order.same_request(order):
            raise DuplicateClientOrderId.reused(order.client_order_id)
        if entry.result is None:  # the first call is still in flight: wait for it
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if entry.waiters is None:
                entry.waiters = []
            entry.waiters.append(waiter)
            await waiter
            if entry.result is None:  # the first call sent nothing and failed
                return await self.execute(order)
        result = entry.result
        if was_not_sent(result):  # refused before anything left: this retry is sent
            if self._orders.get(order.client_order_id) is entry:
                del self._orders[order.client_order_id]
            return await self.execute(order)
        if result.status is OrderStatus.UNKNOWN and entry.plugin is not None:
            result = await self._reconcile(entry.plugin, result, entry.order)
            if result.status is not OrderStatus.UNKNOWN:
                self._keeper.record_soon(result, "reconciled")
            entry.result = result
        return result

    def _forget_oldest(self) -> None:
        # Settled entries go oldest first; an id still in flight is never forgotten
        # (a repeat must join it, not send again).
        orders = self._orders
        for _ in range(len(orders)):
            if len(orders) <= self._history_size:
                return
            cid, old = next(iter(orders.items()))
            if old.result is None:
                orders.move_to_end(cid)
                continue
            del orders[cid]
            if old.result.order_id:
                self._order_ids.pop(old.result.order_id, None)

    async def _send(self, entry: _Entry, primary: str) -> ExecutionResult:
        order = entry.order
        failures: list[str] = []
        for name in (primary, *self._fallbacks.get(primary, ())):
            plugin = self._ready.get(name)
            try:
                if plugin is None or not plugin.is_initialized:
                    plugin = await self.plugin(name)
                refused = name != primary and self._paper_guard.refusal(
                    primary, name, self._started
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
                result = await self._shutdown.send(plugin, order)
            except BrokerUnavailable as exc:
                failures.append(f"{name}: {exc}")
                logger.warning("order %s not sent to %r: %s", order.client_order_id, name, exc)
                continue
            if name != primary:
                logger.warning("order %s went to fallback %r", order.client_order_id, name)
                self.stats["fallback"] += 1
            if result.status is OrderStatus.UNKNOWN:
                result = await self._reconcile(name, result, order)
            return result
        raise BrokerUnavailable(
            f"order {order.client_order_id} was not sent; no plugin could take it ("
            + "; ".join(failures)
            + ")"
        )

    async def _reconcile(self, name: str, result: ExecutionResult, order: Order) -> ExecutionResult:
        cid = result.client_order_id
        if self._shutdown.closing:  # the journal keeps it open; the next start reconciles
            return result
        plugin = self._registry.get(name)
        if cid is None or not plugin.supports(Capability.GET_ORDER):
            return result
        hints = plugin.lookup_hints(order, result)
        delay = self._reconcile_delay_s
        for attempt in range(self._reconcile_attempts):
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
                self.stats["reconciled"] += 1
                return found
        logger.warning("order %s on %r is still unknown after reconciling", cid, name)
        self.stats["still_unknown"] += 1
        return result

    async def get_order(
        self, client_order_id: str, plugin: str | None = None
    ) -> ExecutionResult | None:
        """Ask the broker for an order by client order id (safe to call repeatedly).

        The plugin is ``plugin``, else the one that took the order, else the default.
        The answer also updates what the executor remembers of the order. Raises
        :class:`RoutingError` when no plugin can be chosen and what the plugin's
        ``get_order`` raises.
        """
        entry = self._orders.get(client_order_id)
        name = plugin or (entry.plugin if entry else None) or self._default
        if name is None:
            raise RoutingError(
                f"cannot tell which plugin has order {client_order_id!r}; pass plugin="
            )
        found = await (await self.plugin(name)).get_order(client_order_id)
        if found is not None and entry is not None and entry.result is not None:
            if _changed(entry.result, found):
                self._keeper.record_soon(found, "status")
            entry.result = found
        elif found is not None and entry is None:
            await self._keeper.note_status(found)
        return found

    async def cancel(
        self, order_id: str, *, symbol: str | None = None, plugin: str | None = None
    ) -> ExecutionResult:
        """Cancel a working order by the broker's ``order_id``.

        The plugin is ``plugin``, else the one that took the order, else the route of
        ``symbol``, else the default. Raises :class:`RoutingError` when none applies and
        what the plugin's ``cancel_order`` raises.
        """
        cid = self._order_ids.get(order_id)
        entry = self._orders.get(cid) if cid else None
        name = plugin or (entry.plugin if entry else None)
        if name is None:
            if symbol is None and self._default is None:
                raise RoutingError(f"cannot tell which plugin has order {order_id!r}; pass plugin=")
            name = self.route(symbol, None) if symbol is not None else self._default
        assert name is not None
        if symbol is None and entry is not None:
            symbol = entry.order.symbol
        return await (await self.plugin(name)).cancel_order(order_id, symbol)

    async def spent_result(self, client_order_id: str) -> ExecutionResult | None:
        """The result recorded for ``client_order_id`` when its order was (or may have
        been) sent, from memory or the journal; None when the id is unused or its order
        was certainly not sent. Waits for a call in flight. Raises
        :class:`~fks_exec.journal.JournalError` when the journal cannot be read.
        """
        entry = self._orders.get(client_order_id)
        if entry is not None and entry.result is None:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry.waiters = [*(entry.waiters or []), waiter]
            await waiter
        if entry is not None and entry.result is not None:
            return None if was_not_sent(entry.result) else entry.result
        await self._keeper.ensure_open()
        recorded = await self.journal.get(client_order_id)
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
        for name in [primary, *self._fallbacks.get(primary, ())]:
            try:
                return await (await self.plugin(name)).fetch_data(symbol)
            except BrokerUnavailable as exc:
                failures.append(f"{name}: {exc}")
        raise BrokerUnavailable(f"no quote for {symbol!r} (" + "; ".join(failures) + ")")

    async def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions at ``plugin`` (default: the default plugin).

        Raises :class:`RoutingError` without either, and what the plugin raises.
        """
        name = plugin or self._default
        if name is None:
            raise RoutingError("positions() needs plugin= when no default plugin is set")
        return await (await self.plugin(name)).positions()

    async def close_position(
        self, symbol: str, quantity: Decimal | None = None, *, plugin: str | None = None
    ) -> list[ExecutionResult]:
        """Close the position in ``symbol`` (all, or ``quantity``) at its routed plugin.

        Returns the results of the orders sent. Raises :class:`RoutingError`,
        :class:`NotSupported` and what the plugin's ``close_position`` raises; never
        falls back (a position lives at one broker).
        """
        self._shutdown.refuse(f"closing the position in {symbol}")
        name = self.route(symbol, plugin)
        return await (await self.plugin(name)).close_position(symbol, quantity)

    async def health(self) -> dict[str, HealthStatus]:
        """Health of every started (or failed) plugin, checked concurrently with a timeout."""
        return await self._registry.health(timeout=self._health_timeout_s)

    def history(self) -> list[ExecutionResult]:
        """The results this executor remembers, oldest first (bounded by history_size)."""
        return [e.result for e in self._orders.values() if e.result is not None]


def _changed(before: ExecutionResult, after: ExecutionResult) -> bool:
    return (before.status, before.filled_quantity) != (after.status, after.filled_quantity)


def _checked_configs(configs: Any) -> dict[str, Mapping[str, Any]]:
    if configs is None:
        return {}
    if not isinstance(configs, Mapping):
        raise ConfigurationError("configs must map plugin names to dicts of settings")
    checked: dict[str, Mapping[str, Any]] = {}
    for name, values in configs.items():
        if values is None:
            values = {}
        if not isinstance(name, str) or not isinstance(values, Mapping):
            raise ConfigurationError(
                f"configs[{name!r}] must be a dict of settings, e.g. {{'mock': {{'cash': 1000}}}}"
            )
        checked[name] = dict(values)
    return checked


def _checked_routes(routes: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(routes, Mapping):
        raise ConfigurationError("routes must be a mapping of symbol glob to plugin name")
    for pattern, name in routes.items():
        if not isinstance(pattern, str) or not pattern or not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"route {pattern!r} -> {name!r} is invalid; use e.g. {{'*/USDT': 'ccxt'}}"
            )
    return dict(routes)


def _checked_names(names: Iterable[str], what: str) -> list[str]:
    if isinstance(names, str):
        raise ConfigurationError(f"{what} must be a list of plugin names, not a string")
    checked = list(names)
    if not all(isinstance(n, str) and n for n in checked):
        raise ConfigurationError(f"{what} must contain plugin names")
    return checked
