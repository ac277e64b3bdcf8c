"""The fake Kraken's behaviour where Kraken's documentation is silent: every choice labelled.

Each field is one rule. A field whose docstring starts "Documented" follows a cited page;
one starting "Inferred" is a guess at what the venue does, with the most plausible reading
as its default, so a test can switch it and check that code under test does not depend on
the guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Rules"]


@dataclass(frozen=True)
class Rules:
    """Configurable venue behaviour (documented defaults cite the docs; others are inferred)."""

    cl_ord_id_unique_among: Literal["open", "all"] = "open"
    """Documented: "Kraken verifies cl_ord_id uniqueness across open orders for each
    client" (https://docs.kraken.com/api/docs/guides/spot-clordid). So the id of a closed
    or canceled order may be used again; ``"all"`` refuses that too."""

    duplicate_cl_ord_id_error: str = "EOrder:Duplicate cl_ord_id"
    """Inferred: the error text for a ``cl_ord_id`` already on an open order. The docs
    say uniqueness is enforced, not what the refusal reads."""

    bad_cl_ord_id_error: str = "EGeneral:Invalid arguments:cl_ord_id"
    """Inferred: the error text for a ``cl_ord_id`` in none of the three documented
    formats (long UUID, short UUID, free text of at most 18 characters)."""

    nonce_window_ms: int = 0
    """Documented: the nonce is an "always increasing, unsigned 64-bit integer" per API
    key (https://docs.kraken.com/api/docs/guides/spot-rest-auth). A key may be given a
    "nonce window" in its settings, inside which a nonce a little lower than the last one
    is still accepted (described by third parties, e.g.
    https://connectors.deltixlab.com/docs/order-entry/connectors/crypto-kraken/, which
    warns it can duplicate orders); the units used here (the same as the nonce, which
    ccxt sends in milliseconds) are inferred. 0, strictly increasing, is the default."""

    market_remainder: Literal["cancel", "rest"] = "cancel"
    """Inferred: the part of a market order the quoted depth cannot fill is canceled
    (the fake's book is one level deep; a real book would be swept further). ``rest``
    keeps it open to fill against later quotes."""

    post_only_crossing: Literal["cancel", "reject"] = "cancel"
    """Inferred: a ``post`` limit order that would take liquidity is accepted and then
    canceled with reason "Post only order" (``cancel``), or refused outright with
    ``EOrder:Post only order`` (``reject``)."""

    trigger_already_reached: Literal["fire", "reject"] = "fire"
    """Inferred: a stop-loss / take-profit whose trigger the reference price has already
    reached when it arrives fires at once (``fire``) or is refused with
    ``EOrder:Invalid price`` (``reject``)."""

    reduce_only_overflow: Literal["clip", "reject"] = "clip"
    """Inferred: a reduce-only order larger than the open position fills only up to the
    position (``clip``) or is refused with ``EOrder:Reduce only:Position size exceeded``
    (``reject``). The docs say only that it "will only reduce a currently open position,
    not increase it or open a new position"."""

    opposite_margin_closes_first: bool = True
    """Inferred from Kraken's help centre ("margin positions are closed by opening a
    position in the opposite direction"): a margin order against an open position
    closes it first, FIFO; only the rest opens a new position. False: the two are kept
    as separate positions (hedged), which Kraken does not do."""

    default_fee_currency: Literal["quote", "by_side"] = "quote"
    """Inferred: the fee currency when neither ``fcib`` nor ``fciq`` is given. The
    answers ccxt recorded from Kraken show ``oflags: "fciq"`` on buys and sells alike,
    so ``quote``; ``by_side`` charges sells in the base currency instead."""

    query_unknown_txid: Literal["error", "omit"] = "error"
    """Inferred: ``QueryOrders`` with a txid the venue never issued answers
    ``EOrder:Invalid order`` (``error``) or leaves it out of the result (``omit``)."""

    unset_userref: Literal[0, None] = 0
    """Inferred: what order info shows as ``userref`` when none was given. The answers
    ccxt recorded from Kraken (2024) show ``0``, which ccxt then reports as the
    client order id ``"0"``; a later example in ccxt's source shows ``null``."""

    max_open_orders: int | None = None
    """Documented error, inferred number: with a limit, an order past that many open
    orders is refused with ``EOrder:Orders limit exceeded`` (Kraken's limits depend on
    the account's tier and pair, https://docs.kraken.com/api/docs/guides/spot-ratelimits).
    None: no limit."""

    leverage_error: str = "EGeneral:Invalid arguments:leverage"
    """Inferred: the error text for a leverage not in the pair's ``leverage_buy`` /
    ``leverage_sell`` list (AssetPairs documents the lists, not the refusal)."""
