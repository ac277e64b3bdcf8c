"""The plugin interface every broker implements: :class:`ExecutionPlugin`.

The class is assembled from modules of one job: the guard every public method runs in
(:mod:`fks_exec._plugin_guard`), the read methods (:mod:`fks_exec._plugin_reads`), the
cancel and close methods (:mod:`fks_exec._plugin_orders`) and :class:`Capability`
(:mod:`fks_exec._capability`); this module holds the state, lifecycle, order sending
and the hooks plugins write.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Generic, cast

from pydantic import BaseModel, SecretStr
from typing_extensions import TypeVar

from fks_exec._capability import Capability
from fks_exec._names import split_instance
from fks_exec._once import Claimed, OncePerId
from fks_exec._plugin_guard import ms_since
from fks_exec._plugin_orders import PluginChanges
from fks_exec._plugin_reads import PluginReads
from fks_exec.config import PluginConfig, load_plugin_config
from fks_exec.errors import (
    BrokerUnavailable,
    ConfigurationError,
    NotSupported,
    PluginInitError,
)
from fks_exec.models import (
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    Position,
)
from fks_exec.redaction import REDACTED, Redactor, register_secret

__all__ = ["REDACTED", "Capability", "ConfigT", "ExecutionPlugin"]

ConfigT = TypeVar("ConfigT", bound=PluginConfig, default=PluginConfig, covariant=True)
"""The config model a plugin is generic over: ``class MyPlugin(ExecutionPlugin[MyConfig])``."""

logger = logging.getLogger("fks_exec.plugin")


class ExecutionPlugin(PluginReads, PluginChanges, ABC, Generic[ConfigT]):
    """Base class of broker plugins. Callers use the public methods; plugins write hooks.

    Every public method runs its hook inside one guard: it checks state and
    capabilities, times and logs the call, masks every configured secret (in messages,
    in the whole ``__cause__``/``__context__`` chain of any exception, in a result's
    ``error`` and ``raw``), and translates stray exceptions into the error contract.
    A plugin never masks by hand.

    ===================  ========================  ====================================
    public method        hook the plugin writes    required?
    ===================  ========================  ====================================
    ``init``             ``_connect``              required
    ``execute_order``    ``_execute_order``        required
    ``fetch_data``       ``_fetch_data``           required
    ``health_check``     ``_health_check``         required
    ``cancel_order``     ``_cancel_order``         optional: ``Capability.CANCEL_ORDER``
    ``get_order``        ``_get_order``            optional: ``Capability.GET_ORDER``
    ``find_order``       ``_find_order``           optional (default: ``_get_order``)
    ``lookup_hints``     ``_lookup_hints``         optional (default: no hints)
    ``positions``        ``_positions``            optional: ``Capability.POSITIONS``
    ``close_position``   ``_close_position``       optional: ``Capability.CLOSE_POSITION``
    ``is_paper``         ``_broker_says_paper``    optional (default: broker does not say)
    ``close``            ``_close``                optional (default does nothing)
    ===================  ========================  ====================================

    An optional method whose capability is not declared raises :class:`NotSupported`
    naming the plugin and the capability. Stop orders need ``Capability.STOP_ORDERS``,
    attached SL/TP ``Capability.BRACKET_ORDERS`` and ``reduce_only``
    ``Capability.REDUCE_ONLY``; without them ``execute_order`` returns a rejected result
    with ``error_code=not_supported`` and ``sent=False``.

    Error contract of ``_execute_order``:

    * the order fails a check before sending: raise :class:`OrderDenied` (the caller
      gets ``status=rejected``, ``sent=False``);
    * the broker refused the order: return a result with ``status=rejected`` and an
      ``error_code`` (``sent`` defaults to True);
    * nothing reached the broker (not connected, connection refused): raise
      :class:`BrokerUnavailable`, the only case in which the executor may fall back;
    * the order may have reached the broker but no answer came (timeout, dropped
      connection): return ``status=unknown``. Any other exception escaping the hook is
      turned into an ``unknown`` result too, because the base class cannot know whether
      the order left.

    Calls with one client order id are sent once: concurrent calls are merged into one
    send, and a recently sent id returns its first result (reconciled through
    ``get_order`` while ``unknown``); an id whose call sent nothing may be sent again.
    The executor sends through :meth:`execute_claimed`, which keeps the same rule with
    the executor's record of ids instead of a second one here.
    """

    name: ClassVar[str]
    """The name the plugin is registered under (its entry-point name)."""
    config_model: ClassVar[type[PluginConfig]] = PluginConfig
    """Validated settings; fields are read from keywords and FKS_EXEC_<NAME>_<FIELD>."""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    """The optional features this plugin can offer at most. Before ``init`` that is all
    :meth:`supports` knows; after connecting an instance may narrow it to what its
    broker really offers (:meth:`set_capabilities`)."""
    remembered_orders: ClassVar[int] = 10_000
    """How many recently sent client order ids ``execute_order`` remembers."""
    order_params: ClassVar[frozenset[str] | None] = None
    """The ``Order.params`` keys this plugin passes on to its broker; an order with any
    other key is refused before sending (``rejected``, ``not_supported``, ``sent=False``)
    rather than sent without it. None: the plugin reads ``params`` itself (and refuses
    what it cannot honour)."""

    def __init__(self) -> None:
        self._config: PluginConfig | None = None
        self._redactor = Redactor()
        self._initialized = False
        self._paper = False
        self._once = OncePerId(self.remembered_orders)
        self._once_calls = (self._send_once, self._reconcile_recent, self._interrupted_call)
        """What :meth:`execute_order` hands ``self._once``: bound once, not per order."""
        self._plain_execute = type(self).execute_order is ExecutionPlugin.execute_order
        """False for a class that overrides :meth:`execute_order` (then
        :meth:`execute_claimed` calls it instead of skipping ``self._once``)."""
        self._capabilities = type(self).capabilities
        self.use_env = True
        """Read FKS_EXEC_<NAME>_* variables in ``init``; tests set False to isolate."""
        self.log = logging.getLogger(f"fks_exec.plugins.{self.name}")

    def __repr__(self) -> str:
        state = "initialized" if self._initialized else "not initialized"
        return f"<{type(self).__name__} name={self.name!r} {state}>"

    def bind_instance_name(self, name: str) -> None:
        """Name this object as one named instance of its plugin (``ccxt:okx-testnet``).

        The registry calls it before ``init``: results, logs and messages then carry
        the instance name, and ``init`` reads the instance's own variables
        (``FKS_EXEC_CCXT__OKX_TESTNET_*``). Raises ``ValueError`` for a name of
        another plugin or after ``init``.
        """
        kind, instance = split_instance(name)
        if instance is None or kind != type(self).name:
            raise ValueError(f"{name!r} is not an instance name of plugin {type(self).name!r}")
        if self._initialized:
            raise ValueError("bind_instance_name must be called before init()")
        setattr(self, "name", name)  # noqa: B010 - an instance value over the ClassVar
        self.log = logging.getLogger(f"fks_exec.plugins.{name}")

    # ------------------------------------------------------------------ state

    @property
    def config(self) -> ConfigT:
        """The validated config, typed as the plugin's model (``ExecutionPlugin[MyConfig]``).

        Raises :class:`BrokerUnavailable` before ``init``.
        """
        if self._config is None:
            raise BrokerUnavailable(f"plugin {self.name!r} is not initialized; call init()")
        return cast(ConfigT, self._config)

    @property
    def is_initialized(self) -> bool:
        """True between a successful ``init`` and ``close``."""
        return self._initialized

    @property
    def is_paper(self) -> bool:
        """True when this instance trades a paper/demo/simulation account (after init)."""
        return self._paper

    def supports(self, capability: Capability) -> bool:
        """True when this instance offers ``capability`` (see :attr:`capabilities`)."""
        return capability in self._capabilities

    @property
    def instance_capabilities(self) -> frozenset[Capability]:
        """What this instance offers now: the class's :attr:`capabilities`, or what
        :meth:`set_capabilities` narrowed them to after connecting."""
        return self._capabilities

    def set_capabilities(self, capabilities: frozenset[Capability]) -> None:
        """Narrow this instance's capabilities to what its broker offers (an exchange
        decides; call it from ``_connect``). Per-market refusals stay refusals before
        sending. Raises ``ValueError`` for a capability the class does not declare."""
        extra = set(capabilities) - set(type(self).capabilities)
        if extra:
            names = ", ".join(sorted(c.value for c in extra))
            raise ValueError(f"{type(self).__name__} does not declare {names}")
        self._capabilities = frozenset(capabilities)

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret of the plugin's config masked."""
        return self._redactor.text(text)

    def mask_also(self, secrets: Iterable[str]) -> None:
        """Mask ``secrets`` as the config's secrets are: credentials the plugin holds
        beyond its config (an exchange object handed in carries its own). From now on
        they are masked in this plugin's messages, results, health details and
        exceptions (chained ones too), and in every log record. Call it from
        ``_connect``; empty values are ignored. Never raises."""
        extra = [s for s in secrets if isinstance(s, str) and s]
        for secret in extra:
            register_secret(secret)
        if extra:
            self._redactor = Redactor((*self._redactor.secrets, *extra))

    def result_for(self, order: Order, status: OrderStatus | str, **fields: Any) -> ExecutionResult:
        """A result about ``order`` from this plugin (its name stamped; id, symbol, side
        and quantity copied). Raises ``pydantic.ValidationError`` for contradictions."""
        return ExecutionResult.for_order(order, plugin=self.name, status=status, **fields)

    def cancel_result_for(
        self, order_id: str, symbol: str, status: OrderStatus | str, **fields: Any
    ) -> ExecutionResult:
        """A result about an order known by its broker id (a cancel's answer) from this
        plugin. Raises ``pydantic.ValidationError`` for contradictions."""
        return ExecutionResult.for_cancel(
            plugin=self.name, status=status, order_id=order_id, symbol=symbol, **fields
        )

    # ------------------------------------------------------------------ lifecycle

    async def init(self, config: Mapping[str, Any] | None = None) -> None:
        """Validate the config (keywords over FKS_EXEC_* variables) and connect.

        Raises :class:`ConfigurationError` for invalid settings (and for a ``paper``
        setting the broker contradicts) and :class:`PluginInitError` when the plugin
        cannot start or is already started.
        """
        if self._initialized:
            raise PluginInitError(f"plugin {self.name!r} is already initialized; close() it first")
        cfg = load_plugin_config(self.name, self.config_model, config, use_env=self.use_env)
        secrets = _secret_values(cfg)
        for secret in secrets:
            register_secret(secret)
        self._redactor = Redactor(secrets)
        started = time.perf_counter()
        error: BaseException | None = None
        self._config = cfg  # self.config is readable inside _connect: keep no copy
        try:
            await self._connect(cfg)
        except (ConfigurationError, PluginInitError) as exc:
            error = self._masked(exc)
        except Exception as exc:
            error = self._wrapped(exc, PluginInitError, f"plugin {self.name!r} failed to start")
        if error is None:
            error = await self._settle_paper(cfg)
        if error is not None:
            self._config = None
            raise error
        self._initialized = True
        self.log.debug("initialized in %.1f ms (paper=%s)", ms_since(started), self._paper)

    async def close(self) -> None:
        """Disconnect and release resources. Safe to call twice; never raises."""
        if not self._initialized:
            return
        self._initialized = False
        self._once.stop_consulting()
        await self._close_quietly()
        self.log.debug("closed")

    # ------------------------------------------------------------------ orders

    async def execute_order(self, order: Order) -> ExecutionResult:
        """Send ``order`` to the broker and return what became of it.

        Never raises for a broker's refusal or an uncertain outcome: those are results
        (``rejected`` or ``unknown``; ``sent`` says whether anything left). Raises
        :class:`BrokerUnavailable` when the broker could not be reached and nothing was
        sent, :class:`DuplicateClientOrderId` when a recent id is reused for another
        order, and ``TypeError`` for a non-Order.
        """
        if not isinstance(order, Order):
            raise TypeError(f"execute_order takes an Order, got {type(order).__name__}")
        if not self._initialized:
            self._require_initialized()  # raises
        denial = self._check_supported(order)
        if denial is not None:
            return denial
        return await self._once.run(order, *self._once_calls)

    def consult_claims(self, claims: Mapping[str, Claimed]) -> None:
        """Have direct calls of :meth:`execute_order` look in ``claims`` (an executor's
        record of ids, backed by its journal) until :meth:`close`: an id in flight there
        is waited for, one answered there gets that answer, never a second send. The
        executor hands its record over whenever it starts or recovers this plugin, so a
        direct call right after a restart is covered before the executor sends anything;
        :meth:`execute_claimed` does the same. A class that overrides
        :meth:`execute_order` is left alone (the executor's own sends go through that
        method, and would wait for themselves). Never raises."""
        if self._plain_execute:
            self._once.consult(claims)

    async def execute_claimed(self, order: Order, claims: Mapping[str, Claimed]) -> ExecutionResult:
        """:meth:`execute_order` for a caller that sends each client order id once
        itself and keeps its ids in ``claims`` (the :class:`~fks_exec.executor.Executor`:
        its memory, backed by its journal), so the plugin's own once-per-id memory is
        skipped; every check, the reply guard and the error contract stay.

        Direct calls of :meth:`execute_order` look in ``claims`` from now on (they wait
        for an id in flight there and get the answer of one answered there), and an id
        a direct call has in flight or remembered takes the full path here, so no id is
        sent twice between the two. A plugin class that overrides :meth:`execute_order`
        gets that method called. Raises what :meth:`execute_order` raises.
        """
        if not self._plain_execute:
            return await self.execute_order(order)
        if not isinstance(order, Order):
            raise TypeError(f"execute_order takes an Order, got {type(order).__name__}")
        if not self._initialized:
            self._require_initialized()  # raises
        denial = self._check_supported(order)
        if denial is not None:
            return denial
        once = self._once
        if claims is not once._latest:  # once.consult(claims), inlined: once per executor
            once.consult(claims)
        if (once._inflight or once._recent) and once.holds(order.client_order_id):
            # a direct call has (or had) it: the full path (holds() is False while the
            # direct side is empty, which is how an executor alone keeps it)
            return await once.run(order, *self._once_calls)
        return await self._send_once(order)

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    async def _connect(self, config: Any) -> None:
        """Connect with the validated ``config`` (also ``self.config``, typed as the
        plugin's model); raise :class:`PluginInitError` on failure."""

    @abstractmethod
    async def _execute_order(self, order: Order) -> ExecutionResult:
        """Send ``order``; see the error contract in the class docstring."""

    @abstractmethod
    async def _fetch_data(self, symbol: str) -> MarketData:
        """Return a quote for ``symbol``."""

    @abstractmethod
    async def _health_check(self) -> HealthStatus:
        """Check the connection; exceptions are reported as unhealthy."""

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        raise NotSupported(f"plugin {self.name!r} does not implement _cancel_order")

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        raise NotSupported(f"plugin {self.name!r} does not implement _get_order")

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        """Find an order with stored hints; the default ignores them and calls _get_order."""
        return await self._get_order(client_order_id)

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        """Hints to find ``order`` again later; the default gives none."""
        return {}

    async def _positions(self) -> list[Position]:
        raise NotSupported(f"plugin {self.name!r} does not implement _positions")

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        raise NotSupported(f"plugin {self.name!r} does not implement _close_position")

    def _fill_bounded_by_quantity(self, order: Order) -> bool:
        """Whether a fill above ``order.quantity`` is impossible (then the base class
        turns such an answer into ``unknown``). The default says yes; a plugin that
        sends an order in another unit (a market buy priced by its quote cost, whose
        base fill moves with the price) says no for it and checks the fill itself."""
        return True

    def _broker_says_paper(self) -> bool | None:
        """After ``_connect``: True for a demo/simulation account, False for a real one,
        None when the broker does not tell. The default does not tell."""
        return None

    async def _close(self) -> None:
        """Release connections; the default does nothing."""


def _secret_values(model: BaseModel) -> tuple[str, ...]:
    values: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            values.extend(_secret_values(value))
    return tuple(values)
