"""A stop the market has already crossed is refused before sending, where the venue
would take its direction from the market: :func:`check_stop_side`.

A buy stop is meant to fire when the price rises to its stop price, a sell stop when it
falls to it. OKX's ``trigger`` algo order (what ccxt sends for ``triggerPrice``) carries
no direction: OKX's docs only say it fires "when a specific price level is crossed", so
which way is taken from where the last price is when it is placed (inferred; the
reference fake's ``Rules.trigger_direction`` has both readings). A Bybit spot
conditional order carries none either (v5 place order: ``triggerDirection`` is "valid
for linear & inverse"). A sell stop placed above the market would then sell on a
*rise*, a buy stop below it buy on a fall: a stop that fires the wrong way. Such a stop
is refused, nothing sent, naming the price it was compared with, on the venues the
table marks (:attr:`Venue.trigger_from_market`, where ccxt sends no direction).
"""

from __future__ import annotations

from typing import Any

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.models import Order, OrderSide
from fks_exec_ccxt.ticker import ticker_price

__all__ = ["check_stop_side"]


async def check_stop_side(exchange: Any, symbol: str, order: Order) -> None:
    """Refuse ``order`` (a stop or stop-limit on ``symbol``) when the last price is
    already at or beyond its stop price (:class:`OrderDenied`: a buy stop must be above
    the last price, a sell stop below it). Reads a fresh ticker
    (:func:`~fks_exec_ccxt.ticker.ticker_price`, a read: safe to retry); raises
    :class:`BrokerUnavailable` when none can be had. Nothing is sent either way."""
    stop = order.stop_price
    assert stop is not None
    last = await ticker_price(exchange, symbol, order.side, fresh=True)
    if last is None:
        raise BrokerUnavailable(
            f"{exchange.id} gave no last price for {symbol} to check the stop against; "
            "nothing was sent"
        )
    buy = order.side is OrderSide.BUY
    if (stop <= last) if buy else (stop >= last):
        where, should = ("at or below", "above") if buy else ("at or above", "below")
        raise OrderDenied(
            f"a {order.side.value} stop at {stop} is {where} {symbol}'s last price {last}: "
            f"{exchange.id} would take its direction from the market and fire it the "
            f"other way; a {order.side.value} stop must be {should} the last price "
            "(for a price already crossed, send a market or limit order); nothing was sent"
        )
