"""The :class:`ExecutionResult` model, and the one cheap way to build it.

``ExecutionResult(...)`` validates every field, as users need. Plugins and the
simulator build many results from values that already have their field's type (an
``OrderStatus``, a finite ``Decimal``, a UTC ``datetime`` ...); for those,
:meth:`ExecutionResult.build` (and :meth:`~ExecutionResult.for_order` /
:meth:`~ExecutionResult.for_cancel`, which use it) checks the types and the same
consistency rules in plain Python and sets the fields directly, which costs a fraction
of pydantic's validation. Any value that is not already in its final form (a string
status, a float price, a naive or non-UTC time, a ``raw`` that is not plainly JSON,
an unknown field) takes the validating path instead, so the errors are the
validator's own. The validator's rules are :func:`settle_result`; the cheap path runs
the same rules written out flat (it only has to tell agree from not), and tests check
on generated inputs, valid and not, adversarial ones included, that both paths give
the same result (fields, fields-set, dump, repr, equality) or the same refusal.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from fks_exec._model_enums import ErrorCode, OrderSide, OrderStatus
from fks_exec._model_fields import (
    FROZEN,
    JsonSafe,
    NonNegative,
    Price,
    Quantity,
    UtcDatetime,
    plainly_json,
)
from fks_exec._model_fields import utc_now as _utc_now
from fks_exec._order_model import Order

__all__ = ["ExecutionResult", "plainly_json", "settle_result"]

_REJECTED, _UNKNOWN, _FILLED, _PARTIAL = (
    OrderStatus.REJECTED,
    OrderStatus.UNKNOWN,
    OrderStatus.FILLED,
    OrderStatus.PARTIALLY_FILLED,
)
_ZERO = Decimal(0)


def settle_result(values: dict[str, Any], given: Set[str]) -> str | None:
    """Fill in a result's defaults that depend on its status and return the first
    contradiction among its fields, or None.

    ``values`` holds every field of an :class:`ExecutionResult` (``success`` None when
    not given); ``given`` names the fields the caller set. ``success`` defaults to
    False only for ``rejected`` and ``unknown``, ``sent`` to None for ``unknown`` and
    True otherwise, and the ``error_code`` of a rejection (``unknown``) to
    ``rejected`` (``unknown``). Never raises.
    """
    status = values["status"]
    unsuccessful = status is _REJECTED or status is _UNKNOWN  # UNSUCCESSFUL_STATUSES
    if values["success"] is None:
        values["success"] = not unsuccessful
    sent = values["sent"]
    if "sent" not in given:
        values["sent"] = None if status is _UNKNOWN else True
    elif sent is False and status is not _REJECTED:
        return f"sent=False needs status=rejected, not {status.value}"
    elif sent is None and status is not _UNKNOWN:
        return f"sent=None (not known) needs status=unknown, not {status.value}"
    if unsuccessful and values["error_code"] is None:
        values["error_code"] = ErrorCode.REJECTED if status is _REJECTED else ErrorCode.UNKNOWN
    if values["success"] == unsuccessful:
        return f"success={values['success']} contradicts status={status.value}"
    filled = values["filled_quantity"]
    quantity = values["quantity"]
    if filled > _ZERO and values["average_price"] is None:
        return "a result with a filled quantity needs average_price"
    if quantity is not None and filled > quantity:
        return f"filled_quantity {filled} exceeds quantity {quantity}"
    if status is _FILLED and filled == _ZERO:
        return "status filled needs filled_quantity > 0"
    if status is _PARTIAL and not (filled > _ZERO and (quantity is None or filled < quantity)):
        return "status partially_filled needs 0 < filled_quantity < quantity"
    return None


class ExecutionResult(BaseModel):
    """What became of an order (or of a cancel): the broker's answer in common terms.

    ``success`` is True when the broker confirmed the order or the cancel, and False
    when it was rejected or its fate is ``unknown``; it defaults from ``status``.
    Check ``status`` before acting: an ``unknown`` order must be reconciled (through
    ``get_order``), never resent under a new client order id.

    ``side``, ``quantity`` and ``client_order_id`` are None only on results of a
    cancel for which the broker did not say. Raises ``pydantic.ValidationError`` when
    the fields contradict each other (a fill without a price, ``success`` on a
    rejection, more filled than ordered).
    """

    model_config = FROZEN

    success: bool = None  # type: ignore[assignment]  # filled from status when not given
    """Defaults from ``status``: False only for ``rejected`` and ``unknown``."""
    sent: bool | None = None
    """Whether the request reached the broker: ``False`` refused before anything left
    (safe to send again under the same id), ``True`` the broker has it, ``None`` not
    known (only with ``status=unknown``: reconcile, never resend). Defaults from
    ``status``: ``None`` for ``unknown``, else ``True``."""
    paper: bool | None = None
    """True when the plugin instance that answered trades a paper/demo/simulation
    account, False when it trades real money; stamped by the plugin base class."""
    status: OrderStatus
    plugin: str
    client_order_id: str | None
    order_id: str | None = None
    symbol: str
    side: OrderSide | None
    quantity: Quantity | None
    filled_quantity: NonNegative = Decimal(0)
    average_price: Price | None = None
    error: str | None = None
    error_code: ErrorCode | None = None
    timestamp: UtcDatetime = Field(default_factory=_utc_now)
    raw: JsonSafe = None
    """The broker's own response for debugging and audit; made JSON-safe on the way in
    (NaN and infinities become None, other non-JSON objects their text)."""

    @model_validator(mode="after")
    def _check_consistency(self) -> ExecutionResult:
        # The model is frozen: the defaults are set in the instance's __dict__.
        problem = settle_result(self.__dict__, self.model_fields_set)
        if problem is not None:
            raise ValueError(problem)
        return self

    @classmethod
    def build(cls, **fields: Any) -> ExecutionResult:
        """Build a result exactly as ``ExecutionResult(**fields)`` does, cheaply when
        every value already has its field's type (see the module docstring).

        Raises ``pydantic.ValidationError`` when the fields contradict each other or a
        value is invalid, as the constructor does.
        """
        return _built(cls, fields)

    @classmethod
    def for_order(
        cls, order: Order, *, plugin: str, status: OrderStatus | str, **fields: Any
    ) -> ExecutionResult:
        """Build a result about ``order``, copying its identity (id, symbol, side, qty).

        ``fields`` may override what is copied (e.g. ``quantity`` after a broker rounded
        it). Built as :meth:`build` builds. Raises ``pydantic.ValidationError`` when the
        fields contradict each other.
        """
        if type(order) is Order and cls is ExecutionResult:
            own = order.__dict__  # one read of the validated order's fields
            # _DEFAULTS (below) written out with the order's identity: a literal costs
            # less than a copy and an update. A field left out here only sends the result
            # down the validating path (the length check), never builds a wrong one.
            values = {
                "success": _UNSET,
                "sent": _UNSET,
                "paper": None,
                "status": status,
                "plugin": plugin,
                "client_order_id": own["client_order_id"],
                "order_id": None,
                "symbol": own["symbol"],
                "side": own["side"],
                "quantity": own["quantity"],
                "filled_quantity": _ZERO,
                "average_price": None,
                "error": None,
                "error_code": None,
                "timestamp": _UNSET,
                "raw": None,
            }
            if fields:
                values.update(fields)
            if len(values) == _FIELD_COUNT and _settled(values) is not None:
                return _made(values, fields.keys() | _COPIED)
        copied: dict[str, Any] = {
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "quantity": order.quantity,
        }
        copied.update(fields)
        copied["plugin"] = plugin
        copied["status"] = status
        return _built(cls, copied)

    @classmethod
    def for_cancel(
        cls,
        *,
        plugin: str,
        status: OrderStatus | str,
        order_id: str,
        symbol: str,
        client_order_id: str | None = None,
        **fields: Any,
    ) -> ExecutionResult:
        """Build a result about an order known only by its broker id (a cancel's answer),
        whose side and quantity are not known. Built through :meth:`build`.

        Raises ``pydantic.ValidationError`` when the fields contradict each other.
        """
        values = dict(  # a TypeError for side= or quantity= in fields, as a call gives
            plugin=plugin,
            status=status,
            order_id=order_id,
            symbol=symbol,
            client_order_id=client_order_id,
            side=None,
            quantity=None,
            **fields,
        )
        return _built(cls, values)

    @property
    def remaining_quantity(self) -> Decimal | None:
        """Quantity still unfilled, or None when the quantity is not known."""
        if self.quantity is None:
            return None
        return self.quantity - self.filled_quantity


# --------------------------------------------------------------------------- the cheap path

_new = object.__new__
# The four instance slots of a pydantic model, set through their descriptors (what
# model_construct sets; test_result_builder pins that these are all of them).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
_MISSING: Any = object()  # a required field not given: fails every type check below
_UNSET: Any = object()  # an optional field not given whose default depends on others
_DEFAULTS: dict[str, Any] = {
    "success": _UNSET,
    "sent": _UNSET,
    "paper": None,
    "status": _MISSING,
    "plugin": _MISSING,
    "client_order_id": _MISSING,
    "order_id": None,
    "symbol": _MISSING,
    "side": _MISSING,
    "quantity": _MISSING,
    "filled_quantity": _ZERO,
    "average_price": None,
    "error": None,
    "error_code": None,
    "timestamp": _UNSET,
    "raw": None,
}
_FIELD_COUNT = len(_DEFAULTS)
_COPIED = frozenset({"plugin", "status", "client_order_id", "symbol", "side", "quantity"})
_UTC = timezone.utc
_now = datetime.now


def _built(cls: type[ExecutionResult], fields: dict[str, Any]) -> ExecutionResult:
    # A subclass may add fields and validators of its own: only the base class is known.
    values = _canonical(fields) if cls is ExecutionResult else None
    if values is None:
        return cls(**fields)
    return _made(values, set(fields))


def _made(values: dict[str, Any], given: set[str]) -> ExecutionResult:
    result = _new(ExecutionResult)
    _set_dict(result, values)
    _set_fields_set(result, given)
    _set_extra(result, None)
    _set_private(result, None)
    return result


def _canonical(fields: dict[str, Any]) -> dict[str, Any] | None:
    """Every field's final value when ``fields`` need no conversion and agree, else None."""
    values = {**_DEFAULTS, **fields}
    if len(values) != _FIELD_COUNT:  # an unknown field
        return None
    return _settled(values)


def _settled(values: dict[str, Any]) -> dict[str, Any] | None:
    """``values`` (every field, in field order; ``_UNSET`` where not given) completed
    with the defaults that depend on status, when every value is in final form and the
    rules of :func:`settle_result` hold; else None (the validator then decides).

    The rules are written out here, flat, because this runs for every result a plugin
    builds; the property tests hold it equal to the validator on generated fields.
    """
    status = values["status"]
    cid, side = values["client_order_id"], values["side"]
    if (
        type(status) is not OrderStatus
        or type(values["plugin"]) is not str
        or type(values["symbol"]) is not str
        or (cid is not None and type(cid) is not str)
        or (side is not None and type(side) is not OrderSide)
    ):
        return None
    quantity = values["quantity"]
    filled = values["filled_quantity"]
    average = values["average_price"]
    if (
        (
            quantity is not None
            and not (type(quantity) is Decimal and quantity.is_finite() and quantity > _ZERO)
        )
        or type(filled) is not Decimal
        or not filled.is_finite()
        or filled < _ZERO
    ):
        return None
    if average is None:
        if filled:  # a fill needs its price
            return None
    elif not (type(average) is Decimal and average.is_finite() and average > _ZERO):
        return None
    if quantity is not None and filled > quantity:
        return None
    order_id, error, code, paper = (
        values["order_id"],
        values["error"],
        values["error_code"],
        values["paper"],
    )
    if (
        (order_id is not None and type(order_id) is not str)
        or (error is not None and type(error) is not str)
        or (code is not None and type(code) is not ErrorCode)
        or (paper is not None and type(paper) is not bool)
    ):
        return None
    unsuccessful = status is _REJECTED or status is _UNKNOWN  # UNSUCCESSFUL_STATUSES
    success = values["success"]
    if success is _UNSET:
        values["success"] = not unsuccessful
    elif type(success) is not bool or success is unsuccessful:
        return None
    sent = values["sent"]
    if sent is _UNSET:
        values["sent"] = None if status is _UNKNOWN else True
    elif sent is False:
        if status is not _REJECTED:
            return None
    elif sent is None:
        if status is not _UNKNOWN:
            return None
    elif sent is not True:
        return None
    if unsuccessful and code is None:
        values["error_code"] = ErrorCode.REJECTED if status is _REJECTED else ErrorCode.UNKNOWN
    if status is _FILLED:
        if not filled:
            return None
    elif status is _PARTIAL and (not filled or (quantity is not None and filled == quantity)):
        return None
    raw = values["raw"]
    if raw is not None and not plainly_json(raw):
        return None
    timestamp = values["timestamp"]
    if timestamp is _UNSET:
        values["timestamp"] = _now(_UTC)
    elif type(timestamp) is not datetime or timestamp.tzinfo is not _UTC:
        return None
    return values
