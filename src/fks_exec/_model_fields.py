"""The field types the models share, and the checks behind them.

``Symbol``, ``Quantity``, ``Price``, ``Amount``, ``NonNegative``, ``ClientOrderId``,
``UtcDatetime``, ``JsonSafe`` and ``Params`` are annotated types: pydantic applies their
checks when a model is built, and raises ``pydantic.ValidationError`` (a ``ValueError``)
for a value that fails one. :func:`json_safe`, :func:`plainly_json`,
:func:`new_client_order_id` and :func:`utc_now` are helpers the models and plugins use.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from datetime import datetime, timezone
from decimal import Decimal
from math import inf
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field

__all__ = [
    "FROZEN",
    "Amount",
    "ClientOrderId",
    "JsonSafe",
    "NonNegative",
    "Params",
    "Price",
    "Quantity",
    "Symbol",
    "UtcDatetime",
    "json_safe",
    "new_client_order_id",
    "plainly_json",
    "utc_now",
]

_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is timezone.utc:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware; pass e.g. datetime.now(timezone.utc)")
    return value.astimezone(timezone.utc)


def _symbol(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("symbol must not be empty; pass the instrument, e.g. 'BTC/USDT'")
    if any(not ch.isprintable() for ch in stripped):
        raise ValueError(f"symbol {stripped!r} contains control characters")
    return stripped


def _client_order_id(value: str) -> str:
    if not _CLIENT_ORDER_ID.fullmatch(value):
        raise ValueError(
            f"client_order_id {value!r} is invalid: use 1 to 36 characters of "
            "letters, digits, '_' and '-' (no spaces)"
        )
    return value


def _params(value: dict[str, Any]) -> dict[str, Any]:
    # NaN and infinities are the values the journal's JSON cannot hold at all (it would
    # store null); every other value it stores as its JSON form (see Order.same_request).
    if value:
        try:
            json.dumps(value, allow_nan=False, default=str)
        except ValueError as exc:  # the text of json's own error varies by Python version
            why = (
                "NaN and infinities have no JSON form; pass a finite number, None or text "
                "such as 'nan'"
                if "Out of range float" in str(exc)
                else "a value refers to itself; pass plain numbers, text, lists and dicts"
            )
            raise ValueError(f"params cannot be journaled: {why}") from None
    return value


def _json_safe(value: Any) -> Any:
    # One pass of the C encoder settles the common case; only a payload that fails it
    # (NaN, Decimal, an odd object) is walked and made safe.
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return json_safe(value)
    return value


def json_safe(value: Any) -> Any:
    """``value`` made JSON-safe: NaN and infinities become None, unknown objects text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)


_NONE_TYPE = type(None)
_MAX_DEPTH = 32


def plainly_json(value: Any) -> bool:
    """True when ``value`` is JSON as it stands: str, int, bool, None, finite floats,
    and lists, tuples and str-keyed dicts of those, nested at most 32 deep.

    Such a value is what making it JSON-safe would return unchanged; anything else
    (NaN, a Decimal, a non-str key, a subclass) answers False. Never raises.
    """
    return _all_plain((value,), 0)


def _all_plain(
    values: Any,
    depth: int,
    str_: type = str,
    int_: type = int,
    bool_: type = bool,
    none: type = _NONE_TYPE,
    float_: type = float,
    dict_: type = dict,
    atoms: frozenset[type] = frozenset((int, bool, _NONE_TYPE)),
) -> bool:
    # Flat, and the types are parameters (fast locals, no set-up per call): it runs over
    # every value of every raw answer a plugin keeps.
    for value in values:
        kind = type(value)
        if kind is str_ or kind is int_ or kind is bool_ or kind is none:
            continue
        if kind is float_:
            if -inf < value < inf:
                continue
            return False
        if depth >= _MAX_DEPTH:
            return False
        if kind is dict_:
            for key, item in value.items():
                if type(key) is not str_:
                    return False
                kind = type(item)
                if kind is str_:  # most values of a venue's answer; the rest below
                    continue
                if kind is float_:
                    if -inf < item < inf:
                        continue
                    return False
                if kind in atoms:  # ints, bools and nulls too, without a call a level down
                    continue
                if not _all_plain((item,), depth + 1):
                    return False
        elif kind is list or kind is tuple:
            if not _all_plain(value, depth + 1):
                return False
        else:
            return False
    return True


def new_client_order_id() -> str:
    """Return a fresh client order id: 32 lowercase hex characters, laid out as a UUID
    version 7 (RFC 9562): the Unix time in milliseconds, then 74 random bits.

    Ids made later sort later (to the millisecond), so a journal's index grows at its
    end instead of at random places: fewer pages written and fsync'd per order. Two ids
    made in the same millisecond differ in their random bits (a collision needs about
    2**37 ids in one millisecond). Never raises.
    """
    random = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 + 62 used, 6 spare
    value = (
        (time.time_ns() // 1_000_000) << 80  # 48 bits until the year 10889
        | 0x7 << 76  # version 7
        | (random >> 68) << 64  # rand_a: 12 bits
        | 0b10 << 62  # the RFC 9562 variant
        | (random & _RAND_B_MASK)  # rand_b: 62 bits
    )
    return f"{value:032x}"


_RAND_B_MASK = (1 << 62) - 1


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(timezone.utc)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Symbol = Annotated[str, AfterValidator(_symbol)]
# pydantic's own Decimal validator converts floats through their text, refuses
# booleans, NaN and infinities, and checks the bounds in Rust.
Quantity = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
ClientOrderId = Annotated[str, AfterValidator(_client_order_id)]
JsonSafe = Annotated[Any, AfterValidator(_json_safe)]
Params = Annotated[dict[str, Any], AfterValidator(_params)]

FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)
"""Every model: immutable, unknown fields refused, strings kept as given."""
