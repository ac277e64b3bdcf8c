"""A stop the market has already crossed is refused before sending, where the venue
would take its direction from the market: :func:`check_stop_side`.

A buy stop is meant to fire when the price rises to its stop price, a sell stop when it
falls to it. OKX's ``trigger`` algo order (what ccxt sends for ``triggerPrice``) carries
no direction: OKX's docs only say it fires "when a specific price level is crossed", so
which way is taken from where the last price is when it is placed (inferred; the
reference fake's ``Rules.trigger_direction`` has both readings). A sell stop placed
above the market would then sell on a *rise*, a buy stop below it buy on a fall: a stop
that fires the wrong way. Such a stop is refused, nothing sent, naming the price it
was compared with, on the venues the table marks (:attr:`Venue.trigger_from_market`).
"""

from __future__ import annotations

from typing import Any

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.models import Order, OrderSide
from fks_exec_ccxt.numbers import to_decimal

__all__ = ["check_stop_side"]


async def check_stop_side(exchange: Any, symbol: str, order: Order) -> None:
    """Refuse ``order`` (a stop or stop-limit on ``symbol``) when the last price is
    already at or beyond its stop price (:class:`OrderDenied`: a buy stop must be above
    the last price, a sell stop below it). Reads a fresh ticker (a read: safe to
    retry); raises :class:`BrokerUnavailable` when none can be had. Nothing is sent
    either way."""
    stop = order.stop_price
    assert stop is not None
    try:
        ticker = await exchange.fetch_ticker(symbol)
    except Exception as exc:  # a read: failing it sends nothing
        raise BrokerUnavailable(
            f"{exchange.id}: no price for {symbol} to check the stop against ({exc}); "
            "nothing was sent"
        ) from exc
    buy = order.side is OrderSide.BUY
    last = to_decimal(ticker.get("last")) or to_decimal(ticker.get("ask" if buy else "bid"))
    if last is None:
        raise BrokerUnavailable(
            f"{exchange.id} gave no last price for {symbol} to check the stop against; "
            "nothing was sent"
        )
    if (stop <= last) if buy else (stop >= last):
        where, should = ("at or below", "above") if buy else ("at or above", "below")
        raise OrderDenied(
            f"a {order.side.value} stop at {stop} is {where} {symbol}'s last price {last}: "
            f"{exchange.id} would take its direction from the market and fire it the "
            f"other way; a {order.side.value} stop must be {should} the last price "
            "(for a price already crossed, send a market or limit order). Nothing was sent"
        )
