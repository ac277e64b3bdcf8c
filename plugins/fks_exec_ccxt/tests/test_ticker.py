""":func:`~fks_exec_ccxt.ticker.ticker_price`, the plugin's one ticker reader.

Cached (``fresh=False``, valuing an order): the order's side of the book, else the last
trade, reused per (symbol, side). Fresh (``fresh=True``, judging a stop): the last
trade, else the order's side of the book, read every time, the cache untouched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable
from fks_exec.kit import TtlCache
from fks_exec.models import OrderSide
from fks_exec_ccxt.ticker import TickerCache, ticker_price

BUY, SELL = OrderSide.BUY, OrderSide.SELL
BOOK = {"last": 100.5, "bid": 99, "ask": 101}


class _Exchange:
    """Answers ``fetch_ticker`` with ``answer`` and counts the reads."""

    id = "venue"

    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.reads: list[str] = []

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        self.reads.append(symbol)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def _cache() -> TickerCache:
    return TtlCache(60)


@pytest.mark.parametrize(
    ("answer", "side", "fresh", "price"),
    [
        (BOOK, BUY, False, "101"),  # the ask for a buy
        (BOOK, SELL, False, "99"),  # the bid for a sell
        ({"last": 100.5, "bid": None, "ask": None}, BUY, False, "100.5"),
        (BOOK, BUY, True, "100.5"),  # what a trigger compares: the last trade
        (BOOK, SELL, True, "100.5"),
        ({"last": None, "bid": 99, "ask": 101}, BUY, True, "101"),
        ({"last": None, "bid": 99, "ask": 101}, SELL, True, "99"),
        ({"last": None, "bid": None, "ask": None}, BUY, True, None),
        ({"last": None, "bid": None, "ask": None}, SELL, False, None),
    ],
)
async def test_the_price_read_for_each_use(
    answer: dict[str, Any], side: OrderSide, fresh: bool, price: str | None
) -> None:
    found = await ticker_price(_Exchange(answer), "BTC/USDT", side, fresh=fresh, cache=_cache())
    assert found == (None if price is None else Decimal(price))


async def test_a_cached_price_is_reused_per_symbol_and_side() -> None:
    exchange, cache = _Exchange(BOOK), _cache()
    first = await ticker_price(exchange, "BTC/USDT", BUY, fresh=False, cache=cache)
    again = await ticker_price(exchange, "BTC/USDT", BUY, fresh=False, cache=cache)
    assert first == again == Decimal(101) and exchange.reads == ["BTC/USDT"]
    assert cache.get(("BTC/USDT", "buy")) == Decimal(101)
    assert await ticker_price(exchange, "BTC/USDT", SELL, fresh=False, cache=cache) == 99
    assert exchange.reads == ["BTC/USDT"] * 2  # the other side is read on its own
    assert cache.get(("BTC/USDT", "sell")) == Decimal(99)


async def test_a_fresh_read_neither_uses_nor_fills_the_cache() -> None:
    exchange, cache = _Exchange(BOOK), _cache()
    cache.set(("BTC/USDT", "sell"), Decimal(1))
    assert await ticker_price(exchange, "BTC/USDT", SELL, fresh=True, cache=cache) == Decimal(
        "100.5"
    )
    assert await ticker_price(exchange, "BTC/USDT", BUY, fresh=True, cache=cache) == Decimal(
        "100.5"
    )
    assert exchange.reads == ["BTC/USDT"] * 2
    assert cache.get(("BTC/USDT", "sell")) == Decimal(1) and cache.get(("BTC/USDT", "buy")) is None


async def test_no_price_is_not_cached() -> None:
    exchange, cache = _Exchange({"last": None, "bid": None, "ask": None}), _cache()
    assert await ticker_price(exchange, "BTC/USDT", BUY, fresh=False, cache=cache) is None
    assert len(cache) == 0
    await ticker_price(exchange, "BTC/USDT", BUY, fresh=False, cache=cache)
    assert exchange.reads == ["BTC/USDT"] * 2


async def test_without_a_cache_every_read_goes_to_the_exchange() -> None:
    exchange = _Exchange(BOOK)
    for _ in range(2):
        assert await ticker_price(exchange, "BTC/USDT", BUY, fresh=False) == Decimal(101)
    assert exchange.reads == ["BTC/USDT"] * 2


@pytest.mark.parametrize("fresh", [False, True])
async def test_a_failed_read_sends_nothing_and_says_why(fresh: bool) -> None:
    cause = TimeoutError("read timed out")
    with pytest.raises(BrokerUnavailable) as raised:
        await ticker_price(_Exchange(cause), "BTC/USDT", BUY, fresh=fresh, cache=_cache())
    assert str(raised.value) == "venue: no price for BTC/USDT (read timed out); nothing was sent"
    assert raised.value.__cause__ is cause
