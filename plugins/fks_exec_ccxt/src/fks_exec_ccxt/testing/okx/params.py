"""Parsing and checking the parameters of OKX order requests (see :mod:`.trading`).

Formats from https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order:
``clOrdId`` "A combination of case-sensitive alphanumerics, all numbers, or all letters
of up to 32 characters", ``tag`` the same up to 16. Numbers are decimal strings. A bad
value is refused with 51000 "Parameter {name} error"; a missing required one with 50014.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fks_exec_ccxt.testing.okx import errors
from fks_exec_ccxt.testing.okx.markets import Instrument

__all__ = [
    "CLIENT_ID",
    "TAG",
    "check_size",
    "choice",
    "decimal",
    "flag",
    "order_price",
    "positive",
    "required_price",
    "tag",
    "tick_price",
]

CLIENT_ID = re.compile(r"[A-Za-z0-9]{1,32}")
TAG = re.compile(r"[A-Za-z0-9]{1,16}")


def choice(body: Mapping[str, Any], name: str, allowed: set[str] | frozenset[str]) -> str:
    """One of ``allowed``; raises 50014 if missing (51000 for ``ordType``), 51000 if not allowed."""
    value = body.get(name)
    if value in (None, ""):
        raise errors.empty_parameter(name) if name != "ordType" else errors.parameter(name)
    if value not in allowed:
        raise errors.parameter(name)
    return str(value)


def tag(value: Any) -> str:
    """A valid ``tag`` or ""; raises 51000."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not TAG.fullmatch(value):
        raise errors.parameter("tag")
    return value


def decimal(value: Any, name: str) -> Decimal:
    """A finite decimal; raises 51000."""
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise errors.parameter(name) from exc
    if not number.is_finite():
        raise errors.parameter(name)
    return number


def positive(value: Any, name: str) -> Decimal:
    """A decimal > 0; raises 51000 if missing or not positive."""
    if value in (None, ""):
        raise errors.parameter(name)
    number = decimal(value, name)
    if number <= 0:
        raise errors.parameter(name)
    return number


def tick_price(value: Any, inst: Instrument, name: str = "px") -> Decimal | None:
    """A price on the tick grid, or None if absent; raises 51000."""
    if value in (None, ""):
        return None
    price = positive(value, name)
    if price % inst.tick_sz:
        raise errors.parameter(name)
    return price


def required_price(body: Mapping[str, Any], name: str, inst: Instrument) -> Decimal:
    """A price on the tick grid; raises 51000 if absent."""
    found = tick_price(body.get(name), inst, name)
    if found is None:
        raise errors.parameter(name)
    return found


def order_price(body: Mapping[str, Any], name: str, inst: Instrument) -> Decimal:
    """``-1`` (market) or a price on the tick grid; raises 51000."""
    value = body.get(name)
    if str(value) == "-1":
        return Decimal(-1)
    return required_price(body, name, inst)


def check_size(inst: Instrument, sz: Decimal) -> None:
    """Refuse ``sz`` off the lot grid (51121) or below ``minSz`` (51020)."""
    if sz % inst.lot_sz:
        raise errors.not_lot_multiple()
    if sz < inst.min_sz:
        raise errors.below_minimum()


def flag(value: Any) -> bool:
    """OKX booleans: ``true`` or ``"true"``."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
