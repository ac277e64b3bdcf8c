"""Kraken's error answers: ``{"error": ["<severity><category>:<message>"], "result": ...}``.

The format and the texts below are from Kraken's error page
(https://support.kraken.com/hc/en-us/articles/360001491786-API-error-messages) and the
REST reference (https://docs.kraken.com/api/); Kraken answers them with HTTP 200. Texts
the fake makes up where the docs are silent live in :class:`~.rules.Rules`, labelled.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CANCEL_ONLY",
    "COST_MINIMUM_NOT_MET",
    "INSUFFICIENT_FUNDS",
    "INSUFFICIENT_MARGIN",
    "INVALID_ARGUMENTS",
    "INVALID_KEY",
    "INVALID_NONCE",
    "INVALID_PRICE",
    "INVALID_SIGNATURE",
    "MINIMUM_NOT_MET",
    "POST_ONLY",
    "REDUCE_ONLY_EXCEEDED",
    "REDUCE_ONLY_NO_POSITION",
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
MINIMUM_NOT_MET = "EOrder:Order minimum not met"
COST_MINIMUM_NOT_MET = "EOrder:Cost minimum not met"
"""Inferred text: an order whose cost is below the pair's ``costmin``."""
INVALID_PRICE = "EOrder:Invalid price"
UNAVAILABLE = "EService:Unavailable"
CANCEL_ONLY = "EService:Market in cancel_only mode"
POST_ONLY = "EOrder:Post only order"
"""Inferred text (used only with ``Rules(post_only_crossing="reject")``)."""
REDUCE_ONLY_NO_POSITION = "EOrder:Reduce only:No position exists"
"""Inferred text: a reduce-only order with no position to reduce."""
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
