"""Numbers from the terminal, read with the core's bounds where they enter.

Every number the plugin takes from a MetaTrader5 result (OrderSendResult, deals,
orders, positions, SymbolInfo, Tick) goes through :func:`decimal_of` or
:func:`int_of`. Both refuse what no real account can report (NaN, infinities,
magnitudes of 1e30 or more, a negative where none can be, a boolean or text where a
number belongs) with :class:`~fks_exec.kit.BadBrokerNumber`, whose message names the
broker and the field. The terminal's doubles arrive as floats: those take a fast path
with exactly the bounds of :func:`fks_exec.kit.broker_decimal` (a test holds the two
equal); anything else goes through ``broker_decimal`` itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec.kit import BadBrokerNumber, broker_decimal

__all__ = [
    "BROKER",
    "FLOAT_LIMIT",
    "INT_LIMIT",
    "LATEST_MS",
    "BadBrokerNumber",
    "decimal_of",
    "float_decimal",
    "int_of",
    "price_or_none",
    "time_ms_of",
]

BROKER = "MetaTrader 5"
"""How messages about a bad number name the broker."""

FLOAT_LIMIT = 1e30
"""broker_decimal refuses magnitudes of 1e30 and more."""
INT_LIMIT = 2**64
"""MetaTrader's integers are at most unsigned 64-bit (tickets, magic numbers)."""


def decimal_of(value: Any, field: str, *, negative: bool = False) -> Decimal:
    """``value`` (a double from the terminal) as the Decimal of its shortest text.

    Raises :class:`BadBrokerNumber` naming ``field`` for a value that is missing, not
    finite, of magnitude 1e30 or more, or negative unless ``negative``.
    """
    if type(value) is float and (
        0.0 <= value < FLOAT_LIMIT or (negative and -FLOAT_LIMIT < value < 0)
    ):
        return float_decimal(value)
    number = broker_decimal(
        value, broker=BROKER, field=field, allow_negative=negative, allow_none=False
    )
    assert number is not None  # allow_none=False
    return number


_DECIMALS: dict[float, Decimal] = {}
_DECIMALS_KEPT = 4096
"""How many doubles :func:`float_decimal` remembers (it starts afresh when full)."""


def float_decimal(value: float) -> Decimal:
    """The Decimal of a double's shortest text, ``Decimal(repr(value))``, remembered.

    For a float the caller has already bounded (finite). The terminal reports the same
    numbers again and again (a held position's volume and open price, the lot sizes of
    fills), and a lookup costs a tenth of the conversion. Zero is never remembered:
    ``0.0`` and ``-0.0`` are equal keys with different texts.
    """
    number = _DECIMALS.get(value)
    if number is None:
        number = Decimal(repr(value))
        if value:
            if len(_DECIMALS) >= _DECIMALS_KEPT:
                _DECIMALS.clear()
            _DECIMALS[value] = number
    return number


def price_or_none(value: Any, field: str) -> Decimal | None:
    """A stop loss, take profit or other price where 0 means "none" (MetaQuotes' way).

    Raises :class:`BadBrokerNumber` as :func:`decimal_of` does.
    """
    number = decimal_of(value, field)
    return number if number else None


def int_of(value: Any, field: str, *, negative: bool = False) -> int:
    """An integer field (ticket, retcode, magic, time in ms, enum value) as an int.

    Integral floats are accepted (a bridge may carry them so). Raises
    :class:`BadBrokerNumber` naming ``field`` for a boolean, a non-integral or
    non-finite value, a magnitude of 2**64 or more, or a negative unless ``negative``.
    """
    if type(value) is int:
        number = value
    elif (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    ):
        number = int(value)
    else:
        kind = type(value).__name__
        raise BadBrokerNumber(f"{BROKER}: {field} is not an integer (a {kind}: {str(value)[:20]})")
    if not -INT_LIMIT < number < INT_LIMIT:
        raise BadBrokerNumber(f"{BROKER}: {field} is out of range (an integer of 2**64 or more)")
    if number < 0 and not negative:
        raise BadBrokerNumber(f"{BROKER}: {field} is negative ({number})")
    return number


LATEST_MS = 32_503_680_000_000
"""3000-01-01 in milliseconds since 1970: later stamps are not times (and some
platforms cannot convert them)."""


def time_ms_of(value: Any, field: str) -> int:
    """A time in milliseconds (``time_msc``, ``time_setup_msc``); 0 means "none".

    Raises :class:`BadBrokerNumber` naming ``field`` for what :func:`int_of` refuses
    and for a stamp after the year 3000.
    """
    stamp = int_of(value, field)
    if stamp >= LATEST_MS:
        raise BadBrokerNumber(f"{BROKER}: {field} {stamp} is not a time (after the year 3000)")
    return stamp
