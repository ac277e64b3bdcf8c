"""Kraken's error answers: ``{"error": ["<severity><category>:<message>"], "result": ...}``.

The format and the texts below are from Kraken's error pages
(https://docs.kraken.com/api/docs/guides/spot-errors and
https://support.kraken.com/hc/en-us/articles/360001491786-API-error-messages) and the
REST reference (https://docs.kraken.com/api/); Kraken answers them with HTTP 200. Texts
the fake makes up where the docs are silent live in :class:`~.rules.Rules`, labelled.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CANCEL_ONLY",
    "COST_MINIMUM_NOT_MET",
    "INDEX_UNAVAILABLE",
    "INSUFFICIENT_FUNDS",
    "INSUFFICIENT_MARGIN",
    "INVALID_ARGUMENTS",
    "INVALID_KEY",
    "INVALID_NONCE",
    "INVALID_PRICE",
    "INVALID_SIGNATURE",
    "MARGIN_LEVEL_TOO_LOW",
    "MINIMUM_NOT_MET",
    "ORDERS_LIMIT",
    "POST_ONLY",
    "REDUCE_ONLY_EXCEEDED",
    "REDUCE_ONLY_NO_POSITION",
    "TICK_SIZE",
    "UNAVAILABLE",
    "UNKNOWN_ORDER",
    "UNKNOWN_PAIR",
    "KrakenError",
    "body",
    "invalid_argument",
]

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ORDER = "EOrder:Unknown order"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
INSUFFICIENT_MARGIN = "EOrder:Insufficient margin"
"""Documented as the exchange's margin pool being depleted (not modelled: never raised)."""
MARGIN_LEVEL_TOO_LOW = "EOrder:Margin level too low"
"""Documented: the client has too little equity or collateral for the margin order."""
INDEX_UNAVAILABLE = "EGeneral:Invalid arguments:Index unavailable"
"""Documented: index pricing is unavailable for stop/profit orders on this pair."""
ORDERS_LIMIT = "EOrder:Orders limit exceeded"
TICK_SIZE = "EOrder:Tick size check failed"
MINIMUM_NOT_MET = "EOrder:Order minimum not met"
COST_MINIMUM_NOT_MET = "EOrder:Cost minimum not met"
INVALID_PRICE = "EOrder:Invalid price"
UNAVAILABLE = "EService:Unavailable"
CANCEL_ONLY = "EService:Market in cancel_only mode"
POST_ONLY = "EOrder:Post only order"
"""Inferred text (used only with ``Rules(post_only_crossing="reject")``)."""
REDUCE_ONLY_NO_POSITION = "EOrder:Reduce only:No position exists"
REDUCE_ONLY_EXCEEDED = "EOrder:Reduce only:Position size exceeded"
"""Inferred text (used only with ``Rules(reduce_only_overflow="reject")``)."""


class KrakenError(Exception):
    """A refusal the venue answers as ``{"error": [message]}`` (HTTP 200 unless given)."""

    def __init__(self, message: str, http_status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def invalid_argument(name: str) -> KrakenError:
    """``EGeneral:Invalid arguments:<name>``: the documented shape of a bad parameter."""
    return KrakenError(f"{INVALID_ARGUMENTS}:{name}")


def body(error: KrakenError) -> dict[str, Any]:
    """The JSON answer for a refusal."""
    return {"error": [error.message]}
