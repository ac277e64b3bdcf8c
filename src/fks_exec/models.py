"""The data that crosses the plugin boundary: orders, results, quotes, positions.

Every model is an immutable pydantic v2 model. Prices and quantities are ``Decimal``:
floats and numeric strings are accepted on input and converted exactly through their
text (``0.1`` becomes ``Decimal("0.1")``), so no binary rounding creeps into money.
Datetimes are timezone-aware UTC; naive datetimes are rejected.

An invalid value raises ``pydantic.ValidationError`` (a ``ValueError``) at construction,
before anything can reach a broker.

The models live in modules of one job (:mod:`fks_exec._model_enums`,
:mod:`fks_exec._model_fields`, :mod:`fks_exec._order_model`,
:mod:`fks_exec._result_model`); import them from here or from ``fks_exec``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from fks_exec._model_enums import ErrorCode, OrderSide, OrderStatus, OrderType, TimeInForce
from fks_exec._model_fields import (  # noqa: F401 - the helpers are re-exported for plugins
    FROZEN,
    Amount,
    NonNegative,
    Price,
    Symbol,
    UtcDatetime,
    json_safe,
    new_client_order_id,
    utc_now,
)
from fks_exec._order_model import Order
from fks_exec._result_model import ExecutionResult

__all__ = [
    "ErrorCode",
    "ExecutionResult",
    "HealthStatus",
    "MarketData",
    "Order",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "TimeInForce",
]


class MarketData(BaseModel):
    """A quote snapshot. Fields the broker does not give are None."""

    model_config = FROZEN

    symbol: Symbol
    bid: Price | None = None
    ask: Price | None = None
    last: Price | None = None
    volume: NonNegative | None = None
    timestamp: UtcDatetime = Field(default_factory=utc_now)

    @property
    def mid(self) -> Decimal | None:
        """Midpoint of bid and ask, or None when either is missing."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


class Position(BaseModel):
    """A net position: ``quantity`` is positive when long and negative when short."""

    model_config = FROZEN

    symbol: Symbol
    quantity: Amount
    average_price: Price | None = None
    unrealized_pnl: Amount | None = None
    account: str | None = None
    unit: str | None = None
    """What ``quantity`` counts when the plugin says: ``contracts`` (derivatives),
    ``base`` (spot: the base currency), ``lots`` ...; the unit orders take, so a
    position is closed by an order of ``quantity``."""
    contract_size: Price | None = None
    """Base currency (or quote, for inverse contracts) per contract, when in contracts."""


class HealthStatus(BaseModel):
    """Whether a plugin can trade right now, with the latency of the check."""

    model_config = FROZEN

    healthy: bool
    latency_ms: float | None = Field(default=None, ge=0)
    detail: str = ""
