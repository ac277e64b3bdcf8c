"""A venue's raw answer, read before ccxt parses it: numbers bounded, evidence found.

ccxt turns every number of a body into floats and exact strings (``Precise``) in its
own code, where ``"1e40000000"`` stalls the event loop for a minute and ``1e400``
becomes a fill of 0. So :func:`check_body` runs on the body text first (from the
``on_rest_response`` hook, see :func:`fks_exec_ccxt.errors.instrument`) and raises
:class:`UnsafeNumber` (a ccxt ``BadResponse``: the request's fate is unknown) for a
number ccxt must never see. :func:`order_evidence` says whether a body that ccxt read as
a refusal also shows the order exists or filled, which makes the refusal no answer.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt.async_support as ccxt

__all__ = [
    "MAX_EXPONENT",
    "MAX_MAGNITUDE_DIGITS",
    "MAX_TEXT",
    "UnsafeNumber",
    "check_body",
    "order_evidence",
    "unsafe_reason",
]

MAX_TEXT = 64
"""A number's text is at most this long (as :func:`fks_exec.kit.broker_decimal`)."""
MAX_EXPONENT = 64
"""The exponent of a number's text is within +-64 (``1e-65`` and ``1e400`` are refused)."""
MAX_MAGNITUDE_DIGITS = 30
"""A number is below 1e30 in magnitude: no price, quantity or cost is that large."""

# Cheap first pass, in C byte operations only (a regex over every answer cost more than
# the rest of the plugin): a body can hold a number out of bounds only if it has a
# NaN/Infinity word, a run of 20 or more digits, or an exponent form (digits, e, then a
# digit or sign) whose digits do not continue a word, as they do in hex ids. Below 20
# digits without an exponent, a number is under 1e20 and at most 19+ characters.
#
# The body is scanned as its UTF-8 bytes (no byte of a multi-byte character is ASCII),
# through one table: digits, "_" and "." become 0, e and E become e, the letters of the
# words keep a mark of their own (N and n become n, a and f become A), every other
# ASCII letter becomes x. Each substring search costs a pass over the body and a fixed
# ~1,500 instructions, so the shape is searched for the few forms that can begin each
# case ("0e", and "nA", which every word has: NaN, nan, inf, Infinity), and the exact
# words only where one of those is present.
_SHAPE = bytes.maketrans(
    b"0123456789_.eEafNbcdghijklmopqrstuvwxyzABCDFGHIJKLMOPQRSTUVWXYZ",
    b"0" * 12 + b"ee" + b"AA" + b"n" + b"x" * 46,
)
_RUN = b"0" * 20
_NOT_DIGIT = re.compile(b"[^0]")  # where a run of digits ends
_EXPONENT_NEXT = (b"0", b"+", b"-")
_DIGIT, _QUOTE, _COLON = ord("0"), ord('"'), ord(":")
_WORD = b"xeAn"  # a digit after one of these continues a word (a hex id)


def _suspect(text: str) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    shape = data.translate(_SHAPE)
    if shape.find(b"nA") != -1 and (
        data.find(b"NaN") != -1 or data.find(b"nan") != -1 or data.find(b"nf") != -1
    ):
        return True
    at = shape.find(_RUN)
    while at != -1:
        if _starts_a_number(data, shape, at):
            return True  # a long number
        # Every later hit inside this run of digits begins the same token: go past the
        # run (a hit per digit, each walking the run back, was quadratic in its length:
        # a 5,000-digit id took 0.9 s).
        past = _NOT_DIGIT.search(shape, at)
        at = -1 if past is None else shape.find(_RUN, past.start())
    at = shape.find(b"0e")
    while at != -1:
        if shape[at + 2 : at + 3] in _EXPONENT_NEXT and _starts_a_number(data, shape, at):
            return True  # a number in exponent form
        at = shape.find(b"0e", at + 1)
    return False


def _starts_a_number(data: bytes, shape: bytes, at: int) -> bool:
    # The digits around ``at`` begin a token (no word before them) outside an id string.
    start = at
    while start > 0 and shape[start - 1] == _DIGIT:
        start -= 1
    if start > 0 and shape[start - 1] in _WORD:
        return False
    return not _in_id_string(data, start)


_BLANK = b" \t\r\n"


def _in_id_string(data: bytes, start: int) -> bool:
    # True when data[start:] opens the string value of an id-like key ("clOrdId": "3e45...").
    # Either it is that id, or it sits inside another string: never a number ccxt parses.
    if start == 0 or data[start - 1] != _QUOTE:
        return False
    at = start - 2
    while at >= 0 and data[at] in _BLANK:
        at -= 1
    if at < 0 or data[at] != _COLON:
        return False
    at -= 1
    while at >= 0 and data[at] in _BLANK:
        at -= 1
    if at < 0 or data[at] != _QUOTE:
        return False
    begin = data.rfind(b'"', 0, at)
    return begin != -1 and _id_like(data[begin + 1 : at].decode("utf-8", "surrogatepass"))


# A string ccxt would read as a number: digits with an optional exponent, or the words
# Python's float() takes for NaN and infinity (case-sensitive: the coin INF is a name).
_NUMERIC = re.compile(
    r"\s*[+-]?(?:(?:[\d_]+\.?[\d_]*|\.[\d_]+)(?:[eE][+-]?[\d_]+)?|NaN|nan|[Ii]nf(?:inity)?)\s*"
)
_ID_NAMES = frozenset({"id", "txid", "text", "tag", "label", "cloid", "userref", "clientoid"})


class UnsafeNumber(ccxt.BadResponse):  # type: ignore[misc]  # ccxt is untyped
    """A venue's answer holds a number no real order has (too long, non-finite, an
    exponent beyond +-64, or 1e30 or more): it was not parsed, and the request's fate is
    unknown. ``venue`` and ``field`` (a path such as ``data[0].accFillSz``) say where."""

    def __init__(self, venue: str, field: str, text: str, why: str) -> None:
        shown = text if len(text) <= 24 else f"{text[:20]}..."
        super().__init__(
            f"{venue} answered {field} = {shown!r} ({why}); the answer was not read "
            "(ccxt never parsed it)"
        )
        self.venue = venue
        self.field = field


class _Token(str):
    """A JSON number (or NaN/Infinity) token, kept as its text for checking."""


def unsafe_reason(text: str) -> str | None:
    """Why the number ``text`` is out of bounds, or None when it is a sane number."""
    if len(text) > MAX_TEXT:
        return f"{len(text)} characters"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "not a number"
    if not number.is_finite():
        return "not finite"
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers have an int exponent
    if abs(exponent) > MAX_EXPONENT:
        return f"an exponent of {exponent}"
    if number and number.adjusted() >= MAX_MAGNITUDE_DIGITS:
        return f"1e{MAX_MAGNITUDE_DIGITS} or more"
    return None


def _id_like(key: str) -> bool:
    # Ids are text to ccxt (never numbers), and hex ids can look like 12e345.
    return key.lower() in _ID_NAMES or key.endswith(("Id", "ID", "_id", "Oid"))


def check_body(venue: str, text: str) -> None:
    """Raise :class:`UnsafeNumber` when the JSON body ``text`` holds an out-of-bounds
    number: a number token, or a string of a number outside id fields (venues send
    numbers as strings). Text that is not JSON is left to ccxt (it parses no numbers
    from it). Costs one regex scan unless the body has a suspicious number form."""
    if not _suspect(text):
        return
    try:
        tree = json.loads(text, parse_float=_Token, parse_int=_Token, parse_constant=_Token)
    except (ValueError, RecursionError):
        return
    found = _first_unsafe(tree)
    if found is not None:
        raise UnsafeNumber(venue, *found)


def _first_unsafe(tree: Any) -> tuple[str, str, str] | None:
    stack: list[tuple[str, Any, bool]] = [("body", tree, False)]
    while stack:
        path, value, id_like = stack.pop()
        if isinstance(value, _Token) or (
            isinstance(value, str) and not id_like and _NUMERIC.fullmatch(value)
        ):
            why = unsafe_reason(value)
            if why is not None:
                return path, value, why
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                stack.append((f"{path}.{key}", item, _id_like(str(key))))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((f"{path}[{index}]", value[index], id_like))
    return None


# ---------------------------------------------------------------- evidence of an order

_ORDER_IDS = frozenset({"ordid", "orderid", "order_id", "txid", "ordertxid", "algoid"})
_FILLED = frozenset(
    {
        "executedqty", "cumexecqty", "accfillsz", "fillsz", "filled", "filledsize",
        "filled_size", "filledamount", "filled_amount", "filledqty", "filled_qty",
        "dealsize", "deal_size", "dealamount", "deal_amount", "vol_exec", "cumqty",
        "cum_qty", "cumquantity", "executed_qty", "executedquantity",
    }
)  # fmt: skip
_STATES = frozenset({"status", "state", "orderstatus", "order_status", "ordstatus"})
_LIVE_STATES = frozenset(
    {
        "filled", "partially_filled", "partiallyfilled", "partially-filled",
        "partial-filled", "partial_filled", "closed", "new", "open", "live", "active",
    }
)  # fmt: skip
_NO_ID = frozenset({"", "0", "-1", "none", "null"})


def order_evidence(text: str | None) -> str | None:
    """Where the JSON body ``text`` shows the order exists or filled (a non-empty venue
    order id, a filled quantity above 0, a live or filled state), e.g.
    ``data[0].accFillSz = '1'``; None when it shows neither (or is not JSON)."""
    if not text:
        return None
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[str, Any]] = [("body", tree)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _evidence(str(key).lower(), item):
                    return f"{path}.{key} = {str(item)[:24]!r}"
            stack.extend((f"{path}.{k}", v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in reversed(list(enumerate(value))))
    return None


def _evidence(key: str, value: Any) -> bool:
    if isinstance(value, list) and key in _ORDER_IDS:  # kraken: "txid": ["O..."]
        return any(_evidence(key, item) for item in value)
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        return False
    text = str(value).strip()
    if key in _ORDER_IDS:
        return text.lower() not in _NO_ID
    if key in _FILLED:
        return unsafe_reason(text) is None and Decimal(text) > 0
    if key in _STATES:
        return text.lower() in _LIVE_STATES
    return False
