"""The :class:`Order` model: an order as strategy code states it, checked before sending.

Import it from :mod:`fks_exec.models` (or ``fks_exec``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from fks_exec._model_enums import OrderSide, OrderType, TimeInForce
from fks_exec._model_fields import (
    FROZEN,
    ClientOrderId,
    Params,
    Price,
    Quantity,
    Symbol,
    UtcDatetime,
    new_client_order_id,
    utc_now,
)

__all__ = ["Order"]


class Order(BaseModel):
    """An order as strategy code states it, validated before any broker sees it.

    Use the constructors :meth:`market`, :meth:`limit`, :meth:`stop` and
    :meth:`stop_limit`, or the class itself with ``type=``.

    Raises ``pydantic.ValidationError`` (a ``ValueError``) for: an empty symbol; a
    quantity that is zero, negative, NaN, infinite or not a number; a limit or
    stop-limit without ``price``; a market or stop order with ``price``; a stop or
    stop-limit without ``stop_price`` (or another type with one); a stop loss or take
    profit on the wrong side of the reference price; a malformed client order id; a
    naive ``created_at``; ``params`` holding NaN or an infinity.
    """

    model_config = FROZEN

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
    params: Params = Field(default_factory=dict)
    """Broker-specific options passed through untouched; NaN and infinities are refused
    (the journal's JSON has no form for them)."""
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
        """True when ``other`` asks for the same thing (``created_at`` ignored), as given
        or as the journal stores both (their JSON form: an order read back from the
        journal has ``params`` of JSON types, e.g. ``"1.5"`` for ``Decimal("1.5")``,
        a list for a tuple, ISO text for a datetime)."""
        if self.model_dump(exclude=_NOT_ASKED) == other.model_dump(exclude=_NOT_ASKED):
            return True
        stored = self.model_dump(mode="json", exclude=_NOT_ASKED)
        return stored == other.model_dump(mode="json", exclude=_NOT_ASKED)


_NOT_ASKED = {"created_at"}
