"""Orders to ATI commands and NinjaTrader order states to results, with no I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType

__all__ = [
    "STATES",
    "command",
    "order_id_for",
    "parse_state",
    "result_from_values",
]

_HEX32 = re.compile(r"[0-9a-f]{32}")
_TYPES = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOPMARKET",
    OrderType.STOP_LIMIT: "STOPLIMIT",
}

STATES = {
    "initialized": OrderStatus.PENDING,
    "submitted": OrderStatus.PENDING,
    "accepted": OrderStatus.ACCEPTED,
    "triggerpending": OrderStatus.ACCEPTED,
    "working": OrderStatus.ACCEPTED,
    "changepending": OrderStatus.ACCEPTED,
    "changesubmitted": OrderStatus.ACCEPTED,
    "cancelpending": OrderStatus.ACCEPTED,
    "cancelsubmitted": OrderStatus.ACCEPTED,
    "cancelled": OrderStatus.CANCELED,
    "canceled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "partfilled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "unknown": OrderStatus.UNKNOWN,
}
FINAL_STATES = frozenset({"filled", "cancelled", "canceled", "rejected"})
RESTING_STATES = frozenset({"accepted", "working", "triggerpending"})


def order_id_for(client_order_id: str, suffix: str = "") -> str:
    """Our NinjaTrader order id: 32 hex characters derived from the client order id.

    A default client id (32 lowercase hex) is used as it is; any other is hashed, so
    the same client id always gives the same order id, also after a reconnect.
    """
    base = client_order_id + suffix
    if not suffix and _HEX32.fullmatch(client_order_id):
        return client_order_id
    return hashlib.sha256(base.encode()).hexdigest()[:32]


def parse_state(text: str | None) -> str | None:
    """A NinjaTrader order state in lower case without spaces, or None."""
    return text.strip().lower().replace(" ", "") if text else None


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def command(*fields: str) -> str:
    """An ATI command line: its fields joined by ``;``.

    Raises ``ValueError`` for a field containing ``;`` or a NUL byte.
    """
    for field in fields:
        if ";" in field or "\x00" in field:
            raise ValueError(f"ATI command fields cannot contain ';' or NUL: {field!r}")
    return ";".join(fields)


def place_command(
    order: Order, *, account: str, instrument: str, order_id: str, oco: str = "", strategy: str = ""
) -> str:
    """The 13-field ATI line: ``PLACE;ACCOUNT;INSTRUMENT;ACTION;QTY;ORDER TYPE;LIMIT;
    STOP;TIF;OCO;ORDER ID;STRATEGY;STRATEGY ID``."""
    tif = "DAY" if order.time_in_force.value == "day" else "GTC"
    return command(
        "PLACE",
        account,
        instrument,
        order.side.value.upper(),
        _number(order.quantity),
        _TYPES[order.type],
        _number(order.price),
        _number(order.stop_price),
        tif,
        oco,
        order_id,
        strategy,
        "",
    )


def quantity_denial(order: Order) -> tuple[ErrorCode, str] | None:
    """NinjaTrader trades whole contracts; a fractional quantity is refused."""
    if order.quantity != order.quantity.to_integral_value():
        return ErrorCode.INVALID_ORDER, (
            f"NinjaTrader takes whole quantities, got {order.quantity}; nothing was sent"
        )
    if order.time_in_force.value in ("ioc", "fok"):
        return ErrorCode.NOT_SUPPORTED, "the AT Interface takes DAY or GTC orders only"
    return None


def result_from_values(
    values: Mapping[str, str],
    order_id: str,
    *,
    plugin: str,
    order: Order | None = None,
    client_order_id: str | None = None,
    symbol: str | None = None,
) -> ExecutionResult | None:
    """The result NinjaTrader's pushed values describe for ``order_id``, or None."""
    state = parse_state(values.get(f"OrderStatus|{order_id}"))
    if state is None:
        return None
    status = STATES.get(state, OrderStatus.ACCEPTED)
    filled = _decimal(values.get(f"Filled|{order_id}")) or Decimal(0)
    average = _decimal(values.get(f"AvgFillPrice|{order_id}"))
    quantity = order.quantity if order is not None else None
    if quantity is not None and filled > quantity:
        filled = quantity
    if filled > 0 and not average:
        average = None
        filled = Decimal(0)  # a fill without a price is not reported
    if status is OrderStatus.FILLED and filled == 0:
        status = OrderStatus.ACCEPTED  # "Filled" arrived before the fill values
    if status is OrderStatus.PARTIALLY_FILLED and (
        filled == 0 or (quantity and filled >= quantity)
    ):
        status = OrderStatus.FILLED if filled else OrderStatus.ACCEPTED
    fields: dict[str, Any] = {
        "plugin": plugin,
        "status": status,
        "order_id": order_id,
        "filled_quantity": filled,
        "average_price": average if filled else None,
        "raw": {
            k: values[k]
            for k in (f"OrderStatus|{order_id}", f"Filled|{order_id}", f"AvgFillPrice|{order_id}")
            if k in values
        },
    }
    if status is OrderStatus.REJECTED:
        fields.update(
            error="NinjaTrader rejected the order (see its Log tab for why)",
            error_code=ErrorCode.REJECTED,
        )
    if order is not None:
        return ExecutionResult.for_order(order, **fields)
    return ExecutionResult(
        client_order_id=client_order_id, symbol=symbol or "?", side=None, quantity=None, **fields
    )


def _decimal(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text.strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None
