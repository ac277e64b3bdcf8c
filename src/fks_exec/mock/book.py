"""The mock broker's book of working orders, indexed so a quote costs what it crosses.

Every working order is kept in arrival order (:attr:`WorkingBook.working`) and, per
symbol, in one of five places:

* limits (and triggered stop-limits) by limit price, one sorted list per side;
* stops and stop-limits not yet triggered by stop price, one sorted list per side;
* orders that trade at the market (market orders still working, triggered stops).

A quote can only move orders it crosses: buy limits at or above the ask, sell limits at
or below the bid, buy stops at or below the ask, sell stops at or above the bid, and
everything at the market. :meth:`WorkingBook.candidates` finds those by bisection and
returns them in arrival order, so matching visits exactly the orders a walk over the
whole book would have changed, in the same order, and skips the rest, which a walk
would have left untouched.

The book also keeps the margin working orders reserve as a running sum (exact decimal
arithmetic, so it never drifts), and the bracket exits of each symbol.

The sorted lists are ``sortedcontainers.SortedList``: insertion, removal and bisection
in O(log n) with small constants, where a plain sorted list pays O(n) per insertion.
"""

from __future__ import annotations

import itertools
import sys
from decimal import Decimal

from sortedcontainers import SortedList

from fks_exec.mock.records import BUY, EXACT, LIMIT, MARKET, STOP, ZERO, MockOrder, Quote

__all__ = ["WorkingBook"]

_FIRST = -sys.maxsize  # sorts before every sequence number at the same price
_LAST = sys.maxsize  # sorts after every sequence number at the same price

_Key = tuple[Decimal, int]


class _SymbolBook:
    """The working orders of one symbol, by where a quote can reach them."""

    __slots__ = (
        "at_market",
        "buy_limits",
        "buy_stops",
        "exits",
        "sell_limits",
        "sell_stops",
    )

    def __init__(self) -> None:
        self.buy_limits: SortedList[_Key] = SortedList()
        self.sell_limits: SortedList[_Key] = SortedList()
        self.buy_stops: SortedList[_Key] = SortedList()
        self.sell_stops: SortedList[_Key] = SortedList()
        self.at_market: dict[int, None] = {}
        """Sequence numbers of orders that trade at the market, in arrival order."""
        self.exits: dict[str, MockOrder] = {}
        """Bracket exits by order id, in arrival order."""


class WorkingBook:
    """Working orders in arrival order, indexed per symbol and by price.

    Where an order sits is kept on its record (``book_seq``, ``book_key``,
    ``book_reserve``), not in a per-order tuple or dict entry here: a resting order
    costs the garbage collector one tracked object, its record, however large the
    book grows.
    """

    def __init__(self) -> None:
        self.working: dict[int, MockOrder] = {}
        """Every working order by its place in arrival order (its ``book_seq``), in the
        order it started working."""
        self._symbols: dict[str, _SymbolBook] = {}
        self._seq = itertools.count()
        self._unrested: dict[str, list[MockOrder]] = {}
        self._reserved = ZERO
        self._reserved_at_market: dict[str, MockOrder] = {}

    # ------------------------------------------------------------------ membership

    def add(self, record: MockOrder) -> None:
        """Put a working ``record`` on the book, after every order already on it."""
        symbol = record.order.symbol
        seq = next(self._seq)
        self.working[seq] = record
        book = self._symbols.get(symbol)
        if book is None:
            book = self._symbols[symbol] = _SymbolBook()
        record.book_seq = seq
        self._place(book, record, seq)
        if record.parent_id is not None:
            book.exits[record.order_id] = record
        if not record.rested:
            self._unrested.setdefault(symbol, []).append(record)
        self._reserve(record)

    def remove(self, record: MockOrder) -> None:
        """Take ``record`` off the book (nothing happens when it is not on it)."""
        seq = record.book_seq
        if seq is None:
            return
        record.book_seq = None
        order_id = record.order_id
        del self.working[seq]
        book = self._symbols[record.order.symbol]
        key = record.book_key
        if key is None:
            del book.at_market[seq]
        else:
            record.book_key = None
            self._sorted_list(book, record).remove(key)
        if record.parent_id is not None:
            del book.exits[order_id]
        term = record.book_reserve
        if term is not None:
            record.book_reserve = None
            self._reserved = EXACT.subtract(self._reserved, term)
        self._reserved_at_market.pop(order_id, None)

    def triggered(self, record: MockOrder) -> None:
        """Move a stop whose ``triggered`` was just set to where it now trades."""
        seq = record.book_seq
        assert seq is not None and record.book_key is not None
        book = self._symbols[record.order.symbol]
        stops = book.buy_stops if record.order.side is BUY else book.sell_stops
        stops.remove(record.book_key)
        self._place(book, record, seq)

    @staticmethod
    def _sorted_list(book: _SymbolBook, record: MockOrder) -> SortedList[_Key]:
        """The list a record with a ``book_key`` sits in, by its type and trigger."""
        buy = record.order.side is BUY
        if record.order.type is LIMIT or record.triggered:
            return book.buy_limits if buy else book.sell_limits
        return book.buy_stops if buy else book.sell_stops

    def _place(self, book: _SymbolBook, record: MockOrder, seq: int) -> None:
        order = record.order
        kind = order.type
        if kind is MARKET or (kind is STOP and record.triggered):
            book.at_market[seq] = None
            record.book_key = None
            return
        if kind is LIMIT or record.triggered:
            assert order.price is not None
            key: _Key = (order.price, seq)
        else:
            assert order.stop_price is not None
            key = (order.stop_price, seq)
        record.book_key = key
        self._sorted_list(book, record).add(key)

    # ------------------------------------------------------------------ queries

    def candidates(self, symbol: str, quote: Quote) -> list[MockOrder]:
        """The working orders of ``symbol`` that ``quote`` can move, in arrival order.

        An order left out (a limit the quote does not cross, a stop it has not reached)
        would neither fill nor change in a matching pass against ``quote``.
        """
        book = self._symbols.get(symbol)
        if book is None:
            return []
        seqs = list(book.at_market)
        ask, bid = quote.ask, quote.bid
        # Each side is bisected only when its best price is reached: a quote that
        # crosses nothing (the usual case) costs four comparisons, not four bisections.
        side = book.buy_limits  # limit at or above the ask
        if side and side[-1][0] >= ask:
            seqs.extend(seq for _, seq in side.islice(side.bisect_left((ask, _FIRST))))
        side = book.sell_limits  # limit at or below the bid
        if side and side[0][0] <= bid:
            seqs.extend(seq for _, seq in side.islice(0, side.bisect_right((bid, _LAST))))
        side = book.buy_stops  # stop at or below the ask
        if side and side[0][0] <= ask:
            seqs.extend(seq for _, seq in side.islice(0, side.bisect_right((ask, _LAST))))
        side = book.sell_stops  # stop at or above the bid
        if side and side[-1][0] >= bid:
            seqs.extend(seq for _, seq in side.islice(side.bisect_left((bid, _FIRST))))
        seqs.sort()
        working = self.working
        return [working[seq] for seq in seqs]

    def idle(self, symbol: str) -> bool:
        """True when nothing of ``symbol`` is working or waiting for a matching pass."""
        book = self._symbols.get(symbol)
        if book is None:
            return True
        return not (
            book.at_market
            or book.buy_limits
            or book.sell_limits
            or book.buy_stops
            or book.sell_stops
            or symbol in self._unrested
        )

    def exits(self, symbol: str) -> list[MockOrder]:
        """The working bracket exits of ``symbol``, in arrival order."""
        book = self._symbols.get(symbol)
        return list(book.exits.values()) if book is not None else []

    def mark_rested(self, symbol: str) -> None:
        """Record that every working order of ``symbol`` went through a matching pass."""
        unrested = self._unrested.pop(symbol, None)
        if unrested:
            for record in unrested:
                if record.book_seq is not None:  # still on the book
                    record.rested = True

    # ------------------------------------------------------------------ reserved margin

    def _reserve(self, record: MockOrder) -> None:
        order = record.order
        if order.reduce_only:
            return
        price = order.price or order.stop_price
        if price is None:
            self._reserved_at_market[record.order_id] = record
            return
        term = record.book_reserve = record.remaining * price
        self._reserved = EXACT.add(self._reserved, term)

    def refilled(self, record: MockOrder) -> None:
        """Update the margin ``record`` reserves after part of it filled."""
        old = record.book_reserve
        if old is None:
            return
        order = record.order
        price = order.price or order.stop_price
        assert price is not None
        term = record.book_reserve = record.remaining * price
        self._reserved = EXACT.add(EXACT.subtract(self._reserved, old), term)

    def reserved(self, quotes: dict[str, Quote]) -> Decimal:
        """What working orders reserve: what is left of each times its limit or stop
        price, or the symbol's mid for an order at the market. Reduce-only orders
        reserve nothing."""
        total = self._reserved
        for record in self._reserved_at_market.values():
            total = EXACT.add(total, record.remaining * quotes[record.order.symbol].mid)
        return total
