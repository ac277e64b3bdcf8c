"""OKX's error codes and the two shapes its error answers take.

Codes, messages and HTTP statuses are OKX's, from the error-code tables at
https://www.okx.com/docs-v5/en/#error-code-rest-api-public (General, API and Trade
classes). Two shapes:

* a request-level failure (authentication, rate limit, maintenance, a bad query):
  ``{"code": "50113", "msg": "Invalid signature.", "data": []}`` with the HTTP status
  from the table;
* a per-order failure in an order endpoint (place/cancel, single or batch): HTTP 200,
  ``{"code": "1", "msg": "Operation failed.", "data": [{..., "sCode": "51008",
  "sMsg": "..."}]}`` — code ``2`` when a batch partly succeeded. The shape with
  ``sCode``/``sMsg`` per entry is the docs' "Place order" response
  (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order) and
  the answer ccxt quotes in ``okx.handle_errors`` / ``create_order_request``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OkxError", "order_answer_body", "request_failure_body"]


class OkxError(Exception):
    """A refusal in OKX's terms: ``code``, ``msg`` and the HTTP status it comes with."""

    def __init__(self, code: str, msg: str, http_status: int = 200) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status


# --- General and API classes (request-level) -------------------------------------
def maintenance() -> OkxError:
    """50001 / HTTP 503: the service is temporarily unavailable (ccxt: OnMaintenance)."""
    return OkxError("50001", "Service temporarily unavailable. Please try again later.", 503)


def rate_limited() -> OkxError:
    """50011 / HTTP 429: too many requests (ccxt: RateLimitExceeded)."""
    return OkxError("50011", "Too Many Requests", 429)


def empty_parameter(name: str) -> OkxError:
    """50014 / HTTP 400: a required parameter is missing."""
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def auth(code: str) -> OkxError:
    """A 501xx authentication failure, HTTP 401 (50102 timestamp expired, 50113 sign)."""
    messages = {
        "50102": "Timestamp request expired.",
        "50103": 'Request header "OK-ACCESS-KEY" cannot be empty.',
        "50104": 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.',
        "50105": 'Request header "OK-ACCESS-PASSPHRASE" incorrect.',
        "50106": 'Request header "OK-ACCESS-SIGN" cannot be empty.',
        "50107": 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.',
        "50111": "Invalid OK-ACCESS-KEY.",
        "50112": "Invalid OK-ACCESS-TIMESTAMP.",
        "50113": "Invalid signature.",
    }
    return OkxError(code, messages[code], 401)


# --- Trade class (per order, HTTP 200 inside an order endpoint) --------------------
def parameter(name: str) -> OkxError:
    """51000: "Parameter {param0} error" (ccxt: BadRequest)."""
    return OkxError("51000", f"Parameter {name} error")


def unknown_instrument() -> OkxError:
    """51001: the instrument does not exist (ccxt: BadSymbol)."""
    return OkxError("51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.")


def id_required() -> OkxError:
    """51003: neither ``ordId`` nor ``clOrdId`` was given."""
    return OkxError("51003", "Either client order ID or order ID is required.")


def insufficient(ccy: str, *, margin: bool) -> OkxError:
    """51008: not enough balance (spot) or margin (contracts) (ccxt: InsufficientFunds)."""
    what = "margin" if margin else "balance"
    return OkxError("51008", f"Order failed. Insufficient {ccy} {what} in account")


def duplicate_client_id() -> OkxError:
    """51016: the ``clOrdId`` is already used by a pending order (ccxt: InvalidOrder)."""
    return OkxError("51016", "Client order ID already exists.")


def below_minimum() -> OkxError:
    """51020: smaller than the instrument's ``minSz``."""
    return OkxError("51020", "Your order should meet or exceed the minimum order amount.")


def duplicate_algo_client_id() -> OkxError:
    """51065: the ``algoClOrdId`` already exists."""
    return OkxError("51065", "algoClOrdId already exists.")


def no_offers() -> OkxError:
    """51109: nothing to trade against (the fake has no quote for the instrument)."""
    return OkxError("51109", "No available offers.")


def close_exceeds_position() -> OkxError:
    """51112: a closing/reduce-only size larger than the position."""
    return OkxError("51112", "Close order size exceeds available size for this position.")


def not_lot_multiple() -> OkxError:
    """51121: ``sz`` is not a multiple of ``lotSz``."""
    return OkxError("51121", "Order quantity must be a multiple of the lot size.")


def spot_reduce_only() -> OkxError:
    """51139: reduce-only is unavailable for spot in spot mode."""
    return OkxError(
        "51139", "Reduce-only feature is unavailable for the spot transactions by spot mode."
    )


def nothing_to_reduce() -> OkxError:
    """51169: reduce-only without a position to reduce."""
    return OkxError(
        "51169",
        "Order failed because you don't have any positions in this direction for this "
        "contract to reduce or close.",
    )


def reduce_same_direction() -> OkxError:
    """51170: a reduce-only order in the direction of the position."""
    return OkxError(
        "51170",
        "Failed to place order. A reduce-only order can't be the same trading direction "
        "as your existing positions.",
    )


def trigger_vs_last(code: str) -> OkxError:
    """51277-51280: a TP/SL trigger on the wrong side of the last price."""
    messages = {
        "51277": "TP trigger price cannot be higher than the last price.",
        "51278": "SL trigger price cannot be lower than the last price.",
        "51279": "TP trigger price cannot be lower than the last price.",
        "51280": "SL trigger price cannot be higher than the last price.",
    }
    return OkxError(code, messages[code])


def cancel_failed(state: str) -> OkxError:
    """51400/51401/51402: cancel of an unknown, canceled or filled order (ccxt: OrderNotFound)."""
    if state == "canceled":
        return OkxError("51401", "Order cancellation failed as the order has been canceled.")
    if state == "filled":
        return OkxError("51402", "Order cancellation failed as the order has been completed.")
    return OkxError("51400", "Order cancellation failed as the order does not exist.")


def order_not_found() -> OkxError:
    """51603: "Order does not exist." (ccxt: OrderNotFound)."""
    return OkxError("51603", "Order does not exist.")


def request_failure_body(error: OkxError) -> dict[str, Any]:
    """The request-level error answer."""
    return {"code": error.code, "msg": error.msg, "data": []}


def order_answer_body(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """An order endpoint's answer: code 0 (all ok), 1 (all failed) or 2 (some failed)."""
    failed = sum(1 for entry in entries if entry.get("sCode") != "0")
    if failed == 0:
        return {"code": "0", "msg": "", "data": entries}
    if failed == len(entries):
        return {"code": "1", "msg": "Operation failed.", "data": entries}
    return {"code": "2", "msg": "Bulk operation partially succeeded.", "data": entries}
