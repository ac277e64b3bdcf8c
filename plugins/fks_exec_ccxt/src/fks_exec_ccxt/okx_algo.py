"""OKX trigger (algo) orders as ccxt parses them: the market-price marker, the fired order.

* OKX writes ``ordPx`` ``"-1"`` for a trigger order that trades at the market price
  ("Place algo order", ``orderPx``: "If the price is -1, the order will be executed at
  the market price", https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order).
  ccxt's okx ``parse_order`` reads it as ``price`` -1 and derives ``cost`` from it
  (negative); :func:`without_market_price` makes both "no price".
* An algo order that fired is ``effective`` ("Get algo order details": ``ordId`` is
  the order it placed); ccxt reports it ``closed`` with ``filled`` set to its whole
  amount, an inference, and no fill price. :func:`read_fired` reads the placed order,
  whose fill and average are the real ones.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fired_order_id", "never_fired", "read_fired", "without_market_price"]

_MARKET_PRICE = "-1"
_FIRED = frozenset({"effective", "partially_effective"})


def without_market_price(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (a ccxt order from okx) with ``price`` None where OKX wrote ``-1``
    (market price), and a ``cost`` ccxt derived from that -1 dropped."""
    info = raw.get("info")
    if not isinstance(info, dict) or info.get("ordPx") != _MARKET_PRICE or info.get("px"):
        return raw
    cost = raw.get("cost")
    derived = isinstance(cost, int | float) and cost <= 0
    return {**raw, "price": None, "cost": None if derived else cost}


def fired_order_id(raw: dict[str, Any]) -> str | None:
    """The id of the regular order an OKX algo order placed when it fired, or None."""
    info = raw.get("info")
    if not isinstance(info, dict) or not info.get("algoId") or info.get("state") not in _FIRED:
        return None
    placed = info.get("ordId")
    return str(placed) if placed else None


def never_fired(raw: dict[str, Any]) -> bool:
    """True for an OKX algo order that never placed an order (live, paused, cancelled,
    or failed to place one): nothing of it can have filled."""
    info = raw.get("info")
    return isinstance(info, dict) and bool(info.get("algoId")) and info.get("state") not in _FIRED


async def read_fired(exchange: Any, raw: dict[str, Any], symbol: str) -> dict[str, Any]:
    """For an OKX algo order that fired, the state of the order it placed (its fill,
    price and status) under the algo order's own ids; else ``raw`` unchanged.

    The two venue answers are kept in ``info`` as ``algo`` and ``order``. Raises what
    ccxt raises for the read (the caller decides: a read failure is no answer).
    """
    if str(getattr(exchange, "id", "")) != "okx":
        return raw
    placed = fired_order_id(raw)
    if placed is None:
        return raw
    child = await exchange.fetch_order(placed, symbol)
    return {
        **child,
        "id": raw.get("id"),
        "clientOrderId": raw.get("clientOrderId"),
        "symbol": raw.get("symbol") or child.get("symbol"),
        "info": {"algo": raw.get("info"), "order": child.get("info")},
    }
