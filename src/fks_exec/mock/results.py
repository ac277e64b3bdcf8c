"""The :class:`ExecutionResult` describing a mock order record, built without re-validation.

Validating a result costs several microseconds, more than the rest of a fill. The
simulator's values are already in their final form (an ``OrderStatus``, exact
``Decimal`` quantities, a UTC clock), so :func:`result_of` builds through the core's
cheap path (:meth:`ExecutionResult.build`, see :mod:`fks_exec._result_model`),
which checks the same rules as the validator without pydantic's conversion, and leaves
``paper`` for the plugin base class to stamp, as it does on every result.
:func:`validated_result_of` builds the same result through the validator; tests check
on random order streams that both agree field for field, fields-set included. A clock
whose time is not in UTC takes the validated path (the cheap path sends it there).
"""

from __future__ import annotations

from datetime import datetime

from fks_exec.mock.records import MockOrder
from fks_exec.models import ExecutionResult

__all__ = ["result_of", "validated_result_of"]


def validated_result_of(plugin: str, record: MockOrder, now: datetime) -> ExecutionResult:
    """The result describing ``record`` at ``now``, built through the validator.

    Raises ``pydantic.ValidationError`` when the record contradicts itself.
    """
    return ExecutionResult(
        plugin=plugin,
        status=record.status,
        client_order_id=record.client_order_id,
        order_id=record.order_id,
        symbol=record.order.symbol,
        side=record.order.side,
        quantity=record.quantity,
        filled_quantity=record.filled,
        average_price=record.average_price,
        error=record.error,
        error_code=record.error_code,
        timestamp=now,
    )


def result_of(plugin: str, record: MockOrder, now: datetime) -> ExecutionResult:
    """The result describing ``record`` at ``now``: equal to :func:`validated_result_of`.

    Raises ``pydantic.ValidationError`` for a record that contradicts itself.
    """
    filled = record.filled
    order = record.order
    return ExecutionResult.build(
        plugin=plugin,
        status=record.status,
        client_order_id=order.client_order_id,
        order_id=record.order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=record.quantity,
        filled_quantity=filled,
        average_price=record.notional / filled if filled else None,
        error=record.error,
        error_code=record.error_code,
        timestamp=now,
    )
