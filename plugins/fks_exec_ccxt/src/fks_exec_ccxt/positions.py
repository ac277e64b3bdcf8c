"""Positions in one unit (contracts for derivatives, base currency for spot) and the
orders that close them; quotes from ccxt tickers."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fks_exec.errors import NotSupported
from fks_exec.models import MarketData, Order, Position
from fks_exec_ccxt.numbers import positive, to_decimal

if TYPE_CHECKING:
    from fks_exec_ccxt.plugin import CcxtPlugin

__all__ = ["close_orders", "read_positions", "to_market_data"]


def _position(raw: dict[str, Any], market: dict[str, Any] | None) -> Position | None:
    contracts = to_decimal(raw.get("contracts")) or Decimal(0)
    if contracts == 0:
        return None
    signed = -abs(contracts) if raw.get("side") == "short" else abs(contracts)
    entry = positive(raw.get("entryPrice"))
    if market is not None and not market.get("contract"):
        # A margin position on a spot market (kraken): held in the base currency, the
        # unit that market's orders take.
        unit, size = "base", None
    else:
        size = positive(raw.get("contractSize")) or positive((market or {}).get("contractSize"))
        unit, size = "contracts", size or Decimal(1)
    return Position(
        symbol=raw["symbol"],
        quantity=signed,
        average_price=entry,
        unrealized_pnl=to_decimal(raw.get("unrealizedPnl")),
        unit=unit,
        contract_size=size,
    )


async def read_positions(plugin: CcxtPlugin, source: str) -> list[Position]:
    """Derivative positions in contracts (``unit="contracts"``, with the contract size),
    margin positions on spot markets in their base currency (``unit="base"``), or spot
    balances in their currency (``unit="base"``)."""
    exchange = plugin.exchange
    if source == "auto":
        from fks_exec_ccxt.rules import traded_kinds

        contracts = any(kind != "spot" for kind, _ in traded_kinds(exchange))
        source = "positions" if contracts and exchange.has.get("fetchPositions") else "balances"
    if source == "positions":
        markets = exchange.markets or {}
        found = []
        for raw in await exchange.fetch_positions():
            position = _position(raw, markets.get(raw.get("symbol")))
            if position is not None:
                found.append(position)
        return found
    balance = await exchange.fetch_balance()
    return [
        Position(symbol=currency, quantity=amount, unit="base")
        for currency, total in sorted((balance.get("total") or {}).items())
        if (amount := to_decimal(total))
    ]


async def close_orders(
    plugin: CcxtPlugin, market: dict[str, Any], quantity: Decimal | None
) -> list[Order]:
    """Reduce-only market orders closing ``quantity`` contracts (all when None) of the
    position in ``market``; never more than is held, never on the side that grows it."""
    if not market.get("contract"):
        raise NotSupported(
            f"close_position on the spot market {market['symbol']}: spot holdings are "
            "balances; sell them with a market order"
        )
    exchange = plugin.exchange
    held = [
        (p, bool(raw.get("hedged")))
        for raw in await exchange.fetch_positions([market["symbol"]])
        if raw.get("symbol") == market["symbol"] and (p := _position(raw, market)) is not None
    ]
    orders = []
    left = quantity
    for position, hedged in held:
        size = abs(position.quantity)
        amount = size if left is None else min(size, left)
        if amount <= 0:
            break
        side = "sell" if position.quantity > 0 else "buy"
        # In hedge mode ccxt picks the position side from ``hedged`` + reduce-only.
        params = {"hedged": True} if hedged else {}
        orders.append(Order.market(market["symbol"], side, amount, reduce_only=True, params=params))
        if left is not None:
            left -= amount
    return orders


def to_market_data(symbol: str, ticker: dict[str, Any]) -> MarketData:
    """A :class:`MarketData` from a ccxt ticker (non-positive prices dropped)."""
    volume = to_decimal(ticker.get("baseVolume"))
    stamp = ticker.get("timestamp")
    extra: dict[str, Any] = {}
    if isinstance(stamp, (int, float)) and stamp > 0:
        extra["timestamp"] = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc)
    return MarketData(
        symbol=symbol,
        bid=positive(ticker.get("bid")),
        ask=positive(ticker.get("ask")),
        last=positive(ticker.get("last")),
        volume=volume if volume is not None and volume >= 0 else None,
        **extra,
    )
