"""The matching engine behind the fake exchanges: books, orders, balances, positions.

It knows nothing about wire formats; :mod:`.binance` and :mod:`.bybit` translate HTTP
requests into calls here and results back into each exchange's JSON.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = ["Engine", "EngineError", "FakeOrder", "MarketSpec"]

Mode = Literal["spot", "linear"]
ZERO = Decimal(0)


class EngineError(Exception):
    """A refusal; ``reason`` is one of the names each adapter maps to its error codes."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class MarketSpec:
    """What the engine needs of a market (taken from the exchange's raw market info)."""

    id: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    order_types: frozenset[str]


@dataclass
class FakeOrder:
    """An order as the fake exchange holds it."""

    id: str
    client_id: str
    symbol: str
    side: Literal["buy", "sell"]
    type: Literal["market", "limit"]
    quantity: Decimal
    price: Decimal | None
    trigger: Decimal | None
    tif: str
    reduce_only: bool
    created_ms: int
    status: str = "new"
    """new, partially_filled, filled, canceled, rejected, expired, untriggered."""
    filled: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    updated_ms: int = 0
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    reserved: Decimal = ZERO

    @property
    def average(self) -> Decimal | None:
        """Average fill price."""
        return self.cost / self.filled if self.filled else None

    @property
    def is_open(self) -> bool:
        """Still working (or waiting for its trigger)."""
        return self.status in ("new", "partially_filled", "untriggered")


@dataclass
class _Quote:
    bid: Decimal
    ask: Decimal
    last: Decimal
    volume: Decimal = ZERO


@dataclass
class _Position:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO


@dataclass
class Engine:
    """Spot (balances per asset) or linear derivatives (USDT margin, netted positions)."""

    mode: Mode
    markets: dict[str, MarketSpec]
    balances: dict[str, Decimal] = field(default_factory=dict)
    leverage: Decimal = Decimal(10)
    taker_fee: Decimal = Decimal("0.001")
    maker_fee: Decimal = Decimal("0.0002")
    quotes: dict[str, _Quote] = field(default_factory=dict)
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    positions: dict[str, _Position] = field(default_factory=dict)
    by_client: dict[str, FakeOrder] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_001))

    # ------------------------------------------------------------------ prices

    def set_price(
        self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal | None = None
    ) -> None:
        """Quote ``symbol`` (exchange id) and fill whatever the new quote crosses."""
        self.quotes[symbol] = _Quote(bid, ask, last if last is not None else (bid + ask) / 2)
        for order in [o for o in self.orders.values() if o.symbol == symbol and o.is_open]:
            self._match(order, resting=True)

    def quote(self, symbol: str) -> _Quote:
        """The current quote; raises ``EngineError('symbol')`` when there is none."""
        if symbol not in self.quotes:
            raise EngineError("symbol", f"no quote for {symbol}")
        return self.quotes[symbol]

    # ------------------------------------------------------------------ orders

    def find(self, order_id: str | None = None, client_id: str | None = None) -> FakeOrder:
        """An order by id or client id; raises ``EngineError('not_found')``."""
        order = self.orders.get(order_id) if order_id else None
        if order is None and client_id:
            order = self.by_client.get(client_id)
        if order is None:
            raise EngineError("not_found", "order does not exist")
        return order

    def place(self, order: FakeOrder) -> FakeOrder:
        """Validate, accept and match an order; raises :class:`EngineError` on refusal."""
        market = self.markets.get(order.symbol)
        if market is None:
            raise EngineError("symbol", f"unknown symbol {order.symbol}")
        if order.client_id in self.by_client:
            raise EngineError("duplicate", "duplicate client order id")
        quote = self.quote(order.symbol)
        self._check_filters(order, market, quote)
        if order.trigger is not None:
            rising = order.side == "buy"
            if (quote.last >= order.trigger) if rising else (quote.last <= order.trigger):
                raise EngineError("would_trigger", "order would immediately trigger")
            order.status = "untriggered"
        if order.reduce_only:
            held = self.positions.get(order.symbol, _Position()).quantity
            if held == 0 or (held > 0) == (order.side == "buy"):
                raise EngineError("reduce_only", "reduce-only order would not reduce the position")
        self._reserve(order, market, quote)
        order.id = str(next(self._ids))
        order.updated_ms = order.created_ms
        self.orders[order.id] = order
        self.by_client[order.client_id] = order
        if order.status == "new":
            self._match(order, resting=False)
            if order.tif in ("IOC", "FOK") and order.is_open:
                self._close(order, "expired" if order.filled == 0 else "canceled")
        return order

    def cancel(self, order_id: str | None, client_id: str | None = None) -> FakeOrder:
        """Cancel a working order; raises ``EngineError('not_found')`` when none is."""
        order = self.find(order_id, client_id)
        if not order.is_open:
            raise EngineError("not_found", "order is not open")
        self._close(order, "canceled")
        return order

    def _check_filters(self, order: FakeOrder, market: MarketSpec, quote: _Quote) -> None:
        if order.type not in market.order_types:
            raise EngineError("order_type", f"order type not supported for {market.id}")
        if (
            order.quantity < market.min_qty
            or order.quantity > market.max_qty
            or (order.quantity % market.step)
        ):
            raise EngineError("lot_size", "quantity outside LOT_SIZE")
        for price in (order.price, order.trigger):
            if price is not None and price % market.tick:
                raise EngineError("price_filter", "price not a multiple of the tick size")
        reference = order.price or (quote.ask if order.side == "buy" else quote.bid)
        if order.quantity * reference < market.min_notional:
            raise EngineError("notional", "order value below the minimum notional")

    def _reserve(self, order: FakeOrder, market: MarketSpec, quote: _Quote) -> None:
        price = order.price or order.trigger or (quote.ask if order.side == "buy" else quote.bid)
        if self.mode == "spot":
            asset, need = (
                (market.quote, order.quantity * price * (1 + self.taker_fee))
                if order.side == "buy"
                else (market.base, order.quantity)
            )
        else:
            held = self.positions.get(order.symbol, _Position()).quantity
            reducing = held != 0 and (held > 0) != (order.side == "buy")
            asset = market.quote
            need = ZERO if reducing else order.quantity * price / self.leverage
        if self.balances.get(asset, ZERO) < need:
            raise EngineError("funds", "insufficient balance")
        self.balances[asset] = self.balances.get(asset, ZERO) - need
        order.reserved = need

    def _match(self, order: FakeOrder, *, resting: bool) -> None:
        quote = self.quotes[order.symbol]
        buy = order.side == "buy"
        if order.status == "untriggered":
            assert order.trigger is not None
            if not ((quote.last >= order.trigger) if buy else (quote.last <= order.trigger)):
                return
            order.status = "new"
            resting = False
        touch = quote.ask if buy else quote.bid
        if order.type == "market":
            self._fill(order, touch, maker=False)
        elif order.price is not None and (
            (touch <= order.price) if buy else (touch >= order.price)
        ):
            self._fill(order, order.price if resting else touch, maker=resting)

    def _fill(self, order: FakeOrder, price: Decimal, *, maker: bool) -> None:
        market = self.markets[order.symbol]
        quantity = order.quantity - order.filled
        value = quantity * price
        fee = value * (self.maker_fee if maker else self.taker_fee)
        order.filled += quantity
        order.cost += value
        order.fee += fee
        order.updated_ms = _now_ms()
        if self.mode == "spot":
            if order.side == "buy":
                self.balances[market.base] = self.balances.get(market.base, ZERO) + quantity
                spent = value + fee
                self.balances[market.quote] += order.reserved - spent
            else:
                self.balances[market.quote] = self.balances.get(market.quote, ZERO) + value - fee
                self.balances[market.base] += order.reserved - quantity
        else:
            self._apply_position(order, quantity, price, fee, market)
        order.reserved = ZERO
        order.status = "filled"

    def _apply_position(
        self, order: FakeOrder, quantity: Decimal, price: Decimal, fee: Decimal, market: MarketSpec
    ) -> None:
        position = self.positions.setdefault(order.symbol, _Position())
        delta = quantity if order.side == "buy" else -quantity
        held = position.quantity
        wallet = self.balances.get(market.quote, ZERO) + order.reserved - fee
        if held == 0 or (held > 0) == (delta > 0):
            position.cost += quantity * price
            wallet -= quantity * price / self.leverage
        else:
            closing = min(quantity, abs(held))
            average = position.cost / abs(held)
            pnl = closing * (price - average) * (1 if held > 0 else -1)
            wallet += closing * average / self.leverage + pnl
            position.cost -= closing * average
            rest = quantity - closing
            if rest:
                position.cost = rest * price
                wallet -= rest * price / self.leverage
        position.quantity = held + delta
        self.balances[market.quote] = wallet

    def _close(self, order: FakeOrder, status: str) -> None:
        market = self.markets[order.symbol]
        asset = market.quote if (self.mode == "linear" or order.side == "buy") else market.base
        self.balances[asset] = self.balances.get(asset, ZERO) + order.reserved
        order.reserved = ZERO
        order.status = status
        order.updated_ms = _now_ms()

    def position(self, symbol: str) -> tuple[Decimal, Decimal | None]:
        """Signed quantity and average entry price of a derivatives position."""
        position = self.positions.get(symbol, _Position())
        if position.quantity == 0:
            return ZERO, None
        return position.quantity, position.cost / abs(position.quantity)


def _now_ms() -> int:
    return int(time.time() * 1000)


def now_ms() -> int:
    """Milliseconds since the epoch, as exchanges stamp their answers."""
    return _now_ms()
