"""Translations between fks-exec and ccxt's unified API, with no I/O.

* :func:`build_request`: an :class:`~fks_exec.Order` and its market's rules -> the
  arguments of ``create_order``, or the reason it cannot be sent (a :class:`Denial`);
* :func:`to_result`: a ccxt unified order structure -> :class:`~fks_exec.ExecutionResult`.

The error map is in :mod:`fks_exec_ccxt.errors`, the derived rules in
:mod:`fks_exec_ccxt.rules`, rounding in :mod:`fks_exec_ccxt.precision`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.kit import BadBrokerNumber, broker_decimal
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from fks_exec_ccxt.client_ids import venue_client_id
from fks_exec_ccxt.numbers import to_decimal
from fks_exec_ccxt.precision import PrecisionError, amount_of, priced, to_tick
from fks_exec_ccxt.rules import MarketRules

__all__ = [
    "CONTROLLED_PARAMS",
    "Denial",
    "Request",
    "build_request",
    "to_decimal",
    "to_result",
    "to_tick",
]

CONTROLLED_PARAMS = frozenset(
    {
        # the client id, in every spelling ccxt reads
        "clientOrderId", "clOrdId", "clientOid", "client_order_id", "client-order-id",
        "newClientOrderId", "orderLinkId", "text", "cloid", "client_id", "label",
        "externalOid", "cl_ord_id", "userref", "algo_client_order_id",
        # position reduction
        "reduceOnly", "reduce_only", "closePosition", "close", "closeFraction",
        # triggers and their direction
        "triggerPrice", "stopPrice", "stop_price", "stopLossPrice", "takeProfitPrice",
        "stopLoss", "takeProfit", "triggerDirection", "stop_direction", "triggerType",
        "trigger_type", "trailingPercent", "trailingAmount", "trailingPrice",
        "trailingTriggerPrice", "trailingLimitAmount",
        # what the quantity means, and how long the order lives
        "timeInForce", "cost", "createMarketBuyOrderRequiresPrice", "tgtCcy",
        "quoteOrderQty",
    }
)  # fmt: skip
"""``Order.params`` keys refused: the plugin sets these from the Order's own fields."""


class Request(NamedTuple):
    """Arguments for ``exchange.create_order``, and the client id in the venue's form.

    A named tuple (immutable, built once per order at C speed)."""

    symbol: str
    type: str
    side: str
    amount: float | int
    price: float | int | None
    params: dict[str, Any]
    venue_client_id: str
    #: For a market buy sent as a quote cost: that cost (amount x price), the most the
    #: fill may spend; its base fill moves with the price and may exceed ``amount``.
    quote_cost: Decimal | None = None


@dataclass(frozen=True)
class Denial:
    """Why an order is refused before anything is sent."""

    code: ErrorCode
    message: str


def _refusal(rules: MarketRules, order: Order) -> Denial | None:
    venue, symbol = rules.exchange_id, rules.symbol
    overrides = sorted(CONTROLLED_PARAMS.intersection(order.params)) if order.params else None
    if overrides:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"Order.params may not set {', '.join(overrides)}: the plugin sets them from the "
            "order's own fields (client_order_id, reduce_only, stop_price, stop_loss, "
            "take_profit, time_in_force, quantity)",
        )
    tif_kind = order.time_in_force
    if tif_kind is TimeInForce.DAY:
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{venue} has no day orders through ccxt; use gtc and cancel at the close",
        )
    tif = _TIF_TEXT[tif_kind]
    if order.type is not OrderType.MARKET and tif not in rules.time_in_force:
        return Denial(ErrorCode.NOT_SUPPORTED, f"{venue} takes no {tif} orders on {symbol} (ccxt)")
    if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and rules.stop.param is None:
        return Denial(ErrorCode.NOT_SUPPORTED, f"{rules.stop.refused} ({symbol})")
    if order.reduce_only and rules.reduce_only_refused:
        return Denial(ErrorCode.NOT_SUPPORTED, f"{venue} {symbol}: {rules.reduce_only_refused}")
    if order.has_bracket and rules.bracket_refused:
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{rules.bracket_refused} ({symbol}); nothing was sent (no half bracket)",
        )
    return None


def build_request(
    exchange: Any,
    rules: MarketRules,
    order: Order,
    reference_price: Decimal | None,
) -> Request | Denial:
    """Map ``order`` to ccxt's unified ``create_order`` arguments for one market.

    ``reference_price`` is a recent price on the order's side, used to value a market
    order against the minimum cost and, where ccxt prices market buys in the quote
    currency, to turn the base quantity into that cost (None skips both). Returns a
    :class:`Denial` for what the venue cannot do, what ccxt would misexpress, and what
    the market's precision or limits refuse.
    """
    refusal = _refusal(rules, order)
    if refusal is not None:
        return refusal
    client_id = venue_client_id(order.client_order_id, rules.client_id)
    params: dict[str, Any] = {rules.client_id.param: client_id}
    if order.type is not OrderType.MARKET and order.time_in_force is not TimeInForce.GTC:
        params["timeInForce"] = _TIF_TEXT[order.time_in_force]
    if order.reduce_only:
        params["reduceOnly"] = True
    try:
        amount = amount_of(exchange, rules, order.quantity)
        prices = priced(exchange, rules, order)
    except PrecisionError as exc:
        return Denial(ErrorCode.INVALID_ORDER, f"{rules.exchange_id}: {exc}")
    except Exception as exc:  # ccxt's own precision code refusing the value
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"{rules.exchange_id} (ccxt) cannot put {order.quantity} / the prices on "
            f"{rules.symbol}'s precision: {type(exc).__name__}: {exc}",
        )
    if prices.stop_price is not None and rules.stop.param is not None:
        params[rules.stop.param] = _number(prices.stop_price)
        if rules.stop.direction is not None:
            key, rising, falling = rules.stop.direction
            params[key] = rising if order.side is OrderSide.BUY else falling
    if prices.stop_loss is not None:
        params["stopLoss"] = {"triggerPrice": _number(prices.stop_loss)}
    if prices.take_profit is not None:
        params["takeProfit"] = {"triggerPrice": _number(prices.take_profit)}
    price = prices.price
    value_price = price if price is not None else reference_price
    denial = _check_limits(rules, amount, value_price)
    if denial is not None:
        return denial
    kind = "limit" if order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else "market"
    if kind == "market" and order.side is OrderSide.BUY and rules.market_buy_by_cost:
        if reference_price is None:
            return Denial(
                ErrorCode.INVALID_ORDER,
                f"{rules.exchange_id} prices market buys in {rules.symbol}'s quote currency "
                "and no ask was available to convert the quantity",
            )
        price = reference_price  # ccxt sends amount x price as the quote cost
        quote_cost: Decimal | None = amount * reference_price
    else:
        quote_cost = None
    if order.params:
        params.update(order.params)
    return Request(
        rules.symbol,
        kind,
        _SIDE_TEXT[order.side],
        _number(amount),
        _number(price) if price is not None else None,
        params,
        client_id,
        quote_cost,
    )


_TIF_TEXT = {tif: tif.value.upper() for tif in TimeInForce}
_SIDE_TEXT = {side: side.value for side in OrderSide}


def _number(value: Decimal) -> float | int:
    # ccxt takes Python numbers; an integral one goes as an int, as ccxt's own cases do
    # (some venues' JSON bodies carry the number itself: mexc ``vol``, gate ``size``).
    return int(value) if value == value.to_integral_value() else float(value)


def _check_limits(rules: MarketRules, amount: Decimal, price: Decimal | None) -> Denial | None:
    symbol = rules.symbol
    if rules.min_amount is not None and amount < rules.min_amount:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"quantity {amount} is below {symbol}'s minimum {rules.min_amount} {rules.unit}",
        )
    if rules.max_amount is not None and amount > rules.max_amount:
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"quantity {amount} is above {symbol}'s maximum {rules.max_amount} {rules.unit}",
        )
    if rules.min_cost is not None and price is not None:
        value = amount * price * rules.contract_size
        if value < rules.min_cost:
            return Denial(
                ErrorCode.INVALID_ORDER,
                f"order value {value} is below {symbol}'s minimum {rules.min_cost}",
            )
    return None


# ------------------------------------------------------------------------ results

_SIDES: dict[Any, OrderSide] = {"buy": OrderSide.BUY, "sell": OrderSide.SELL}
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
    venue: str = "the exchange",
    quote_cost: Decimal | None = None,
) -> ExecutionResult:
    """An :class:`ExecutionResult` from a ccxt unified order structure.

    Missing amounts fall back to ``order``; a fill is reported only when ccxt reports a
    filled amount, priced by ``average``, else ``cost / filled``, else ``price``. Raises
    :class:`~fks_exec.kit.BadBrokerNumber` (naming ``venue`` and the field) for a number
    no real order has: negative, non-finite, 1e30 or more, or a fill above the order's
    amount; such an answer is not a definite one (report the order unknown).

    With ``quote_cost`` (a market buy sent as a quote cost) the base fill may exceed the
    amount, since it moves with the price; the fill is then bounded by what it spent:
    filled x average at most ``quote_cost`` plus 1% (fees and the venue's rounding), and
    the result's quantity is at least what filled.
    """
    filled = _number_of(raw, "filled", venue) or Decimal(0)
    quantity = _number_of(raw, "amount", venue) or (order.quantity if order else None)
    if quantity is not None and filled > quantity and quote_cost is None:
        raise BadBrokerNumber(f"{venue}: filled {filled} is above the order's amount {quantity}")
    average = _number_of(raw, "average", venue)
    if filled and not average:
        cost = _number_of(raw, "cost", venue)
        average = cost / filled if cost else _number_of(raw, "price", venue)
    if quote_cost is not None and filled:
        if average is None:
            raise BadBrokerNumber(f"{venue}: a fill of {filled} bought by cost without a price")
        if filled * average > quote_cost * _COST_SLACK:
            raise BadBrokerNumber(
                f"{venue}: filled {filled} at {average} spends more than the {quote_cost} sent"
            )
        quantity = filled if quantity is None or filled > quantity else quantity
    status = _status(raw.get("status"), filled, quantity)
    if status is OrderStatus.FILLED and filled == 0:
        status = OrderStatus.CANCELED  # closed with nothing filled: e.g. an expired IOC
    side = raw.get("side") or (order.side if order else None)
    # Values in their final types take ExecutionResult.build's cheap checked path; any
    # other (an odd side text from a venue) is validated as the constructor does.
    return ExecutionResult.build(
        plugin=plugin,
        status=status,
        # The order we sent is the authority on its own id; venues echo it, some altered.
        client_order_id=order.client_order_id if order else raw.get("clientOrderId"),
        order_id=str(raw["id"]) if raw.get("id") is not None else None,
        symbol=raw.get("symbol") or symbol or (order.symbol if order else "?"),
        side=_SIDES.get(side, side),
        quantity=quantity,
        filled_quantity=filled,
        average_price=average if filled and average else None,
        error="rejected by the exchange" if status is OrderStatus.REJECTED else None,
        error_code=ErrorCode.REJECTED if status is OrderStatus.REJECTED else None,
        raw={k: raw[k] for k in ("info", "fee", "fees") if raw.get(k)},
    )


_COST_SLACK = Decimal("1.01")


def _number_of(raw: dict[str, Any], key: str, venue: str) -> Decimal | None:
    return broker_decimal(raw.get(key), broker=venue, field=key)


def _status(value: Any, filled: Decimal, quantity: Decimal | None) -> OrderStatus:
    mapped = _STATUS.get(str(value).lower()) if value is not None else None
    if mapped is not None:
        return mapped
    if filled > 0 and quantity is not None and filled >= quantity:
        return OrderStatus.FILLED
    if filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.ACCEPTED  # "open", or acknowledged without a status
