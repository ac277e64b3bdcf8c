"""What the server does on its own when prices move or time passes.

- Pending orders trigger (MQL4/MQL5 "Requirements and Limitations in Making Trades",
  https://book.mql4.com/appendix/limits, "Transforming a Pending Order into a Market
  Order"): Buy Limit when Ask falls to the price, Sell Limit when Bid rises to it, Buy
  Stop when Ask rises to it, Sell Stop when Bid falls to it. A Stop Limit, when its
  price is reached, becomes a Limit order at its stop-limit price with Return filling
  (https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties,
  ORDER_FILLING_RETURN note); the fake keeps the ticket (**inferred**). Limits fill at
  their price or better, stops at the market (**inferred** slippage model).
- Stop Loss / Take Profit of positions fire (terminal help, "When are Stop Loss and
  Take Profit orders executed": a buy's TP when Bid ≥ TP, its SL when Bid ≤ SL; a sell's
  TP when Ask ≤ TP, its SL when Ask ≥ SL). The closing order and deal carry reason
  SL/TP, the position's magic, and the comment ``[sl 1.08000]`` / ``[tp ...]``
  (**inferred** format). On netting SL/TP are the position's, on hedging each ticket's.
- Expiration: ORDER_TIME_DAY orders expire at the end of the server day;
  ORDER_TIME_SPECIFIED at their time; ORDER_TIME_SPECIFIED_DAY at the end of that day.
  SYMBOL_ORDER_GTC_MODE (https://www.mql5.com/en/book/automation/symbols/symbols_expiration):
  SYMBOL_ORDERS_DAILY — GTC orders and positions' SL/TP are deleted at the end of the
  day; SYMBOL_ORDERS_DAILY_NO_STOPS — orders are, SL/TP stay. Expired orders go to
  history as ORDER_STATE_EXPIRED.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.execution import execute
from fks_exec_mt5.testing.reference.management import retire_order
from fks_exec_mt5.testing.reference.rules import BUY_TYPES, LIMIT_TYPES, STOP_LIMIT_TYPES
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Order, Position

__all__ = ["run_market"]

_DAY_MS = 86_400_000
_DAILY_MODES = (C.SYMBOL_ORDERS_DAILY, C.SYMBOL_ORDERS_DAILY_NO_STOPS)


def run_market(server: TradeServer, last_day: int, *, prices_moved: bool = True) -> int:
    """Apply expirations and, if ``prices_moved``, pending triggers and SL/TP; returns the
    server day processed. Without a price move nothing can trigger: the server accepted
    every pending price and SL/TP on the untriggered side of the market."""
    today = server.now_msc() // _DAY_MS
    if today > last_day:
        _end_of_day(server, today)
    _expire_specified(server)
    if not prices_moved:
        return today
    for _ in range(3):  # a fill can bring a new position whose SL/TP already touches
        fired = _trigger_pending(server) + _fire_stops(server)
        if not fired:
            break
    return today


def _end_of_day(server: TradeServer, today: int) -> None:
    for order in list(server.book.orders.values()):
        setup_day = order.time_setup_msc // _DAY_MS
        gtc_daily = server.specs[order.symbol].order_gtc_mode in _DAILY_MODES
        if setup_day < today and (
            order.type_time == C.ORDER_TIME_DAY
            or (order.type_time == C.ORDER_TIME_GTC and gtc_daily)
        ):
            retire_order(server, order, C.ORDER_STATE_EXPIRED)
    for position in server.book.positions.values():
        if server.specs[position.symbol].order_gtc_mode == C.SYMBOL_ORDERS_DAILY:
            position.sl = position.tp = Decimal(0)


def _expire_specified(server: TradeServer) -> None:
    if not server.book.orders:
        return
    now_s = server.now_s()
    for order in list(server.book.orders.values()):
        if (order.type_time == C.ORDER_TIME_SPECIFIED and now_s >= order.time_expiration) or (
            order.type_time == C.ORDER_TIME_SPECIFIED_DAY
            and now_s // 86400 > order.time_expiration // 86400
        ):
            retire_order(server, order, C.ORDER_STATE_EXPIRED)


def _trigger_pending(server: TradeServer) -> int:
    fired = 0
    for order in sorted(server.book.orders.values(), key=lambda o: o.ticket):
        quote = server.quotes[order.symbol]
        if not quote.has_prices or not quote.market_open:
            continue
        buy = order.type in BUY_TYPES
        market = quote.ask if buy else quote.bid
        if order.type in STOP_LIMIT_TYPES:
            if (market >= order.price_open) if buy else (market <= order.price_open):
                _activate_stop_limit(order)
            continue
        if order.type in LIMIT_TYPES:
            reached = market <= order.price_open if buy else market >= order.price_open
            price = min(market, order.price_open) if buy else max(market, order.price_open)
        else:
            reached = market >= order.price_open if buy else market <= order.price_open
            price = market
        if reached:
            _fill_pending(server, order, price)
            fired += 1
    return fired


def _activate_stop_limit(order: Order) -> None:
    buy = order.type in BUY_TYPES
    order.type = C.ORDER_TYPE_BUY_LIMIT if buy else C.ORDER_TYPE_SELL_LIMIT
    order.price_open, order.price_stoplimit = order.price_stoplimit, Decimal(0)
    order.type_filling = C.ORDER_FILLING_RETURN


def _fill_pending(server: TradeServer, order: Order, price: Decimal) -> None:
    server.book.orders.pop(order.ticket)
    execute(server, order, order.volume_current, price)
    order.volume_current = Decimal(0)
    retire_order(server, order, C.ORDER_STATE_FILLED)


def _fire_stops(server: TradeServer) -> int:
    fired = 0
    armed = [p for p in server.book.positions.values() if p.sl or p.tp]
    for position in sorted(armed, key=lambda p: p.ticket):
        quote = server.quotes[position.symbol]
        if not quote.has_prices or not quote.market_open:
            continue
        buy = position.type == C.POSITION_TYPE_BUY
        market = quote.bid if buy else quote.ask
        if position.sl and (market <= position.sl if buy else market >= position.sl):
            _close_on_stop(server, position, C.ORDER_REASON_SL, "sl", position.sl, market)
            fired += 1
        elif position.tp and (market >= position.tp if buy else market <= position.tp):
            better = max(market, position.tp) if buy else min(market, position.tp)
            _close_on_stop(server, position, C.ORDER_REASON_TP, "tp", position.tp, better)
            fired += 1
    return fired


def _close_on_stop(
    server: TradeServer, position: Position, reason: int, tag: str, level: Decimal, price: Decimal
) -> None:
    digits = server.specs[position.symbol].digits
    now = server.now_msc()
    buy = position.type == C.POSITION_TYPE_BUY
    order = Order(
        ticket=server.book.new_ticket(),
        symbol=position.symbol,
        type=C.ORDER_TYPE_SELL if buy else C.ORDER_TYPE_BUY,
        state=C.ORDER_STATE_FILLED,
        volume_initial=position.volume,
        volume_current=Decimal(0),
        price_open=level,
        price_stoplimit=Decimal(0),
        sl=Decimal(0),
        tp=Decimal(0),
        type_time=C.ORDER_TIME_GTC,
        type_filling=C.ORDER_FILLING_FOK,
        time_expiration=0,
        magic=position.magic,
        comment=f"[{tag} {level:.{digits}f}]",
        reason=reason,
        time_setup_msc=now,
        time_done_msc=now,
        position_ticket=position.ticket,
    )
    execute(server, order, position.volume, price, position_ticket=position.ticket)
    server.book.history_orders[order.ticket] = order
