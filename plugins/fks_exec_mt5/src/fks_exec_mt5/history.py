"""From the terminal's history (orders and their deals) to :class:`ExecutionResult`.

What ``get_order`` and ``find_order`` answer, with no I/O: fills come from the deals
(MQL5 HistoryDealsGet: a deal is what was executed), the last order's state says
whether it is still working. A placed pending order has no deal: ``accepted``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ErrorCode, ExecutionResult, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.numbers import BROKER, decimal_of, int_of, time_ms_of
from fks_exec_mt5.results import NOT_DEFINITE
from fks_exec_mt5.servertime import ServerClock

__all__ = ["filled_before_cancel", "from_history"]

_log = logging.getLogger("fks_exec.plugins.mt5")

_STATES = {
    c.ORDER_STATE_STARTED: OrderStatus.PENDING,
    c.ORDER_STATE_REQUEST_ADD: OrderStatus.PENDING,
    c.ORDER_STATE_PLACED: OrderStatus.ACCEPTED,
    c.ORDER_STATE_REQUEST_MODIFY: OrderStatus.ACCEPTED,
    c.ORDER_STATE_REQUEST_CANCEL: OrderStatus.ACCEPTED,
    c.ORDER_STATE_PARTIAL: OrderStatus.PARTIALLY_FILLED,
    c.ORDER_STATE_FILLED: OrderStatus.FILLED,
    c.ORDER_STATE_CANCELED: OrderStatus.CANCELED,
    c.ORDER_STATE_REJECTED: OrderStatus.REJECTED,
    c.ORDER_STATE_EXPIRED: OrderStatus.EXPIRED,
}
_SHORT_OF_LEGS = (OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED)
_BUYS = (
    c.ORDER_TYPE_BUY,
    c.ORDER_TYPE_BUY_LIMIT,
    c.ORDER_TYPE_BUY_STOP,
    c.ORDER_TYPE_BUY_STOP_LIMIT,
)


def from_history(
    records: Sequence[Any],
    deals: Sequence[Any],
    *,
    plugin: str,
    client_order_id: str | None,
    clock: ServerClock,
    lots: Decimal | None = None,
    maybe_more: bool = False,
) -> ExecutionResult:
    """One result from the orders one client order id sent (its legs) and their deals.

    Fills come from the deals (their volumes and prices); the state of the last order
    says whether it is still working. ``lots`` is the order's own quantity over all its
    legs when known: legs never sent are not in the history, so the result's quantity
    is ``lots`` and fills short of it are ``partially_filled``, never ``filled``.
    Without ``lots``, ``maybe_more`` (the last leg closed a whole position, or may be
    one deal of a split close, so more legs may have been planned) makes the result
    ``unknown``. Times are server
    time, converted with ``clock`` (left out while it does not know the offset).
    A record with a number it cannot have (deals adding up to more than the orders, a
    deal without a volume or a price) makes the result ``unknown``, with a warning
    naming the broker and the field.
    """
    last = records[-1]
    raw = {"orders": [r._asdict() for r in records], "deals": [d._asdict() for d in deals]}
    unknown = {
        "plugin": plugin,
        "status": OrderStatus.UNKNOWN,
        "client_order_id": client_order_id,
        "symbol": str(last.symbol),
        "side": None,
        "quantity": None,
        "error_code": ErrorCode.UNKNOWN,
        "raw": raw,
    }
    if lots is None and maybe_more:
        return ExecutionResult(
            **unknown,
            error=f"found {len(records)} leg(s) of this order, the last closing a whole "
            "position, or one deal of a close split by volume_max: from the history alone "
            "it cannot be told whether the order had more legs, never sent. Look it up "
            "with find_order and the hints "
            "lookup_hints gave when it was sent (they carry its lots); not a definite answer: "
            "do not resend",
        )
    try:
        fields = _history_fields(records, deals, clock, lots)
    except BadBrokerNumber as exc:
        _log.warning("order %s: %s; its fate is unknown", client_order_id, exc)
        return ExecutionResult(**unknown, error=f"{exc}{NOT_DEFINITE}")
    return ExecutionResult(
        plugin=plugin,
        client_order_id=client_order_id,
        symbol=str(last.symbol),
        raw=raw,
        **fields,
    )


def _history_fields(
    records: Sequence[Any], deals: Sequence[Any], clock: ServerClock, lots: Decimal | None
) -> dict[str, Any]:
    last = records[-1]
    first = records[0]
    last_ticket = int_of(last.ticket, "order ticket")
    asked = lots
    quantity = Decimal(0)
    for record in records:
        size = decimal_of(record.volume_initial, f"order {record.ticket} volume_initial")
        if not size:
            raise BadBrokerNumber(f"{BROKER}: order {record.ticket} volume_initial is 0")
        quantity += size
    found = quantity
    if asked is not None:
        if quantity > asked:
            raise BadBrokerNumber(
                f"{BROKER}: orders with this comment add up to {quantity} lots, above the "
                f"{asked} the order asked for"
            )
        quantity = asked
    filled, value = _sum_deals(deals)
    if filled > quantity:
        raise BadBrokerNumber(
            f"{BROKER}: deals of order {last_ticket} add up to {filled} lots, above the "
            f"{quantity} ordered"
        )
    state = int_of(last.state, f"order {last_ticket} state")
    status = _STATES.get(state, OrderStatus.ACCEPTED)
    average = None
    if filled > 0:
        average = value / filled
        if status is OrderStatus.ACCEPTED or (
            status is OrderStatus.REJECTED and len(records) > 1  # a later leg refused
        ):
            status = OrderStatus.PARTIALLY_FILLED
        elif status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) and filled >= quantity:
            status = OrderStatus.FILLED
        # Else canceled or expired with what filled: final, the rest is gone (an IOC's
        # rest, a partly filled pending order deleted or expired; MQL5 ORDER_STATE_*).
    elif status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        status = OrderStatus.ACCEPTED  # no deal (yet): a fill is confirmed by the deal
    if status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        # Compared with the order's lots: a leg never sent is not in the history.
        status = OrderStatus.FILLED if filled >= quantity else OrderStatus.PARTIALLY_FILLED
    short = None
    if status in _SHORT_OF_LEGS and quantity > found and filled > 0:
        short = (
            f"{filled} of {quantity} lots filled over the {len(records)} leg(s) found; no "
            f"leg for the other {quantity - found} lots is in the history (refused, or never "
            "sent: an order's legs after one that failed are not sent)"
        )
    fields: dict[str, Any] = {
        "status": status,
        "order_id": str(last_ticket),
        "side": "buy" if int_of(last.type, f"order {last_ticket} type") in _BUYS else "sell",
        "quantity": quantity,
        "filled_quantity": filled,
        "average_price": average,
        "error_code": ErrorCode.REJECTED if status is OrderStatus.REJECTED else None,
        "error": "rejected by the trade server" if status is OrderStatus.REJECTED else short,
    }
    stamp = time_ms_of(getattr(first, "time_setup_msc", 0), "order time_setup_msc")
    if stamp and clock.known:
        fields["timestamp"] = clock.to_utc(stamp / 1000)
    return fields


def filled_before_cancel(record: Any, deals: Sequence[Any] | None) -> dict[str, Any]:
    """The fill fields of a canceled order that had partly filled, for its result.

    TRADE_ACTION_REMOVE deletes only an order's rest; what filled before stays dealt
    (MQL5 ORDER_STATE_PARTIAL, ORDER_VOLUME_INITIAL and ORDER_VOLUME_CURRENT). ``record``
    is the working order read before the REMOVE, ``deals`` its deals read after it
    (HistoryDealsGet by order ticket; None when the read failed). Nothing when none
    filled. Raises :class:`~fks_exec.kit.BadBrokerNumber` for a number no record can
    have, or when the record says lots had filled and the deals could not be read.
    """
    ticket = record.ticket
    asked = decimal_of(record.volume_initial, f"order {ticket} volume_initial")
    if deals is None:
        done = asked - decimal_of(record.volume_current, f"order {ticket} volume_current")
        if done <= 0:
            return {}
        raise BadBrokerNumber(
            f"{BROKER}: order {ticket} had filled {done} of {asked} lots and its deals "
            "could not be read"
        )
    filled, value = _sum_deals(deals, of_order=int_of(ticket, "order ticket"))
    if filled > asked:
        raise BadBrokerNumber(
            f"{BROKER}: deals of order {ticket} add up to {filled} lots, above its {asked}"
        )
    if not filled:
        return {}
    return {
        "side": "buy" if int_of(record.type, f"order {ticket} type") in _BUYS else "sell",
        "quantity": asked,
        "filled_quantity": filled,
        "average_price": value / filled,
    }


def _sum_deals(deals: Sequence[Any], *, of_order: int | None = None) -> tuple[Decimal, Decimal]:
    """The lots of ``deals`` (only those of order ``of_order``, when given) and their
    sum of lots times price. Raises :class:`~fks_exec.kit.BadBrokerNumber` for a deal
    without a volume or a price, or a number no deal can have."""
    filled = value = Decimal(0)
    for deal in deals:
        if of_order is not None and int_of(deal.order, f"deal {deal.ticket} order") != of_order:
            continue
        where = f"deal {deal.ticket} "
        lots = decimal_of(deal.volume, where + "volume")
        price = decimal_of(deal.price, where + "price")
        if not lots or not price:
            raise BadBrokerNumber(f"{BROKER}: {where}has volume {lots} at price {price}")
        filled += lots
        value += lots * price
    return filled, value
