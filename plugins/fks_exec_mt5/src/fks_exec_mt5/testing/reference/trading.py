"""TRADE_ACTION_DEAL and TRADE_ACTION_PENDING: the checks in order, then the execution.

Order of the checks is **inferred** (MetaQuotes does not publish it); each check's
retcode is the documented one (https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes):
symbol known (10013) -> quotes for it (10021 'No prices'; a symbol not selected in
Market Watch gets no quotes) -> symbol trade mode (10017, 10044 close only, 10042 long
only, 10043 short only) -> session (10018) -> order type for the action and
SYMBOL_ORDER_MODE (10013/10035) -> volume (10014) -> the named position (10036 closed,
10038 close volume, 10045 FIFO, 10029 its SL/TP inside the freeze level) -> fill
policy (10030) -> expiration (10022, pending) -> price (10015 pending; 10004 requote
beyond ``deviation`` on Instant/Request execution) -> stops (10016) -> pending orders
limit (10033) -> volume limit (10034) -> money (10019).

Market orders fill against the current tick: buy at Ask, sell at Bid. On Market and
Exchange execution the request's price is ignored ("The price is not set in case of
market orders for instruments of the 'Market Execution' type",
https://www.mql5.com/en/docs/python_metatrader5/mt5ordersend_py).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.execution import execute
from fks_exec_mt5.testing.reference.outcome import Outcome, rejected
from fks_exec_mt5.testing.reference.requests import ParsedRequest
from fks_exec_mt5.testing.reference.rules import (
    BUY_TYPES,
    MARKET_TYPES,
    PENDING_TYPES,
    STOP_LIMIT_TYPES,
    check_expiration,
    check_fill_policy,
    check_order_mode,
    check_pending_price,
    check_stops,
    check_volume,
    frozen_position,
)
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Order, Position

__all__ = ["fifo_blocks", "market_order", "pending_order"]

_INSTANT_LIKE = (C.SYMBOL_TRADE_EXECUTION_INSTANT, C.SYMBOL_TRADE_EXECUTION_REQUEST)


def market_order(server: TradeServer, req: ParsedRequest, *, act: bool, reason: int) -> Outcome:
    """Check (and with ``act``, execute) a TRADE_ACTION_DEAL request."""
    named = server.book.positions.get(req.position) if req.position else None
    if named is not None and not req.symbol:
        # "symbol ... Not required when modifying orders and closing positions"
        req = replace(req, symbol=named.symbol)
    spec, quote = server.specs.get(req.symbol), server.quotes.get(req.symbol)
    if spec is None or quote is None:
        return rejected(C.TRADE_RETCODE_INVALID)
    if not (quote.selected and quote.has_prices):
        return rejected(C.TRADE_RETCODE_PRICE_OFF)
    if req.type not in MARKET_TYPES:
        return rejected(C.TRADE_RETCODE_INVALID)
    buy = req.type == C.ORDER_TYPE_BUY
    target, retcode = _target_position(server, req, buy)
    if retcode:
        return rejected(retcode)
    reducing = _reducing_volume(server, req, target, buy)
    opening = req.volume - reducing
    for code in (
        _trade_mode(spec.trade_mode, buy, opening > 0),
        0 if quote.market_open else C.TRADE_RETCODE_MARKET_CLOSED,
        check_order_mode(
            spec, req.type, *((req.sl, req.tp) if opening else (Decimal(0), Decimal(0)))
        ),
        check_volume(spec, req.volume),
        _close_volume(server, target, req.volume),
        _frozen_close(server, target, reducing),
        check_fill_policy(spec, req.type, req.type_filling),
    ):
        if code:
            return rejected(code)
    price = quote.ask if buy else quote.bid
    if spec.execution_mode in _INSTANT_LIKE:
        if req.price <= 0:
            return rejected(C.TRADE_RETCODE_INVALID_PRICE)
        if abs(req.price - price) > req.deviation * spec.point:
            return rejected(C.TRADE_RETCODE_REQUOTE, quote.bid, quote.ask)
    sl, tp = (req.sl, req.tp) if opening > 0 else (Decimal(0), Decimal(0))
    reference = quote.bid if buy else quote.ask
    for code in (
        check_stops(spec, req.type, reference, sl, tp),
        _volume_limit(server, req.symbol, buy, opening),
        _money(server, req.symbol, opening, price),
    ):
        if code:
            return rejected(code)
    fill = req.volume if spec.liquidity is None else min(req.volume, spec.liquidity)
    if fill < req.volume and req.type_filling == C.ORDER_FILLING_FOK:
        return rejected(C.TRADE_RETCODE_REJECT)  # inferred: FOK that cannot fill whole
    margin = server.margin_for(req.symbol, opening, price)
    if not act:
        return Outcome(retcode=0, margin=margin, bid=quote.bid, ask=quote.ask)
    order = _new_order(server, req, reason, price, state=C.ORDER_STATE_FILLED)
    order.position_ticket = target.ticket if target else 0
    deal = execute(server, order, fill, price, position_ticket=req.position)
    order.volume_current = req.volume - fill
    if fill < req.volume:
        order.state = C.ORDER_STATE_CANCELED  # inferred: IOC/Return remainder canceled
    order.time_done_msc = server.now_msc()
    server.book.history_orders[order.ticket] = order
    server.count_arrival(req.comment)
    retcode = C.TRADE_RETCODE_DONE if fill == req.volume else C.TRADE_RETCODE_DONE_PARTIAL
    return Outcome(
        retcode=retcode,
        deal=deal.ticket,
        order=order.ticket,
        volume=fill,
        price=price,
        bid=quote.bid,
        ask=quote.ask,
        margin=margin,
        executed=True,
    )


def pending_order(server: TradeServer, req: ParsedRequest, *, act: bool, reason: int) -> Outcome:
    """Check (and with ``act``, place) a TRADE_ACTION_PENDING request: 10009, deal 0."""
    spec, quote = server.specs.get(req.symbol), server.quotes.get(req.symbol)
    if spec is None or quote is None:
        return rejected(C.TRADE_RETCODE_INVALID)
    if not (quote.selected and quote.has_prices):
        return rejected(C.TRADE_RETCODE_PRICE_OFF)
    if req.type not in PENDING_TYPES:
        return rejected(C.TRADE_RETCODE_INVALID)
    buy = req.type in BUY_TYPES
    reference = req.stoplimit if req.type in STOP_LIMIT_TYPES else req.price
    limits = server.account.limit_orders
    for code in (
        _trade_mode(spec.trade_mode, buy, opening=True),
        0 if quote.market_open else C.TRADE_RETCODE_MARKET_CLOSED,
        check_order_mode(spec, req.type, req.sl, req.tp),
        check_volume(spec, req.volume),
        check_fill_policy(spec, req.type, req.type_filling),
        check_expiration(spec, req.type_time, req.expiration, server.now_s()),
        check_pending_price(spec, req.type, req.price, req.stoplimit, quote.bid, quote.ask),
        check_stops(spec, req.type, reference, req.sl, req.tp),
        C.TRADE_RETCODE_LIMIT_ORDERS if limits and len(server.book.orders) >= limits else 0,
        _volume_limit(server, req.symbol, buy, req.volume),
    ):
        if code:
            return rejected(code)
    if not act:
        return Outcome(retcode=0, bid=quote.bid, ask=quote.ask)
    order = _new_order(server, req, reason, req.price, state=C.ORDER_STATE_PLACED)
    server.book.orders[order.ticket] = order
    server.count_arrival(req.comment)
    return Outcome(
        retcode=server.account.pending_answer_retcode,
        order=order.ticket,
        volume=req.volume,
        bid=quote.bid,
        ask=quote.ask,
        comment=req.comment,
        executed=True,
    )


def fifo_blocks(
    server: TradeServer, position: Position, *, closing: frozenset[int] = frozenset()
) -> bool:
    """Whether ACCOUNT_FIFO_CLOSE forbids closing ``position`` now (an older one is open).

    ``closing`` names positions closed together with it (a close-by's pair): they do not
    count as older ones left open."""
    if not server.account.fifo_close:
        return False
    same_direction = server.account.fifo_scope == "symbol_and_direction"
    for other in server.book.positions_of(position.symbol):
        if other.ticket == position.ticket:
            return False
        if other.ticket in closing:
            continue
        if not same_direction or other.type == position.type:
            return True
    return False


def _target_position(
    server: TradeServer, req: ParsedRequest, buy: bool
) -> tuple[Position | None, int]:
    positions = server.book.positions
    if server.account.is_hedging:
        if not req.position:
            return None, 0
        target = positions.get(req.position)
        if target is None or target.symbol != req.symbol:
            return None, C.TRADE_RETCODE_POSITION_CLOSED
        if (target.type == C.POSITION_TYPE_BUY) == buy:
            return None, C.TRADE_RETCODE_INVALID  # inferred: a "close" in the same direction
        if fifo_blocks(server, target):
            return None, C.TRADE_RETCODE_FIFO_CLOSE
        return target, 0
    existing = server.book.positions_of(req.symbol)
    target = existing[0] if existing else None
    if req.position and (target is None or target.ticket != req.position):
        return None, C.TRADE_RETCODE_POSITION_CLOSED
    return target, 0


def _reducing_volume(
    server: TradeServer, req: ParsedRequest, target: Position | None, buy: bool
) -> Decimal:
    if target is None or (target.type == C.POSITION_TYPE_BUY) == buy:
        return Decimal(0)
    if server.account.is_hedging:
        return req.volume
    return min(req.volume, target.volume)


def _close_volume(server: TradeServer, target: Position | None, volume: Decimal) -> int:
    if server.account.is_hedging and target is not None and volume > target.volume:
        return C.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    return 0


def _frozen_close(server: TradeServer, target: Position | None, reducing: Decimal) -> int:
    if target is None or reducing <= 0 or not server.account.freeze_blocks_close:
        return 0
    quote = server.quotes[target.symbol]
    spec = server.specs[target.symbol]
    frozen = frozen_position(spec, target.type, target.sl, target.tp, quote.bid, quote.ask)
    return C.TRADE_RETCODE_FROZEN if frozen else 0


def _trade_mode(mode: int, buy: bool, opening: bool) -> int:
    if mode == C.SYMBOL_TRADE_MODE_DISABLED:
        return C.TRADE_RETCODE_TRADE_DISABLED
    if not opening:
        return 0
    if mode == C.SYMBOL_TRADE_MODE_CLOSEONLY:
        return C.TRADE_RETCODE_CLOSE_ONLY
    if mode == C.SYMBOL_TRADE_MODE_LONGONLY and not buy:
        return C.TRADE_RETCODE_LONG_ONLY
    if mode == C.SYMBOL_TRADE_MODE_SHORTONLY and buy:
        return C.TRADE_RETCODE_SHORT_ONLY
    return 0


def _volume_limit(server: TradeServer, symbol: str, buy: bool, adding: Decimal) -> int:
    limit = server.specs[symbol].volume_limit
    if limit <= 0 or adding <= 0:
        return 0
    side = C.POSITION_TYPE_BUY if buy else C.POSITION_TYPE_SELL
    held = sum((p.volume for p in server.book.positions_of(symbol) if p.type == side), Decimal(0))
    pending = sum(
        (o.volume_current for o in server.book.pending_of(symbol) if (o.type in BUY_TYPES) == buy),
        Decimal(0),
    )
    return C.TRADE_RETCODE_LIMIT_VOLUME if held + pending + adding > limit else 0


def _money(server: TradeServer, symbol: str, opening: Decimal, price: Decimal) -> int:
    if opening <= 0:
        return 0
    needed = server.margin_for(symbol, opening, price)
    return C.TRADE_RETCODE_NO_MONEY if needed > server.free_margin() else 0


def _new_order(
    server: TradeServer, req: ParsedRequest, reason: int, price: Decimal, state: int
) -> Order:
    now = server.now_msc()
    return Order(
        ticket=server.book.new_ticket(),
        symbol=req.symbol,
        type=req.type,
        state=state,
        volume_initial=req.volume,
        volume_current=req.volume,
        price_open=price,
        price_stoplimit=req.stoplimit,
        sl=req.sl,
        tp=req.tp,
        type_time=req.type_time,
        type_filling=req.type_filling,
        time_expiration=req.expiration,
        magic=req.magic,
        comment=req.comment,
        reason=reason,
        time_setup_msc=now,
    )
