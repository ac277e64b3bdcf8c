"""Orders to ATI command lines, with no I/O.

The command line is the one NinjaTrader's client DLL builds in ``Client.Command``: 13
fields joined by ``;`` -- command, account, instrument, action, quantity, order type,
limit price, stop price, time in force, OCO id, order id, strategy template, strategy
id -- with ``0`` in the number fields a command does not use (the DLL formats every
number, so it never sends an empty one).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fks_exec.errors import OrderDenied
from fks_exec.models import ErrorCode, Order, OrderSide, OrderType, TimeInForce

__all__ = [
    "MAX_QUANTITY",
    "cancel_command",
    "change_quantity_command",
    "check_name",
    "close_position_command",
    "command",
    "order_id_for",
    "place_command",
    "place_line",
    "quantity_denial",
    "whole_and_day_or_gtc",
    "wire_number",
]

_HEX32 = re.compile(r"[0-9a-f]{32}").fullmatch  # a C loop: cheaper than str methods here
_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOPMARKET",
    OrderType.STOP_LIMIT: "STOPLIMIT",
}
_TIF = {TimeInForce.DAY: "DAY", TimeInForce.GTC: "GTC"}
_SIDES = {side: side.value.upper() for side in OrderSide}


def order_id_for(client_order_id: str, suffix: str = "") -> str:
    """Our NinjaTrader order id: 32 hex characters derived from the client order id.

    A default client id (32 lowercase hex) is used as it is; any other is hashed, so
    the same client id always gives the same order id, also after a restart.
    """
    if not suffix and _HEX32(client_order_id):
        return client_order_id
    return hashlib.sha256((client_order_id + suffix).encode()).hexdigest()[:32]


def check_name(what: str, text: str) -> None:
    """Refuse a name the ATI cannot carry, before anything is sent.

    ``;`` would split the command line, NUL would end the field, non-ASCII is sent by
    the DLL as ``?`` (another name), and ``|`` separates the parts of the keys NinjaTrader
    pushes back (``MarketPosition|<instrument>|<account>``). Raises :class:`OrderDenied`.
    """
    plain = text.isascii() and text.isprintable() and ";" not in text and "|" not in text
    if plain and text.strip():
        return
    bad = sorted({c for c in text if c in ";|\x00" or not c.isascii() or not c.isprintable()})
    if not text.strip() or bad:
        shown = ", ".join(repr(c) for c in bad) or "nothing"
        raise OrderDenied(
            f"{what} {text!r} cannot be sent over the AT Interface (it contains {shown}; "
            "names must be printable ASCII without ';' or '|'); nothing was sent"
        )


def wire_number(value: Decimal | None) -> str:
    """``value`` as the ATI reads a number: every digit, no exponent, no trailing zeros
    after the point (``100``, ``6100.5``, ``0.0000001``); ``0`` for None. Exact: the
    decimal context's precision never rounds it."""
    if value is None:
        return "0"
    text = str(value)  # the usual price or quantity is already in that form
    if "E" in text or "e" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def command(*fields: str) -> str:
    """An ATI command line: its fields joined by ``;``.

    Raises ``ValueError`` for a field containing ``;`` or a NUL byte.
    """
    line = ";".join(fields)
    if line.count(";") != len(fields) - 1 or "\x00" in line:
        bad = next(f for f in fields if ";" in f or "\x00" in f)
        raise ValueError(f"ATI command fields cannot contain ';' or NUL: {bad!r}")
    return line


def place_command(
    order: Order,
    *,
    account: str,
    instrument: str,
    order_id: str,
    oco: str = "",
    strategy: str = "",
    quantity: Decimal | None = None,
) -> str:
    """The 13-field ATI line: ``PLACE;ACCOUNT;INSTRUMENT;ACTION;QTY;ORDER TYPE;LIMIT;
    STOP;TIF;OCO;ORDER ID;STRATEGY;STRATEGY ID`` (``quantity`` overrides the order's).

    Raises ``ValueError`` for a field containing ``;`` or a NUL byte."""
    size = wire_number(order.quantity if quantity is None else quantity)
    return place_line(order.__dict__, size, account, instrument, order_id, oco, strategy)


def place_line(
    fields: Mapping[str, Any],
    size: str,
    account: str,
    instrument: str,
    order_id: str,
    oco: str,
    strategy: str,
) -> str:
    """:func:`place_command` of the order whose field values are ``fields`` (its
    ``__dict__``: read without a model attribute lookup each) and whose quantity is
    written ``size`` (:func:`wire_number`). Raises what it raises."""
    price, stop = fields["price"], fields["stop_price"]
    limit = "0" if price is None else wire_number(price)
    trigger = "0" if stop is None else wire_number(stop)
    line = (
        f"PLACE;{account};{instrument};{_SIDES[fields['side']]};{size};{_TYPES[fields['type']]};"
        f"{limit};{trigger};{_TIF[fields['time_in_force']]};{oco};{order_id};{strategy};"
    )
    if line.count(";") != 12 or "\x00" in line:  # a field that would split the line
        bad = next(
            f for f in (account, instrument, oco, order_id, strategy) if ";" in f or "\x00" in f
        )
        raise ValueError(f"ATI command fields cannot contain ';' or NUL: {bad!r}")
    return line


def change_quantity_command(order_id: str, quantity: Decimal) -> str:
    """``CHANGE`` of an order's quantity; prices ``0`` leave them as they are (help page)."""
    size = wire_number(quantity)
    return command("CHANGE", "", "", "", size, "", "0", "0", "", "", order_id, "", "")


def cancel_command(order_id: str) -> str:
    """``CANCEL`` of one order by its id."""
    return command("CANCEL", "", "", "", "0", "", "0", "0", "", "", order_id, "", "")


def close_position_command(account: str, instrument: str) -> str:
    """``CLOSEPOSITION``: cancel the account's working orders in ``instrument`` and flatten it."""
    return command("CLOSEPOSITION", account, instrument, "", "0", "", "0", "0", "", "", "", "", "")


MAX_QUANTITY = 2**31 - 1
"""The largest quantity the ATI can carry: the DLL's ``Client.Command`` takes it as a C#
``int`` (Int32), and the help page "Commands and Valid Parameters" gives QTY as an
integer value."""
_MAX_DIGITS = str(MAX_QUANTITY)


def whole_and_day_or_gtc(size: str, time_in_force: TimeInForce) -> bool:
    """What :func:`quantity_denial` lets through, judged from the quantity as written
    (``size``, :func:`wire_number`: a whole number has no point, and has no leading
    zeros, so a longer text is a larger number) and the time in force."""
    if "." in size or time_in_force not in _TIF:
        return False
    return len(size) < 10 or (len(size) == 10 and size <= _MAX_DIGITS)


def quantity_denial(order: Order) -> tuple[ErrorCode, str] | None:
    """What NinjaTrader's ATI cannot take: fractional quantities, quantities above
    :data:`MAX_QUANTITY`, TIF other than DAY/GTC."""
    if order.quantity != order.quantity.to_integral_value():
        return ErrorCode.INVALID_ORDER, (
            f"NinjaTrader takes whole quantities, got {order.quantity}; nothing was sent"
        )
    if order.quantity > MAX_QUANTITY:
        return ErrorCode.INVALID_ORDER, (
            f"NinjaTrader's AT Interface carries quantities up to {MAX_QUANTITY} (its "
            f"client DLL sends QTY as a 32-bit integer), got {order.quantity}: split the "
            "order; nothing was sent"
        )
    if order.time_in_force not in _TIF:
        return ErrorCode.NOT_SUPPORTED, (
            "the AT Interface takes DAY or GTC orders only; nothing was sent"
        )
    return None
