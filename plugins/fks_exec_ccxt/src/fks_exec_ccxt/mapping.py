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
from fks_exec_ccxt.limits import limit_refusal
from fks_exec_ccxt.market_tif import market_tif_refusal
from fks_exec_ccxt.numbers import to_decimal
from fks_exec_ccxt.okx_algo import without_market_price
from fks_exec_ccxt.precision import (
    PrecisionError,
    Priced,
    amount_of,
    price_of,
    priced,
    to_tick,
    wire_number,
)
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
        "externalOid", "cl_ord_id", "userref", "algo_client_order_id", "client_oid",
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


_MARKET, _LIMIT, _STOP, _STOP_LIMIT = (
    OrderType.MARKET,
    OrderType.LIMIT,
    OrderType.STOP,
    OrderType.STOP_LIMIT,
)
_BUY, _GTC, _DAY = OrderSide.BUY, TimeInForce.GTC, TimeInForce.DAY
# The order path reads each field of the Order once and names the enum members through
# these constants: an attribute read of a pydantic model, or of an Enum class, costs
# several hundred instructions, and build_request runs for every order.


def _refusal(
    rules: MarketRules, order: Order, kind: OrderType, tif_kind: TimeInForce, bracket: bool
) -> Denial | None:
    extra = order.params
    if extra and not CONTROLLED_PARAMS.isdisjoint(extra):
        overrides = sorted(CONTROLLED_PARAMS.intersection(extra))
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"Order.params may not set {', '.join(overrides)}: the plugin sets them from the "
            "order's own fields (client_order_id, reduce_only, stop_price, stop_loss, "
            "take_profit, time_in_force, quantity)",
        )
    if tif_kind is _DAY:
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{rules.exchange_id} has no day orders through ccxt; use gtc and cancel at the close",
        )
    tif = _TIF_TEXT[tif_kind]
    if kind is _MARKET:
        why = None if tif_kind is _GTC else market_tif_refusal(rules, tif)
        if why is not None:
            return Denial(ErrorCode.NOT_SUPPORTED, why)
    else:
        if tif not in rules.time_in_force:
            return Denial(
                ErrorCode.NOT_SUPPORTED,
                f"{rules.exchange_id} takes no {tif} orders on {rules.symbol} (ccxt)",
            )
        if (kind is _STOP or kind is _STOP_LIMIT) and rules.stop.param is None:
            return Denial(ErrorCode.NOT_SUPPORTED, f"{rules.stop.refused} ({rules.symbol})")
    if order.reduce_only and rules.reduce_only_refused:
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{rules.exchange_id} {rules.symbol}: {rules.reduce_only_refused}",
        )
    if bracket and rules.bracket_refused:
        return Denial(
            ErrorCode.NOT_SUPPORTED,
            f"{rules.bracket_refused} ({rules.symbol}); nothing was sent (no half bracket)",
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
    kind, tif_kind, side = order.type, order.time_in_force, order.side
    stop_price, stop_loss, take_profit = order.stop_price, order.stop_loss, order.take_profit
    bracket = stop_loss is not None or take_profit is not None
    refusal = _refusal(rules, order, kind, tif_kind, bracket)
    if refusal is not None:
        return refusal
    client_rule = rules.client_id
    client_id = venue_client_id(order.client_order_id, client_rule)
    params: dict[str, Any] = {client_rule.param: client_id}
    if tif_kind is not _GTC:
        params["timeInForce"] = _TIF_TEXT[tif_kind]
    if order.reduce_only:
        params["reduceOnly"] = True
    quantity = order.quantity
    try:
        amount = amount_of(exchange, rules, quantity)
        if stop_price is None and not bracket:
            # A plain market or limit order (the usual case): only its limit to round.
            limit = order.price
            price = None if limit is None else price_of(exchange, rules, limit, "price", side)
            prices = None
        else:
            prices = priced(exchange, rules, order)
            price = prices.price
    except PrecisionError as exc:
        return Denial(ErrorCode.INVALID_ORDER, f"{rules.exchange_id}: {exc}")
    except Exception as exc:  # ccxt's own precision code refusing the value
        return Denial(
            ErrorCode.INVALID_ORDER,
            f"{rules.exchange_id} (ccxt) cannot put {quantity} / the prices on "
            f"{rules.symbol}'s precision: {type(exc).__name__}: {exc}",
        )
    denial = _check_limits(
        rules, amount, reference_price if price is None else price, order.reduce_only
    )
    if denial is not None:
        return denial
    quote_cost: Decimal | None = None
    if kind is _LIMIT or kind is _STOP_LIMIT:
        how = "limit"
    else:
        how = "market"
        by_cost = side is _BUY and rules.market_buy_by_cost
        if prices is not None and prices.stop_price is not None and rules.market_needs_price:
            price = prices.stop_price  # ccxt caps a triggered order's slippage from it
        elif by_cost or rules.market_needs_price:
            if reference_price is None:
                why = "to convert the quantity" if by_cost else "to cap the slippage from"
                return Denial(
                    ErrorCode.INVALID_ORDER,
                    f"{rules.exchange_id} needs a price for a market order on {rules.symbol} "
                    f"and no {'ask' if side is _BUY else 'bid'} was available {why}",
                )
            price = reference_price  # ccxt: amount x price as the quote cost, or the cap
            quote_cost = amount * reference_price if by_cost else None
    try:
        # ccxt takes floats: a value a float cannot carry exactly is refused, never sent
        # grown or moved (wire_number).
        if prices is not None:
            _add_triggers(params, rules, order, prices)
        wire_amount = wire_number(amount, "quantity")
        wire_price = None if price is None else wire_number(price, "price")
    except PrecisionError as exc:
        return Denial(ErrorCode.INVALID_ORDER, f"{rules.exchange_id} {rules.symbol}: {exc}")
    extra = order.params
    if extra:
        params.update(extra)
    return Request(
        rules.symbol,
        how,
        _SIDE_TEXT[side],
        wire_amount,
        wire_price,
        params,
        client_id,
        quote_cost,
    )


def _add_triggers(params: dict[str, Any], rules: MarketRules, order: Order, prices: Priced) -> None:
    # The stop's trigger (and its direction where the venue needs one) and the bracket.
    if prices.stop_price is not None and rules.stop.param is not None:
        params[rules.stop.param] = wire_number(prices.stop_price, "stop_price")
        if rules.stop.direction is not None:
            key, rising, falling = rules.stop.direction
            params[key] = rising if order.side is OrderSide.BUY else falling
    if prices.stop_loss is not None:
        params["stopLoss"] = {"triggerPrice": wire_number(prices.stop_loss, "stop_loss")}
    if prices.take_profit is not None:
        params["takeProfit"] = {"triggerPrice": wire_number(prices.take_profit, "take_profit")}


_TIF_TEXT = {tif: tif.value.upper() for tif in TimeInForce}
_SIDE_TEXT = {side: side.value for side in OrderSide}


def _check_limits(
    rules: MarketRules, amount: Decimal, price: Decimal | None, reduce_only: bool = False
) -> Denial | None:
    why = limit_refusal(rules, amount, price, reduce_only)  # fks_exec_ccxt.limits
    return None if why is None else Denial(ErrorCode.INVALID_ORDER, why)


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
    no real order has: negative, non-finite, 1e30 or more, a fill above the order's
    amount, or a fill without any price; such an answer is not a definite one (report
    the order unknown). OKX's ``-1`` (a trigger at the market price) is no price
    (:func:`~fks_exec_ccxt.okx_algo.without_market_price`).

    With ``quote_cost`` (a market buy sent as a quote cost) the base fill may exceed the
    amount, since it moves with the price; the fill is then bounded by what it spent:
    filled x average at most ``quote_cost`` plus 1% (fees and the venue's rounding), and
    the result's quantity is at least what filled.
    """
    if venue == "okx":
        raw = without_market_price(raw)  # OKX's "-1": a trigger at the market price
    get = raw.get
    filled = _number_of(get("filled"), "filled", venue) or _ZERO
    quantity = _number_of(get("amount"), "amount", venue) or (order.quantity if order else None)
    if quantity is not None and filled > quantity and quote_cost is None:
        raise BadBrokerNumber(f"{venue}: filled {filled} is above the order's amount {quantity}")
    average = _number_of(get("average"), "average", venue)
    if filled and not average:
        cost = _number_of(get("cost"), "cost", venue)
        average = cost / filled if cost else _number_of(get("price"), "price", venue)
        if not average:
            raise BadBrokerNumber(f"{venue}: a fill of {filled} without a price")
    if quote_cost is not None and filled:
        if average is None:
            raise BadBrokerNumber(f"{venue}: a fill of {filled} bought by cost without a price")
        if filled * average > quote_cost * _COST_SLACK:
            raise BadBrokerNumber(
                f"{venue}: filled {filled} at {average} spends more than the {quote_cost} sent"
            )
        quantity = filled if quantity is None or filled > quantity else quantity
    status = _status(get("status"), filled, quantity, quote_cost is not None)
    side = get("side") or (order.side if order else None)
    rejected = status is _REJECTED
    order_id = get("id")
    # Values in their final types take ExecutionResult.build's cheap checked path; any
    # other (an odd side text from a venue) is validated as the constructor does.
    return ExecutionResult.build(
        plugin=plugin,
        status=status,
        # The order we sent is the authority on its own id; venues echo it, some altered.
        client_order_id=order.client_order_id if order else get("clientOrderId"),
        order_id=None if order_id is None else str(order_id),
        symbol=get("symbol") or symbol or (order.symbol if order else "?"),
        side=_SIDES.get(side, side),
        quantity=quantity,
        filled_quantity=filled,
        average_price=average if filled and average else None,
        error="rejected by the exchange" if rejected else None,
        error_code=ErrorCode.REJECTED if rejected else None,
        raw=_kept(raw),
    )


def _kept(raw: dict[str, Any]) -> dict[str, Any]:
    # What of ccxt's structure a result keeps as its ``raw``: the venue's own answer and
    # the fees, those present (written out: a comprehension costs a frame per order).
    kept: dict[str, Any] = {}
    get = raw.get
    info, fee, fees = get("info"), get("fee"), get("fees")
    if info:
        kept["info"] = info
    if fee:
        kept["fee"] = fee
    if fees:
        kept["fees"] = fees
    return kept


_COST_SLACK = Decimal("1.01")
_FILLED, _CANCELED, _REJECTED = OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED


_ZERO = Decimal(0)
_FLOAT_LIMIT = 1e30


def _number_of(value: Any, key: str, venue: str) -> Decimal | None:
    # ccxt's numbers are floats (or None): a finite one in [0, 1e30) is read through its
    # shortest text, as broker_decimal does; anything else goes to broker_decimal, which
    # refuses it (naming the venue and the field) or reads it.
    if type(value) is float and 0.0 <= value < _FLOAT_LIMIT:
        return Decimal(repr(value)) if value else _ZERO
    if value is None:
        return None
    return broker_decimal(value, broker=venue, field=key)


def _status(
    value: Any, filled: Decimal, quantity: Decimal | None, by_cost: bool = False
) -> OrderStatus:
    # ccxt's "closed" only means no longer open: with nothing filled (an expired IOC), or
    # short of its amount (an IOC's rest, a partial cancel), it ended canceled. A buy by
    # quote cost has no base amount to fall short of: its base fill moves with the price.
    mapped = _STATUS.get(str(value).lower()) if value is not None else None
    if mapped is _FILLED and (
        not filled or (not by_cost and quantity is not None and filled < quantity)
    ):
        return _CANCELED
    if mapped is not None:
        return mapped
    if filled > 0 and quantity is not None and filled >= quantity:
        return OrderStatus.FILLED
    if filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus.ACCEPTED  # "open", or acknowledged without a status
