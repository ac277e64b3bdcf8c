"""Numbers from a broker's reply, read with bounds: :func:`broker_decimal`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fks_exec.errors import FksExecError

__all__ = ["BadBrokerNumber", "broker_decimal"]

_MAX_TEXT = 64
"""Longer number texts are refused before they are parsed (``1e40000000`` and friends
cost nothing to refuse but may be expensive to compute with)."""
_MAX_ADJUSTED_EXPONENT = 30
_LIMIT = 10**_MAX_ADJUSTED_EXPONENT


class BadBrokerNumber(FksExecError, ValueError):
    """A number in a broker's reply is not one a real order can have.

    The caller must not take the reply as a definite answer: report the order
    ``unknown`` and reconcile it. The message names the broker and the field.
    """


def broker_decimal(
    value: object,
    *,
    broker: str,
    field: str,
    allow_negative: bool = False,
    allow_none: bool = True,
) -> Decimal | None:
    """``value`` (str, int, float or Decimal) as a finite Decimal within sane bounds.

    None (or ``""``) gives None when ``allow_none``. Raises :class:`BadBrokerNumber`
    naming ``broker`` and ``field`` for text that is not a number, is over 64
    characters, is NaN or infinite, has a magnitude of 1e30 or more, or is negative
    when that is not allowed. Floats go through their shortest text, so ``0.1`` is
    ``Decimal("0.1")``.
    """
    if value is None or value == "":
        if allow_none:
            return None
        raise BadBrokerNumber(f"{broker}: {field} is missing")
    if isinstance(value, bool):
        raise BadBrokerNumber(f"{broker}: {field} is a boolean, not a number")
    if isinstance(value, Decimal):
        number = value
    else:
        if isinstance(value, str):
            text = value.strip()
        elif isinstance(value, float):
            text = repr(value)
        elif isinstance(value, int):
            if abs(value) >= _LIMIT:  # before str(): a huge int is slow to print
                raise BadBrokerNumber(f"{broker}: {field} is out of range (an int of 1e30 or more)")
            text = str(value)
        else:
            raise BadBrokerNumber(f"{broker}: {field} is a {type(value).__name__}, not a number")
        if len(text) > _MAX_TEXT:
            raise BadBrokerNumber(f"{broker}: {field} has {len(text)} characters, not a number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise BadBrokerNumber(f"{broker}: {field} {text[:20]!r} is not a number") from None
    if not number.is_finite():
        raise BadBrokerNumber(f"{broker}: {field} is not finite ({number})")
    if number and number.adjusted() >= _MAX_ADJUSTED_EXPONENT:
        raise BadBrokerNumber(f"{broker}: {field} is out of range ({number:.3e})")
    if number < 0 and not allow_negative:
        raise BadBrokerNumber(f"{broker}: {field} is negative ({number})")
    return number
