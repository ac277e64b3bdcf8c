"""The fake OKX's behaviour where OKX's documentation is silent: every choice labelled.

Each field is one inferred rule; the default is the most plausible reading, and a test
can switch it to check that code under test does not depend on the guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

__all__ = ["Rules"]


@dataclass(frozen=True)
class Rules:
    """Configurable venue behaviour (documented defaults cite the docs; others are inferred)."""

    client_id_unique_among: Literal["pending", "all"] = "pending"
    """Documented: "clOrdId must be unique among the clOrdIds of all pending orders"
    (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order). So an id
    of a filled or canceled order may be used again — ``"all"`` refuses that too."""

    trigger_direction: Literal["from_last", "by_side"] = "from_last"
    """Inferred: which way a ``trigger`` algo order fires. The docs only say it fires
    "when a specific price level is crossed". ``from_last``: above the last price at
    placement it fires on a rise, below on a fall. ``by_side``: buy fires on a rise,
    sell on a fall."""

    cancel_market_remainder: bool = True
    """Inferred: the part of a market order the quoted depth cannot fill is canceled
    (spot market orders "swipe the book"; the fake's book is one level deep)."""

    reduce_only_overflow: Literal["reject", "clip"] = "reject"
    """Documented constraint, inferred code: a reduce-only order larger than the position
    (with other pending reduce-only orders) is refused with 51112 (``reject``) or
    accepted and filled only up to the position (``clip``)."""

    max_clock_skew_ms: int | None = 30_000
    """Documented: a request timestamp more than 30 s from server time gets 50102."""

    market_buy_freeze: Decimal = Decimal("0.05")
    """Documented: for market orders OKX "reserves/freezes your quote currency by an
    additional 5% for risk check"; the balance check of a market buy uses it."""

    leverage: Decimal = Decimal(10)
    """Inferred: one cross-margin leverage for every contract (OKX sets it per
    instrument with ``set-leverage``, which the fake does not model)."""

    algo_child_reduce_only: bool = True
    """Inferred: the TP/SL algo created from an order's ``attachAlgoOrds`` once the order
    fills is reduce-only."""
