"""The one reader of a market's price from the exchange's ticker: :func:`ticker_price`.

Two things read it: valuing an order with no price of its own (its minimum cost, a
market buy sent as a quote cost, hyperliquid's slippage cap), which wants the price on
the order's side of the book and may reuse a recent one; and judging a stop's side
(:mod:`~fks_exec_ccxt.stop_side`), which wants the last trade, what a trigger compares,
as it is now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec.errors import BrokerUnavailable
from fks_exec.kit import TtlCache
from fks_exec.models import OrderSide
from fks_exec_ccxt.numbers import to_decimal

__all__ = ["TickerCache", "ticker_price"]

TickerCache = TtlCache[tuple[str, str], Decimal | None]
"""Recent prices by (symbol, side value), kept for ``ticker_cache_ms``."""


async def ticker_price(
    exchange: Any,
    symbol: str,
    side: OrderSide,
    *,
    fresh: bool,
    cache: TickerCache | None = None,
) -> Decimal | None:
    """A price of ``symbol`` for an order on ``side``, from ``exchange.fetch_ticker``.

    ``fresh=False`` (valuing an order): the order's side of the book, the ask for a buy
    and the bid for a sell, else the last trade; taken from ``cache`` while it holds one
    for (symbol, side), and put there when read. ``fresh=True`` (judging a stop): the
    last trade, else the order's side of the book, read now; ``cache`` is neither read
    nor written. Returns None when the ticker has neither. Raises
    :class:`BrokerUnavailable` when the ticker cannot be read (a read: nothing was sent).
    """
    key = (symbol, side.value)
    if not fresh and cache is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached
    try:
        ticker = await exchange.fetch_ticker(symbol)
    except Exception as exc:  # a read: failing it sends nothing
        raise BrokerUnavailable(
            f"{exchange.id}: no price for {symbol} ({exc}); nothing was sent"
        ) from exc
    book = to_decimal(ticker.get("ask" if side is OrderSide.BUY else "bid"))
    last = to_decimal(ticker.get("last"))
    if fresh:
        return last or book
    price = book or last
    if price is not None and cache is not None:
        cache.set(key, price)
    return price
