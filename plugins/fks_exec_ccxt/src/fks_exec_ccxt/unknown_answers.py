"""Answers in which a venue says it does not know what became of a request.

ccxt raises such answers as an ``ExchangeError`` subclass (``BadRequest``, a bare
``ExchangeError``), which reads as a refusal. The venue has not refused: its backend timed
out or failed, and the order may exist or still be in flight. :func:`outcome_unknown`
names them, so the order is reconciled (``unknown``) and never resent.

* Any HTTP 5xx on the order's request: Binance Spot "HTTP Return Codes"
  (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes):
  "HTTP 5XX ... It is important to NOT treat this as a failure operation; the execution
  status is UNKNOWN and could have been a success". Applied to every venue: a server error
  says nothing of the order, and an ``unknown`` is only ever reconciled.
* Except Binance ``-1008`` (the derivatives error codes,
  https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code:
  "-1008 ... Server is currently overloaded with other requests. Please try again in a few
  minutes"; their general info calls an HTTP 503 with this message "a failure API
  operation" that "you can resend"): left to the plugin's usual reading.
* The per-venue codes below (answered with HTTP 200), each with its page.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["outcome_unknown"]

_BINANCE_FAMILY = frozenset({"binance", "binanceusdm", "binancecoinm", "binanceus"})
_BINANCE_FAILED = "-1008"
"""Binance's derivatives docs: a failure the venue took nothing of (see above)."""

_CODES: dict[str, tuple[str, dict[str, str]]] = {
    # Bybit v5 error codes (https://bybit-exchange.github.io/docs/v5/error): retCode.
    "bybit": (
        "retCode",
        {
            "10000": "Bybit v5 error page: 10000 Server Timeout",
            "10016": "Bybit v5 error page: 10016 Internal server error; Service is restarting",
            "5004": "Bybit 'Server Timeout' (the answer quoted in ccxt bybit.py's exceptions)",
            "170001": "Bybit v5 error page (spot): 170001 Internal error",
            "170032": "Bybit v5 error page (spot): 170032 Network error, please try again",
        },
    ),
    # KuCoin error codes (https://www.kucoin.com/docs-new/error-code): code.
    "kucoin": (
        "code",
        {"408000": "KuCoin 408000: Network timeout, please try again later"},
    ),
}
_CODES["kucoinfutures"] = _CODES["kucoin"]


def _field(body: str | None, name: str) -> str | None:
    if not body:
        return None
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or parsed.get(name) is None:
        return None
    return str(parsed[name])


def outcome_unknown(venue: str, status: int | None, body: str | None) -> str | None:
    """Why the answer ``body`` (HTTP ``status``) from ``venue`` leaves the request's outcome
    unknown, or None when it does not say so. Never raises."""
    if status is not None and 500 <= status <= 599:
        if venue in _BINANCE_FAMILY and _field(body, "code") == _BINANCE_FAILED:
            return None
        return f"the exchange answered HTTP {status}: a server error, the outcome is unknown"
    entry = _CODES.get(venue)
    if entry is None:
        return None
    name, codes = entry
    code = _field(body, name)
    why = codes.get(code) if code is not None else None
    return None if why is None else f"{why}: the outcome is unknown"
