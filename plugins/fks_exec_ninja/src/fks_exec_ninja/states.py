"""NinjaTrader's pushed order values to results, whatever order they arrive in (no I/O).

An order's fate is in three values NinjaTrader pushes separately: ``OrderStatus|<id>``,
``Filled|<id>`` and ``AvgFillPrice|<id>`` (DLL ``Client.OrderStatus``/``Filled``/
``AvgFillPrice``). Neither the DLL nor the help pages say in which order they come, or
whether unchanged ones are pushed again, so a result is judged from the latest of all
three together: :func:`observe` reads them, :meth:`Observed.agrees` says whether they
describe one consistent state (status ``Filled`` with the whole quantity filled at a
price, and so on), and a caller that waits for an order waits until they agree.

Numbers are read with :func:`fks_exec.kit.broker_decimal`'s bounds as they are
observed: a quantity or price that no real order has (``1E+999999999``, ``NaN``, a
negative fill) makes the order's answer ``unknown``, with a warning naming NinjaTrader
and the value's key, never a definite fill.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus

__all__ = [
    "BROKER",
    "FINAL_STATES",
    "RESTING_STATES",
    "STATES",
    "Observed",
    "number",
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
BROKER = "NinjaTrader"
"""How warnings and errors about NinjaTrader's values name the broker."""
_ZERO = Decimal(0)
_PARSED: dict[str, str] = {}
_NUMBERS: dict[str, Decimal | None] = {}
_MAX_NUMBERS = 4096
logger = logging.getLogger("fks_exec.plugins.ninja")


def parse_state(text: str | None) -> str | None:
    """A NinjaTrader order state in lower case without spaces, or None."""
    if not text:
        return None
    parsed = _PARSED.get(text)
    if parsed is None:
        parsed = text.strip().lower().replace(" ", "")
        if len(_PARSED) < 256:  # the states NinjaTrader names, and a bound on others
            _PARSED[text] = parsed
    return parsed


class Observed(NamedTuple):
    """The latest pushed values of one order: state, filled quantity, average price,
    and ``bad``: why a number among them is not one a real order can have (else None).
    Immutable (a named tuple: made once per order per read)."""

    state: str | None
    filled: Decimal
    average: Decimal | None
    bad: str | None = None

    @property
    def final(self) -> bool:
        """NinjaTrader will not change the order any more."""
        return self.state in FINAL_STATES

    def agrees(self, quantity: Decimal | None) -> bool:
        """True when the three values describe one state of an order of ``quantity``."""
        filled, priced = self.filled, self.average is not None and self.average > 0
        if self.state is None or self.bad or filled < 0 or (filled > 0 and not priced):
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
        a market order) resting at the broker; or a number is impossible (the answer is
        ``unknown`` whatever comes next)."""
        if self.bad:
            return True
        if not self.agrees(quantity):
            return False
        if self.final:
            return True
        return not market and (self.state in RESTING_STATES or self.state == "partfilled")


def number(text: str | None, key: str) -> Decimal | None:
    """``text`` (the value of ``key``) read with :func:`~fks_exec.kit.broker_decimal`'s
    bounds (negative refused); None for no text. Raises
    :class:`~fks_exec.kit.BadBrokerNumber` naming NinjaTrader and ``key``.

    Texts already read are remembered (a bounded table: fills and prices repeat), so
    each distinct text is parsed once."""
    if not text:
        return None
    parsed = _NUMBERS.get(text)
    if parsed is None:
        parsed = broker_decimal(text, broker=BROKER, field=key)
        if len(_NUMBERS) >= _MAX_NUMBERS:
            _NUMBERS.clear()
        _NUMBERS[text] = parsed
    return parsed


def observe(values: Mapping[str, str], order_id: str) -> Observed:
    """The latest ``OrderStatus``/``Filled``/``AvgFillPrice`` of ``order_id``."""
    state = parse_state(values.get(f"OrderStatus|{order_id}"))
    filled_key, average_key = f"Filled|{order_id}", f"AvgFillPrice|{order_id}"
    try:
        filled = number(values.get(filled_key), filled_key) or _ZERO
        average = number(values.get(average_key), average_key)
    except BadBrokerNumber as exc:
        return Observed(state, _ZERO, None, str(exc))
    return Observed(state, filled, average)


def result_for(
    values: Mapping[str, str],
    order_id: str,
    *,
    plugin: str,
    order: Order | None = None,
    client_order_id: str | None = None,
    symbol: str | None = None,
    seen: Observed | None = None,
) -> ExecutionResult | None:
    """The result NinjaTrader's values describe for ``order_id``, or None without a state
    (``seen``: those values as already observed).

    Values that disagree (status ``Filled`` while ``Filled|<id>`` still says less) give
    ``unknown``: the order is at NinjaTrader and its fill is not yet known; so does an
    impossible number (logged as a warning naming NinjaTrader and the value's key).
    """
    if seen is None:
        seen = observe(values, order_id)
    if seen.state is None:
        return None
    quantity = order.quantity if order is not None else None
    raw = {}
    for key in (f"OrderStatus|{order_id}", f"Filled|{order_id}", f"AvgFillPrice|{order_id}"):
        text = values.get(key)
        if text is not None:
            raw[key] = text
    fields: dict[str, Any] = {"plugin": plugin, "order_id": order_id, "raw": raw, "sent": True}
    if seen.bad:
        logger.warning("order %s: %s; its fate is unknown", order_id, seen.bad)
        fields.update(
            status=OrderStatus.UNKNOWN,
            error_code=ErrorCode.UNKNOWN,
            error=f"{seen.bad}: not a definite answer; the order is at NinjaTrader: "
            "check it there or again with get_order",
        )
    elif not seen.agrees(quantity):
        fields.update(
            status=OrderStatus.UNKNOWN,
            error_code=ErrorCode.UNKNOWN,
            error=(
                f"NinjaTrader's values for order {order_id} disagree ({raw}); "
                "the order is at NinjaTrader: check it again with get_order"
            ),
        )
    elif seen.state not in STATES:
        logger.warning("order %s: NinjaTrader pushed the order state %r", order_id, seen.state)
        fields.update(
            status=OrderStatus.UNKNOWN,
            error_code=ErrorCode.UNKNOWN,
            error=f"NinjaTrader pushed the order state {seen.state[:40]!r}, which is not one "
            "of its order states; the order is at NinjaTrader: check it there",
        )
    else:
        status = STATES[seen.state]
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
