"""The plugin interface every broker implements: :class:`ExecutionPlugin`."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar

from pydantic import SecretStr

from fks_exec.config import PluginConfig, load_plugin_config
from fks_exec.errors import (
    BrokerUnavailable,
    ConfigurationError,
    FksExecError,
    NotSupported,
    PluginInitError,
)
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    OrderType,
    Position,
)

__all__ = ["Capability", "ExecutionPlugin"]

logger = logging.getLogger("fks_exec.plugin")

REDACTED = "**********"


class Capability(str, Enum):
    """Optional features a plugin declares in :attr:`ExecutionPlugin.capabilities`."""

    CANCEL_ORDER = "cancel_order"
    GET_ORDER = "get_order"
    POSITIONS = "positions"
    STOP_ORDERS = "stop_orders"
    """``stop`` and ``stop_limit`` order types."""
    BRACKET_ORDERS = "bracket_orders"
    """Attached ``stop_loss`` / ``take_profit``."""
    REDUCE_ONLY = "reduce_only"

    def __str__(self) -> str:
        return str(self.value)


class ExecutionPlugin(ABC):
    """Base class of broker plugins. Callers use the public methods; plugins write hooks.

    The public methods are concrete: they check state, capabilities and the order, time
    and log the call, and translate failures into the error contract. A plugin
    implements the protected hooks below and declares its class attributes.

    ===================  ========================  ====================================
    public method        hook the plugin writes    required?
    ===================  ========================  ====================================
    ``init``             ``_connect``              required
    ``execute_order``    ``_execute_order``        required
    ``fetch_data``       ``_fetch_data``           required
    ``health_check``     ``_health_check``         required
    ``cancel_order``     ``_cancel_order``         optional: ``Capability.CANCEL_ORDER``
    ``get_order``        ``_get_order``            optional: ``Capability.GET_ORDER``
    ``positions``        ``_positions``            optional: ``Capability.POSITIONS``
    ``close``            ``_close``                optional (default does nothing)
    ===================  ========================  ====================================

    An optional method whose capability is not declared raises :class:`NotSupported`
    naming the plugin and the capability. Stop orders need ``Capability.STOP_ORDERS``,
    attached SL/TP ``Capability.BRACKET_ORDERS`` and ``reduce_only``
    ``Capability.REDUCE_ONLY``; without them ``execute_order`` returns a rejected result
    with ``error_code=not_supported`` and sends nothing.

    Error contract of ``_execute_order``:

    * the broker refused the order: return a result with ``status=rejected`` and an
      ``error_code``;
    * nothing reached the broker (not connected, connection refused): raise
      :class:`BrokerUnavailable`, the only case in which the executor may fall back;
    * the order may have reached the broker but no answer came (timeout, dropped
      connection): return ``status=unknown``. Any other exception escaping the hook is
      turned into an ``unknown`` result too, because the base class cannot know whether
      the order left.
    """

    name: ClassVar[str]
    """The name the plugin is registered under (its entry-point name)."""
    config_model: ClassVar[type[PluginConfig]] = PluginConfig
    """Validated settings; fields are read from keywords and FKS_EXEC_<NAME>_<FIELD>."""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    """The optional features this plugin offers."""

    def __init__(self) -> None:
        self._config: PluginConfig | None = None
        self._secrets: tuple[str, ...] = ()
        self._initialized = False
        self.use_env = True
        """Read FKS_EXEC_<NAME>_* variables in ``init``; tests set False to isolate."""
        self.log = logging.getLogger(f"fks_exec.plugins.{self.name}")

    def __repr__(self) -> str:
        state = "initialized" if self._initialized else "not initialized"
        return f"<{type(self).__name__} name={self.name!r} {state}>"

    # ------------------------------------------------------------------ state

    @property
    def config(self) -> PluginConfig:
        """The validated config. Raises :class:`BrokerUnavailable` before ``init``."""
        if self._config is None:
            raise BrokerUnavailable(f"plugin {self.name!r} is not initialized; call init()")
        return self._config

    @property
    def is_initialized(self) -> bool:
        """True between a successful ``init`` and ``close``."""
        return self._initialized

    def supports(self, capability: Capability) -> bool:
        """True when the plugin declares ``capability``."""
        return capability in self.capabilities

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret of the plugin's config masked."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    # ------------------------------------------------------------------ lifecycle

    async def init(self, config: Mapping[str, Any] | None = None) -> None:
        """Validate the config (keywords over FKS_EXEC_* variables) and connect.

        Raises :class:`ConfigurationError` for invalid settings and
        :class:`PluginInitError` when the plugin cannot start or is already started.
        """
        if self._initialized:
            raise PluginInitError(f"plugin {self.name!r} is already initialized; close() it first")
        cfg = load_plugin_config(self.name, self.config_model, config, use_env=self.use_env)
        self._secrets = _secret_values(cfg)
        try:
            await self._connect(cfg)
        except (ConfigurationError, PluginInitError) as exc:
            raise type(exc)(self.redact(str(exc))) from None
        except Exception as exc:
            message = self.redact(f"{type(exc).__name__}: {exc}")
            raise PluginInitError(f"plugin {self.name!r} failed to start: {message}") from None
        self._config = cfg
        self._initialized = True
        self.log.debug("initialized")

    async def close(self) -> None:
        """Disconnect and release resources. Safe to call twice."""
        if not self._initialized:
            return
        self._initialized = False
        await self._close()
        self.log.debug("closed")

    # ------------------------------------------------------------------ orders

    async def execute_order(self, order: Order) -> ExecutionResult:
        """Send ``order`` to the broker and return what became of it.

        Never raises for a broker's refusal or an uncertain outcome: those are results
        (``rejected`` or ``unknown``). Raises :class:`BrokerUnavailable` when the broker
        could not be reached and nothing was sent, and ``TypeError`` for a non-Order.
        """
        if not isinstance(order, Order):
            raise TypeError(f"execute_order takes an Order, got {type(order).__name__}")
        self._require_initialized()
        denial = self._check_supported(order)
        if denial is not None:
            return denial
        self.log.debug("sending %s", order.client_order_id)
        try:
            result = await self._execute_order(order)
        except BrokerUnavailable as exc:
            raise BrokerUnavailable(self.redact(str(exc))) from exc.__cause__
        except NotSupported as exc:
            return self._denied(order, ErrorCode.NOT_SUPPORTED, str(exc))
        except (asyncio.TimeoutError, TimeoutError) as exc:
            return self._unknown(order, ErrorCode.TIMEOUT, f"no answer in time: {exc}")
        except Exception as exc:
            self.log.warning(
                "order %s: %s after sending; its fate is unknown",
                order.client_order_id,
                type(exc).__name__,
            )
            return self._unknown(order, ErrorCode.UNKNOWN, f"{type(exc).__name__}: {exc}")
        if result.client_order_id != order.client_order_id:
            raise AssertionError(
                f"plugin {self.name!r} returned a result for client order id "
                f"{result.client_order_id!r} when asked for {order.client_order_id!r}"
            )
        self.log.debug("order %s: %s", order.client_order_id, result.status.value)
        return result

    def _check_supported(self, order: Order) -> ExecutionResult | None:
        missing = None
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not self.supports(
            Capability.STOP_ORDERS
        ):
            missing = f"{order.type.value} orders"
        elif order.has_bracket and not self.supports(Capability.BRACKET_ORDERS):
            missing = "attached stop_loss/take_profit"
        elif order.reduce_only and not self.supports(Capability.REDUCE_ONLY):
            missing = "reduce_only orders"
        if missing is None:
            return None
        return self._denied(
            order,
            ErrorCode.NOT_SUPPORTED,
            f"plugin {self.name!r} does not support {missing}; nothing was sent",
        )

    def _denied(self, order: Order, code: ErrorCode, message: str) -> ExecutionResult:
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.REJECTED,
            error=self.redact(message),
            error_code=code,
        )

    def _unknown(self, order: Order, code: ErrorCode, message: str) -> ExecutionResult:
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.UNKNOWN,
            error=self.redact(message)
            + "; the order may have reached the broker: reconcile with get_order, do not resend",
            error_code=code,
        )

    async def fetch_data(self, symbol: str) -> MarketData:
        """Return the current quote for ``symbol``.

        Raises ``ValueError`` for an empty symbol and :class:`BrokerUnavailable` when
        the quote cannot be had (the cause is chained).
        """
        if not isinstance(symbol, str) or not symbol.strip():
            raise ValueError("fetch_data needs a non-empty symbol")
        self._require_initialized()
        try:
            return await self._fetch_data(symbol.strip())
        except FksExecError:
            raise
        except Exception as exc:
            message = self.redact(f"{type(exc).__name__}: {exc}")
            raise BrokerUnavailable(
                f"plugin {self.name!r} could not fetch {symbol!r}: {message}"
            ) from exc

    async def health_check(self) -> HealthStatus:
        """Report whether the plugin can trade now. Never raises for a broker failure."""
        if not self._initialized:
            return HealthStatus(healthy=False, detail="not initialized")
        started = time.perf_counter()
        try:
            status = await self._health_check()
        except Exception as exc:
            detail = self.redact(f"{type(exc).__name__}: {exc}")
            return HealthStatus(healthy=False, latency_ms=_ms_since(started), detail=detail)
        if status.latency_ms is None:
            status = status.model_copy(update={"latency_ms": _ms_since(started)})
        return status

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> ExecutionResult:
        """Cancel a working order by the broker's ``order_id``.

        Returns ``status=canceled`` on success, ``rejected`` when the broker refused (e.g.
        already filled) and ``unknown`` when no answer came. Raises
        :class:`NotSupported` without ``Capability.CANCEL_ORDER``, ``ValueError`` for an
        empty id and :class:`BrokerUnavailable` when nothing was sent.
        """
        self._require(Capability.CANCEL_ORDER, "cancel_order")
        if not order_id:
            raise ValueError("cancel_order needs the broker's order id")
        self._require_initialized()
        return await self._cancel_order(order_id, symbol)

    async def get_order(self, client_order_id: str) -> ExecutionResult | None:
        """Look an order up by its client order id; None when the broker has no such order.

        Safe to retry (a read). Raises :class:`NotSupported` without
        ``Capability.GET_ORDER`` and :class:`BrokerUnavailable` when the broker cannot
        be asked.
        """
        self._require(Capability.GET_ORDER, "get_order")
        self._require_initialized()
        try:
            return await self._get_order(client_order_id)
        except FksExecError:
            raise
        except Exception as exc:
            message = self.redact(f"{type(exc).__name__}: {exc}")
            raise BrokerUnavailable(
                f"plugin {self.name!r} could not look up order: {message}"
            ) from exc

    async def positions(self) -> list[Position]:
        """Return the open positions. Raises :class:`NotSupported` without the capability."""
        self._require(Capability.POSITIONS, "positions")
        self._require_initialized()
        return await self._positions()

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    async def _connect(self, config: Any) -> None:
        """Connect with the validated ``config``; raise :class:`PluginInitError` on failure."""

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

    async def _positions(self) -> list[Position]:
        raise NotSupported(f"plugin {self.name!r} does not implement _positions")

    async def _close(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Release connections; the default does nothing."""

    # ------------------------------------------------------------------ helpers

    def _require(self, capability: Capability, method: str) -> None:
        if capability not in self.capabilities:
            raise NotSupported(
                f"plugin {self.name!r} does not support {method} "
                f"(capability {capability.value!r} not declared)"
            )

    def _require_initialized(self) -> None:
        if not self._initialized:
            raise BrokerUnavailable(
                f"plugin {self.name!r} is not initialized (or was closed); "
                "call init() or use the Executor as a context manager"
            )


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _secret_values(config: PluginConfig) -> tuple[str, ...]:
    values = []
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            values.append(value.get_secret_value())
    # Longest first, so a secret that contains another is masked whole.
    return tuple(sorted(values, key=len, reverse=True))
