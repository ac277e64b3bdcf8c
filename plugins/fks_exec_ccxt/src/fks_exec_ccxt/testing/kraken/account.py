"""The fake Kraken account: cash per asset, margin positions, and what orders hold.

Spot fills move the base and quote balances; fees are taken in the quote currency
(``fciq``) or the base currency (``fcib``), as the AddOrder ``oflags`` describe
(https://docs.kraken.com/api/docs/rest-api/add-order). Margin fills open or close
positions (https://docs.kraken.com/api/docs/rest-api/get-open-positions: ``vol``,
``vol_closed``, ``cost``, ``fee``, ``margin``); a position's margin is its cost divided
by its leverage.

Inferred (Kraken values collateral across assets in its ``TradeBalance`` base asset,
which the fake does not price): collateral is the pair's quote asset only, realised
profit and loss is paid in it when a position closes, and it is what the margin check
of a new position compares against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fks_exec_ccxt.testing.kraken.orders import ZERO, Order
from fks_exec_ccxt.testing.kraken.pairs import Pair

__all__ = ["Account", "Position"]


@dataclass
class Position:
    """One open margin position (Kraken keeps one per opening fill)."""

    postxid: str
    ordertxid: str
    pair: Pair
    side: str
    vol: Decimal
    cost: Decimal
    fee: Decimal
    leverage: int
    time: float
    vol_closed: Decimal = ZERO

    @property
    def open_vol(self) -> Decimal:
        """Volume still open."""
        return self.vol - self.vol_closed

    @property
    def entry_price(self) -> Decimal:
        """Average opening price."""
        return self.cost / self.vol

    @property
    def margin(self) -> Decimal:
        """Collateral the open part holds."""
        return self.entry_price * self.open_vol / self.leverage


class Account:
    """Cash and positions of the one fake account."""

    def __init__(self, cash: dict[str, Decimal]) -> None:
        self.cash = cash
        self.positions: list[Position] = []

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` (negative to debit) to ``asset``."""
        self.cash[asset] = self.cash.get(asset, ZERO) + amount

    def held_by(self, orders: Iterable[Order], asset: str) -> Decimal:
        """What open spot orders reserve of ``asset`` (Kraken's ``hold_trade``).

        A buy holds its remaining quote cost plus the taker fee at its limit price; a
        sell holds its remaining base. A market or conditional order without a limit
        price holds nothing until it trades (inferred).
        """
        held = ZERO
        for order in orders:
            spec = order.spec
            if not order.is_open or spec.is_margin:
                continue
            if spec.side == "sell" and spec.pair.base == asset:
                held += order.remaining
            price = order.limit_price
            if spec.side == "buy" and spec.pair.quote == asset and price is not None:
                held += order.remaining * price * (1 + spec.pair.taker_fee_pct / 100)
        return held

    def margin_used(self, quote: str) -> Decimal:
        """Collateral held by open positions settled in ``quote``."""
        return sum((p.margin for p in self.positions if p.pair.quote == quote), ZERO)

    def open_positions(self, pair: Pair, side: str) -> list[Position]:
        """Open positions of ``pair`` on ``side`` (``buy`` long, ``sell`` short), oldest first."""
        return [p for p in self.positions if p.pair == pair and p.side == side and p.open_vol]

    def net_volume(self, pair: Pair, side: str) -> Decimal:
        """Open volume of ``pair`` held on ``side``."""
        return sum((p.open_vol for p in self.open_positions(pair, side)), ZERO)
