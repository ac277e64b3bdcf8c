"""ccxt numbers (floats, ints, numeric strings, None) as exact Decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["positive", "to_decimal"]


def to_decimal(value: Any) -> Decimal | None:
    """A ccxt number as an exact Decimal (through its text), or None if it is not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def positive(value: Any) -> Decimal | None:
    """:func:`to_decimal` of ``value`` when it is above zero, else None."""
    number = to_decimal(value)
    return number if number is not None and number > 0 else None
