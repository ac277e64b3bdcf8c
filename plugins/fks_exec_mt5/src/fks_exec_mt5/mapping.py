"""Translations between fks-exec and the MetaTrader5 package, with no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType
from fks_exec_mt5 import constants as c

__all__ = [
    "RETCODES",
    "Denial",
    "SymbolRules",
    "build_request",
    "choose_filling",
    "comment_for",
    "from_history",
    "from_send",
    "to_decimal",
]

COMMENT_LIMIT = 31


@dataclass(frozen=True)
class Denial:
    """Why an order is refused before anything is sent."""

    code: ErrorCode
    message: str


def to_decimal(value: Any) -> Decimal:
    """A number from the terminal (a double) as the Decimal of its shortest text."""
    return Decimal(repr(float(value)))


def comment_for(client_order_id: str) -> str:
    """The order comment that carries ``client_order_id`` (MT5 allows 31 ASCII chars).

    Ids that fit are used as they are; longer ones (the default ids have 32
    characters) become ``h`` + 30 hex characters of their SHA-256, the same every time,
    so the order can be found again after a restart.
    """
    if len(client_order_id) <= COMMENT_LIMIT and client_order_id.isascii():
        return client_order_id
    return "h" + hashlib.sha256(client_order_id.encode()).hexdigest()[: COMMENT_LIMIT - 1]


# retcode -> (status, error code); None status means "a success, see from_send"
RETCODES: dict[int, tuple[OrderStatus, ErrorCode | None]] = {
    c.TRADE_RETCODE_DONE: (OrderStatus.FILLED, None),
    c.TRADE_RETCODE_PLACED: (OrderStatus.ACCEPTED, None),
    c.TRADE_RETCODE_DONE_PARTIAL: (OrderStatus.PARTIALLY_FILLED, None),
    c.TRADE_RETCODE_TIMEOUT: (OrderStatus.UNKNOWN, ErrorCode.TIMEOUT),
    c.TRADE_RETCODE_REQUOTE: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_PRICE_CHANGED: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_PRICE_OFF: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_REJECT: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_CANCEL: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_ERROR: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_INVALID: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_INVALID_VOLUME: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_INVALID_PRICE: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_INVALID_STOPS: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_TRADE_DISABLED: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_MARKET_CLOSED: (OrderStatus.REJECTED, ErrorCode.MARKET_CLOSED),
    c.TRADE_RETCODE_NO_MONEY: (OrderStatus.REJECTED, ErrorCode.INSUFFICIENT_FUNDS),
    c.TRADE_RETCODE_INVALID_EXPIRATION: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_ORDER_CHANGED: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_TOO_MANY_REQUESTS: (OrderStatus.REJECTED, ErrorCode.RATE_LIMITED),
    c.TRADE_RETCODE_NO_CHANGES: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_SERVER_DISABLES_AT: (OrderStatus.REJECTED, ErrorCode.AUTH),
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: (OrderStatus.REJECTED, ErrorCode.AUTH),
    c.TRADE_RETCODE_LOCKED: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_FROZEN: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_INVALID_FILL: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_CONNECTION: (OrderStatus.REJECTED, ErrorCode.NETWORK),
    c.TRADE_RETCODE_ONLY_REAL: (OrderStatus.REJECTED, ErrorCode.NOT_SUPPORTED),
    c.TRADE_RETCODE_LIMIT_ORDERS: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_LIMIT_VOLUME: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_INVALID_ORDER: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_POSITION_CLOSED: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: (OrderStatus.REJECTED, ErrorCode.INVALID_ORDER),
    c.TRADE_RETCODE_CLOSE_ORDER_EXIST: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_LIMIT_POSITIONS: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_REJECT_CANCEL: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_LONG_ONLY: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_SHORT_ONLY: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_CLOSE_ONLY: (OrderStatus.REJECTED, ErrorCode.REJECTED),
    c.TRADE_RETCODE_FIFO_CLOSE: (OrderStatus.REJECTED, ErrorCode.REJECTED),
}
RETRY_WITH_FRESH_PRICE = frozenset(
    {c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_OFF, c.TRADE_RETCODE_PRICE_CHANGED}
)
HINTS = {
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "press 'Algo Trading' in the terminal's toolbar",
    c.TRADE_RETCODE_SERVER_DISABLES_AT: "the broker has disabled algorithmic trading",
    c.TRADE_RETCODE_CONNECTION: "the terminal is not connected to the trade server",
}


def choose_filling(symbol: Any, order: Order) -> int | Denial:
    """The filling type for a market order that the symbol accepts (never 10030).

    ``fok`` and ``ioc`` orders need that mode; ``gtc``/``day`` take FOK, else IOC, else
    RETURN (exchange execution only).
    """
    flags = int(symbol.filling_mode)
    fok, ioc = flags & c.SYMBOL_FILLING_FOK, flags & c.SYMBOL_FILLING_IOC
    exchange = int(symbol.trade_exemode) == c.SYMBOL_TRADE_EXECUTION_EXCHANGE
    tif = order.time_in_force.value
    if tif == "fok":
        return (
            c.ORDER_FILLING_FOK
            if fok
            else Denial(ErrorCode.NOT_SUPPORTED, f"{symbol.name} does not take fill-or-kill orders")
        )
    if tif == "ioc":
        return (
            c.ORDER_FILLING_IOC
            if ioc
            else Denial(
                ErrorCode.NOT_SUPPORTED, f"{symbol.name} does not take immediate-or-cancel orders"
            )
        )
    if fok:
        return c.ORDER_FILLING_FOK
    if ioc:
        return c.ORDER_FILLING_IOC
    if exchange:
        return c.ORDER_FILLING_RETURN
    return Denial(
        ErrorCode.NOT_SUPPORTED, f"{symbol.name} offers no filling mode for market orders"
    )


@dataclass(frozen=True)
class SymbolRules:
    """A symbol's specification with its numbers as Decimals, derived once."""

    info: Any
    """The SymbolInfo it was derived from."""
    tick: Decimal
    digits: int
    step: Decimal
    volume_min: Decimal
    volume_max: Decimal

    @classmethod
    def of(cls, info: Any) -> SymbolRules:
        """Derive the rules from a SymbolInfo."""
        return cls(
            info=info,
            tick=to_decimal(info.trade_tick_size) or to_decimal(info.point),
            digits=int(info.digits),
            step=to_decimal(info.volume_step),
            volume_min=to_decimal(info.volume_min),
            volume_max=to_decimal(info.volume_max),
        )


def _to_tick(value: Decimal, rules: SymbolRules) -> float:
    tick = rules.tick
    rounded = (value / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick
    return float(round(rounded, rules.digits))


def _volume(quantity: Decimal, rules: SymbolRules) -> Decimal | Denial:
    step, name = rules.step, rules.info.name
    volume = (quantity / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
    low, high = rules.volume_min, rules.volume_max
    if volume < low or volume <= 0:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"{quantity} lots of {name} is below the minimum {low} (step {step}); nothing was sent",
        )
    if high and volume > high:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"{volume} lots of {name} is above the maximum {high}; nothing was sent",
        )
    return volume.normalize()


_PENDING = {
    (OrderType.LIMIT, "buy"): c.ORDER_TYPE_BUY_LIMIT,
    (OrderType.LIMIT, "sell"): c.ORDER_TYPE_SELL_LIMIT,
    (OrderType.STOP, "buy"): c.ORDER_TYPE_BUY_STOP,
    (OrderType.STOP, "sell"): c.ORDER_TYPE_SELL_STOP,
    (OrderType.STOP_LIMIT, "buy"): c.ORDER_TYPE_BUY_STOP_LIMIT,
    (OrderType.STOP_LIMIT, "sell"): c.ORDER_TYPE_SELL_STOP_LIMIT,
}


def build_request(
    order: Order,
    symbol: Any,
    tick: Any,
    *,
    deviation: int,
    magic: int,
    position: int | None = None,
) -> dict[str, Any] | Denial:
    """The ``order_send`` request for ``order`` on ``symbol`` at ``tick``.

    ``symbol`` is a SymbolInfo or its :class:`SymbolRules`. Volume is rounded down to
    ``volume_step`` and checked against the limits; prices are rounded to
    ``trade_tick_size``. ``position`` closes (part of) that position.
    """
    rules = symbol if isinstance(symbol, SymbolRules) else SymbolRules.of(symbol)
    symbol = rules.info
    volume = _volume(order.quantity, rules)
    if isinstance(volume, Denial):
        return volume
    request: dict[str, Any] = {
        "symbol": symbol.name,
        "volume": float(volume),
        "magic": magic,
        "comment": comment_for(order.client_order_id),
    }
    if order.stop_loss is not None:
        request["sl"] = _to_tick(order.stop_loss, rules)
    if order.take_profit is not None:
        request["tp"] = _to_tick(order.take_profit, rules)
    side = order.side.value
    if order.type is OrderType.MARKET:
        filling = choose_filling(symbol, order)
        if isinstance(filling, Denial):
            return filling
        request.update(
            action=c.TRADE_ACTION_DEAL,
            type=c.ORDER_TYPE_BUY if side == "buy" else c.ORDER_TYPE_SELL,
            price=float(tick.ask if side == "buy" else tick.bid),
            deviation=deviation,
            type_filling=filling,
            type_time=c.ORDER_TIME_GTC,
        )
        if position is not None:
            request["position"] = position
        return request
    tif = order.time_in_force.value
    if tif in ("ioc", "fok"):
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"MT5 pending orders take gtc or day, not {tif}; nothing was sent",
        )
    trigger = order.stop_price if order.type is not OrderType.LIMIT else order.price
    assert trigger is not None
    request.update(
        action=c.TRADE_ACTION_PENDING,
        type=_PENDING[(order.type, side)],
        price=_to_tick(trigger, rules),
        type_filling=c.ORDER_FILLING_RETURN,
        type_time=c.ORDER_TIME_DAY if tif == "day" else c.ORDER_TIME_GTC,
    )
    if order.type is OrderType.STOP_LIMIT:
        assert order.price is not None
        request["stoplimit"] = _to_tick(order.price, rules)
    return request


def from_send(sent: Any, order: Order, *, plugin: str) -> ExecutionResult:
    """An :class:`ExecutionResult` from ``order_send``'s answer (an OrderSendResult)."""
    status, code = RETCODES.get(int(sent.retcode), (OrderStatus.REJECTED, ErrorCode.REJECTED))
    requested = to_decimal(sent.request.volume) if sent.request is not None else order.quantity
    quantity = requested if requested > 0 else order.quantity
    fields: dict[str, Any] = {
        "order_id": str(sent.order) if sent.order else None,
        "quantity": quantity,
        "raw": _raw(sent),
    }
    if status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        filled = min(to_decimal(sent.volume), quantity)
        fields.update(filled_quantity=filled, average_price=to_decimal(sent.price))
        if status is OrderStatus.PARTIALLY_FILLED and filled >= quantity:
            status = OrderStatus.FILLED
    if code is not None:
        hint = HINTS.get(int(sent.retcode))
        fields.update(
            error_code=code, error=f"{sent.retcode} {sent.comment}" + (f": {hint}" if hint else "")
        )
    return ExecutionResult.for_order(order, plugin=plugin, status=status, **fields)


_STATES = {
    c.ORDER_STATE_STARTED: OrderStatus.PENDING,
    c.ORDER_STATE_REQUEST_ADD: OrderStatus.PENDING,
    c.ORDER_STATE_PLACED: OrderStatus.ACCEPTED,
    c.ORDER_STATE_REQUEST_MODIFY: OrderStatus.ACCEPTED,
    c.ORDER_STATE_REQUEST_CANCEL: OrderStatus.ACCEPTED,
    c.ORDER_STATE_PARTIAL: OrderStatus.PARTIALLY_FILLED,
    c.ORDER_STATE_FILLED: OrderStatus.FILLED,
    c.ORDER_STATE_CANCELED: OrderStatus.CANCELED,
    c.ORDER_STATE_REJECTED: OrderStatus.REJECTED,
    c.ORDER_STATE_EXPIRED: OrderStatus.EXPIRED,
}


def from_history(
    record: Any, deals: list[Any], *, plugin: str, client_order_id: str | None
) -> ExecutionResult:
    """An :class:`ExecutionResult` from a TradeOrder and its deals (fills)."""
    quantity = to_decimal(record.volume_initial)
    filled = sum((to_decimal(d.volume) for d in deals), Decimal(0))
    if not filled:
        filled = quantity - to_decimal(record.volume_current)
    status = _STATES.get(int(record.state), OrderStatus.ACCEPTED)
    average = None
    if filled > 0:
        if deals:
            value = sum((to_decimal(d.volume) * to_decimal(d.price) for d in deals), Decimal(0))
            average = value / filled
        else:
            average = to_decimal(record.price_open)
        if status is OrderStatus.ACCEPTED:
            status = OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and filled == 0:
        status = OrderStatus.CANCELED
    if status is OrderStatus.PARTIALLY_FILLED and filled >= quantity:
        status = OrderStatus.FILLED
    kind = int(record.type)
    buy = kind in (
        c.ORDER_TYPE_BUY,
        c.ORDER_TYPE_BUY_LIMIT,
        c.ORDER_TYPE_BUY_STOP,
        c.ORDER_TYPE_BUY_STOP_LIMIT,
    )
    return ExecutionResult(
        plugin=plugin,
        status=status,
        client_order_id=client_order_id,
        order_id=str(record.ticket),
        symbol=record.symbol,
        side="buy" if buy else "sell",
        quantity=quantity,
        filled_quantity=min(filled, quantity),
        average_price=average,
        raw={"order": record._asdict(), "deals": [d._asdict() for d in deals]},
    )


def _raw(sent: Any) -> dict[str, Any]:
    # The server's answer; its echo of our own request is left out.
    return {k: getattr(sent, k) for k in _SENT_FIELDS}


_SENT_FIELDS = (
    "retcode",
    "deal",
    "order",
    "volume",
    "price",
    "bid",
    "ask",
    "comment",
    "request_id",
    "retcode_external",
)
