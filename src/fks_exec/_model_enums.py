"""The enumerations of the order API: sides, order types, time in force, statuses, errors.

Each accepts its value in any case (``OrderSide("BUY")``) and prints as its value.
Import them from :mod:`fks_exec.models` (or ``fks_exec``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = [
    "FINAL_STATUSES",
    "UNSUCCESSFUL_STATUSES",
    "ErrorCode",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
]


class _LowerStrEnum(str, Enum):
    """A string enum that also accepts its values in any case ("BUY", "Buy")."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            for member in cls:
                if member.value == lowered:
                    return member
        return None

    def __str__(self) -> str:
        return str(self.value)


class OrderSide(_LowerStrEnum):
    """Direction of an order."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self._value_ == "buy" else -1

    @property
    def opposite(self) -> OrderSide:
        """The side that closes a position opened by this side."""
        return OrderSide("sell" if self._value_ == "buy" else "buy")


class OrderType(_LowerStrEnum):
    """How an order is priced: ``price`` is the limit, ``stop_price`` the trigger."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(_LowerStrEnum):
    """How long an order stays working at the broker."""

    GTC = "gtc"
    DAY = "day"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(_LowerStrEnum):
    """Where an order stands.

    ``unknown`` means the order was sent but its fate is not known yet (a timeout or a
    dropped connection after sending): reconcile it, never resend it under a new id.
    """

    PENDING = "pending"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """True when the order can no longer change (filled, canceled, rejected, expired)."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
"""Statuses after which an order can no longer change."""
UNSUCCESSFUL_STATUSES = frozenset({OrderStatus.REJECTED, OrderStatus.UNKNOWN})
"""Statuses whose result has ``success=False``."""


class ErrorCode(_LowerStrEnum):
    """Why an order failed, in terms that do not depend on the broker."""

    INVALID_ORDER = "invalid_order"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    MARKET_CLOSED = "market_closed"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    NOT_SUPPORTED = "not_supported"
    NETWORK = "network"
    TIMEOUT = "timeout"
    UNKNOWN = "unknown"
