"""The work done on the worker thread: read the symbol and positions, plan, send.

Everything here runs on the plugin's one worker thread (:mod:`fks_exec_mt5.worker`),
so a whole order (symbol rules, tick, positions, every leg) is one hop. Refusals
raise :class:`~fks_exec.errors.OrderDenied` before anything is sent; a link that
fails before anything is sent raises :class:`LinkDown`. The reads themselves are in
:mod:`fks_exec_mt5.session_reads`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.errors import OrderDenied
from fks_exec.kit import BadBrokerNumber
from fks_exec.models import Order, OrderSide, OrderType
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Leg, Ticket, fifo_blocker, net, plan_hedging_exit, split_closes
from fks_exec_mt5.mapping import Stops, build_request
from fks_exec_mt5.netting import refuse_foreign, stops_conflict
from fks_exec_mt5.numbers import decimal_of, float_decimal, int_of
from fks_exec_mt5.prechecks import SymbolRules, check_trade_mode, check_volume_limit
from fks_exec_mt5.results import LegAnswer, leg_done
from fks_exec_mt5.retcodes import RETRY_WITH_FRESH_PRICE, Fate, last_error_of
from fks_exec_mt5.reversal import split_reversal
from fks_exec_mt5.session_reads import LinkDown, SessionReads

__all__ = [
    "LinkDown",
    "Mt5Session",
    "NotSent",
    "Placed",
    "Refused",
    "fifo_refusal",
    "retcode_or_none",
]

_BUY, _MARKET = OrderSide.BUY, OrderType.MARKET  # an enum member read is ~90 ns on 3.11
_ZERO = Decimal(0)
_FULL = c.SYMBOL_TRADE_MODE_FULL

RULES_CHANGED = frozenset(
    {
        c.TRADE_RETCODE_INVALID_VOLUME,
        c.TRADE_RETCODE_INVALID_STOPS,
        c.TRADE_RETCODE_TRADE_DISABLED,
        c.TRADE_RETCODE_MARKET_CLOSED,
        c.TRADE_RETCODE_INVALID_EXPIRATION,
        c.TRADE_RETCODE_INVALID_FILL,
        c.TRADE_RETCODE_LIMIT_VOLUME,
        c.TRADE_RETCODE_LONG_ONLY,
        c.TRADE_RETCODE_SHORT_ONLY,
        c.TRADE_RETCODE_CLOSE_ONLY,
    }
)
"""Trade server return codes (https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes)
that a symbol's specification can explain: volume grid, stops level, trade mode,
session, expiration or filling flags, volume limit. After one the cached rules are
dropped, so the next order checks against the specification as it is now."""


class Placed(NamedTuple):
    """What became of an order's legs: the lots requested, each sent leg's answer, and
    how many legs were planned (a leg after one that failed is not sent)."""

    volume: Decimal
    answers: list[LegAnswer]
    legs: int = 1


class Mt5Session(SessionReads):
    """The account as the worker thread sees it (:class:`SessionReads`), and its orders:
    planned into legs, checked, sent."""

    # ------------------------------------------------------------------ orders

    def place(self, order: Order) -> Placed:
        """Plan ``order`` into legs, check them all, then send them in turn.

        Raises :class:`OrderDenied` (nothing sent) for a failed check, and also when a
        number the checks need (symbol, tick, positions, orders) is one the terminal
        cannot mean (:class:`~fks_exec.kit.BadBrokerNumber`).
        """
        try:
            legs, requests, volume, point = self._plan(order)
        except BadBrokerNumber as exc:
            raise OrderDenied(
                f"{exc}: the terminal's data cannot be trusted for this order", "rejected"
            ) from None
        return Placed(volume, self._send_all(order, requests, legs, point), len(legs))

    def _plan(self, order: Order) -> tuple[list[Leg], list[dict[str, Any]], Decimal, Decimal]:
        """The order's legs, their requests, its lots and the symbol's point."""
        # The fields from the model's dict: an attribute read of a pydantic model costs
        # about twice a dict lookup (its class has a __getattr__ hook).
        fields = order.__dict__
        symbol = fields["symbol"]
        rules = self.rules(symbol)
        buy = fields["side"] is _BUY
        tick = self.tick(symbol)
        volume = self.lots(fields["quantity"], rules)
        market = fields["type"] is _MARKET
        own: Stops = (fields["stop_loss"], fields["take_profit"])
        # A pending order on hedging opens its own ticket and carries its own SL/TP: the
        # positions matter to it only for a volume limit.
        needs_positions = market or not self.hedging or rules.volume_limit > 0
        tickets = self.tickets(symbol) if needs_positions else []
        if market:
            legs, stops = self._plan_market(order, rules, volume, tickets, buy, own)
            if rules.volume_max and volume > rules.volume_max:  # a deal's limit
                legs = split_closes(legs, rules.volume_max, rules.step)
        else:
            if fields["reduce_only"]:
                raise OrderDenied(
                    "MT5 has no reduce-only pending orders; use a market order", "not_supported"
                )
            if not self.hedging and tickets and not self.others_too:
                refuse_foreign(symbol, tickets[0], self.magic)
            legs, stops = [Leg(volume)], self._stops(own, tickets, buy)
        if not self.hedging and legs[-1].position is None and (not market or stops != (None, None)):
            # what opens (the last leg: a split reversal closes first) against working orders
            self._check_netting_stops(symbol, buy, stops, pending=not market)
        if len(legs) > 1:  # closes, then (hedging, or a split netting reversal) what opens
            opening = sum((leg.volume for leg in legs if leg.position is None), _ZERO)
        elif legs[0].position is not None:
            opening = _ZERO  # a close
        elif market and not self.hedging and tickets and tickets[0].buy != buy:
            opening = max(_ZERO, volume - tickets[0].volume)  # a reversal in one deal
        else:
            opening = legs[0].volume
        if rules.trade_mode != _FULL:
            check_trade_mode(rules, buy, opening > 0)
        if rules.volume_limit > 0 and opening > 0:
            orders = self.mt5.orders_get(symbol=symbol)
            if orders is None:
                raise self.fail("orders_get")
            held = sum((t.volume for t in tickets if t.buy == buy), Decimal(0))
            check_volume_limit(rules, buy, opening, held, orders)
        try:
            if len(legs) == 1:
                requests = [self._request(order, rules, tick, legs[0], stops)]
            else:
                requests = [self._request(order, rules, tick, leg, stops) for leg in legs]
        except OrderDenied as exc:
            if stops == own:
                raise
            raise OrderDenied(
                f"{exc}. The stop loss/take profit came from the open {symbol} position: "
                "on a netting account an order without them deletes the position's when it "
                "fills (MetaQuotes' inheritance rules); give this order its own"
            ) from None
        return legs, requests, volume, rules.point

    def _request(
        self, order: Order, rules: SymbolRules, tick: Any, leg: Leg, stops: Stops
    ) -> dict[str, Any]:
        if leg.volume < rules.volume_min:
            raise OrderDenied(
                f"closing {leg.volume} lots of position {leg.position} is below the minimum "
                f"volume {rules.volume_min} of {rules.name}; close whole positions instead"
            )
        if rules.volume_max and leg.volume > rules.volume_max:
            raise OrderDenied(
                f"{leg.volume} lots of {rules.name} in one deal is above its maximum "
                f"{rules.volume_max} (SYMBOL_VOLUME_MAX, per deal): send orders of at most "
                f"{rules.volume_max} lots"
            )
        return build_request(
            order,
            rules,
            tick,
            leg,
            deviation=self.deviation,
            magic=self.magic,
            stops=stops,
            filling=self.filling(order, rules),
        )

    def _plan_market(
        self,
        order: Order,
        rules: SymbolRules,
        volume: Decimal,
        tickets: list[Ticket],
        buy: bool,
        own: Stops,
    ) -> tuple[list[Leg], Stops]:
        reduce_only = order.__dict__["reduce_only"]
        if self.hedging:
            mine = self.mine(tickets)
            if reduce_only:
                held = net(mine) if not buy else -net(mine)
                if volume > held:
                    raise OrderDenied(
                        f"reduce_only {order.side.value} {volume} {order.symbol}: this "
                        f"program's net position there is {net(mine)}; nothing to reduce by that"
                    )
            legs = plan_hedging_exit(mine, buy, volume, reduce_only=reduce_only)
            if self.fifo:
                blocker = fifo_blocker(tickets, legs)
                if blocker is not None:
                    raise OrderDenied(fifo_refusal(blocker), "rejected")
            return legs, own
        position = tickets[0] if tickets else None
        if not self.others_too:
            refuse_foreign(order.symbol, position, self.magic)
        if position is None or position.buy == buy:
            if reduce_only:
                raise OrderDenied(
                    f"reduce_only {order.side.value} {volume} {order.symbol}: no opposite "
                    "position to reduce"
                )
            return [Leg(volume)], self._stops(own, tickets, buy)
        if volume <= position.volume:
            return [Leg(volume, position.ticket)], (None, None)
        if reduce_only:
            raise OrderDenied(
                f"reduce_only {order.side.value} {volume} {order.symbol}: the position is "
                f"only {position.volume} lots"
            )
        # A reversal: the new direction gets the order's stops.
        if not rules.volume_max or volume <= rules.volume_max:
            return [Leg(volume)], own  # in one deal
        return split_reversal(rules, position, volume), own

    def _check_netting_stops(self, symbol: str, buy: bool, stops: Stops, *, pending: bool) -> None:
        """Refuse (:func:`~fks_exec_mt5.netting.stops_conflict`) a netting order whose
        SL/TP this program's working pending orders on its side would delete, or which
        would delete theirs; :class:`LinkDown` when the orders cannot be read."""
        working = self.mt5.orders_get(symbol=symbol)
        if working is None:
            code, _ = self.mt5.last_error()
            if code != c.RES_S_OK:
                raise self.fail("orders_get")
            working = ()
        magic = None if self.others_too else self.magic
        stops_conflict(symbol, buy, stops, pending=pending, working=working, magic=magic)

    def _stops(self, own: Stops, tickets: list[Ticket], buy: bool) -> Stops:
        """The order's SL/TP (``own``); on netting, a missing one is carried from a
        same-direction position, because an order without it would delete the
        position's (MetaQuotes' inheritance rules, see docs/plugins/mt5.md)."""
        if self.hedging or not tickets or tickets[0].buy != buy:
            return own
        sl, tp = own
        held = tickets[0]
        return (held.sl if sl is None else sl), (held.tp if tp is None else tp)

    def _send_all(
        self, order: Order, requests: list[dict[str, Any]], legs: list[Leg], point: Decimal
    ) -> list[LegAnswer]:
        if len(requests) == 1:  # the usual order
            return [self._send_leg(order, requests[0], legs[0].volume, point, first=True)[0]]
        answers: list[LegAnswer] = []
        for index, request in enumerate(requests):
            volume = legs[index].volume
            answer, done = self._send_leg(order, request, volume, point, first=index == 0)
            answers.append(answer)
            if not done:
                break
        return answers

    def _send_leg(
        self,
        order: Order,
        request: dict[str, Any],
        volume: Decimal,
        point: Decimal,
        *,
        first: bool,
    ) -> tuple[LegAnswer, bool]:
        """One leg's answer, and whether the next leg may go (:func:`leg_done`: DONE
        with a deal for all ``volume`` lots).

        A requote is resent at a fresh price (``requote_retries`` times) only while
        that price is within ``deviation_points`` (of ``point``) of the leg's first
        one: the deviation is the slippage accepted, and a chase past it is not."""
        mt5 = self.mt5
        attempts = 1 + (self.requote_retries if order.__dict__["type"] is _MARKET else 0)
        sent = None
        start: Decimal | None = None  # the leg's first price
        for attempt in range(attempts):
            if attempt or not first:
                fresh = self._fresh_price(order.symbol, request["type"] == c.ORDER_TYPE_BUY)
                if fresh is None:
                    unsent = f"no fresh price for {order.symbol}"
                    return LegAnswer(unsent=unsent, volume=volume), False
                if start is None:
                    start = float_decimal(request["price"]) if attempt else fresh
                if abs(fresh - start) > self.deviation * point:
                    break  # the market ran away: the last answer (a requote) stands
                request = {**request, "price": float(fresh)}
            sent = mt5.order_send(request)
            if sent is None:
                code, text = mt5.last_error()
                fate = last_error_of(code).fate
                if fate is Fate.MAYBE_SENT:
                    return LegAnswer(lost=(code, text), volume=volume), False
                if first and attempt == 0:
                    raise NotSent(code, text)
                unsent = f"order_send failed before sending ({code}, {text})"
                return LegAnswer(unsent=unsent, volume=volume), False
            retcode = retcode_or_none(sent)
            if retcode not in RETRY_WITH_FRESH_PRICE:
                if retcode in RULES_CHANGED:
                    self.forget_symbols()
                break
        done = retcode == c.TRADE_RETCODE_DONE and leg_done(sent, volume)
        return LegAnswer(sent, None, None, volume, request.get("type_filling")), done

    def _fresh_price(self, symbol: str, buy: bool) -> Decimal | None:
        """The side's price of a new tick, or None when there is none (or it is 0 or not
        a price)."""
        tick = self.mt5.symbol_info_tick(symbol)
        if tick is None:
            return None
        try:
            price = decimal_of(tick.ask if buy else tick.bid, f"tick {symbol} price")
        except BadBrokerNumber:
            return None
        return price or None

    def close_pairs(self, symbol: str, comment: str) -> list[tuple[Ticket, Ticket, Any]]:
        """Close this program's opposite tickets of ``symbol`` pairwise, oldest first, with
        TRADE_ACTION_CLOSE_BY (exposure never changes). Each entry: the two tickets and
        the OrderSendResult, ``(code, text)`` when none came, or :class:`Refused` when
        the pair may not be closed now (FIFO: an older position of the symbol is open);
        stops at a failure."""
        done: list[tuple[Ticket, Ticket, Any]] = []
        while True:
            try:
                everyone = self.tickets(symbol)
            except LinkDown as exc:
                if not done:
                    raise  # nothing sent: BrokerUnavailable
                raise PairsCut(done, str(exc)) from None
            mine = sorted(self.mine(everyone), key=lambda t: t.age_key)
            longs = [t for t in mine if t.buy]
            shorts = [t for t in mine if not t.buy]
            if not longs or not shorts:
                return done
            first, second = sorted((longs[0], shorts[0]), key=lambda t: t.age_key)
            if not self.rules(symbol).allows(c.SYMBOL_ORDER_CLOSEBY):
                done.append((first, second, Refused(_NO_CLOSE_BY)))
                return done
            if self.fifo:  # a close-by closes both: each must be the oldest left open
                pair = [Leg(first.volume, first.ticket), Leg(second.volume, second.ticket)]
                blocker = fifo_blocker(everyone, pair)
                if blocker is not None:
                    done.append((first, second, Refused(fifo_refusal(blocker))))
                    return done
            request = {
                "action": c.TRADE_ACTION_CLOSE_BY,
                "symbol": symbol,
                "position": first.ticket,
                "position_by": second.ticket,
                "magic": self.magic,
                "comment": comment,
            }
            sent = self.mt5.order_send(request)
            if sent is None:
                done.append((first, second, self.mt5.last_error()))
                return done
            done.append((first, second, sent))
            if retcode_or_none(sent) != c.TRADE_RETCODE_DONE:
                return done


def retcode_or_none(sent: Any) -> int | None:
    """``sent.retcode`` as an int, or None when it is not one (the reply is then read,
    and refused, by :func:`~fks_exec_mt5.results.from_send`)."""
    try:
        return int_of(sent.retcode, "order_send retcode")
    except BadBrokerNumber:
        return None


def fifo_refusal(blocker: Ticket) -> str:
    """Why a close is refused on a FIFO account: ``blocker`` is older and still open."""
    return (
        f"this account closes positions first in, first out (FIFO, ACCOUNT_FIFO_CLOSE): "
        f"position {blocker.ticket} (magic {blocker.magic}) is older and must close first"
    )


_NO_CLOSE_BY = (
    "the symbol takes no close-by (SYMBOL_ORDER_MODE lacks SYMBOL_ORDER_CLOSEBY), so the "
    "hedged pair is left open: close its tickets in the terminal, or ask the broker"
)


class PairsCut(Exception):
    """:meth:`Mt5Session.close_pairs` could not read the tickets again after closing
    some pairs: ``done`` holds those pairs' answers, ``text`` why it stopped."""

    def __init__(self, done: list[tuple[Ticket, Ticket, Any]], text: str) -> None:
        super().__init__(text)
        self.done, self.text = done, text


class Refused(NamedTuple):
    """A request refused before sending (``text`` says why)."""

    text: str


class NotSent(Exception):
    """order_send of the first leg failed before the request left: ``code``, ``text``."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text
