"""The fake Kraken's order, trade and quote records, and its id generator.

Order states are Kraken's (https://docs.kraken.com/api/docs/rest-api/get-open-orders):
``pending`` (not yet in the book), ``open`` (in the book, possibly partly filled, or
waiting for its trigger), ``closed`` (filled), ``canceled`` and ``expired``. Ids have
Kraken's shape, ``OXXXXX-XXXXX-XXXXXX`` for orders and ``TXXXXX-XXXXX-XXXXXX`` for trades
and positions (the shape is documented by example; the letters here are a counter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec_ccxt.testing.kraken.params import OrderSpec

__all__ = ["IdMaker", "Order", "Quote", "Trade"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ZERO = Decimal(0)


class IdMaker:
    """Kraken-shaped ids from a counter: deterministic within one fake venue."""

    def __init__(self) -> None:
        self._count = 0

    def make(self, prefix: str) -> str:
        """A new id, ``prefix`` + 5 + ``-`` + 5 + ``-`` + 6 characters."""
        self._count += 1
        n = (self._count * 0x9E3779B97F4A7C15) % (32**16)  # odd multiplier: a bijection
        chars = []
        for _ in range(16):
            n, digit = divmod(n, 32)
            chars.append(_ALPHABET[digit])
        text = "".join(chars)
        return f"{prefix}{text[:5]}-{text[5:10]}-{text[10:16]}"


@dataclass
class Quote:
    """Top of book for one pair; ``*_left`` is what the quote can still fill (None: all)."""

    bid: Decimal
    ask: Decimal
    last: Decimal
    index: Decimal
    bid_left: Decimal | None = None
    ask_left: Decimal | None = None

    def reference(self, trigger: str) -> Decimal:
        """The price a trigger compares: ``last`` or ``index`` (documented choices)."""
        return self.index if trigger == "index" else self.last


@dataclass
class Trade:
    """One fill of an order."""

    trade_id: str
    ordertxid: str
    pair_id: str
    time: float
    side: str
    ordertype: str
    price: Decimal
    vol: Decimal
    cost: Decimal
    fee: Decimal
    maker: bool
    margin: Decimal = ZERO
    postxid: str | None = None


@dataclass
class Order:
    """An order the venue accepted, and what happened to it since."""

    txid: str
    spec: OrderSpec
    opentm: float
    status: str = "open"
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    spent_quote: Decimal = ZERO
    """For a ``viqc`` order: quote volume used so far."""
    triggered: bool = False
    closetm: float | None = None
    reason: str | None = None
    trades: list[str] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Still working (in the book or waiting for its trigger)."""
        return self.status in ("pending", "open")

    @property
    def by_quote(self) -> bool:
        """The volume is in quote currency (``viqc``)."""
        return "viqc" in self.spec.oflags

    @property
    def remaining(self) -> Decimal:
        """Volume still to fill (quote volume for a ``viqc`` order)."""
        if self.by_quote:
            return self.spec.volume - self.spent_quote
        return self.spec.volume - self.vol_exec

    @property
    def limit_price(self) -> Decimal | None:
        """The price it may trade at, once live (None: any, a market order)."""
        kind = self.spec.ordertype
        if kind == "limit":
            return self.spec.price
        if kind.endswith("-limit"):
            return self.spec.price2
        return None

    @property
    def average(self) -> Decimal:
        """Average fill price (0 before any fill)."""
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    def close(self, status: str, now: float, reason: str | None = None) -> None:
        """End the order (``closed``, ``canceled`` or ``expired``)."""
        self.status, self.closetm, self.reason = status, now, reason
