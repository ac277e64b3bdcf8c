"""TRADE_ACTION_SLTP, MODIFY, REMOVE and CLOSE_BY: changing what is already on the server.

ENUM_TRADE_REQUEST_ACTIONS: https://www.mql5.com/en/docs/constants/tradingconstants/enum_trade_request_actions
- SLTP modifies a position's Stop Loss / Take Profit; on hedging the request names the
  ``position``, on netting the symbol identifies it. Answered 10009, deal 0, order 0.
- MODIFY changes a pending order's price, SL/TP, stop-limit price and expiration.
- REMOVE deletes a pending order (it goes to history as ORDER_STATE_CANCELED).
- CLOSE_BY closes a position by an opposite one (hedging only), at the opposite
  position's open price (**inferred** pricing). On a FIFO account (ACCOUNT_FIFO_CLOSE,
  "positions can only be closed by FIFO rule",
  https://www.mql5.com/en/docs/constants/environment_state/accountinformation) both
  must be the oldest open (the pair aside, in the account's ``fifo_scope``): else 10045.
Freeze level (10029) guards modification and removal (see rules.py); an unchanged
request is 10025 NO_CHANGES; an unknown order or position ticket is 10013 for orders
and 10036 POSITION_CLOSED for positions (**inferred** for orders).
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.outcome import Outcome, rejected
from fks_exec_mt5.testing.reference.requests import ParsedRequest
from fks_exec_mt5.testing.reference.rules import (
    STOP_LIMIT_TYPES,
    check_expiration,
    check_order_mode,
    check_pending_price,
    check_stops,
    frozen_order,
    frozen_position,
)
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Deal, Order, Position
from fks_exec_mt5.testing.reference.trading import fifo_blocks

__all__ = ["close_by", "modify_order", "modify_stops", "remove_order"]


def modify_stops(server: TradeServer, req: ParsedRequest, *, act: bool) -> Outcome:
    """TRADE_ACTION_SLTP on one position."""
    position, retcode = _position_for_stops(server, req)
    if position is None:
        return rejected(retcode)
    spec, quote = server.specs[position.symbol], server.quotes[position.symbol]
    if (req.sl, req.tp) == (position.sl, position.tp):
        return rejected(C.TRADE_RETCODE_NO_CHANGES)
    if frozen_position(spec, position.type, position.sl, position.tp, quote.bid, quote.ask):
        return rejected(C.TRADE_RETCODE_FROZEN)
    order_type = C.ORDER_TYPE_BUY if position.type == C.POSITION_TYPE_BUY else C.ORDER_TYPE_SELL
    reference = quote.bid if position.type == C.POSITION_TYPE_BUY else quote.ask
    for code in (
        check_order_mode(spec, order_type, req.sl, req.tp),
        check_stops(spec, order_type, reference, req.sl, req.tp),
    ):
        if code:
            return rejected(code)
    if act:
        position.sl, position.tp = req.sl, req.tp
        position.time_update_msc = server.now_msc()
    return Outcome(retcode=C.TRADE_RETCODE_DONE if act else 0, executed=act)


def modify_order(server: TradeServer, req: ParsedRequest, *, act: bool) -> Outcome:
    """TRADE_ACTION_MODIFY of a pending order."""
    order = server.book.orders.get(req.order)
    if order is None:
        return rejected(C.TRADE_RETCODE_INVALID)
    spec, quote = server.specs[order.symbol], server.quotes[order.symbol]
    wanted = (req.price, req.sl, req.tp, req.stoplimit, req.type_time, req.expiration)
    current = (
        order.price_open,
        order.sl,
        order.tp,
        order.price_stoplimit,
        order.type_time,
        order.time_expiration,
    )
    if wanted == current:
        return rejected(C.TRADE_RETCODE_NO_CHANGES)
    if frozen_order(spec, order.type, order.price_open, quote.bid, quote.ask):
        return rejected(C.TRADE_RETCODE_FROZEN)
    reference = req.stoplimit if order.type in STOP_LIMIT_TYPES else req.price
    for code in (
        check_expiration(spec, req.type_time, req.expiration, server.now_s()),
        check_pending_price(spec, order.type, req.price, req.stoplimit, quote.bid, quote.ask),
        check_order_mode(spec, order.type, req.sl, req.tp),
        check_stops(spec, order.type, reference, req.sl, req.tp),
    ):
        if code:
            return rejected(code)
    if act:
        order.price_open, order.sl, order.tp = req.price, req.sl, req.tp
        order.price_stoplimit, order.type_time = req.stoplimit, req.type_time
        order.time_expiration = req.expiration
    return Outcome(retcode=C.TRADE_RETCODE_DONE if act else 0, order=order.ticket, executed=act)


def remove_order(server: TradeServer, req: ParsedRequest, *, act: bool) -> Outcome:
    """TRADE_ACTION_REMOVE of a pending order."""
    order = server.book.orders.get(req.order)
    if order is None:
        return rejected(C.TRADE_RETCODE_INVALID)
    quote = server.quotes[order.symbol]
    if frozen_order(server.specs[order.symbol], order.type, order.price_open, quote.bid, quote.ask):
        return rejected(C.TRADE_RETCODE_FROZEN)
    if act:
        retire_order(server, order, C.ORDER_STATE_CANCELED)
    return Outcome(retcode=C.TRADE_RETCODE_DONE if act else 0, order=order.ticket, executed=act)


def retire_order(server: TradeServer, order: Order, state: int) -> None:
    """Move an active order to history with ``state`` (canceled, expired, filled)."""
    server.book.orders.pop(order.ticket, None)
    order.state = state
    order.time_done_msc = server.now_msc()
    server.book.history_orders[order.ticket] = order


def close_by(server: TradeServer, req: ParsedRequest, *, act: bool, reason: int) -> Outcome:
    """TRADE_ACTION_CLOSE_BY of two opposite positions of one symbol (hedging)."""
    book = server.book
    first, second = book.positions.get(req.position), book.positions.get(req.position_by)
    if not server.account.is_hedging:
        return rejected(C.TRADE_RETCODE_INVALID)
    if first is None or second is None:
        return rejected(C.TRADE_RETCODE_POSITION_CLOSED)
    if first.symbol != second.symbol or first.type == second.type:
        return rejected(C.TRADE_RETCODE_INVALID)
    pair = frozenset({first.ticket, second.ticket})
    if any(fifo_blocks(server, p, closing=pair) for p in (first, second)):
        # ACCOUNT_FIFO_CLOSE: "positions can only be closed by FIFO rule" -- a close-by
        # closes both, so each must be the oldest left open (the pair aside).
        return rejected(C.TRADE_RETCODE_FIFO_CLOSE)
    if not act:
        return Outcome(retcode=0)
    volume = min(first.volume, second.volume)
    price = second.price_open
    now = server.now_msc()
    order = Order(
        ticket=book.new_ticket(),
        symbol=first.symbol,
        type=C.ORDER_TYPE_CLOSE_BY,
        state=C.ORDER_STATE_FILLED,
        volume_initial=volume,
        volume_current=Decimal(0),
        price_open=price,
        price_stoplimit=Decimal(0),
        sl=Decimal(0),
        tp=Decimal(0),
        type_time=C.ORDER_TIME_GTC,
        type_filling=C.ORDER_FILLING_FOK,
        time_expiration=0,
        magic=req.magic,
        comment=req.comment,
        reason=reason,
        time_setup_msc=now,
        time_done_msc=now,
        position_id=first.identifier,
        position_by_id=second.identifier,
    )
    book.history_orders[order.ticket] = order
    deal = 0
    for position in (first, second):
        deal = _close_part(server, order, position, volume, price).ticket
    return Outcome(retcode=C.TRADE_RETCODE_DONE, deal=deal, order=order.ticket, executed=True)


def _close_part(
    server: TradeServer, order: Order, position: Position, volume: Decimal, price: Decimal
) -> Deal:
    kept = position.volume
    position.volume = volume
    profit = server.position_profit(position, price)
    position.volume = kept - volume
    if position.volume <= 0:
        del server.book.positions[position.ticket]
    buy_position = position.type == C.POSITION_TYPE_BUY
    deal = Deal(
        ticket=server.book.new_ticket(),
        order=order.ticket,
        time_msc=server.now_msc(),
        type=C.DEAL_TYPE_SELL if buy_position else C.DEAL_TYPE_BUY,
        entry=C.DEAL_ENTRY_OUT_BY,
        magic=order.magic,
        position_id=position.identifier,
        reason=C.DEAL_REASON_EXPERT,
        volume=volume,
        price=price,
        profit=profit,
        symbol=position.symbol,
        comment=order.comment,
    )
    server.book.deals[deal.ticket] = deal
    server.balance += profit
    return deal


def _position_for_stops(server: TradeServer, req: ParsedRequest) -> tuple[Position | None, int]:
    if server.account.is_hedging:
        position = server.book.positions.get(req.position)
        if position is None or (req.symbol and position.symbol != req.symbol):
            return None, C.TRADE_RETCODE_POSITION_CLOSED
        return position, 0
    existing = server.book.positions_of(req.symbol)
    if not existing or (req.position and existing[0].ticket != req.position):
        return None, C.TRADE_RETCODE_POSITION_CLOSED
    return existing[0], 0
