"""The symbol's rules, checked before an order is sent; each refusal names its rule.

Sources (MetaQuotes):

- Fill policy per execution mode and order kind: MetaTrader 5 help "Fill Policy"
  (https://www.metatrader5.com/en/terminal/help/trading/general_concept/fill_policy).
  Instant and Request execution: Fill or Kill for every kind. Market execution: FOK or
  IOC for market and stop orders, and Return as well for limit and stop-limit orders.
  Exchange execution: FOK, IOC or Return for market and limit kinds, FOK or IOC for
  stop orders ("Return ... is only used for market, limit and stop limit orders"). FOK,
  IOC and BOC also need the symbol's SYMBOL_FILLING_* flag in ``filling_mode``
  (https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants).
  One departure from the help page's table: a **market** order on **Market** execution
  may also take Return, last, when the symbol flags neither FOK nor IOC. The MQL5
  reference allows it ("In the Market and Exchange execution modes the Return policy is
  always allowed for all the order types", SYMBOL_FILLING_MODE on the page above;
  ORDER_FILLING_RETURN "only for the symbols with Market or Exchange execution",
  ENUM_ORDER_TYPE_FILLING, https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties),
  and MetaQuotes' own ``order_send`` example sends Return with TRADE_ACTION_DEAL
  (https://www.mql5.com/en/docs/python_metatrader5/mt5ordersend_py). Without it such a
  symbol could not even be closed; a server that follows the table answers 10030
  (a rejection, nothing filled) and no other policy is tried.
- ``expiration_mode`` flags: SYMBOL_EXPIRATION_GTC (1) and _DAY (2) for ``gtc`` and
  ``day`` pending orders (same page, "SYMBOL_EXPIRATION_MODE").
- Stops level (SYMBOL_TRADE_STOPS_LEVEL, points): the least distance between the market
  and a pending order's price, and between the reference price and SL/TP; freeze level
  (SYMBOL_TRADE_FREEZE_LEVEL): a pending order within it of the market cannot be deleted
  ("Requirements and Limitations in Making Trades", https://book.mql4.com/appendix/limits,
  repeated for MetaTrader 5 in https://www.mql5.com/en/articles/2555).
- ``order_gtc_mode`` (SYMBOL_ORDER_GTC_MODE, MQL5 book "Pending order expiration
  rules", https://www.mql5.com/en/book/automation/symbols/symbols_expiration):
  SYMBOL_ORDERS_DAILY deletes GTC orders and every SL/TP at the end of the trading day,
  SYMBOL_ORDERS_DAILY_NO_STOPS the orders only.
- ``volume_limit``: "maximum allowed aggregate volume of an open position and pending
  orders in one direction" (marketinfoconstants), 0 meaning none.
- ``trade_mode``: disabled, long only, short only, close only (ENUM_SYMBOL_TRADE_MODE).
- ``order_mode`` (SYMBOL_ORDER_MODE, "Flags of allowed order types", marketinfoconstants):
  market, limit, stop, stop-limit orders, SL, TP and close-by each need their flag. A
  symbol that reports 0 (no flag at all) is taken as not telling, and not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fks_exec.errors import OrderDenied
from fks_exec.models import Order, OrderType, TimeInForce
from fks_exec_mt5 import constants as c
from fks_exec_mt5.numbers import BROKER, BadBrokerNumber, decimal_of, int_of

__all__ = [
    "SymbolRules",
    "check_daily_stops",
    "check_freeze",
    "check_pending_price",
    "check_stop_limit_side",
    "check_stops",
    "check_trade_mode",
    "check_volume_limit",
    "choose_filling",
    "choose_time",
]


@dataclass(frozen=True)
class SymbolRules:
    """A symbol's specification with its numbers as Decimals, derived once."""

    info: Any
    """The SymbolInfo it was derived from."""
    name: str
    tick: Decimal
    point: Decimal
    digits: int
    step: Decimal
    volume_min: Decimal
    volume_max: Decimal
    volume_limit: Decimal
    stops_level: Decimal
    """SYMBOL_TRADE_STOPS_LEVEL as a price distance."""
    freeze_level: Decimal
    """SYMBOL_TRADE_FREEZE_LEVEL as a price distance."""
    filling_flags: int
    execution: int
    expiration_flags: int
    trade_mode: int
    gtc_mode: int = c.SYMBOL_ORDERS_GTC
    """SYMBOL_ORDER_GTC_MODE: whether GTC orders (and SL/TP) outlive the trading day."""
    order_flags: int = 0
    """SYMBOL_ORDER_MODE: the order types, SL/TP and close-by allowed (0: not told)."""

    @classmethod
    def of(cls, info: Any) -> SymbolRules:
        """Derive the rules from a SymbolInfo.

        Raises :class:`~fks_exec.kit.BadBrokerNumber` naming the field when one of its
        numbers is impossible (not finite, negative, or a zero point or volume step,
        which no order could be rounded to).
        """
        name = str(info.name)
        where = f"symbol_info({name!r})."
        point = _positive(info.point, where + "point")
        tick = decimal_of(info.trade_tick_size, where + "trade_tick_size") or point
        digits = int_of(info.digits, where + "digits")
        if digits > _MOST_DIGITS:
            raise BadBrokerNumber(f"{BROKER}: {where}digits is out of range ({digits})")
        return cls(
            info=info,
            name=name,
            tick=tick,
            point=point,
            digits=digits,
            step=_positive(info.volume_step, where + "volume_step"),
            volume_min=decimal_of(info.volume_min, where + "volume_min"),
            volume_max=decimal_of(info.volume_max, where + "volume_max"),
            volume_limit=decimal_of(getattr(info, "volume_limit", 0.0), where + "volume_limit"),
            stops_level=int_of(getattr(info, "trade_stops_level", 0), where + "trade_stops_level")
            * point,
            freeze_level=int_of(
                getattr(info, "trade_freeze_level", 0), where + "trade_freeze_level"
            )
            * point,
            filling_flags=int_of(info.filling_mode, where + "filling_mode"),
            execution=int_of(info.trade_exemode, where + "trade_exemode"),
            expiration_flags=int_of(
                getattr(info, "expiration_mode", 15), where + "expiration_mode"
            ),
            trade_mode=int_of(
                getattr(info, "trade_mode", c.SYMBOL_TRADE_MODE_FULL), where + "trade_mode"
            ),
            gtc_mode=int_of(
                getattr(info, "order_gtc_mode", c.SYMBOL_ORDERS_GTC), where + "order_gtc_mode"
            ),
            order_flags=int_of(getattr(info, "order_mode", 0), where + "order_mode"),
        )

    def allows(self, flag: int) -> bool:
        """Whether SYMBOL_ORDER_MODE allows ``flag`` (a SYMBOL_ORDER_*; True when the
        symbol reports no flag at all)."""
        return not self.order_flags or bool(self.order_flags & flag)


_MOST_DIGITS = 20
"""More decimal digits than any symbol has (prices are doubles: 15-17 at most)."""


def _positive(value: Any, field: str) -> Decimal:
    number = decimal_of(value, field)
    if not number:
        raise BadBrokerNumber(f"{BROKER}: {field} is 0; no price or volume can be rounded to it")
    return number


_FOK, _IOC, _RET = c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC, c.ORDER_FILLING_RETURN
_INSTANT_LIKE = (c.SYMBOL_TRADE_EXECUTION_INSTANT, c.SYMBOL_TRADE_EXECUTION_REQUEST)
_RETURN_FOR_MARKET = (c.SYMBOL_TRADE_EXECUTION_MARKET, c.SYMBOL_TRADE_EXECUTION_EXCHANGE)
_EXECUTION_NAMES = {
    c.SYMBOL_TRADE_EXECUTION_REQUEST: "Request",
    c.SYMBOL_TRADE_EXECUTION_INSTANT: "Instant",
    c.SYMBOL_TRADE_EXECUTION_MARKET: "Market",
    c.SYMBOL_TRADE_EXECUTION_EXCHANGE: "Exchange",
}


def _kind(order_type: OrderType) -> str:
    if order_type is OrderType.MARKET:
        return "market"
    return "stop" if order_type is OrderType.STOP else "limit"


def allowed_fillings(rules: SymbolRules, order_type: OrderType) -> tuple[int, ...]:
    """The filling policies MetaQuotes allows, best first (see module doc: the help
    page's table, and Return for a market order on Market execution as the MQL5
    reference allows it)."""
    kind, mode, flags = _kind(order_type), rules.execution, rules.filling_flags
    fok = (_FOK,) if flags & c.SYMBOL_FILLING_FOK else ()
    ioc = (_IOC,) if flags & c.SYMBOL_FILLING_IOC else ()
    if mode in _INSTANT_LIKE:
        return fok
    if kind == "stop":
        return fok + ioc
    if kind == "limit":
        return (_RET, *fok, *ioc)  # a resting order keeps its unfilled rest
    if mode in _RETURN_FOR_MARKET:
        # FOK or IOC when the symbol flags them; Return last (Exchange execution by the
        # table, Market execution by the MQL5 reference: see the module doc).
        return (*fok, *ioc, _RET)
    return fok + ioc


def choose_filling(rules: SymbolRules, order: Order) -> int:
    """The filling policy for ``order``; raises :class:`OrderDenied` naming the rule."""
    allowed = allowed_fillings(rules, order.type)
    tif = order.time_in_force
    if tif is TimeInForce.FOK or tif is TimeInForce.IOC:
        if (_FOK if tif is TimeInForce.FOK else _IOC) in allowed:
            return _FOK if tif is TimeInForce.FOK else _IOC
    elif allowed:
        return allowed[0]  # the best the table allows
    mode = _EXECUTION_NAMES.get(rules.execution, str(rules.execution))
    raise OrderDenied(
        f"{rules.name} ({mode} execution, filling_mode {rules.filling_flags}) takes no "
        f"{tif.value} {order.type.value} order: MetaQuotes' fill policy rules allow "
        f"{_policy_names(allowed) or 'none'} for that kind",
        "not_supported",
    )


def _policy_names(policies: tuple[int, ...]) -> str:
    names = {_FOK: "FOK", _IOC: "IOC", _RET: "Return"}
    return ", ".join(names[p] for p in policies)


def choose_time(rules: SymbolRules, order: Order) -> int:
    """ORDER_TIME_GTC or _DAY for a pending order, as ``expiration_mode`` allows.

    Raises :class:`OrderDenied` for ioc/fok pending orders or a mode the symbol lacks.
    """
    tif = order.time_in_force.value
    if tif in ("ioc", "fok"):
        raise OrderDenied(f"MT5 pending orders take gtc or day, not {tif}", "not_supported")
    flag = c.SYMBOL_EXPIRATION_DAY if tif == "day" else c.SYMBOL_EXPIRATION_GTC
    if not rules.expiration_flags & flag:
        raise OrderDenied(
            f"{rules.name} does not take {tif} pending orders (symbol expiration_mode "
            f"{rules.expiration_flags} lacks SYMBOL_EXPIRATION_{tif.upper()})",
            "not_supported",
        )
    if tif == "day":
        return c.ORDER_TIME_DAY
    if rules.gtc_mode != c.SYMBOL_ORDERS_GTC:
        raise OrderDenied(
            f"{rules.name} deletes gtc pending orders at the end of the trading day "
            f"(SYMBOL_ORDER_GTC_MODE {rules.gtc_mode}: {_GTC_MODES.get(rules.gtc_mode, 'not GTC')})"
            ": an order placed as gtc would not be good till cancelled. Use "
            "time_in_force='day' (what the symbol does) and place it again each day",
            "not_supported",
        )
    return c.ORDER_TIME_GTC


_GTC_MODES = {
    c.SYMBOL_ORDERS_DAILY: "SYMBOL_ORDERS_DAILY",
    c.SYMBOL_ORDERS_DAILY_NO_STOPS: "SYMBOL_ORDERS_DAILY_NO_STOPS",
}


_ORDER_FLAGS = {
    OrderType.MARKET: (c.SYMBOL_ORDER_MARKET, "market"),
    OrderType.LIMIT: (c.SYMBOL_ORDER_LIMIT, "limit"),
    OrderType.STOP: (c.SYMBOL_ORDER_STOP, "stop"),
    OrderType.STOP_LIMIT: (c.SYMBOL_ORDER_STOP_LIMIT, "stop-limit"),
}


def check_order_mode(rules: SymbolRules, order_type: OrderType, sl: bool, tp: bool) -> None:
    """Raise :class:`OrderDenied` for an order type, a stop loss (``sl``) or a take
    profit (``tp``) the symbol's SYMBOL_ORDER_MODE does not allow: the server would
    refuse it (10016 "Invalid stops" for SL/TP), and a split order's first legs would
    already have gone."""
    if not rules.order_flags:
        return
    flag, name = _ORDER_FLAGS[order_type]
    missing = [
        what
        for what, needed, wanted in (
            (f"{name} orders", flag, True),
            ("stop losses", c.SYMBOL_ORDER_SL, sl),
            ("take profits", c.SYMBOL_ORDER_TP, tp),
        )
        if wanted and not rules.order_flags & needed
    ]
    if missing:
        raise OrderDenied(
            f"{rules.name} takes no {' and no '.join(missing)} (SYMBOL_ORDER_MODE "
            f"{rules.order_flags}): send the order without what the symbol does not allow",
            "not_supported",
        )


def check_daily_stops(rules: SymbolRules) -> None:
    """Raise :class:`OrderDenied` for SL/TP on a symbol that deletes them at the end of
    the trading day (SYMBOL_ORDERS_DAILY): the position would be left without them,
    and nothing here can set them again, so the order is refused rather than sent
    with a protection that silently lapses."""
    if rules.gtc_mode == c.SYMBOL_ORDERS_DAILY:
        raise OrderDenied(
            f"{rules.name} deletes every stop loss and take profit at the end of the "
            "trading day (SYMBOL_ORDER_GTC_MODE SYMBOL_ORDERS_DAILY): the position would "
            "be left without them overnight. Send the order without stop_loss/take_profit "
            "and close the position yourself, or trade a symbol that keeps them",
            "not_supported",
        )


def check_trade_mode(rules: SymbolRules, buy: bool, opening: bool) -> None:
    """Raise :class:`OrderDenied` when the symbol's trade_mode forbids this order."""
    mode = rules.trade_mode
    if mode == c.SYMBOL_TRADE_MODE_DISABLED:
        raise OrderDenied(f"trading {rules.name} is disabled (symbol trade_mode)", "rejected")
    if not opening:
        return
    if mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
        raise OrderDenied(f"{rules.name} is close-only (symbol trade_mode)", "rejected")
    if mode == c.SYMBOL_TRADE_MODE_LONGONLY and not buy:
        raise OrderDenied(f"{rules.name} is long-only (symbol trade_mode)", "rejected")
    if mode == c.SYMBOL_TRADE_MODE_SHORTONLY and buy:
        raise OrderDenied(f"{rules.name} is short-only (symbol trade_mode)", "rejected")


def check_pending_price(
    rules: SymbolRules, order: Order, price: Decimal, bid: Decimal, ask: Decimal
) -> None:
    """Raise :class:`OrderDenied` when a pending order's trigger is on the wrong side of
    the market or nearer than the stops level."""
    buy = order.side.value == "buy"
    limit = order.type is OrderType.LIMIT
    if limit:
        distance = ask - price if buy else price - bid
    else:
        distance = price - ask if buy else bid - price
    where = (
        ("below Ask" if buy else "above Bid") if limit else ("above Ask" if buy else "below Bid")
    )
    if distance <= 0 or distance < rules.stops_level:
        raise OrderDenied(
            f"a {order.side.value} {order.type.value} at {price} on {rules.name} must be "
            f"{where} by at least the stops level {rules.stops_level} "
            f"(SYMBOL_TRADE_STOPS_LEVEL); market {bid}/{ask}"
        )


def check_stop_limit_side(rules: SymbolRules, buy: bool, stop: Decimal, limit: Decimal) -> None:
    """Raise :class:`OrderDenied` when a stop-limit's limit is on the wrong side of its
    stop: when the stop triggers, MetaTrader places a Buy Limit (Sell Limit) at the
    limit price (ORDER_TYPE_BUY_STOP_LIMIT, ENUM_ORDER_TYPE,
    https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties), which
    must then be at or below (above) the market the stop has just reached."""
    if (limit > stop) if buy else (limit < stop):
        side, kind = ("above", "buy") if buy else ("below", "sell")
        raise OrderDenied(
            f"a {kind} stop-limit on {rules.name} with its limit {limit} {side} its stop "
            f"{stop}: when the stop triggers, MetaTrader places a {kind} limit order at "
            f"{limit}, which would be on the wrong side of the market. Put the limit "
            f"{'at or below' if buy else 'at or above'} the stop"
        )


def check_stops(
    rules: SymbolRules, buy: bool, reference: Decimal, sl: Decimal | None, tp: Decimal | None
) -> None:
    """Raise :class:`OrderDenied` for SL/TP on the wrong side of ``reference`` or nearer
    than the stops level (reference: Bid for a buy, Ask for a sell, or the open price)."""
    level = rules.stops_level
    for name, value, below in (("stop_loss", sl, buy), ("take_profit", tp, not buy)):
        if value is None:
            continue
        distance = reference - value if below else value - reference
        if distance <= 0 or distance < level:
            side = "below" if below else "above"
            raise OrderDenied(
                f"{name} {value} must be {side} {reference} by at least the stops level "
                f"{level} of {rules.name} (SYMBOL_TRADE_STOPS_LEVEL)"
            )


def check_freeze(rules: SymbolRules, record: Any, bid: Decimal, ask: Decimal) -> None:
    """Raise :class:`OrderDenied` when a pending order is within the freeze level of the
    market (MetaQuotes: it can then be neither modified nor deleted)."""
    freeze = rules.freeze_level
    if freeze <= 0:
        return
    price = decimal_of(record.price_open, f"order {record.ticket} price_open")
    kind = int_of(record.type, f"order {record.ticket} type")
    if kind in (c.ORDER_TYPE_BUY_LIMIT,):
        distance = ask - price
    elif kind in (c.ORDER_TYPE_SELL_LIMIT,):
        distance = price - bid
    elif kind in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        distance = price - ask
    else:
        distance = bid - price
    if not distance > freeze:
        raise OrderDenied(
            f"order {record.ticket} at {price} is within the freeze level {freeze} of the "
            f"market {bid}/{ask} (SYMBOL_TRADE_FREEZE_LEVEL): it cannot be deleted now",
            "rejected",
        )


def check_volume_limit(
    rules: SymbolRules, buy: bool, adding: Decimal, held: Decimal, orders: Any
) -> None:
    """Raise :class:`OrderDenied` when ``adding`` lots in this direction would pass the
    symbol's ``volume_limit``: ``held`` lots open that way plus pending orders, every
    program's."""
    limit = rules.volume_limit
    if limit <= 0 or adding <= 0:
        return
    buys = (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT)
    pending = sum(
        (
            decimal_of(o.volume_current, f"order {o.ticket} volume_current")
            for o in orders
            if (int_of(o.type, f"order {o.ticket} type") in buys) == buy
        ),
        Decimal(0),
    )
    if held + pending + adding > limit:
        raise OrderDenied(
            f"{adding} more lots {'long' if buy else 'short'} in {rules.name} pass its "
            f"volume_limit {limit} (held {held}, pending {pending}; SYMBOL_VOLUME_LIMIT)"
        )
