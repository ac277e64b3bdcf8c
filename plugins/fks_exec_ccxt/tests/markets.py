"""The one builder of ccxt market dicts the plugin's tests use (no test writes one by hand).

Imported by name (conftest puts this folder on the path), like static_harness.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ccxt_market", "exchange_with"]


def ccxt_market(
    symbol: str,
    *,
    amount: float = 0.001,
    price: float = 0.1,
    **fields: Any,
) -> dict[str, Any]:
    """A ccxt unified market structure for ``symbol``.

    ``BASE/QUOTE`` is a spot market; ``BASE/QUOTE:SETTLE`` a swap (inverse when it
    settles in its base), with a ``-YYMMDD`` suffix a future. ``amount`` and ``price``
    are its precision (tick sizes, or digits for an exchange in another precision mode);
    it has no limits and an empty ``info``. ``fields`` replace or add keys (``id``,
    ``baseId``, ``info``, ``limits``, ...). Raises ``ValueError`` for a symbol without
    a ``/``.
    """
    pair, _, settle_part = symbol.partition(":")
    base, slash, quote = pair.partition("/")
    if not slash or not base or not quote:
        raise ValueError(f"{symbol!r} is no ccxt symbol: write BASE/QUOTE[:SETTLE[-YYMMDD]]")
    settle, _, expiry = settle_part.partition("-")
    contract = bool(settle)
    kind = "future" if expiry else "swap" if contract else "spot"
    inverse = contract and settle == base
    market: dict[str, Any] = {
        "id": symbol.replace("/", "").replace(":", "_"),
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": settle or None,
        "baseId": base,
        "quoteId": quote,
        "settleId": settle or None,
        "type": kind,
        "spot": not contract,
        "margin": False,
        "swap": kind == "swap",
        "future": kind == "future",
        "option": False,
        "active": True,
        "contract": contract,
        "linear": (not inverse) if contract else None,
        "inverse": inverse if contract else None,
        "contractSize": 1 if contract else None,
        "precision": {"amount": amount, "price": price},
        "limits": {"amount": {}, "price": {}, "cost": {}, "leverage": {}},
        "info": {},
    }
    market.update(fields)
    return market


def exchange_with(exchange_id: str, *markets: dict[str, Any], **config: Any) -> Any:
    """A ``ccxt.async_support`` exchange of ``exchange_id`` built with ``config``, whose
    markets are ``markets`` (set, never loaded: no request leaves)."""
    import ccxt.async_support as ccxt_async

    exchange = getattr(ccxt_async, exchange_id)(config)
    exchange.set_markets(list(markets))
    return exchange
