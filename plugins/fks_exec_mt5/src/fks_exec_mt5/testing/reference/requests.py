"""Reading the request dict of ``order_send``/``order_check`` as the terminal would.

Fields: the MqlTradeRequest structure (https://www.mql5.com/en/docs/constants/structures/mqltraderequest,
listed for Python at https://www.mql5.com/en/docs/python_metatrader5/mt5ordersend_py).
Missing fields are zero/empty, as in the C structure. A request the terminal cannot
read (not a dict, unknown field, wrong type, comment over 31 characters) never reaches
the server: the call returns ``None`` and last_error is -2 RES_E_INVALID_PARAMS
(**inferred** message texts). The 31-character comment limit is the terminal's
(https://www.metatrader5.com/en/terminal/help/trading/positions_manage/open_positions/position_instant:
"The maximal comment length is 31 symbols"); the fake refuses longer ones unless
``truncate_long_comments`` is set, in which case the server keeps the first 31.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from fks_exec_mt5.testing.reference.records import Record, TradeRequest

__all__ = ["COMMENT_LIMIT", "ParsedRequest", "RequestError", "parse_request", "seconds_arg"]

COMMENT_LIMIT: Final = 31
_INT_FIELDS: Final = (
    "action",
    "magic",
    "order",
    "deviation",
    "type",
    "type_filling",
    "type_time",
    "position",
    "position_by",
)
_PRICE_FIELDS: Final = ("volume", "price", "stoplimit", "sl", "tp")
_KNOWN: Final = frozenset((*_INT_FIELDS, *_PRICE_FIELDS, "symbol", "expiration", "comment"))
_NOISE: Final = Decimal("1e-10")


class RequestError(ValueError):
    """The terminal could not read the request; ``str()`` is last_error's message."""


@dataclass(frozen=True)
class ParsedRequest:
    """A trade request with prices and volumes as Decimal (float noise removed)."""

    action: int
    magic: int
    order: int
    symbol: str
    volume: Decimal
    price: Decimal
    stoplimit: Decimal
    sl: Decimal
    tp: Decimal
    deviation: int
    type: int
    type_filling: int
    type_time: int
    expiration: int
    comment: str
    position: int
    position_by: int
    echo: Record


def seconds_arg(value: object) -> int:
    """A date argument as the terminal reads it: the number of seconds of its clock.

    An ``int`` is taken as is; an aware ``datetime`` by its ``timestamp()``; a naive one
    by its wall-clock digits. The terminal compares the number with server-time stamps,
    so a caller wanting "server time T" must pass T's digits (see state.py).
    Raises ``RequestError`` for anything else.
    """
    if isinstance(value, bool):
        raise RequestError("Invalid date argument")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return calendar.timegm(value.timetuple())
        return int(value.timestamp())
    raise RequestError("Invalid date argument")


def parse_request(raw: object, *, truncate_long_comments: bool = False) -> ParsedRequest:
    """Read ``raw``; raises ``RequestError`` if the terminal would refuse it."""
    if not isinstance(raw, dict):
        raise RequestError("Invalid arguments")
    unknown = sorted(str(key) for key in raw if key not in _KNOWN)
    if unknown:
        raise RequestError(f'Invalid "{unknown[0]}" argument')
    ints = {name: _int_field(raw, name) for name in _INT_FIELDS}
    prices = {name: _price_field(raw, name) for name in _PRICE_FIELDS}
    symbol = raw.get("symbol", "")
    comment = raw.get("comment", "")
    if not isinstance(symbol, str) or not isinstance(comment, str):
        raise RequestError('Invalid "symbol" or "comment" argument')
    if len(comment) > COMMENT_LIMIT:
        if not truncate_long_comments:
            raise RequestError('Invalid "comment" argument')
        comment = comment[:COMMENT_LIMIT]
    expiration = seconds_arg(raw.get("expiration", 0))
    echo = TradeRequest(
        (
            ints["action"],
            ints["magic"],
            ints["order"],
            symbol,
            float(prices["volume"]),
            float(prices["price"]),
            float(prices["stoplimit"]),
            float(prices["sl"]),
            float(prices["tp"]),
            ints["deviation"],
            ints["type"],
            ints["type_filling"],
            ints["type_time"],
            expiration,
            comment,
            ints["position"],
            ints["position_by"],
        )
    )
    return ParsedRequest(
        action=ints["action"],
        magic=ints["magic"],
        order=ints["order"],
        symbol=symbol,
        volume=prices["volume"],
        price=prices["price"],
        stoplimit=prices["stoplimit"],
        sl=prices["sl"],
        tp=prices["tp"],
        deviation=ints["deviation"],
        type=ints["type"],
        type_filling=ints["type_filling"],
        type_time=ints["type_time"],
        expiration=expiration,
        comment=comment,
        position=ints["position"],
        position_by=ints["position_by"],
        echo=echo,
    )


def _int_field(raw: dict[Any, Any], name: str) -> int:
    value = raw.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RequestError(f'Invalid "{name}" argument')
    return value


def _price_field(raw: dict[Any, Any], name: str) -> Decimal:
    value = raw.get(name, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RequestError(f'Invalid "{name}" argument')
    return Decimal(repr(float(value))).quantize(_NOISE).normalize()
