"""The order-changing methods beside ``execute_order``: cancelling and closing.

:class:`PluginChanges` is a base class of :class:`~fks_exec.plugin.ExecutionPlugin`
(where the methods are documented in the hook table) and not meant to be used alone.
Each method checks its input, state and capability before anything is sent, runs its
hook inside the guard and maps what escapes it to the error contract: a cancel that
may have reached the broker is an ``unknown`` result, a close an
:class:`OutcomeUnknown`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from fks_exec._capability import Capability
from fks_exec._plugin_guard import PluginGuard
from fks_exec.errors import (
    BrokerUnavailable,
    FksExecError,
    NotSupported,
    OrderDenied,
    OutcomeUnknown,
)
from fks_exec.models import ErrorCode, ExecutionResult, OrderStatus

__all__ = ["PluginChanges"]


class PluginChanges(PluginGuard):
    """Cancelling an order and closing a position (see the module docstring)."""

    if TYPE_CHECKING:

        async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult: ...
        async def _close_position(
            self, symbol: str, quantity: Decimal | None
        ) -> list[ExecutionResult]: ...

    async def cancel_order(self, order_id: str, symbol: str | None = None) -> ExecutionResult:
        """Cancel a working order by the broker's ``order_id``.

        Returns ``status=canceled`` on success, ``rejected`` when the broker refused (e.g.
        already filled; ``sent=False`` when refused here) and ``unknown`` when no answer
        came. Raises :class:`NotSupported` without ``Capability.CANCEL_ORDER``,
        ``ValueError`` for an empty id and :class:`BrokerUnavailable` when nothing was
        sent.
        """
        self._require(Capability.CANCEL_ORDER, "cancel_order")
        if not order_id:
            raise ValueError("cancel_order needs the broker's order id")
        self._require_initialized()
        error: BaseException | None = None
        where = symbol or "?"
        try:
            return self._finish(await self._cancel_order(order_id, symbol))
        except (BrokerUnavailable, NotSupported, ValueError) as exc:  # nothing was sent
            error = self._masked(exc)
        except OrderDenied as exc:
            return self._finish(
                ExecutionResult.for_cancel(
                    plugin=self.name,
                    status=OrderStatus.REJECTED,
                    order_id=order_id,
                    symbol=where,
                    sent=False,
                    error=f"{exc}; nothing was sent",
                    error_code=ErrorCode(exc.error_code),
                )
            )
        except Exception as exc:
            return self._finish(
                ExecutionResult.for_cancel(
                    plugin=self.name,
                    status=OrderStatus.UNKNOWN,
                    order_id=order_id,
                    symbol=where,
                    error=f"{type(exc).__name__}: {exc}; the cancel may have reached the "
                    "broker: check the order with get_order",
                    error_code=ErrorCode.UNKNOWN,
                )
            )
        raise error

    async def close_position(
        self, symbol: str, quantity: Decimal | None = None
    ) -> list[ExecutionResult]:
        """Close the position in ``symbol`` (all of it, or ``quantity`` of it).

        ``quantity`` is positive, in the unit of :attr:`Position.quantity`. Returns the
        results of the orders sent (empty when there was nothing to close). Raises
        :class:`NotSupported` without ``Capability.CLOSE_POSITION``, ``ValueError`` for
        an empty symbol or a quantity that is not positive, :class:`BrokerUnavailable`
        when nothing was sent, and :class:`OutcomeUnknown` when orders may have been
        sent but no answer came (check ``positions()`` before trying again).
        """
        self._require(Capability.CLOSE_POSITION, "close_position")
        if not isinstance(symbol, str) or not symbol.strip():
            raise ValueError("close_position needs a non-empty symbol")
        if quantity is not None:
            quantity = Decimal(str(quantity))
            if not quantity.is_finite() or quantity <= 0:
                raise ValueError("close_position quantity must be positive (or None for all)")
        self._require_initialized()
        error: BaseException | None = None
        try:
            results = await self._close_position(symbol.strip(), quantity)
        except FksExecError as exc:
            error = self._masked(exc)
        except Exception as exc:
            error = self._wrapped(
                exc,
                OutcomeUnknown,
                f"plugin {self.name!r} failed while closing {symbol!r}; orders may have "
                "been sent: check positions() before trying again",
            )
        if error is not None:
            raise error
        return [self._finish(r) for r in results]
