"""Routing orders to plugins: :class:`Executor`.

The executor picks a plugin for each order (explicit ``plugin=`` > first matching
symbol route > ``default``), starts it on first use, falls back to other plugins only
when nothing was sent (:class:`BrokerUnavailable`), never executes one client order id
twice, and reconciles orders whose fate is ``unknown`` through ``get_order``.

It is a thin layer over small parts, each with one job: :class:`~fks_exec._routing.Routes`
(which plugin), :class:`~fks_exec.registry.PluginRegistry` (discovery and the one copy
of plugin lifecycle), :class:`~fks_exec._order_memory.OrderMemory` (the bounded window
of recent client ids; with the ``memory`` journal its records instead:
:class:`~fks_exec._order_memory.JournaledMemory`),
:class:`~fks_exec.journal.keeper.JournalKeeper` (the long memory),
:class:`~fks_exec._dispatch.Dispatcher` (fallbacks and reconciliation),
:class:`~fks_exec._shutdown.ShutdownGate` (closing without losing an order) and
:class:`~fks_exec._executor_queries.ExecutorQueries` (the calls beside ``execute``:
lookups, cancels, quotes, positions, health).
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections import Counter
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from fks_exec._dispatch import Dispatcher
from fks_exec._executor_queries import ExecutorQueries
from fks_exec._loops import running_loop
from fks_exec._once_per_id import OncePerClientId, not_taken
from fks_exec._order_lookup import OrderLookup
from fks_exec._order_memory import _NO_HINTS, IdMemory, JournaledMemory, OrderMemory
from fks_exec._routing import Plan, call_error, check_limits
from fks_exec._shutdown import ShutdownGate, running_tasks
from fks_exec.config import ExecutorSettings
from fks_exec.errors import BrokerUnavailable, ConfigurationError, FksExecError
from fks_exec.journal import Journal, choose_journal
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.sql_send import SqlJournalSend
from fks_exec.models import ExecutionResult, Order, OrderStatus
from fks_exec.plugin import ExecutionPlugin
from fks_exec.registry import DEFAULT_HEALTH_TIMEOUT_S, PluginRegistry

__all__ = ["Executor"]

logger = logging.getLogger("fks_exec.executor")

_UNKNOWN = OrderStatus.UNKNOWN  # each OrderStatus.X read costs ~0.3 us on Python 3.11


class Executor(ExecutorQueries):
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
            flight never are). The journal is the long memory. With a
            :class:`~fks_exec.journal.memory.MemoryJournal` the journal's record is the
            memory (one per id), kept as long as the journal keeps it: ``history_size``
            final ids for one made from a spec, the ``max_closed`` of one passed in.
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
        self._plan = Plan(default, routes, fallbacks, configs, allow_paper_fallback)
        self._routes, self._configs = self._plan.routes, self._plan.configs
        self._paper_guard = self._plan.paper_guard
        check_limits(
            reconcile_attempts=reconcile_attempts,
            history_size=history_size,
            reconcile_delay_s=reconcile_delay_s,
            health_timeout_s=health_timeout_s,
            retry_init_after_s=retry_init_after_s,
            close_timeout_s=close_timeout_s,
        )
        self._shutdown = ShutdownGate(close_timeout_s)
        self._health_timeout_s = health_timeout_s
        self._retry_init_after_s = retry_init_after_s
        chosen = choose_journal(
            journal, self._plan.live_candidates(self._registry), max_closed=history_size
        )
        self._keeper = JournalKeeper(chosen)
        self._journaled = JournaledMemory(chosen) if type(chosen) is MemoryJournal else None
        """The memory journal's records as the memory (one record per id), else None."""
        self._order_memory = OrderMemory(history_size)
        self._memory: IdMemory = self._order_memory if self._journaled is None else self._journaled
        self.stats: Counter[str] = Counter()
        """Counts for monitoring: ``reconciled``, ``still_unknown``, ``fallback``,
        ``not_sent`` (BrokerUnavailable), ``repeat`` (an id executed again)."""
        self._dispatch = Dispatcher(
            self._registry,
            self._routes,
            self._paper_guard,
            self._shutdown,
            self._keeper,
            self.plugin,
            self.stats,
            claims=self._memory.entries,
            reconcile_attempts=reconcile_attempts,
            reconcile_delay_s=reconcile_delay_s,
        )
        self._once = OncePerClientId(
            self._memory,
            self._keeper,
            self._registry,
            self._dispatch,
            self.execute,
            self.stats,
            order_memory=self._order_memory,
            journaled=self._journaled,
            routes=self._routes,
            gate=self._shutdown,
        )
        self._lookup = OrderLookup(self._memory, self._keeper, self._routes, self.plugin)
        self._sql_send = SqlJournalSend(
            self._order_memory, self._keeper, self._once, self._dispatch, self._shutdown
        )
        self._loop: Any = None
        """The last order's loop (None: ask asyncio, whose answer costs a ``getpid()``)."""

    @classmethod
    def from_env(cls, registry: PluginRegistry | None = None, **overrides: Any) -> Executor:
        """Build an executor from FKS_EXEC_DEFAULT, _ROUTES, _FALLBACKS, _PLUGINS, _DISABLED.

        Keyword ``overrides`` win over the variables. Raises :class:`ConfigurationError`
        naming a malformed variable.
        """
        settings = ExecutorSettings.from_env()
        if registry is None:
            registry = PluginRegistry(enabled=settings.plugins, disabled=settings.disabled)
        from_variables: dict[str, Any] = {
            "default": settings.default,
            "routes": settings.routes,
            "fallbacks": settings.fallbacks,
            "allow_paper_fallback": settings.allow_paper_fallback,
        }
        return cls(registry, **(from_variables | overrides))

    def __repr__(self) -> str:
        return f"<Executor {self._routes!r}>"

    @property
    def journal(self) -> Journal:
        """The journal that remembers every client order id (see docs/journal.md)."""
        return self._keeper.journal

    @property
    def registry(self) -> PluginRegistry:
        """The registry the executor takes its plugins from (and the one place that
        knows which plugins are started)."""
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
        return self._plan.planned(self._registry)

    async def start(self, *, strict: bool = False) -> dict[str, BaseException]:
        """Start the planned plugins concurrently and return those that failed.

        A plugin named in the configuration that is not installed raises
        :class:`PluginNotFound` at once (a typo should not wait for the first order);
        one that fails to start is logged and skipped unless ``strict=True``. The
        orders an earlier process left open for the started plugins are reconciled
        (one summary line is logged) before this returns.
        """
        await self._shutdown.after_close()  # a close still running would undo this start
        self._shutdown.reopen()
        registry = self._registry
        planned = self.planned_plugins()
        known = set(registry.list_names())
        for name in planned:
            if name not in known:
                registry.load(name)  # raises PluginNotFound / ConfigurationError
        # Refused pairs are refused before anything connects (what the configs say),
        # and again once the started plugins have said what they trade.
        self._paper_guard.check(registry.started)
        await self._keeper.ensure_open(reopen=True)
        failures = await registry.init_all(self._configs, names=planned, strict=strict)
        started = [n for n in planned if n not in failures and registry.is_initialized(n)]
        try:
            self._paper_guard.check(registry.started)
        except ConfigurationError:
            await self.close()
            raise
        plugins = {n: registry.get(n) for n in started}
        for plugin in plugins.values():  # direct calls see the executor's ids from now on
            plugin.consult_claims(self._memory.entries)
        await self._keeper.recover_and_report(plugins)
        return failures

    async def close(self) -> None:
        """Close every started plugin and the journal (after committing queued writes);
        a failing ``close`` is logged, never raised.

        From its first moment no new order is sent (:meth:`execute` raises
        :class:`BrokerUnavailable`); orders in flight are awaited up to
        ``close_timeout_s``, then recorded ``unknown``; only then do plugins close.
        :meth:`start` (or entering again) opens the executor again.
        """
        async with self._shutdown.whole_close():
            await self._shutdown.drain()
            await self._registry.close_all()
            try:
                await self._keeper.close(self._shutdown.unstarted())
            except FksExecError as exc:
                logger.error("closing the journal failed: %s", exc)

    # ------------------------------------------------------------------ routing

    def route(self, symbol: str, plugin: str | None = None) -> str:
        """Name the plugin an order for ``symbol`` goes to.

        Raises :class:`RoutingError` when no explicit plugin, route or default applies.
        """
        return self._routes.route(symbol, plugin)

    async def plugin(self, name: str) -> ExecutionPlugin:
        """Return the named plugin, started (with its config) if it was not yet.

        Raises :class:`PluginNotFound` for an unknown name, :class:`ConfigurationError`
        for invalid settings and :class:`BrokerUnavailable` when it cannot be loaded or
        started (or failed to start less than ``retry_init_after_s`` ago).
        """
        registry = self._registry
        plugin = registry.started(name)
        if plugin is None:
            plugin = await registry.ensure_started(
                name, self._configs.get(name), self._retry_init_after_s
            )
            self._paper_guard.check(registry.started, [name])  # now it says paper or live
        plugin.consult_claims(self._memory.entries)
        if not self._keeper.is_recovered(name):
            # No order reaches a plugin before the entries an earlier process left open
            # for it are reconciled (start() does this for the plugins it starts).
            await self._keeper.recover_and_report({name: plugin}, report_nothing=False)
        return plugin

    # ------------------------------------------------------------------ orders

    async def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Send ``order`` through the routed plugin (or ``plugin``) and return the result.

        A client order id already in the journal (from this process or an earlier one)
        is never sent again: the recorded result is returned, reconciled with the
        broker first when it is not final. Only an id whose order was certainly not
        sent (``sent=False`` or :class:`BrokerUnavailable`) is sent again. The intent
        is committed to the journal before the order is handed to a plugin.

        Raises ``TypeError`` for a non-Order or a non-text ``plugin``,
        :class:`DuplicateClientOrderId` when the id was used for a different order,
        :class:`RoutingError` when no plugin applies, :class:`PluginNotFound` for an
        unknown plugin, :class:`BrokerUnavailable` when no plugin (primary or fallback)
        could be reached, and :class:`~fks_exec.journal.JournalError` when the intent
        could not be committed; in those cases nothing was sent. Once :meth:`close` has
        begun it raises :class:`BrokerUnavailable` (nothing sent); a call already in
        flight then gets its result, or ``unknown`` if it is still unresolved after
        ``close_timeout_s``.
        """
        # The hot path, in one frame: dict lookups, the memory journal's claim and record
        # (no await), the plugin call; no task, future or log unless something waits or
        # fails. An SQL journal: SqlJournalSend; fallbacks, a plugin to start: first_send().
        gate = self._shutdown
        if gate.closing:  # nothing is sent once close() has begun
            gate.refuse(f"order {getattr(order, 'client_order_id', '?')}")
        gate.calls += 1  # drain() waits until the count is back to 0
        try:
            if not isinstance(order, Order) or not (plugin is None or isinstance(plugin, str)):
                raise call_error(order, plugin)  # nothing claimed, nothing sent
            cid = order.client_order_id  # read once: each read of a model's field is slow
            memory = self._memory
            claims = memory.entries
            entry = claims.get(cid)  # memory.get(), inlined
            if entry is not None and memory.holds(entry):
                return await self._once.known(entry, order, plugin)
            routes = self._routes
            primary = plugin or routes.sole or routes.resolved.get(order.symbol)  # route()
            if not primary:  # RoutingError: nothing kept
                primary = routes.route(order.symbol)
            ready = self._registry.instances.get(primary)  # registry.started(), inlined
            journaled = self._journaled
            if (
                ready is None
                or not ready._initialized  # is_initialized, unwrapped
                or primary in routes.fallbacks
                or primary not in self._keeper.recovered
            ):
                return await self._once.first_send(order, cid, primary, ready, plugin)
            if journaled is None:  # an SQL journal: SqlJournalSend
                return await self._sql_send.send(order, cid, primary, ready, plugin)
            # The memory journal and a started plugin without fallbacks:
            # JournaledMemory.claim() and .answered() inlined (two frames per order).
            hinting = journaled._hinting.get(ready)
            if hinting is None:
                hinting = journaled._learn_hinting(ready)
            hints = ready.lookup_hints(order) if hinting else _NO_HINTS
            entry = journaled.claim_record(order, primary, hints, cid)
            if journaled._released:
                journaled._released.discard(cid)
            if entry is None:  # held in a state only the journal explains
                record = journaled.entries[cid]
                return await self._once.journaled(record, record.entry(), order, plugin)
            try:
                self._loop = loop = running_loop(self._loop)  # without a getpid() per order
                task = running_tasks.get(loop)  # gate.send(), inlined
                gate.sends.add(task)  # type: ignore[arg-type]  # always inside a task
                try:
                    result = await ready.execute_claimed(order, claims)
                except BrokerUnavailable as exc:
                    raise not_taken(cid, primary, exc) from exc
                except CancelledError:
                    unknown = gate.cut_off(task, ready, order)  # type: ignore[arg-type]
                    if unknown is None:
                        raise  # the caller itself was cancelled
                    result = unknown
                finally:
                    gate.sends.discard(task)  # gate.sent(), inlined
                    if gate.cut:
                        gate.cut.discard(task)
                status: OrderStatus | None = result.status  # read once: a slow lookup
                if status is _UNKNOWN:
                    result = await self._dispatch.reconcile(primary, result, order)
                    status = None
            except FksExecError as exc:
                await self._once.not_sent(entry, exc, True)
                raise
            except BaseException:
                self._once.interrupted(entry, True)
                raise
            if result.sent is False:
                await self._once.refused(entry, result, ready)
                return result
            try:
                hints = ready.lookup_hints(order, result) if hinting else _NO_HINTS
                journaled.note_record(entry, result, hints, "result", status)
                if journaled._indexing:
                    journaled._index(entry, result)
            except Exception as exc:  # the caller gets what was sent, not the error
                return self._once.unrecorded(entry, result, exc)
            if entry.waiters:
                entry.wake()
            return result
        finally:
            gate.calls -= 1
            if gate.idle is not None and not gate.calls:
                gate.idle.set()
