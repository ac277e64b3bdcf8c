"""From the terminal's answers to :class:`ExecutionResult`, with no I/O.

A placed pending order is answered 10009 DONE with ``deal=0`` and ``price=0`` (MQL5
OrderSend: "a deal ticket, if it is performed"; a real server's answer, issue 17):
it is ``accepted``. A fill is confirmed only by a deal: a market order answered 10009
without a deal is ``unknown`` and reconciled through the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType
from fks_exec_mt5 import constants as c
from fks_exec_mt5.numbers import (
    BROKER,
    FLOAT_LIMIT,
    INT_LIMIT,
    decimal_of,
    float_decimal,
    int_of,
)
from fks_exec_mt5.retcodes import HINTS, retcode_of

__all__ = [
    "NOT_DEFINITE",
    "Builder",
    "LegAnswer",
    "Reply",
    "from_send",
    "leg_done",
    "leg_status",
]

_log = logging.getLogger("fks_exec.plugins.mt5")

Builder = Callable[..., ExecutionResult]
"""Builds a result about an order: ``ExecutionResult.for_order`` or the plugin's
``result_for`` (``build(order, status, **fields)``)."""

NOT_DEFINITE = "; not a definite answer: reconcile with get_order, do not resend"

# Enum members read once: a member read through its class costs ~180 ns on 3.11.
_MARKET, _FILLED, _PARTIAL = OrderType.MARKET, OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED


class LegAnswer(NamedTuple):
    """One leg's OrderSendResult, or why there is none (``lost``: code and text)."""

    sent: Any = None
    lost: tuple[int, str] | None = None
    unsent: str | None = None
    """Set when the leg was never sent (an earlier leg failed, or the link failed)."""
    volume: Decimal | None = None
    """The lots this leg asked for (a fill above it is impossible)."""
    filling: int | None = None
    """The ``type_filling`` its request carried: under IOC a 10010 answer means the
    server canceled the rest; under Return the rest may still fill."""


class Reply(NamedTuple):
    """An OrderSendResult's numbers, read with bounds (:meth:`of`)."""

    retcode: int
    deal: int
    order: int
    volume: Decimal
    price: Decimal

    @classmethod
    def of(cls, sent: Any, asked: Decimal | None = None) -> Reply:
        """Read ``sent``; raises :class:`~fks_exec.kit.BadBrokerNumber` naming the field
        for a number it cannot have, a fill above the ``asked`` lots (or all of them
        with the retcode of a partial fill), a deal beside a failure's retcode, or a
        deal without a volume or a price."""
        retcode, deal, order, volume, price = (
            sent.retcode,
            sent.deal,
            sent.order,
            sent.volume,
            sent.price,
        )
        if (  # the usual answer, in one pass; anything else field by field
            type(retcode) is int
            and type(deal) is int
            and type(order) is int
            and type(volume) is float
            and type(price) is float
            and 0 <= retcode < INT_LIMIT
            and 0 <= deal < INT_LIMIT
            and 0 <= order < INT_LIMIT
            and 0.0 <= volume < FLOAT_LIMIT
            and 0.0 <= price < FLOAT_LIMIT
        ):
            reply = cls(retcode, deal, order, float_decimal(volume), float_decimal(price))
        else:
            reply = cls.checked(sent)
        return reply.plausible(asked)

    @classmethod
    def checked(cls, sent: Any) -> Reply:
        """The numbers of ``sent`` field by field, each through
        :mod:`fks_exec_mt5.numbers` (what :meth:`of` does in one pass)."""
        return cls(
            retcode=int_of(sent.retcode, "order_send retcode"),
            deal=int_of(sent.deal, "order_send deal"),
            order=int_of(sent.order, "order_send order"),
            volume=decimal_of(sent.volume, "order_send volume"),
            price=decimal_of(sent.price, "order_send price"),
        )

    def plausible(self, asked: Decimal | None) -> Reply:
        """This reply, if it can be a definite answer to ``asked`` lots; else raises
        :class:`~fks_exec.kit.BadBrokerNumber` naming the field (see :meth:`of`)."""
        reply, retcode, deal = self, self.retcode, self.deal
        if asked is not None and reply.volume > asked:
            raise BadBrokerNumber(
                f"{BROKER}: order_send volume {reply.volume} is above the {asked} lots asked"
            )
        if asked is not None and retcode == c.TRADE_RETCODE_DONE_PARTIAL and reply.volume >= asked:
            raise BadBrokerNumber(
                f"{BROKER}: order_send retcode {retcode} (part done) with all {asked} lots"
            )
        if deal and retcode not in _DEAL_RETCODES:
            raise BadBrokerNumber(
                f"{BROKER}: order_send retcode {retcode} (not done) beside deal {deal}"
            )
        if retcode == c.TRADE_RETCODE_DONE_PARTIAL or (deal and retcode == c.TRADE_RETCODE_DONE):
            if not reply.volume:
                raise BadBrokerNumber(f"{BROKER}: order_send volume is 0 for a fill")
            if not reply.price:
                raise BadBrokerNumber(f"{BROKER}: order_send price is 0 for a fill")
        return reply


_DEAL_RETCODES = frozenset(
    {c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_DONE_PARTIAL, c.TRADE_RETCODE_PLACED}
)
"""The retcodes a deal can come with; a deal beside any other contradicts it."""


def leg_status(sent: Any, pending: bool) -> tuple[OrderStatus, ErrorCode | None]:
    """Status and error code of one OrderSendResult (or :class:`Reply`). Whether a
    rejected one reached the server is its retcode's (:func:`retcode_of`)."""
    meaning = retcode_of(sent.retcode)
    if int(sent.retcode) == c.TRADE_RETCODE_DONE:
        if pending:
            return OrderStatus.ACCEPTED, meaning.code
        if not sent.deal:
            return OrderStatus.UNKNOWN, ErrorCode.UNKNOWN
    return meaning.status, meaning.code


class _Problem(NamedTuple):
    """Why an order's legs did not all fill (or place) whole: the result's status, error
    code and text, and for a rejection whether it reached the server (``sent``; an
    unknown result's is None, a partial fill's is not asked)."""

    status: OrderStatus
    code: ErrorCode | None
    text: str
    sent: bool | None = None


def leg_done(sent: Any, asked: Decimal) -> bool:
    """Whether the next leg of a split order may go after ``sent``: only when it is
    10009 DONE with a deal for all ``asked`` lots. A fill short of them (the position
    it closes is still partly open: the next leg would open a hedge), an answer without
    a deal (its fill is not confirmed), any other retcode and a number no answer can
    have (:meth:`Reply.of`) stop the order there."""
    try:
        reply = Reply.of(sent, asked)
    except BadBrokerNumber:
        return False
    return reply.retcode == c.TRADE_RETCODE_DONE and bool(reply.deal) and reply.volume == asked


def _error_text(sent: Any) -> str:
    hint = HINTS.get(int(sent.retcode))
    return f"{sent.retcode} {sent.comment}" + (f": {hint}" if hint else "")


def from_send(
    answers: Sequence[LegAnswer],
    order: Order,
    volume: Decimal,
    *,
    build: Builder,
    legs: int | None = None,
) -> ExecutionResult:
    """One result for ``order`` from the answers of its legs (sent in that order);
    ``volume`` is the lots requested over all ``legs`` planned (the quantity on the
    volume grid; None: as many as ``answers``). Legs planned but without an answer were
    never sent: the result says so, and why (the last answer was not a full fill,
    :func:`leg_done`).

    An answer with a number it cannot have (see :meth:`Reply.of`) makes the result
    ``unknown``, with a warning naming the broker and the field.
    """
    try:
        return _from_send(answers, order, volume, build, len(answers) if legs is None else legs)
    except BadBrokerNumber as exc:
        _log.warning("order %s: %s; its fate is unknown", order.client_order_id, exc)
        return build(
            order,
            OrderStatus.UNKNOWN,
            error=f"{exc}{NOT_DEFINITE}",
            error_code=ErrorCode.UNKNOWN,
        )


def _from_send(
    answers: Sequence[LegAnswer], order: Order, volume: Decimal, build: Builder, legs: int
) -> ExecutionResult:
    if legs == 1 and order.__dict__["type"] is _MARKET:  # a dict read: see mapping
        sent = answers[0].sent
        if sent is not None:
            reply = Reply.of(sent, answers[0].volume)
            if reply.deal and reply.retcode == c.TRADE_RETCODE_DONE:
                return _one_fill(reply, sent, order, volume, build)
    return _legs(answers, order, volume, build, legs)


def _one_fill(
    reply: Reply, sent: Any, order: Order, volume: Decimal, build: Builder
) -> ExecutionResult:
    """The usual answer: one market leg, done, with its deal (what :func:`_legs` makes
    of it, without the bookkeeping for several legs; a test holds the two equal)."""
    filled = reply.volume
    if filled > volume:
        raise BadBrokerNumber(
            f"{BROKER}: order_send volumes add up to {filled}, above the {volume} lots asked"
        )
    return build(
        order,
        _FILLED if filled == volume else _PARTIAL,
        order_id=str(reply.order) if reply.order else None,
        raw=_raw(sent),
        quantity=volume,
        filled_quantity=filled,
        average_price=reply.price,
    )


def _legs(
    answers: Sequence[LegAnswer], order: Order, volume: Decimal, build: Builder, legs: int
) -> ExecutionResult:
    pending = order.type is not _MARKET
    filled = Decimal(0)
    value = Decimal(0)
    order_id: str | None = None
    raws: list[dict[str, Any]] = []
    problem: _Problem | None = None
    accepted = False
    for answer in answers:
        if answer.sent is None:
            if answer.lost is not None:
                number, text = answer.lost
                problem = _Problem(
                    OrderStatus.UNKNOWN, ErrorCode.NETWORK, f"no answer ({number}, {text})"
                )
            elif answer.unsent is not None and problem is None:
                problem = _Problem(OrderStatus.REJECTED, ErrorCode.NETWORK, answer.unsent, False)
            break
        sent = answer.sent
        reply = Reply.of(sent, answer.volume)
        raws.append(_raw(sent))
        status, error_code = leg_status(reply, pending)
        if reply.order:
            order_id = str(reply.order)
        if status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            filled += reply.volume
            value += reply.volume * reply.price
        if status is OrderStatus.ACCEPTED:
            accepted = True
        if status not in (OrderStatus.FILLED, OrderStatus.ACCEPTED):
            problem = _Problem(status, error_code, _error_text(sent))
            if _rest_canceled(reply, answer, pending):
                problem = problem._replace(status=OrderStatus.CANCELED)
            if status is OrderStatus.REJECTED:  # did it reach the server? its retcode says
                problem = problem._replace(sent=retcode_of(reply.retcode).sent)
            if status is not OrderStatus.PARTIALLY_FILLED:
                break
    skipped = legs - len(answers)
    if skipped > 0:
        if problem is None:  # the last leg sent was no full fill: see leg_done
            problem = _stopped(answers[-1], reply, pending, len(answers))
        rest = volume - sum((a.volume or 0 for a in answers), Decimal(0))
        left = "the last leg was" if skipped == 1 else f"the other {skipped} legs were"
        text = f"{problem.text}; so {left} never sent ({rest} lots)"
        if problem.status is OrderStatus.UNKNOWN:
            text += NOT_DEFINITE
        problem = problem._replace(text=text)
    if filled > volume:
        raise BadBrokerNumber(
            f"{BROKER}: order_send volumes add up to {filled}, above the {volume} lots asked"
        )
    raw: Any = raws[0] if len(raws) == 1 else {"legs": raws}
    fields: dict[str, Any] = {"order_id": order_id, "raw": raw or None, "quantity": volume}
    if filled > 0:
        fields.update(filled_quantity=filled, average_price=value / filled)
    if problem is None:
        status = OrderStatus.ACCEPTED if accepted else OrderStatus.FILLED
        if not accepted and filled < volume:
            status = OrderStatus.PARTIALLY_FILLED
        return build(order, status, **fields)
    status, error_code, text = problem.status, problem.code, problem.text
    if status is OrderStatus.UNKNOWN:
        fields["sent"] = None
    elif filled > 0:
        if filled >= volume:  # e.g. 10010 "only part of the request was completed"
            raise BadBrokerNumber(
                f"{BROKER}: order_send answers fill all {volume} lots, yet say {text}"
            )
        if status is OrderStatus.CANCELED:  # final: nothing more of it can fill
            text = (
                f"{filled} of {volume} lots filled; then {text}: the server canceled the rest (IOC)"
            )
        else:
            status = OrderStatus.PARTIALLY_FILLED
            text = f"{filled} of {volume} lots filled; then {text}"
    elif status is OrderStatus.REJECTED:
        fields["sent"] = problem.sent
    fields.update(error=text)
    if error_code is not None:
        fields["error_code"] = error_code
    return build(order, status, **fields)


def _rest_canceled(reply: Reply, answer: LegAnswer, pending: bool) -> bool:
    """Whether ``reply`` (one leg's) is a part fill whose rest the server canceled: a
    market leg sent with ORDER_FILLING_IOC answered 10010 (MQL5 ENUM_ORDER_TYPE_FILLING:
    under IOC "the remaining volume will be cancelled"; under Return it "is processed
    further", so that rest may still fill)."""
    return (
        not pending
        and reply.retcode == c.TRADE_RETCODE_DONE_PARTIAL
        and answer.filling == c.ORDER_FILLING_IOC
    )


def _stopped(answer: LegAnswer, reply: Reply, pending: bool, number: int) -> _Problem:
    """Why leg ``number`` (answered ``reply``, neither a failure nor a full fill) was the
    last one sent."""
    if reply.retcode != c.TRADE_RETCODE_DONE or pending:  # 10008: queued, not filled
        return _Problem(
            OrderStatus.UNKNOWN,
            ErrorCode.UNKNOWN,
            f"leg {number} ({answer.volume} lots) was answered {_error_text(answer.sent)}: "
            "its fill is not confirmed",
        )
    return _Problem(
        OrderStatus.PARTIALLY_FILLED,
        None,
        f"leg {number} filled {reply.volume} of its {answer.volume} lots",
    )


def _raw(sent: Any) -> dict[str, Any]:
    """The server's answer as a dict; its echo of our own request is left out."""
    return {
        "retcode": sent.retcode,
        "deal": sent.deal,
        "order": sent.order,
        "volume": sent.volume,
        "price": sent.price,
        "bid": sent.bid,
        "ask": sent.ask,
        "comment": sent.comment,
        "request_id": sent.request_id,
        "retcode_external": sent.retcode_external,
    }
