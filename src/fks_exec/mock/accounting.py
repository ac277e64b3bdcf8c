"""The mock broker's positions: netted per symbol at average cost, marked at the mid.

:class:`Ledger` keeps each symbol's position and, as running sums, the marked value of
all positions and their gross exposure, so buying power costs the same with one open
position or a hundred. Each symbol's share of the sums (its quantity times its mid) is
the product a fresh walk over the positions would compute; the sums themselves are
kept with exact decimal arithmetic, so adding and removing shares never drifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fks_exec.mock.records import EXACT, ZERO

__all__ = ["Ledger", "PositionState"]


@dataclass(slots=True)
class PositionState:
    """One symbol's position: signed quantity, cost of what is open, realized P&L."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    """What the open quantity cost, without fees (always >= 0)."""
    realized_pnl: Decimal = ZERO

    @property
    def average_price(self) -> Decimal:
        """Cost per unit of what is open (0 when flat)."""
        return self.cost / abs(self.quantity) if self.quantity else ZERO


FLAT = PositionState()
"""Read-only stand-in for "no position"; never mutated."""


class Ledger:
    """Positions per symbol with running sums of their marked value and exposure."""

    def __init__(self) -> None:
        self.positions: dict[str, PositionState] = {}
        self.marked = ZERO
        """Sum over open positions of quantity times mid (signed)."""
        self.exposure = ZERO
        """Sum over open positions of |quantity| times mid."""
        self._shares: dict[str, Decimal] = {}

    def quantity(self, symbol: str) -> Decimal:
        """Signed quantity held in ``symbol`` (0 when flat)."""
        pos = self.positions.get(symbol)
        return pos.quantity if pos else ZERO

    def apply(self, symbol: str, delta: Decimal, price: Decimal, mid: Decimal) -> Decimal:
        """Move the position in ``symbol`` by ``delta`` traded at ``price``; ``mid`` is
        the symbol's current mark. Returns the signed quantity now held."""
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = PositionState()
        held = pos.quantity
        if held == ZERO or (held > ZERO) == (delta > ZERO):
            pos.cost += abs(delta) * price
            pos.quantity = held + delta
        else:
            closing = min(abs(delta), abs(held))
            # Average-cost accounting on the exact cost of what is open: closing all of
            # it removes the whole cost, so P&L is exact whenever a position goes flat.
            removed = pos.cost if closing == abs(held) else pos.cost * closing / abs(held)
            pos.realized_pnl += (closing * price - removed) * (1 if held > ZERO else -1)
            pos.cost -= removed
            pos.quantity = held + delta
            if pos.quantity != ZERO and (pos.quantity > ZERO) != (held > ZERO):
                pos.cost = abs(pos.quantity) * price  # flipped: the rest opened at this price
        self._remark(symbol, pos.quantity, mid)
        return pos.quantity

    def remark(self, symbol: str, mid: Decimal) -> None:
        """Value the position in ``symbol`` (if any) at a new ``mid``."""
        if symbol in self._shares:
            self._remark(symbol, self.positions[symbol].quantity, mid)

    def _remark(self, symbol: str, quantity: Decimal, mid: Decimal) -> None:
        old = self._shares.pop(symbol, None)
        if old is not None:
            self.marked = EXACT.subtract(self.marked, old)
            self.exposure = EXACT.subtract(self.exposure, abs(old))
        if quantity:
            share = quantity * mid
            self._shares[symbol] = share
            self.marked = EXACT.add(self.marked, share)
            self.exposure = EXACT.add(self.exposure, abs(share))

    @property
    def has_open(self) -> bool:
        """True while any position is open."""
        return bool(self._shares)

    def realized(self) -> Decimal:
        """Realized P&L (before fees) over every symbol."""
        return sum((p.realized_pnl for p in self.positions.values()), ZERO)
