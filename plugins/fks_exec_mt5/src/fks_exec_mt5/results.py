"""From the terminal's answers to :class:`ExecutionResult`, with no I/O.

A placed pending order is answered 10009 DONE with ``deal=0`` and ``price=0`` (MQL5
OrderSend: "a deal ticket, if it is performed"; a real server's answer, issue 17):
it is ``accepted``. A fill is confirmed only by a deal: a market order answered 10009
without a deal is ``unknown`` and reconciled through the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType
from fks_exec_mt5 import constants as c
from fks_exec_mt5.prechecks import to_decimal
from fks_exec_mt5.retcodes import HINTS, retcode_of
from fks_exec_mt5.servertime import ServerClock

__all__ = ["LegAnswer", "from_history", "from_send", "leg_status"]


@dataclass(frozen=True)
class LegAnswer:
    """One leg's OrderSendResult, or why there is none (``lost``: code and text)."""

    sent: Any = None
    lost: tuple[int, str] | None = None
    unsent: str | None = None
    """Set when the leg was never sent (an earlier leg failed, or the link failed)."""


def leg_status(sent: Any, pending: bool) -> tuple[OrderStatus, ErrorCode | None, bool]:
    """Status, error code and ``sent`` of one OrderSendResult."""
    meaning = retcode_of(sent.retcode)
    status = meaning.status
    if int(sent.retcode) == c.TRADE_RETCODE_DONE:
        if pending:
            status = OrderStatus.ACCEPTED
        elif not sent.deal:
            return OrderStatus.UNKNOWN, ErrorCode.UNKNOWN, True
    return status, meaning.code, meaning.sent


def _error_text(sent: Any) -> str:
    hint = HINTS.get(int(sent.retcode))
    return f"{sent.retcode} {sent.comment}" + (f": {hint}" if hint else "")


def from_send(
    answers: Sequence[LegAnswer], order: Order, volume: Decimal, *, plugin: str
) -> ExecutionResult:
    """One result for ``order`` from the answers of its legs (sent in that order);
    ``volume`` is the lots requested over all legs (the quantity on the volume grid)."""
    pending = order.type is not OrderType.MARKET
    filled = Decimal(0)
    value = Decimal(0)
    order_id: str | None = None
    raws: list[dict[str, Any]] = []
    problem: tuple[OrderStatus, ErrorCode | None, bool, str] | None = None
    accepted = False
    for answer in answers:
        if answer.sent is None:
            if answer.lost is not None:
                number, text = answer.lost
                problem = (
                    OrderStatus.UNKNOWN,
                    ErrorCode.NETWORK,
                    True,
                    f"no answer ({number}, {text})",
                )
            elif answer.unsent is not None and problem is None:
                problem = (OrderStatus.REJECTED, ErrorCode.NETWORK, False, answer.unsent)
            break
        sent = answer.sent
        raws.append(_raw(sent))
        status, error_code, reached = leg_status(sent, pending)
        if sent.order:
            order_id = str(sent.order)
        if status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            lots = to_decimal(sent.volume)
            filled += lots
            value += lots * to_decimal(sent.price)
        if status is OrderStatus.ACCEPTED:
            accepted = True
        if status not in (OrderStatus.FILLED, OrderStatus.ACCEPTED):
            problem = (status, error_code, reached, _error_text(sent))
            if status is not OrderStatus.PARTIALLY_FILLED:
                break
    raw: Any = raws[0] if len(raws) == 1 else {"legs": raws}
    fields: dict[str, Any] = {"order_id": order_id, "raw": raw or None, "quantity": volume}
    if filled > 0:
        fields.update(filled_quantity=min(filled, volume), average_price=value / filled)
    if problem is None:
        status = OrderStatus.ACCEPTED if accepted else OrderStatus.FILLED
        if not accepted and filled < volume:
            status = OrderStatus.PARTIALLY_FILLED
        return ExecutionResult.for_order(order, plugin=plugin, status=status, **fields)
    status, error_code, reached, text = problem
    if status is OrderStatus.UNKNOWN:
        fields["sent"] = None
    elif filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
        text = f"{filled} of {volume} lots filled; then {text}"
    elif status is OrderStatus.REJECTED:
        fields["sent"] = reached
    fields.update(error=text)
    if error_code is not None:
        fields["error_code"] = error_code
    return ExecutionResult.for_order(order, plugin=plugin, status=status, **fields)


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
) -> ExecutionResult:
    """One result from the orders one client order id sent (its legs) and their deals.

    Fills come from the deals (their volumes and prices); the state of the last order
    says whether it is still working. Times are server time, converted with ``clock``.
    """
    last = records[-1]
    first = records[0]
    quantity = sum((to_decimal(r.volume_initial) for r in records), Decimal(0))
    filled = sum((to_decimal(d.volume) for d in deals), Decimal(0))
    status = _STATES.get(int(last.state), OrderStatus.ACCEPTED)
    average = None
    if filled > 0:
        value = sum((to_decimal(d.volume) * to_decimal(d.price) for d in deals), Decimal(0))
        average = value / filled
        if status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED, OrderStatus.EXPIRED):
            status = OrderStatus.PARTIALLY_FILLED if filled < quantity else OrderStatus.FILLED
    elif status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        status = OrderStatus.ACCEPTED  # no deal (yet): a fill is confirmed by the deal
    if status is OrderStatus.PARTIALLY_FILLED and filled >= quantity:
        status = OrderStatus.FILLED
    fields: dict[str, Any] = {}
    stamp = int(getattr(first, "time_setup_msc", 0) or 0)
    if stamp:
        fields["timestamp"] = clock.to_utc(stamp / 1000)
    return ExecutionResult(
        plugin=plugin,
        status=status,
        client_order_id=client_order_id,
        order_id=str(last.ticket),
        symbol=str(last.symbol),
        side="buy" if int(last.type) in _BUYS else "sell",
        quantity=quantity,
        filled_quantity=min(filled, quantity),
        average_price=average,
        error_code=ErrorCode.REJECTED if status is OrderStatus.REJECTED else None,
        error="rejected by the trade server" if status is OrderStatus.REJECTED else None,
        raw={"orders": [r._asdict() for r in records], "deals": [d._asdict() for d in deals]},
        **fields,
    )


def _raw(sent: Any) -> dict[str, Any]:
    # The server's answer; its echo of our own request is left out.
    return {k: getattr(sent, k) for k in _SENT_FIELDS}


_SENT_FIELDS = (
    "retcode",
    "deal",
    "order",
    "volume",
    "price",
    "bid",
    "ask",
    "comment",
    "request_id",
    "retcode_external",
)
