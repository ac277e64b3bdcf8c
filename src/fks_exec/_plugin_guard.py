"""The guard every public :class:`~fks_exec.plugin.ExecutionPlugin` method runs in.

:class:`PluginGuard` holds what the public methods share: building denied and unknown
results, masking secrets in results and in exception chains, translating stray
exceptions, the once-per-id send path and the paper/live check after connecting. It
is a base class of ``ExecutionPlugin`` and not meant to be used on its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar, TypeVar

from fks_exec._capability import Capability
from fks_exec._plausible import implausible
from fks_exec.config import PluginConfig
from fks_exec.errors import (
    BrokerUnavailable,
    ConfigurationError,
    FksExecError,
    NotSupported,
    OrderDenied,
)
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType
from fks_exec.redaction import Redactor

__all__ = ["PluginGuard", "ms_since"]

T = TypeVar("T")
_MARKET, _LIMIT = OrderType.MARKET, OrderType.LIMIT
_TIMEOUTS = (asyncio.TimeoutError, TimeoutError)  # two classes on 3.10, one from 3.11
_NOTHING_SENT = "nothing was sent"


def _not_sent(reason: object) -> str:
    """``reason`` saying that nothing was sent, once (a plugin's own words may say it)."""
    text = str(reason)
    return text if text.endswith(_NOTHING_SENT) else f"{text}; {_NOTHING_SENT}"


def ms_since(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return (time.perf_counter() - started) * 1000


class PluginGuard:
    """Shared machinery of the plugin base class (see the module docstring)."""

    name: ClassVar[str]
    order_params: ClassVar[frozenset[str] | None]
    log: logging.Logger
    _redactor: Redactor
    _paper: bool
    _initialized: bool

    if TYPE_CHECKING:

        def supports(self, capability: Capability) -> bool: ...
        def redact(self, text: str) -> str: ...
        async def get_order(self, client_order_id: str) -> ExecutionResult | None: ...
        async def _execute_order(self, order: Order) -> ExecutionResult: ...
        def _broker_says_paper(self) -> bool | None: ...
        def _fill_bounded_by_quantity(self, order: Order) -> bool: ...
        async def _close(self) -> None: ...

    async def _settle_paper(self, cfg: PluginConfig) -> BaseException | None:
        try:
            reported = self._broker_says_paper()
        except Exception as exc:
            reported = None
            self.log.warning("could not tell paper from live: %s", self._masked(exc))
        if cfg.paper is not None and reported is not None and cfg.paper is not reported:
            await self._close_quietly()
            said = "paper" if cfg.paper else "live"
            is_ = "paper (demo/simulation)" if reported else "live (real money)"
            return ConfigurationError(
                f"plugin {self.name!r} is configured paper={cfg.paper} ({said}) but the "
                f"broker reports a {is_} account; fix the 'paper' setting or the account"
            )
        self._paper = cfg.paper if cfg.paper is not None else bool(reported)
        return None

    async def _close_quietly(self) -> None:
        try:
            await self._close()
        except Exception as exc:
            self.log.warning("close failed: %s", self._masked(exc))

    async def _send_once(self, order: Order) -> ExecutionResult:
        log = self.log
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            result = await self._execute_order(order)
        except BrokerUnavailable as exc:
            error = self._masked(exc)
        except OrderDenied as exc:
            code = ErrorCode(exc.error_code)
            return self._denied(order, code, _not_sent(exc))
        except NotSupported as exc:
            return self._denied(order, ErrorCode.NOT_SUPPORTED, _not_sent(exc))
        except _TIMEOUTS as exc:
            return self._unknown(order, ErrorCode.TIMEOUT, f"no answer in time: {exc}")
        except Exception as exc:
            log.warning(
                "order %s: %s after sending; its fate is unknown",
                order.client_order_id,
                type(exc).__name__,
            )
            return self._unknown(order, ErrorCode.UNKNOWN, f"{type(exc).__name__}: {exc}")
        if error is not None:
            raise error
        if result.client_order_id != order.client_order_id:
            log.error(
                "plugin bug: answered for %r when asked for %r",
                result.client_order_id,
                order.client_order_id,
            )
            return self._unknown(
                order,
                ErrorCode.UNKNOWN,
                f"plugin {self.name!r} answered for client order id "
                f"{result.client_order_id!r} (a plugin bug)",
            )
        problem = implausible(result, order)
        if problem is not None and not self._fill_bounded_by_quantity(order):
            problem = implausible(result)  # the plugin bounds this fill itself
        if problem is not None:
            log.warning(
                "order %s: broker %r answered %s; its fate is unknown",
                order.client_order_id,
                self.name,
                problem,
            )
            return self._unknown(
                order, ErrorCode.UNKNOWN, f"broker {self.name!r} answered {problem}"
            )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "order %s: %s in %.2f ms",
                order.client_order_id,
                result.status.value,
                ms_since(started),
            )
        return self._stamped(result)  # checked just above, against the order too

    async def _reconcile_recent(self, result: ExecutionResult) -> ExecutionResult:
        cid = result.client_order_id
        if cid is None or not self.supports(Capability.GET_ORDER):
            return result
        try:
            found = await self.get_order(cid)
        except FksExecError as exc:
            self.log.info("order %s: lookup failed: %s", cid, exc)
            return result
        if found is None or found.status is OrderStatus.UNKNOWN:
            return result
        return found

    def _interrupted_call(self, order: Order) -> ExecutionResult:
        return self._unknown(order, ErrorCode.UNKNOWN, "the call was cancelled in flight")

    def _check_supported(self, order: Order) -> ExecutionResult | None:
        fields = order.__dict__  # one slow read, not four: see _stamped()
        if fields["params"] and self.order_params is not None:
            unknown = sorted(set(fields["params"]) - self.order_params)
            if unknown:
                takes = ", ".join(sorted(self.order_params)) or "none"
                return self._denied(
                    order,
                    ErrorCode.NOT_SUPPORTED,
                    f"plugin {self.name!r} cannot pass params {', '.join(map(repr, unknown))} "
                    f"to its broker (it takes: {takes}); leave them out or set what they "
                    "meant through the order's fields or the plugin's settings (see its "
                    "docs); nothing was sent",
                )
        kind = fields["type"]
        if (
            (kind is _MARKET or kind is _LIMIT)
            and fields["stop_loss"] is None
            and fields["take_profit"] is None
            and not fields["reduce_only"]
        ):
            return None  # needs no optional capability
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
        """A rejected result for ``order`` that was refused here: ``sent=False``."""
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.REJECTED,
            sent=False,
            paper=self._paper,
            error=self.redact(message),
            error_code=code,
        )

    def _unknown(self, order: Order, code: ErrorCode, message: str) -> ExecutionResult:
        """An ``unknown`` result for ``order``: it may have reached the broker."""
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.UNKNOWN,
            paper=self._paper,
            error=self.redact(message)
            + "; the order may have reached the broker: reconcile with get_order, do not resend",
            error_code=code,
        )

    def _finish(self, result: ExecutionResult) -> ExecutionResult:
        """``result`` as the caller gets it: an impossible one made ``unknown``, then
        :meth:`_stamped`."""
        problem = implausible(result)
        if problem is not None:
            self.log.warning(
                "order %s: broker %r answered %s; treated as unknown",
                result.client_order_id,
                self.name,
                problem,
            )
            result = _as_unknown(result, f"broker {self.name!r} answered {problem}")
        return self._stamped(result)

    def _stamped(self, result: ExecutionResult) -> ExecutionResult:
        """A plausible ``result`` with every secret masked in ``error`` and ``raw``, and
        this instance's ``paper`` and name stamped."""
        # Each field read of a pydantic model misses the attribute cache (BaseModel has a
        # __getattr__: ~440 instructions a read); its __dict__ is read once instead.
        fields = result.__dict__
        redactor = self._redactor
        if redactor and (
            (fields["error"] is not None and redactor.found_in(fields["error"]))
            or (fields["raw"] is not None and redactor.held_in(fields["raw"]))
        ):
            error = None if fields["error"] is None else redactor.text(fields["error"])
            result = result.model_copy(
                update={"error": error, "raw": redactor.value(fields["raw"])}
            )
            fields = result.__dict__
        if fields["paper"] is None:
            fields["paper"] = self._paper
        plugin = fields["plugin"]
        if plugin != self.name and plugin == type(self).name:
            fields["plugin"] = self.name  # a named instance (ccxt:okx-testnet)
        return result

    async def _read(self, coro: Awaitable[T], doing: str) -> T:
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            value = await coro
        except FksExecError as exc:
            error = self._masked(exc)
        except Exception as exc:
            error = self._wrapped(exc, BrokerUnavailable, f"plugin {self.name!r} could not {doing}")
        if error is not None:
            raise error
        self.log.debug("%s in %.2f ms", doing, ms_since(started))
        return value

    def _masked(self, exc: BaseException) -> BaseException:
        """``exc`` with every secret masked in its message and chained causes."""
        return self._redactor.exception(exc)

    def _wrapped(self, exc: BaseException, kind: type[FksExecError], doing: str) -> FksExecError:
        """A ``kind`` error saying ``doing: Type: message``, the masked ``exc`` chained."""
        error = kind(self.redact(f"{doing}: {type(exc).__name__}: {exc}"))
        error.__cause__ = self._masked(exc)
        error.__suppress_context__ = True
        return error

    def _require(self, capability: Capability, method: str) -> None:
        if not self.supports(capability):
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


def _as_unknown(result: ExecutionResult, why: str) -> ExecutionResult:
    # Not a definite answer: the numbers are dropped and the fate is left to reconcile.
    return result.model_copy(
        update={
            "status": OrderStatus.UNKNOWN,
            "success": False,
            "sent": None,
            "filled_quantity": Decimal(0),
            "average_price": None,
            "quantity": None
            if result.quantity is None or not _sane(result.quantity)
            else result.quantity,
            "error": why + "; reconcile with get_order, do not resend",
            "error_code": ErrorCode.UNKNOWN,
        }
    )


def _sane(value: Decimal) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0
