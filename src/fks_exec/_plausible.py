"""Whether a plugin's result can be a definite answer: :func:`implausible`.

The models refuse contradictions at construction, but a plugin may build a result
without validation (``model_construct``) or report numbers that fit the model and not
the order (a fill of 5 for an order of 0.001). The plugin base class turns such a
result into ``unknown`` (reconciled, never trusted), with a warning naming the
broker and the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec.models import ExecutionResult, Order

__all__ = ["implausible"]


_ZERO = Decimal(0)


def implausible(result: ExecutionResult, order: Order | None = None) -> str | None:
    """What makes ``result`` impossible (for ``order``, when given), or None.

    Never raises. A plausible result of exact ``Decimal`` numbers (every result that
    was validated or built through ``ExecutionResult.build``) is settled by one flat
    check; anything else is examined field by field to name the problem.
    """
    values = result.__dict__
    filled = values.get("filled_quantity")
    quantity = values.get("quantity")
    average = values.get("average_price")
    if (
        type(filled) is Decimal
        and filled.is_finite()
        and filled >= _ZERO
        and (
            average is None
            or (type(average) is Decimal and average.is_finite() and average > _ZERO)
        )
        and (
            quantity is None
            or (
                type(quantity) is Decimal
                and quantity.is_finite()
                and quantity > _ZERO
                and filled <= quantity
            )
        )
        and (order is None or filled <= order.quantity)
    ):
        return None
    return _problem(result, order)


def _problem(result: ExecutionResult, order: Order | None) -> str | None:
    filled = result.filled_quantity
    problem = (
        _not_number("filled_quantity", filled, allow_zero=True, required=True)
        or _not_number("average_price", result.average_price)
        or _not_number("quantity", result.quantity)
    )
    if problem:
        return problem
    if result.quantity is not None and filled > result.quantity:
        return f"filled_quantity {filled} above its quantity {result.quantity}"
    if order is not None and filled > order.quantity:
        return f"filled_quantity {filled} above the order's quantity {order.quantity}"
    return None


def _not_number(
    field: str, value: Any, *, allow_zero: bool = False, required: bool = False
) -> str | None:
    if value is None:
        return f"no {field}" if required else None
    if not isinstance(value, Decimal) or not value.is_finite():
        return f"a {field} that is not a finite number ({str(value)[:40]})"
    if value < 0 or (value == 0 and not allow_zero):
        return f"a {field} of {value}"
    return None
