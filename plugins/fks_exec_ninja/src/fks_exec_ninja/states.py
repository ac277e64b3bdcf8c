"""NinjaTrader's pushed order values to results, whatever order they arrive in (no I/O).

An order's fate is in three values NinjaTrader pushes separately: ``OrderStatus|<id>``,
``Filled|<id>`` and ``AvgFillPrice|<id>`` (DLL ``Client.OrderStatus``/``Filled``/
``AvgFillPrice``). Neither the DLL nor the help pages say in which order they come, or
whether unchanged ones are pushed again, so a result is judged from the latest of all
three together: :func:`observe` reads them, :meth:`Observed.agrees` says whether they
describe one consistent state (status ``Filled`` with the whole quantity filled at a
price, and so on), and a caller that waits for an order waits until they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus

__all__ = [
    "FINAL_STATES",
    "RESTING_STATES",
    "STATES",
    "Observed",
    "observe",
    "parse_state",
    "result_for",
]

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
FINAL_STATES = frozenset({"filled", "cancelled", "canceled", "rejected", "unknown"})
"""Terminal in NinjaTrader (help page ``IsTerminalState()``: Cancelled, Filled, Rejected,
Unknown): nothing more will happen to the order."""
RESTING_STATES = frozenset({"accepted", "working", "triggerpending"})


def parse_state(text: str | None) -> str | None:
    """A NinjaTrader order state in lower case without spaces, or None."""
    return text.strip().lower().replace(" ", "") if text else None


def _decimal(text: str | None) -> Decimal | None:
    if not text:
        return None
    try:
        number = Decimal(text.strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class Observed:
    """The latest pushed values of one order: state, filled quantity, average price."""

    state: str | None
    filled: Decimal
    average: Decimal | None

    @property
    def final(self) -> bool:
        """NinjaTrader will not change the order any more."""
        return self.state in FINAL_STATES

    def agrees(self, quantity: Decimal | None) -> bool:
        """True when the three values describe one state of an order of ``quantity``."""
        filled, priced = self.filled, self.average is not None and self.average > 0
        if self.state is None or filled < 0 or (filled > 0 and not priced):
            return False
        if quantity is not None and filled > quantity:
            return False
        if self.state == "filled":
            return filled > 0 and (quantity is None or filled == quantity)
        if self.state == "partfilled":
            return filled > 0 and (quantity is None or filled < quantity)
        if self.state in ("cancelled", "canceled", "rejected", "unknown"):
            return quantity is None or filled < quantity
        return filled == 0  # pending and resting states: a fill would have changed them

    def settled(self, quantity: Decimal | None, *, market: bool) -> bool:
        """An answer can be given now: the values agree, and the order is final, or (not
        a market order) resting at the broker."""
        if not self.agrees(quantity):
            return False
        if self.final:
            return True
        return not market and (self.state in RESTING_STATES or self.state == "partfilled")


def observe(values: Mapping[str, str], order_id: str) -> Observed:
    """The latest ``OrderStatus``/``Filled``/``AvgFillPrice`` of ``order_id``."""
    return Observed(
        parse_state(values.get(f"OrderStatus|{order_id}")),
        _decimal(values.get(f"Filled|{order_id}")) or Decimal(0),
        _decimal(values.get(f"AvgFillPrice|{order_id}")),
    )


def result_for(
    values: Mapping[str, str],
    order_id: str,
    *,
    plugin: str,
    order: Order | None = None,
    client_order_id: str | None = None,
    symbol: str | None = None,
) -> ExecutionResult | None:
    """The result NinjaTrader's values describe for ``order_id``, or None without a state.

    Values that disagree (status ``Filled`` while ``Filled|<id>`` still says less) give
    ``unknown``: the order is at NinjaTrader and its fill is not yet known.
    """
    seen = observe(values, order_id)
    if seen.state is None:
        return None
    quantity = order.quantity if order is not None else None
    raw = {
        k: values[k]
        for k in (f"OrderStatus|{order_id}", f"Filled|{order_id}", f"AvgFillPrice|{order_id}")
        if k in values
    }
    fields: dict[str, Any] = {"plugin": plugin, "order_id": order_id, "raw": raw, "sent": True}
    if not seen.agrees(quantity):
        fields.update(
            status=OrderStatus.UNKNOWN,
            error_code=ErrorCode.UNKNOWN,
            error=(
                f"NinjaTrader's values for order {order_id} disagree ({raw}); "
                "the order is at NinjaTrader: check it again with get_order"
            ),
        )
    else:
        status = STATES.get(seen.state, OrderStatus.ACCEPTED)
        fields.update(status=status, filled_quantity=seen.filled)
        if seen.filled:
            fields["average_price"] = seen.average
        if status is OrderStatus.REJECTED:
            fields.update(
                error="NinjaTrader rejected the order (see its Log tab for why)",
                error_code=ErrorCode.REJECTED,
            )
        elif status is OrderStatus.UNKNOWN:
            fields.update(
                error="NinjaTrader reports the order's state as Unknown (final): check it "
                "in NinjaTrader's Orders tab",
                error_code=ErrorCode.UNKNOWN,
            )
    if order is not None:
        return ExecutionResult.for_order(order, **fields)
    return ExecutionResult(
        client_order_id=client_order_id, symbol=symbol or "?", side=None, quantity=None, **fields
    )
