"""From an fks-exec :class:`Order` to ``order_send`` requests, with no I/O.

Requests follow MqlTradeRequest (https://www.mql5.com/en/docs/python_metatrader5/mt5ordersend_py):
``position`` names the position a deal closes (hedging) or must still be (netting).
Pre-checks are in :mod:`fks_exec_mt5.prechecks`; every refusal raises
:class:`~fks_exec.errors.OrderDenied` before anything is sent.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from fks_exec.errors import OrderDenied
from fks_exec.models import Order, OrderSide, OrderType
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Leg
from fks_exec_mt5.numbers import FLOAT_LIMIT, decimal_of
from fks_exec_mt5.prechecks import (
    SymbolRules,
    check_daily_stops,
    check_order_mode,
    check_pending_price,
    check_stop_limit_side,
    check_stops,
    choose_filling,
    choose_time,
)

__all__ = [
    "COMMENT_LIMIT",
    "Stops",
    "build_request",
    "comment_for",
    "limit_to_tick",
    "rounded_volume",
    "to_tick",
]

COMMENT_LIMIT = 31

Stops = tuple[Decimal | None, Decimal | None]
"""(stop loss, take profit) as prices, None for none."""


def comment_for(client_order_id: str) -> str:
    """The order comment that carries ``client_order_id`` (MT5 allows 31 ASCII chars).

    Ids that fit are used as they are; longer ones (the default ids have 32
    characters) become ``h`` + 30 hex characters of their SHA-256, the same every time,
    so the order can be found again after a restart.
    """
    if len(client_order_id) <= COMMENT_LIMIT and client_order_id.isascii():
        return client_order_id
    digest = _SHA256.copy()  # a copy skips OpenSSL's set-up of a new hash (~40 % of it)
    digest.update(client_order_id.encode())
    return "h" + digest.hexdigest()[: COMMENT_LIMIT - 1]


_SHA256 = hashlib.sha256()
"""Never updated: each comment hashes in a copy of it."""


def to_tick(value: Decimal, rules: SymbolRules, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` rounded to the symbol's tick size: to the nearest tick (half up), or
    the way ``rounding`` says (a limit price goes the cautious way, see
    :func:`limit_to_tick`)."""
    tick = rules.tick
    return ((value / tick).quantize(Decimal(1), rounding=rounding) * tick).quantize(
        Decimal(1).scaleb(-rules.digits)
    )


def limit_to_tick(value: Decimal, rules: SymbolRules, *, buy: bool) -> Decimal:
    """A limit price on the tick grid, never past the caller's limit: a buy's rounded
    down (it pays at most ``value``), a sell's up (it gets at least ``value``)."""
    return to_tick(value, rules, ROUND_FLOOR if buy else ROUND_CEILING)


def rounded_volume(quantity: Decimal, rules: SymbolRules) -> Decimal:
    """``quantity`` rounded down to ``volume_step``; raises :class:`OrderDenied` below
    ``volume_min``. ``volume_max`` bounds one deal, not an order (an order may be
    several requests): it is checked per request (:mod:`fks_exec_mt5.session`)."""
    step, name = rules.step, rules.name
    volume = (quantity / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
    low = rules.volume_min
    if volume < low or volume <= 0:
        if quantity < low or quantity <= 0:
            raise OrderDenied(f"{quantity} lots of {name} is below the minimum {low} (step {step})")
        # The quantity reaches the minimum, but the minimum is off the step's grid.
        smallest = (low / step).quantize(Decimal(1), rounding=ROUND_UP) * step
        raise OrderDenied(
            f"{quantity} lots of {name} rounds down to {volume.normalize()} on its volume "
            f"step {step}, below the minimum {low}: the broker's minimum is not a multiple "
            f"of the step, so the smallest volume it takes is {smallest.normalize()}; "
            "ask for that or more"
        )
    whole = volume.to_integral_value()  # 10, not normalize()'s 1E+1
    return whole if whole == volume else volume.normalize()


_BUY, _MARKET = OrderSide.BUY, OrderType.MARKET  # an enum member read is ~90 ns on 3.11

_PENDING = {
    (OrderType.LIMIT, True): c.ORDER_TYPE_BUY_LIMIT,
    (OrderType.LIMIT, False): c.ORDER_TYPE_SELL_LIMIT,
    (OrderType.STOP, True): c.ORDER_TYPE_BUY_STOP,
    (OrderType.STOP, False): c.ORDER_TYPE_SELL_STOP,
    (OrderType.STOP_LIMIT, True): c.ORDER_TYPE_BUY_STOP_LIMIT,
    (OrderType.STOP_LIMIT, False): c.ORDER_TYPE_SELL_STOP_LIMIT,
}


def build_request(
    order: Order,
    rules: SymbolRules,
    tick: Any,
    leg: Leg,
    *,
    deviation: int,
    magic: int,
    stops: Stops = (None, None),
    filling: int | None = None,
) -> dict[str, Any]:
    """The ``order_send`` request for one leg of ``order`` at ``tick``.

    ``stops`` are the SL/TP to send (the order's, or a netting position's carried
    over); a closing leg sends none. ``filling`` is the policy when the caller has
    chosen it already (:func:`~fks_exec_mt5.prechecks.choose_filling`). Raises
    :class:`OrderDenied` naming the rule an order breaks (fill policy, expiration mode,
    stops level, price side, no price for a market order) and
    :class:`~fks_exec.kit.BadBrokerNumber` for a tick price that is not finite or is
    negative.
    """
    fields = order.__dict__  # a pydantic attribute read costs twice a dict lookup
    buy = fields["side"] is _BUY
    kind = fields["type"]
    request: dict[str, Any] = {
        "symbol": rules.name,
        "volume": float(leg.volume),
        "magic": magic,
        "comment": comment_for(fields["client_order_id"]),
        "type_filling": choose_filling(rules, order) if filling is None else filling,
    }
    sl, tp = (None, None) if leg.position is not None else stops
    if rules.order_flags:
        check_order_mode(rules, kind, sl is not None, tp is not None)
    if sl is not None or tp is not None:
        check_daily_stops(rules)
        sl = None if sl is None else to_tick(sl, rules)
        tp = None if tp is None else to_tick(tp, rules)
    if kind is _MARKET:
        # A buy takes the ask, a sell the bid; its SL/TP are measured from the other side.
        side = tick.ask if buy else tick.bid
        if not (type(side) is float and 0.0 < side < FLOAT_LIMIT) and not decimal_of(
            side, "tick ask" if buy else "tick bid"
        ):  # a usual price passes the first test; decimal_of refuses what is no price
            raise OrderDenied(
                f"{rules.name} has no {'ask' if buy else 'bid'} price now (the tick's is 0: "
                "market closed or no quotes)",
                "market_closed",
            )
        if sl is not None or tp is not None:
            other = decimal_of(tick.bid if buy else tick.ask, "tick bid" if buy else "tick ask")
            check_stops(rules, buy, other, sl, tp)
        request["action"] = c.TRADE_ACTION_DEAL
        request["type"] = c.ORDER_TYPE_BUY if buy else c.ORDER_TYPE_SELL
        request["price"] = float(side)
        request["deviation"] = deviation
        request["type_time"] = c.ORDER_TIME_GTC
        if leg.position is not None:
            request["position"] = leg.position
    else:
        bid, ask = decimal_of(tick.bid, "tick bid"), decimal_of(tick.ask, "tick ask")
        if order.type is OrderType.LIMIT:
            assert order.price is not None  # Order validates it
            price = limit_to_tick(order.price, rules, buy=buy)
        else:  # a stop's trigger: to the nearest tick
            assert order.stop_price is not None
            price = to_tick(order.stop_price, rules)
        check_pending_price(rules, order, price, bid, ask)
        opens_at = price
        request.update(
            action=c.TRADE_ACTION_PENDING,
            type=_PENDING[(order.type, buy)],
            price=float(price),
            type_time=choose_time(rules, order),
        )
        if order.type is OrderType.STOP_LIMIT:
            assert order.price is not None
            opens_at = limit_to_tick(order.price, rules, buy=buy)
            check_stop_limit_side(rules, buy, price, opens_at)
            request["stoplimit"] = float(opens_at)
        check_stops(rules, buy, opens_at, sl, tp)
    if sl is not None:
        request["sl"] = float(sl)
    if tp is not None:
        request["tp"] = float(tp)
    return request
