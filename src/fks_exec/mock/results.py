"""The :class:`ExecutionResult` describing a mock order record, built without re-validation.

Validating a result costs several microseconds, more than the rest of a fill. The
simulator guarantees what the validator would check field by field: a record's status
is an ``OrderStatus``, its quantities exact finite ``Decimal`` values (the quantity
positive, what filled between zero and the quantity), its ids and symbol strings, and
its clock's time in UTC. So :func:`result_of` sets the fields directly, after running
the one check that depends on several fields together, the core's
:func:`~fks_exec._result_model.settle_result` (which fills ``success``, ``sent`` and a failed
status's default ``error_code``, exactly as the validator does); for an order filled
whole, the usual answer, even that is decided without the call, since what it would
decide there is fixed (success, sent, nothing to contradict). A record that breaks a
rule, or a time that is not in UTC, takes the validating path instead, so it gets the
validator's own result or error. ``paper`` is left for the plugin base class to stamp,
as it does on every result.

:func:`validated_result_of` builds the same result through the validator; tests check
on random order streams that both agree field for field, fields-set and dump included.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fks_exec._result_model import settle_result
from fks_exec.mock.records import FILLED, MockOrder
from fks_exec.models import ExecutionResult

__all__ = ["result_of", "validated_result_of"]

_UTC = timezone.utc
_new = object.__new__
_set = object.__setattr__
_GIVEN = frozenset(
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
"""The fields :func:`validated_result_of` passes: the fields-set of every result."""
_FIELDS_SET = set(_GIVEN)
"""One fields-set shared by every fast result: nothing changes a result's set in place
(pydantic copies it before ``model_copy(update=...)`` adds to it), and one set less per
result is one object less for the garbage collector to visit."""


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
    status = record.status
    if status is FILLED and filled == record.quantity:
        # What settle_result decides for a whole fill, decided here: it succeeded and
        # was sent, its error code stays as it is, and a quantity filled whole (> 0:
        # the simulator records a fill only of a positive quantity) has a price.
        success: bool | None = True
        sent: bool | None = True
    else:
        success = sent = None
    values: dict[str, Any] = {  # in the model's field order, as the validator leaves it
        "success": success,
        "sent": sent,
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
        "error_code": record.error_code,
        "timestamp": now,
        "raw": None,
    }
    if now.tzinfo is not _UTC or (success is None and settle_result(values, _GIVEN) is not None):
        return validated_result_of(plugin, record, now)
    result = _new(ExecutionResult)
    _set(result, "__dict__", values)
    _set(result, "__pydantic_fields_set__", _FIELDS_SET)
    _set(result, "__pydantic_extra__", None)
    _set(result, "__pydantic_private__", None)
    return result
