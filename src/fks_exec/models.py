"""The data that crosses the plugin boundary: orders, results, quotes, positions.

Every model is an immutable pydantic v2 model. Prices and quantities are ``Decimal``:
floats and numeric strings are accepted on input and converted exactly through their
text (``0.1`` becomes ``Decimal("0.1")``), so no binary rounding creeps into money.
Datetimes are timezone-aware UTC; naive datetimes are rejected.

An invalid value raises ``pydantic.ValidationError`` (a ``ValueError``) at construction,
before anything can reach a broker.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

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
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_UNSUCCESSFUL_STATUSES = frozenset({OrderStatus.REJECTED, OrderStatus.UNKNOWN})


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


# --------------------------------------------------------------------------- helpers

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


def new_client_order_id() -> str:
    """Return a fresh random client order id (32 hex characters)."""
    return uuid.uuid4().hex


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

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


# --------------------------------------------------------------------------- Order


class Order(BaseModel):
    """An order as strategy code states it, validated before any broker sees it.

    Use the constructors :meth:`market`, :meth:`limit`, :meth:`stop` and
    :meth:`stop_limit`, or the class itself with ``type=``.

    Raises ``pydantic.ValidationError`` (a ``ValueError``) for: an empty symbol; a
    quantity that is zero, negative, NaN, infinite or not a number; a limit or
    stop-limit without ``price``; a market or stop order with ``price``; a stop or
    stop-limit without ``stop_price`` (or another type with one); a stop loss or take
    profit on the wrong side of the reference price; a malformed client order id; a
    naive ``created_at``.
    """

    model_config = _FROZEN

    symbol: Symbol
    side: OrderSide
    type: OrderType
    quantity: Quantity
    price: Price | None = None
    """Limit price; required for ``limit`` and ``stop_limit``."""
    stop_price: Price | None = None
    """Trigger price; required for ``stop`` and ``stop_limit``."""
    stop_loss: Price | None = None
    """Protective stop attached to the order, placed once the order fills."""
    take_profit: Price | None = None
    """Profit-taking limit attached to the order, placed once the order fills."""
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId = Field(default_factory=new_client_order_id)
    """Idempotency key: the same id is never executed twice."""
    reduce_only: bool = False
    account: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    """Broker-specific options passed through untouched."""
    created_at: UtcDatetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _check_prices(self) -> Order:
        kind = self.type
        needs_price = kind in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = kind in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and self.price is None:
            raise ValueError(f"a {kind.value} order needs price= (its limit price)")
        if not needs_price and self.price is not None:
            hint = "use a limit order" if kind is OrderType.MARKET else "use stop_limit"
            raise ValueError(f"a {kind.value} order takes no price=; {hint} to set a limit")
        if needs_stop and self.stop_price is None:
            raise ValueError(f"a {kind.value} order needs stop_price= (its trigger price)")
        if not needs_stop and self.stop_price is not None:
            raise ValueError(
                f"a {kind.value} order takes no stop_price=; use a stop or stop_limit order"
            )
        self._check_protection()
        return self

    def _check_protection(self) -> None:
        sl, tp = self.stop_loss, self.take_profit
        if sl is not None and tp is not None and sl == tp:
            raise ValueError("stop_loss and take_profit must differ")
        reference = self.reference_price
        buy = self.side is OrderSide.BUY
        if sl is not None and tp is not None and (sl > tp if buy else sl < tp):
            relation = "below" if buy else "above"
            raise ValueError(
                f"for a {self.side.value}, stop_loss ({sl}) must be {relation} take_profit ({tp})"
            )
        if reference is None:
            return
        if sl is not None and (sl >= reference if buy else sl <= reference):
            relation = "below" if buy else "above"
            raise ValueError(
                f"for a {self.side.value}, stop_loss ({sl}) must be {relation} "
                f"the order price ({reference})"
            )
        if tp is not None and (tp <= reference if buy else tp >= reference):
            relation = "above" if buy else "below"
            raise ValueError(
                f"for a {self.side.value}, take_profit ({tp}) must be {relation} "
                f"the order price ({reference})"
            )

    @property
    def reference_price(self) -> Decimal | None:
        """The price SL/TP are checked against: ``price``, else ``stop_price``, else None."""
        return self.price if self.price is not None else self.stop_price

    @property
    def has_bracket(self) -> bool:
        """True when a stop loss or take profit is attached."""
        return self.stop_loss is not None or self.take_profit is not None

    @classmethod
    def market(
        cls, symbol: str, side: OrderSide | str, quantity: Decimal | float | str, **kw: Any
    ) -> Order:
        """Build a market order. Raises ``pydantic.ValidationError`` on invalid input."""
        return cls(symbol=symbol, side=side, type=OrderType.MARKET, quantity=quantity, **kw)

    @classmethod
    def limit(
        cls,
        symbol: str,
        side: OrderSide | str,
        quantity: Decimal | float | str,
        price: Decimal | float | str,
        **kw: Any,
    ) -> Order:
        """Build a limit order. Raises ``pydantic.ValidationError`` on invalid input."""
        return cls(
            symbol=symbol, side=side, type=OrderType.LIMIT, quantity=quantity, price=price, **kw
        )

    @classmethod
    def stop(
        cls,
        symbol: str,
        side: OrderSide | str,
        quantity: Decimal | float | str,
        stop_price: Decimal | float | str,
        **kw: Any,
    ) -> Order:
        """Build a stop (market on trigger) order. Raises ``pydantic.ValidationError``."""
        return cls(
            symbol=symbol,
            side=side,
            type=OrderType.STOP,
            quantity=quantity,
            stop_price=stop_price,
            **kw,
        )

    @classmethod
    def stop_limit(
        cls,
        symbol: str,
        side: OrderSide | str,
        quantity: Decimal | float | str,
        stop_price: Decimal | float | str,
        price: Decimal | float | str,
        **kw: Any,
    ) -> Order:
        """Build a stop-limit order: at ``stop_price`` a limit at ``price`` is placed.

        Raises ``pydantic.ValidationError`` on invalid input.
        """
        return cls(
            symbol=symbol,
            side=side,
            type=OrderType.STOP_LIMIT,
            quantity=quantity,
            stop_price=stop_price,
            price=price,
            **kw,
        )

    def same_request(self, other: Order) -> bool:
        """True when ``other`` asks for the same thing (``created_at`` ignored)."""
        return self.model_dump(exclude={"created_at"}) == other.model_dump(exclude={"created_at"})


# --------------------------------------------------------------------------- results


class ExecutionResult(BaseModel):
    """What became of an order (or of a cancel): the broker's answer in common terms.

    ``success`` is True when the broker confirmed the order or the cancel, and False
    when it was rejected or its fate is ``unknown``; it defaults from ``status``.
    Check ``status`` before acting: an ``unknown`` order must be reconciled (through
    ``get_order``), never resent under a new client order id.

    ``side``, ``quantity`` and ``client_order_id`` are None only on results of a
    cancel for which the broker did not say. Raises ``pydantic.ValidationError`` when
    the fields contradict each other (a fill without a price, ``success`` on a
    rejection, more filled than ordered).
    """

    model_config = _FROZEN

    success: bool = None  # type: ignore[assignment]  # filled from status when not given
    """Defaults from ``status``: False only for ``rejected`` and ``unknown``."""
    sent: bool | None = None
    """Whether the request reached the broker: ``False`` refused before anything left
    (safe to send again under the same id), ``True`` the broker has it, ``None`` not
    known (only with ``status=unknown``: reconcile, never resend). Defaults from
    ``status``: ``None`` for ``unknown``, else ``True``."""
    paper: bool | None = None
    """True when the plugin instance that answered trades a paper/demo/simulation
    account, False when it trades real money; stamped by the plugin base class."""
    status: OrderStatus
    plugin: str
    client_order_id: str | None
    order_id: str | None = None
    symbol: str
    side: OrderSide | None
    quantity: Quantity | None
    filled_quantity: NonNegative = Decimal(0)
    average_price: Price | None = None
    error: str | None = None
    error_code: ErrorCode | None = None
    timestamp: UtcDatetime = Field(default_factory=utc_now)
    raw: JsonSafe = None
    """The broker's own response for debugging and audit; made JSON-safe on the way in
    (NaN and infinities become None, other non-JSON objects their text)."""

    @model_validator(mode="after")
    def _check_consistency(self) -> ExecutionResult:
        unsuccessful = self.status in _UNSUCCESSFUL_STATUSES
        # Defaults that depend on status; set through __dict__ because the model is frozen.
        if self.success is None:
            self.__dict__["success"] = not unsuccessful
        status = self.status
        if "sent" not in self.model_fields_set:
            self.__dict__["sent"] = None if status is OrderStatus.UNKNOWN else True
        elif self.sent is False and status is not OrderStatus.REJECTED:
            raise ValueError(f"sent=False needs status=rejected, not {status.value}")
        elif self.sent is None and status is not OrderStatus.UNKNOWN:
            raise ValueError(f"sent=None (not known) needs status=unknown, not {status.value}")
        if unsuccessful and self.error_code is None:
            rejected = self.status is OrderStatus.REJECTED
            self.__dict__["error_code"] = ErrorCode.REJECTED if rejected else ErrorCode.UNKNOWN
        if self.success == unsuccessful:
            raise ValueError(f"success={self.success} contradicts status={self.status.value}")
        if self.filled_quantity > 0 and self.average_price is None:
            raise ValueError("a result with a filled quantity needs average_price")
        if self.quantity is not None and self.filled_quantity > self.quantity:
            raise ValueError(
                f"filled_quantity {self.filled_quantity} exceeds quantity {self.quantity}"
            )
        if self.status is OrderStatus.FILLED and self.filled_quantity == 0:
            raise ValueError("status filled needs filled_quantity > 0")
        if self.status is OrderStatus.PARTIALLY_FILLED and not (
            self.filled_quantity > 0
            and (self.quantity is None or self.filled_quantity < self.quantity)
        ):
            raise ValueError("status partially_filled needs 0 < filled_quantity < quantity")
        return self

    @classmethod
    def for_order(
        cls, order: Order, *, plugin: str, status: OrderStatus | str, **fields: Any
    ) -> ExecutionResult:
        """Build a result about ``order``, copying its identity (id, symbol, side, qty).

        ``fields`` may override what is copied (e.g. ``quantity`` after a broker rounded
        it). Raises ``pydantic.ValidationError`` when the fields contradict each other.
        """
        values: dict[str, Any] = {
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "side": order.side,
            "quantity": order.quantity,
        }
        values.update(fields)
        return cls(plugin=plugin, status=status, **values)

    @classmethod
    def for_cancel(
        cls,
        *,
        plugin: str,
        status: OrderStatus | str,
        order_id: str,
        symbol: str,
        client_order_id: str | None = None,
        **fields: Any,
    ) -> ExecutionResult:
        """Build a result about an order known only by its broker id (a cancel's answer),
        whose side and quantity are not known.

        Raises ``pydantic.ValidationError`` when the fields contradict each other.
        """
        return cls(
            plugin=plugin,
            status=status,
            order_id=order_id,
            symbol=symbol,
            client_order_id=client_order_id,
            side=None,
            quantity=None,
            **fields,
        )

    @property
    def remaining_quantity(self) -> Decimal | None:
        """Quantity still unfilled, or None when the quantity is not known."""
        if self.quantity is None:
            return None
        return self.quantity - self.filled_quantity


class MarketData(BaseModel):
    """A quote snapshot. Fields the broker does not give are None."""

    model_config = _FROZEN

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

    model_config = _FROZEN

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

    model_config = _FROZEN

    healthy: bool
    latency_ms: float | None = Field(default=None, ge=0)
    detail: str = ""
