"""The :class:`ExecutionResult` describing a mock order record, built without re-validation.

Validating a result costs several microseconds, more than the rest of a fill. The
simulator already guarantees what the validator checks (0 <= filled <= quantity, an
average price whenever something filled, ``filled`` only when all of it did,
``partially_filled`` only in between, a timezone-aware UTC clock), so
:func:`result_of` sets the fields directly, with the values the validator would derive
(``success`` and ``sent`` from the status, the default ``error_code`` of a rejection),
and leaves ``paper`` for the plugin base class to stamp, as it does on every result.

``ExecutionResult.model_construct`` would do the same but walks every field's aliases
and defaults, which makes it slower than validating; :func:`result_of` performs only
its last step (setting the instance's dict, fields-set and pydantic's two private
slots). :func:`validated_result_of` builds the same result through the validator;
tests check on random order streams that both agree field for field, fields-set
included. A clock whose time is not in UTC takes the validated path.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fks_exec.mock.records import MockOrder
from fks_exec.models import ErrorCode, ExecutionResult, OrderStatus

__all__ = ["result_of", "validated_result_of"]

_REJECTED, _UNKNOWN = OrderStatus.REJECTED, OrderStatus.UNKNOWN
_FIELDS_GIVEN = frozenset(
    {
        "plugin",
        "status",
        "client_order_id",
        "order_id",
        "symbol",
        "side",
        "quantity",
        "filled_quantity",
        "average_price",
        "error",
        "error_code",
        "timestamp",
    }
)
_new = object.__new__
_set = object.__setattr__


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

    Raises ``pydantic.ValidationError`` only on the validated path (a clock not in UTC)
    for a record that contradicts itself.
    """
    if now.tzinfo is not timezone.utc:
        return validated_result_of(plugin, record, now)
    status = record.status
    unsuccessful = status is _REJECTED or status is _UNKNOWN
    error_code = record.error_code
    if unsuccessful and error_code is None:
        error_code = ErrorCode.REJECTED if status is _REJECTED else ErrorCode.UNKNOWN
    filled = record.filled
    order = record.order
    values: dict[str, Any] = {
        "success": not unsuccessful,
        "sent": None if status is _UNKNOWN else True,
        "paper": None,
        "status": status,
        "plugin": plugin,
        "client_order_id": order.client_order_id,
        "order_id": record.order_id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": record.quantity,
        "filled_quantity": filled,
        "average_price": record.notional / filled if filled else None,
        "error": record.error,
        "error_code": error_code,
        "timestamp": now,
        "raw": None,
    }
    result = _new(ExecutionResult)
    _set(result, "__dict__", values)
    _set(result, "__pydantic_fields_set__", set(_FIELDS_GIVEN))
    _set(result, "__pydantic_extra__", None)
    _set(result, "__pydantic_private__", None)
    return result
