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
from typing import NamedTuple

from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus

__all__ = [
    "BROKER",
    "FINAL_STATES",
    "RESTING_STATES",
    "STATES",
    "Observed",
    "answer",
    "number",
    "observe",
    "observe_keys",
    "parse_state",
    "result_for",
    "value_keys",
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
_ENDED_UNFILLED = frozenset({"cancelled", "canceled", "rejected", "unknown"})
"""Final states an order can reach with less than its quantity filled."""
BROKER = "NinjaTrader"
"""How warnings and errors about NinjaTrader's values name the broker."""
_ZERO = Decimal(0)
_new = tuple.__new__  # Observed(...) without its generated __new__'s keyword handling
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
        state, filled, average, bad = self
        if state is None or bad or filled < _ZERO:
            return False
        if filled > _ZERO and (average is None or not average > _ZERO):
            return False  # a fill without a price
        if quantity is not None and filled > quantity:
            return False
        if state == "filled":
            return filled > _ZERO and (quantity is None or filled == quantity)
        if state == "partfilled":
            return filled > _ZERO and (quantity is None or filled < quantity)
        if state in _ENDED_UNFILLED:
            return quantity is None or filled < quantity
        return filled == _ZERO  # pending and resting states: a fill would have changed them

    def settled(self, quantity: Decimal | None, market: bool) -> bool:
        """An answer can be given now: the values agree, and the order is final, or (not
        a market order) resting at the broker; or a number is impossible (the answer is
        ``unknown`` whatever comes next)."""
        if self[3]:  # bad
            return True
        if not self.agrees(quantity):
            return False
        state = self[0]
        if state in FINAL_STATES:
            return True
        return not market and (state in RESTING_STATES or state == "partfilled")


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
    return observe_keys(values, *value_keys(order_id))


def value_keys(order_id: str) -> tuple[str, str, str]:
    """The keys of ``order_id``'s ``OrderStatus``, ``Filled`` and ``AvgFillPrice``."""
    return "OrderStatus|" + order_id, "Filled|" + order_id, "AvgFillPrice|" + order_id


def observe_keys(
    values: Mapping[str, str], status_key: str, filled_key: str, average_key: str
) -> Observed:
    """:func:`observe` with the order's three keys (:func:`value_keys`) already made."""
    state = values.get(status_key)
    if state:
        parsed = _PARSED.get(state)
        state = parsed if parsed is not None else parse_state(state)
    else:
        state = None
    filled = values.get(filled_key)
    average = values.get(average_key)
    if not filled and not average:  # no fill pushed: nothing to parse
        return _new(Observed, (state, _ZERO, None, None))
    try:
        filled_number = number(filled, filled_key) or _ZERO
        average_number = number(average, average_key)
    except BadBrokerNumber as exc:
        return Observed(state, _ZERO, None, str(exc))
    return _new(Observed, (state, filled_number, average_number, None))


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
    keys = value_keys(order_id)
    if seen is None:
        seen = observe_keys(values, *keys)
    if seen.state is None:
        return None
    return answer(values, keys, order_id, seen, plugin, order, client_order_id, symbol)


def answer(
    values: Mapping[str, str],
    keys: tuple[str, str, str],
    order_id: str,
    seen: Observed,
    plugin: str,
    order: Order | None,
    client_order_id: str | None = None,
    symbol: str | None = None,
    *,
    agreed: bool = False,
) -> ExecutionResult:
    """:func:`result_for` of an order with a state, ``keys`` its :func:`value_keys`;
    ``agreed``: ``seen`` is known to agree with ``order``'s quantity (not checked
    again)."""
    status_key, filled_key, average_key = keys
    raw = {}
    text = values.get(status_key)
    if text is not None:
        raw[status_key] = text
    text = values.get(filled_key)
    if text is not None:
        raw[filled_key] = text
    text = values.get(average_key)
    if text is not None:
        raw[average_key] = text
    state, filled, average, bad = seen
    status = STATES.get(state)  # type: ignore[arg-type]  # a state is there
    error = code = None
    if bad:
        logger.warning("order %s: %s; its fate is unknown", order_id, bad)
        status, code, filled = OrderStatus.UNKNOWN, ErrorCode.UNKNOWN, _ZERO
        error = (
            f"{bad}: not a definite answer; the order is at NinjaTrader: "
            "check it there or again with get_order"
        )
    elif not (agreed or seen.agrees(order.quantity if order is not None else None)):
        status, code, filled = OrderStatus.UNKNOWN, ErrorCode.UNKNOWN, _ZERO
        error = (
            f"NinjaTrader's values for order {order_id} disagree ({raw}); "
            "the order is at NinjaTrader: check it again with get_order"
        )
    elif status is None:
        logger.warning("order %s: NinjaTrader pushed the order state %r", order_id, state)
        status, code, filled = OrderStatus.UNKNOWN, ErrorCode.UNKNOWN, _ZERO
        error = (
            f"NinjaTrader pushed the order state {str(state)[:40]!r}, which is not "
            "one of its order states; the order is at NinjaTrader: check it there"
        )
    elif status is OrderStatus.REJECTED:
        code = ErrorCode.REJECTED
        error = "NinjaTrader rejected the order (see its Log tab for why)"
    elif status is OrderStatus.UNKNOWN:
        code = ErrorCode.UNKNOWN
        error = (
            "NinjaTrader reports the order's state as Unknown (final): check it "
            "in NinjaTrader's Orders tab"
        )
    if order is not None:
        return ExecutionResult.for_order(
            order,
            plugin=plugin,
            status=status,
            order_id=order_id,
            raw=raw,
            sent=True,
            filled_quantity=filled,
            average_price=average if filled else None,
            error=error,
            error_code=code,
        )
    return ExecutionResult(
        client_order_id=client_order_id,
        symbol=symbol or "?",
        side=None,
        quantity=None,
        plugin=plugin,
        status=status,
        order_id=order_id,
        raw=raw,
        sent=True,
        filled_quantity=filled,
        average_price=average if filled else None,
        error=error,
        error_code=code,
    )
