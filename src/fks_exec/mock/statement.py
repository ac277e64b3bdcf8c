"""What the mock account holds and is worth: :class:`AccountStatement`.

Positions with unrealized P&L at the mark, realized P&L, equity and buying power, read
off the broker's :class:`~fks_exec.mock.accounting.Ledger`, quotes and working book.
:class:`~fks_exec.mock.MockBroker` inherits these methods; they change nothing.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec.mock.accounting import Ledger
from fks_exec.mock.book import WorkingBook
from fks_exec.mock.records import ZERO, Quote
from fks_exec.models import Position

__all__ = ["AccountStatement"]


class AccountStatement:
    """The account's read-only views (positions, P&L, equity, buying power)."""

    cash: Decimal
    leverage: Decimal
    _quotes: dict[str, Quote]
    _ledger: Ledger
    _book: WorkingBook

    def positions(self) -> list[Position]:
        """Open positions with unrealized P&L at the current mid (or last) price.

        Raises ``KeyError`` if a symbol with an open position has no quote.
        """
        result = []
        for symbol, pos in sorted(self._ledger.positions.items()):
            if pos.quantity == 0:
                continue
            mark = self.mark(symbol)
            sign = 1 if pos.quantity > 0 else -1
            result.append(
                Position(
                    symbol=symbol,
                    quantity=pos.quantity,
                    average_price=pos.average_price,
                    unrealized_pnl=(mark * abs(pos.quantity) - pos.cost) * sign + ZERO,
                )
            )
        return result

    def position(self, symbol: str) -> Decimal:
        """Signed quantity held in ``symbol`` (0 when flat)."""
        return self._ledger.quantity(symbol)

    def realized_pnl(self, symbol: str | None = None) -> Decimal:
        """Realized P&L (before fees) of one symbol or of the whole account."""
        if symbol is not None:
            pos = self._ledger.positions.get(symbol)
            return pos.realized_pnl if pos else ZERO
        return self._ledger.realized()

    def mark(self, symbol: str) -> Decimal:
        """The price positions in ``symbol`` are valued at: the quote's midpoint.

        Raises ``KeyError`` for a symbol that has no quote.
        """
        return self._quotes[symbol].mid

    def equity(self) -> Decimal:
        """Cash plus the marked value of every position."""
        return self._equity()

    def buying_power(self) -> Decimal:
        """Equity times leverage, less open exposure and what working orders reserve."""
        return self._buying_power()

    # Internal callers use these: the public methods may be wrapped for other threads
    # (fks_exec.mock.threads), which costs a check on every call.

    def _equity(self) -> Decimal:
        ledger = self._ledger
        return self.cash + (ledger.marked if ledger.has_open else ZERO)

    def _buying_power(self) -> Decimal:
        reserved = self._book.reserved(self._quotes)
        return self._equity() * self.leverage - self._ledger.exposure - reserved
