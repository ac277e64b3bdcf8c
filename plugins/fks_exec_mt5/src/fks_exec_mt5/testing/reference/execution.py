"""Executing an order: one deal, and what it does to positions on netting or hedging.

Position accounting (https://www.mql5.com/en/articles/2299, "MetaTrader 5 features
hedging position accounting system"):

- Netting: one position per symbol. A deal in the same direction increases it, an
  opposite one decreases it, closes it at equal volume, or reverses it when larger
  (one DEAL_ENTRY_INOUT deal). The position keeps its identifier through all of it
  (https://www.mql5.com/en/docs/constants/tradingconstants/positionproperties,
  POSITION_IDENTIFIER: "does not change throughout the entire life of the position").
- Hedging: every deal opens its own position (ticket = the order's ticket) unless the
  request names ``position``, which the deal then closes (DEAL_ENTRY_OUT), fully or
  partly.

SL/TP inheritance — MetaTrader 5 help, "Rules of Stop Loss and Take Profit inheritance"
(quoted from the terminal help as published, e.g.
https://help.gt247.com/support/solutions/articles/13000054838): netting — "When a
position volume is increased or the position is reversed, Take Profit and Stop Loss are
placed according to its latest order ... stop levels in each subsequent order of the
same position replace previous ones. If zero values are specified in the order, Stop
Loss and Take Profit of a position will be deleted"; "If a position is partially closed,
Stop Loss and Take Profit are not changed"; on full close they are deleted with the
position. Hedging: partial close keeps them.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.rules import BUY_TYPES
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Deal, Order, Position

__all__ = ["execute"]

_POSITION_REASON = {
    C.ORDER_REASON_CLIENT: C.POSITION_REASON_CLIENT,
    C.ORDER_REASON_MOBILE: C.POSITION_REASON_MOBILE,
    C.ORDER_REASON_WEB: C.POSITION_REASON_WEB,
}
_DEAL_REASON = {
    C.ORDER_REASON_CLIENT: C.DEAL_REASON_CLIENT,
    C.ORDER_REASON_MOBILE: C.DEAL_REASON_MOBILE,
    C.ORDER_REASON_WEB: C.DEAL_REASON_WEB,
    C.ORDER_REASON_EXPERT: C.DEAL_REASON_EXPERT,
    C.ORDER_REASON_SL: C.DEAL_REASON_SL,
    C.ORDER_REASON_TP: C.DEAL_REASON_TP,
    C.ORDER_REASON_SO: C.DEAL_REASON_SO,
}


def execute(
    server: TradeServer, order: Order, volume: Decimal, price: Decimal, position_ticket: int = 0
) -> Deal:
    """Execute ``volume`` of ``order`` at ``price``; returns the deal (already in history).

    ``position_ticket`` (hedging) names the position the deal closes; 0 opens a new one.
    The caller has validated the request (volume ≤ the named position's, etc.).
    """
    buy = order.type in BUY_TYPES
    if server.account.is_hedging:
        target = server.book.positions.get(position_ticket) if position_ticket else None
    else:
        existing = server.book.positions_of(order.symbol)
        target = existing[0] if existing else None
    if target is None:
        entry, profit = C.DEAL_ENTRY_IN, _open(server, order, volume, price)
    elif (target.type == C.POSITION_TYPE_BUY) == buy:
        entry, profit = C.DEAL_ENTRY_IN, _increase(server, target, order, volume, price)
    else:
        entry, profit = _decrease(server, target, order, volume, price)
    position_id = order.position_id
    deal = Deal(
        ticket=server.book.new_ticket(),
        order=order.ticket,
        time_msc=server.now_msc(),
        type=C.DEAL_TYPE_BUY if buy else C.DEAL_TYPE_SELL,
        entry=entry,
        magic=order.magic,
        position_id=position_id,
        reason=_DEAL_REASON.get(order.reason, C.DEAL_REASON_EXPERT),
        volume=volume,
        price=price,
        profit=profit,
        symbol=order.symbol,
        comment=order.comment,
    )
    server.book.deals[deal.ticket] = deal
    server.balance += profit
    return deal


def _open(server: TradeServer, order: Order, volume: Decimal, price: Decimal) -> Decimal:
    now = server.now_msc()
    position = Position(
        ticket=order.ticket,
        identifier=order.ticket,
        symbol=order.symbol,
        type=C.POSITION_TYPE_BUY if order.type in BUY_TYPES else C.POSITION_TYPE_SELL,
        volume=volume,
        price_open=price,
        sl=order.sl,
        tp=order.tp,
        magic=order.magic,
        comment=order.comment,
        reason=_POSITION_REASON.get(order.reason, C.POSITION_REASON_EXPERT),
        time_msc=now,
        time_update_msc=now,
    )
    server.book.positions[position.ticket] = position
    order.position_id = position.identifier
    return Decimal(0)


def _increase(
    server: TradeServer, position: Position, order: Order, volume: Decimal, price: Decimal
) -> Decimal:
    total = position.volume + volume
    digits = Decimal(1).scaleb(-(server.specs[position.symbol].digits + 3))
    position.price_open = (
        (position.price_open * position.volume + price * volume) / total
    ).quantize(digits)
    position.volume = total
    order.position_id = position.identifier
    # Netting: the latest order's SL/TP replace the position's, zeros delete them.
    position.sl, position.tp = order.sl, order.tp
    _touch(server, position, order)
    return Decimal(0)


def _decrease(
    server: TradeServer, position: Position, order: Order, volume: Decimal, price: Decimal
) -> tuple[int, Decimal]:
    order.position_id = position.identifier
    closed = min(volume, position.volume)
    original = position.volume
    position.volume = closed
    profit = server.position_profit(position, price)
    position.volume = original - closed
    if position.volume > 0:
        _touch(server, position, order, magic=False)  # partial close: SL/TP unchanged
        return C.DEAL_ENTRY_OUT, profit
    del server.book.positions[position.ticket]
    remainder = volume - closed
    if remainder <= 0:
        return C.DEAL_ENTRY_OUT, profit
    # Netting reversal: the same position turns around with the order's SL/TP.
    position.type = C.POSITION_TYPE_BUY if order.type in BUY_TYPES else C.POSITION_TYPE_SELL
    position.volume = remainder
    position.price_open = price
    position.sl, position.tp = order.sl, order.tp
    _touch(server, position, order)
    server.book.positions[position.ticket] = position
    return C.DEAL_ENTRY_INOUT, profit


def _touch(server: TradeServer, position: Position, order: Order, *, magic: bool = True) -> None:
    position.time_update_msc = server.now_msc()
    if magic and server.account.netting_magic_follows_last_order:
        position.magic = order.magic
