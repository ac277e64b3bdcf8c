"""Translations between fks-exec and ccxt's unified API, with no I/O.

* :func:`build_request`: an :class:`~fks_exec.Order` and its market -> the arguments of
  ``create_order``, or the reason it cannot be sent (a denial, nothing sent);
* :func:`to_result`: a ccxt unified order structure -> :class:`~fks_exec.ExecutionResult`;
* :func:`classify`: a ccxt exception -> ``ErrorCode`` and whether the request may
  have reached the exchange.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt.async_support as ccxt

from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus, OrderType

__all__ = [
    "Denial",
    "MarketRules",
    "Request",
    "Verdict",
    "build_request",
    "classify",
    "to_decimal",
    "to_result",
    "to_tick",
]

_TIF = {"gtc": "GTC", "ioc": "IOC", "fok": "FOK"}


@dataclass(frozen=True)
class Request:
    """Arguments for ``exchange.create_order``."""

    symbol: str
    type: str
    side: str
    amount: float
    price: float | None
    params: dict[str, Any]


@dataclass(frozen=True)
class Denial:
    """Why an order is refused before anything is sent."""

    code: ErrorCode
    message: str


def to_decimal(value: Any) -> Decimal | None:
    """A ccxt number (float, int, numeric string or None) as an exact Decimal, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def market_features(exchange: Any, market: dict[str, Any]) -> dict[str, Any]:
    """The ``createOrder`` entry of ccxt's ``features`` for this market's type."""
    features = getattr(exchange, "features", None) or {}
    kind = market.get("type") or "spot"
    section = features.get(kind) or {}
    if kind != "spot" and isinstance(section, dict) and "createOrder" not in section:
        sub = "linear" if market.get("linear") else "inverse"
        section = section.get(sub) or {}
    create = section.get("createOrder") if isinstance(section, dict) else None
    return create if isinstance(create, dict) else {}


_TICK_SIZE = 4  # ccxt's precisionMode constant for "precision is a tick size"


@dataclass(frozen=True)
class MarketRules:
    """What build_request needs of a market, derived once from ccxt's market and features."""

    symbol: str
    spot: bool
    features: dict[str, Any]
    amount_tick: Decimal | None
    """Set when ccxt rounds this market by tick size with its generic method."""
    price_tick: Decimal | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    min_cost: Decimal | None
    contract_size: Decimal

    @classmethod
    def of(cls, exchange: Any, market: dict[str, Any]) -> MarketRules:
        """Derive the rules of ``market`` on ``exchange``."""
        from ccxt.async_support.base.exchange import Exchange

        kind = type(exchange)
        generic = (
            exchange.precisionMode == _TICK_SIZE
            and kind.amount_to_precision is Exchange.amount_to_precision
            and kind.price_to_precision is Exchange.price_to_precision
        )
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        return cls(
            symbol=market["symbol"],
            spot=bool(market.get("spot")),
            features=market_features(exchange, market),
            amount_tick=_positive(precision.get("amount")) if generic else None,
            price_tick=_positive(precision.get("price")) if generic else None,
            min_amount=to_decimal((limits.get("amount") or {}).get("min")),
            max_amount=to_decimal((limits.get("amount") or {}).get("max")) or None,
            min_cost=to_decimal((limits.get("cost") or {}).get("min")) or None,
            contract_size=to_decimal(market.get("contractSize")) or Decimal(1),
        )


def _positive(value: Any) -> Decimal | None:
    number = to_decimal(value)
    return number if number is not None and number > 0 else None


def to_tick(value: Decimal, tick: Decimal, *, truncate: bool) -> Decimal:
    """``value`` on a multiple of ``tick``: truncated, or rounded half away from zero.

    The same rule as ccxt's ``decimal_to_precision`` in TICK_SIZE mode (amounts are
    truncated, prices rounded), done on Decimals directly because ccxt's generic
    routine is slow; a property test holds the two equal.
    """
    missing = abs(value) % tick
    if not missing:
        return value
    sign = 1 if value > 0 else -1
    if truncate or missing < tick / 2:
        return value - sign * missing
    return value - sign * missing + sign * tick


def _amount(exchange: Any, rules: MarketRules, value: Decimal) -> Decimal:
    if rules.amount_tick is None:
        return Decimal(str(exchange.amount_to_precision(rules.symbol, str(value))))
    result = to_tick(value, rules.amount_tick, truncate=True)
    if result == 0:
        raise ccxt.InvalidOrder(
            f"{exchange.id} amount of {rules.symbol} must be greater than minimum amount "
            f"precision of {rules.amount_tick}"
        )
    return result


def _price(exchange: Any, rules: MarketRules, value: Decimal) -> Decimal:
    if rules.price_tick is None:
        return Decimal(str(exchange.price_to_precision(rules.symbol, str(value))))
    return to_tick(value, rules.price_tick, truncate=False)


def build_request(
    exchange: Any,
    rules: MarketRules,
    order: Order,
    reference_price: Decimal | None,
) -> Request | Denial:
    """Map ``order`` to ccxt's unified ``create_order`` arguments for a market.

    ``reference_price`` is a recent price used to check a market order's minimum cost
    (None skips that check). Returns a :class:`Denial` for what the exchange cannot
    do or would refuse (below minimum amount or cost, unsupported order feature);
    precision errors raised by ccxt are returned as denials too.
    """
    symbol = rules.symbol
    features = rules.features
    params: dict[str, Any] = {"clientOrderId": order.client_order_id}
    stop_kind = order.type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if stop_kind and features.get("triggerPrice") is False:
        return Denial(ErrorCode.NOT_SUPPORTED, f"{exchange.id} has no stop orders on {symbol}")
    if order.time_in_force.value == "day":
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{exchange.id} has no day orders through ccxt; use gtc and cancel at the close",
        )
    tif_support = features.get("timeInForce") or {}
    tif = _TIF[order.time_in_force.value]
    if order.type is not OrderType.MARKET:
        if tif != "GTC" and tif_support and not tif_support.get(tif):
            return Denial(ErrorCode.NOT_SUPPORTED, f"{exchange.id} does not take {tif} orders")
        params["timeInForce"] = tif
    if order.reduce_only:
        if rules.spot:
            return Denial(
                ErrorCode.NOT_SUPPORTED,
                f"reduce_only has no meaning on the spot market {symbol}; sell what you hold",
            )
        params["reduceOnly"] = True
    if order.has_bracket:
        attached = features.get("attachedStopLossTakeProfit") is not None
        can_sl = attached or bool(features.get("stopLoss"))
        can_tp = attached or bool(features.get("takeProfit"))
        if (order.stop_loss is not None and not can_sl) or (
            order.take_profit is not None and not can_tp
        ):
            return Denial(
                ErrorCode.NOT_SUPPORTED,
                f"{exchange.id} cannot attach a stop loss / take profit to an order on "
                f"{symbol} through ccxt; nothing was sent (no half bracket)",
            )
    try:
        amount = _amount(exchange, rules, order.quantity)
        price = _price(exchange, rules, order.price) if order.price is not None else None
        if order.stop_price is not None:
            params["triggerPrice"] = float(_price(exchange, rules, order.stop_price))
            if features.get("triggerDirection"):
                # A buy stop fires when the price rises to it, a sell stop when it falls.
                rising = order.side.value == "buy"
                params["triggerDirection"] = "ascending" if rising else "descending"
        if order.stop_loss is not None:
            params["stopLoss"] = {"triggerPrice": float(_price(exchange, rules, order.stop_loss))}
        if order.take_profit is not None:
            tp = _price(exchange, rules, order.take_profit)
            params["takeProfit"] = {"triggerPrice": float(tp)}
    except ccxt.BaseError as exc:  # e.g. amount below the precision step
        return Denial(ErrorCode.INVALID_ORDER, f"{order.quantity} {symbol}: {exc}")
    denial = _check_limits(rules, amount, price if price is not None else reference_price)
    if denial is not None:
        return denial
    kind = "limit" if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else "market"
    return Request(
        symbol=symbol,
        type=kind,
        side=order.side.value,
        amount=float(amount),
        price=float(price) if price is not None else None,
        params=params,
    )


def _check_limits(rules: MarketRules, amount: Decimal, price: Decimal | None) -> Denial | None:
    symbol = rules.symbol
    if amount <= 0:
        return Denial(ErrorCode.INVALID_ORDER, f"quantity rounds to 0 at {symbol}'s precision")
    if rules.min_amount is not None and amount < rules.min_amount:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"quantity {amount} is below {symbol}'s minimum {rules.min_amount}; nothing was sent",
        )
    if rules.max_amount is not None and amount > rules.max_amount:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"quantity {amount} is above {symbol}'s maximum {rules.max_amount}; nothing was sent",
        )
    if rules.min_cost is not None and price is not None:
        value = amount * price * rules.contract_size
        if value < rules.min_cost:
            return Denial(
                ErrorCode.INVALID_ORDER,
                f"order value {value} is below {symbol}'s minimum {rules.min_cost}; "
                "nothing was sent",
            )
    return None


# ------------------------------------------------------------------------ results

_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def to_result(
    raw: dict[str, Any],
    *,
    plugin: str,
    order: Order | None = None,
    symbol: str | None = None,
) -> ExecutionResult:
    """An :class:`ExecutionResult` from a ccxt unified order structure.

    Missing amounts fall back to ``order``; a fill is reported only when ccxt reports a
    filled amount, priced by ``average``, else ``cost / filled``, else ``price``.
    """
    filled = to_decimal(raw.get("filled")) or Decimal(0)
    quantity = to_decimal(raw.get("amount")) or (order.quantity if order else None)
    if quantity is not None and quantity <= 0:
        quantity = order.quantity if order else None
    if quantity is not None and filled > quantity:
        quantity = filled
    average = to_decimal(raw.get("average"))
    if filled and not average:
        cost = to_decimal(raw.get("cost"))
        average = cost / filled if cost else to_decimal(raw.get("price"))
    status = _status(raw.get("status"), filled, quantity)
    if status is OrderStatus.FILLED and filled == 0:
        status = OrderStatus.CANCELED  # closed with nothing filled: e.g. an expired IOC
    side = raw.get("side") or (order.side.value if order else None)
    return ExecutionResult(
        plugin=plugin,
        status=status,
        # The order we sent is the authority on its own id; venues echo it, some altered.
        client_order_id=order.client_order_id if order else raw.get("clientOrderId"),
        order_id=str(raw["id"]) if raw.get("id") is not None else None,
        symbol=raw.get("symbol") or symbol or (order.symbol if order else "?"),
        side=side,
        quantity=quantity,
        filled_quantity=filled,
        average_price=average if filled else None,
        error="rejected by the exchange" if status is OrderStatus.REJECTED else None,
        error_code=ErrorCode.REJECTED if status is OrderStatus.REJECTED else None,
        raw={k: raw[k] for k in ("info", "fee", "fees") if raw.get(k)},
    )


_RAW_KEYS = (
    "id",
    "clientOrderId",
    "status",
    "type",
    "side",
    "price",
    "amount",
    "filled",
    "remaining",
    "average",
    "cost",
    "fee",
    "fees",
    "timestamp",
    "info",
)


def _status(value: Any, filled: Decimal, quantity: Decimal | None) -> OrderStatus:
    mapped = _STATUS.get(str(value).lower()) if value is not None else None
    if mapped is not None:
        return mapped
    if filled > 0 and quantity is not None and filled >= quantity:
        return OrderStatus.FILLED
    if filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.ACCEPTED  # "open", or acknowledged without a status


# ------------------------------------------------------------------------ errors


@dataclass(frozen=True)
class Verdict:
    """What a ccxt exception means for an order request."""

    code: ErrorCode
    sent: bool | None
    """False: certainly not sent; True: the exchange answered; None: may have been sent."""


def classify(exc: BaseException) -> Verdict:
    """Map a ccxt exception to an ``ErrorCode`` and whether the request may have left."""
    if isinstance(exc, ccxt.ExchangeNotAvailable) and _never_connected(exc):
        return Verdict(ErrorCode.NETWORK, sent=False)
    table: list[tuple[type[BaseException], ErrorCode, bool | None]] = [
        (ccxt.RequestTimeout, ErrorCode.TIMEOUT, None),
        (ccxt.RateLimitExceeded, ErrorCode.RATE_LIMITED, True),
        (ccxt.DDoSProtection, ErrorCode.RATE_LIMITED, True),
        (ccxt.InvalidNonce, ErrorCode.REJECTED, True),
        (ccxt.NetworkError, ErrorCode.NETWORK, None),  # incl. ExchangeNotAvailable (503)
        (ccxt.BadResponse, ErrorCode.UNKNOWN, None),
        (ccxt.InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS, True),
        (ccxt.AuthenticationError, ErrorCode.AUTH, True),  # incl. PermissionDenied
        (ccxt.MarketClosed, ErrorCode.MARKET_CLOSED, True),
        (ccxt.NotSupported, ErrorCode.NOT_SUPPORTED, True),
        (ccxt.InvalidOrder, ErrorCode.INVALID_ORDER, True),
        (ccxt.BadRequest, ErrorCode.INVALID_ORDER, True),  # incl. BadSymbol
        (ccxt.ArgumentsRequired, ErrorCode.INVALID_ORDER, True),
        (ccxt.ExchangeError, ErrorCode.REJECTED, True),
    ]
    for kind, code, sent in table:
        if isinstance(exc, kind):
            return Verdict(code, sent)
    return Verdict(ErrorCode.UNKNOWN, None)


def _never_connected(exc: BaseException) -> bool:
    # ccxt chains the transport error: a failed connect (DNS, refused) never sent a byte.
    import aiohttp

    cause = exc.__cause__
    return isinstance(cause, (socket.gaierror, aiohttp.ClientConnectorError))
