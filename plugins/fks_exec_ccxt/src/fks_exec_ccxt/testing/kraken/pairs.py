"""The fake Kraken's asset pairs and assets, in the shapes of ``AssetPairs`` and ``Assets``.

Field names and meanings are those of
https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs and
https://docs.kraken.com/api/docs/rest-api/get-asset-info: a pair has an id (``XXBTZUSD``),
an ``altname`` (``XBTUSD``), base and quote *asset ids* (``XXBT``, ``ZUSD``), price and
volume decimals, ``ordermin`` (minimum volume, base), ``costmin`` (minimum cost, quote),
``tick_size``, and the leverages a margin order may ask for (``leverage_buy`` /
``leverage_sell``; empty: no margin). The default pairs carry the values Kraken
published for them (as recorded in ccxt's static markets); fees are Kraken's first
tier (0.26 % taker, 0.16 % maker, https://www.kraken.com/features/fee-schedule).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "ASSET_ALTNAMES",
    "DEFAULT_PAIRS",
    "Pair",
    "assets_json",
    "pair_from_info",
    "pair_json",
]

ASSET_ALTNAMES = {"XXBT": "XBT", "ZUSD": "USD", "ZEUR": "EUR", "XETH": "ETH", "XLTC": "LTC",
                  "XXRP": "XRP", "USDT": "USDT", "USDC": "USDC"}  # fmt: skip
"""Kraken's asset ids and their altnames (the X/Z prefixes are Kraken's legacy codes)."""
_ASSET_DECIMALS = {"ZUSD": 4, "ZEUR": 4, "USDT": 8, "USDC": 8}


@dataclass(frozen=True)
class Pair:
    """One tradable asset pair (spot, with margin when leverages are listed)."""

    pair_id: str
    altname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    ordermin: Decimal
    costmin: Decimal
    tick_size: Decimal
    leverage_buy: tuple[int, ...] = ()
    leverage_sell: tuple[int, ...] = ()
    cost_decimals: int = 5
    taker_fee_pct: Decimal = Decimal("0.26")
    maker_fee_pct: Decimal = Decimal("0.16")
    status: str = "online"
    index_available: bool = True
    """Whether stop/profit orders may follow the index price (``trigger=index``)."""

    @property
    def wsname(self) -> str:
        """``BASE/QUOTE`` in altnames, as Kraken's ``wsname``."""
        return f"{_alt(self.base)}/{_alt(self.quote)}"

    def leverages(self, side: str) -> tuple[int, ...]:
        """The leverages a margin ``side`` order may use (empty: margin not offered)."""
        return self.leverage_buy if side == "buy" else self.leverage_sell

    def names(self) -> set[str]:
        """Every name a request may give for this pair (id, altname, wsname)."""
        return {self.pair_id, self.altname, self.wsname}


def _alt(asset: str) -> str:
    return ASSET_ALTNAMES.get(asset, asset)


DEFAULT_PAIRS: tuple[Pair, ...] = (
    Pair("XXBTZUSD", "XBTUSD", "XXBT", "ZUSD", 1, 8, Decimal("0.0001"), Decimal("0.5"),
         Decimal("0.1"), (2, 3, 4, 5), (2, 3, 4, 5)),
    Pair("XBTUSDT", "XBTUSDT", "XXBT", "USDT", 1, 8, Decimal("0.0001"), Decimal("0.5"),
         Decimal("0.1"), (2, 3), (2, 3)),
    Pair("XETHZUSD", "ETHUSD", "XETH", "ZUSD", 2, 8, Decimal("0.002"), Decimal("0.5"),
         Decimal("0.01"), (2, 3, 4, 5), (2, 3, 4, 5)),
    Pair("LTCUSDT", "LTCUSDT", "XLTC", "USDT", 5, 8, Decimal("0.08"), Decimal("0.5"),
         Decimal("0.00001"), cost_decimals=6),
)  # fmt: skip


def pair_json(pair: Pair) -> dict[str, Any]:
    """The pair's entry in an ``AssetPairs`` answer."""
    fees = [[0, float(pair.taker_fee_pct)]]
    return {
        "altname": pair.altname,
        "wsname": pair.wsname,
        "aclass_base": "currency",
        "base": pair.base,
        "aclass_quote": "currency",
        "quote": pair.quote,
        "lot": "unit",
        "cost_decimals": pair.cost_decimals,
        "pair_decimals": pair.pair_decimals,
        "lot_decimals": pair.lot_decimals,
        "lot_multiplier": 1,
        "leverage_buy": list(pair.leverage_buy),
        "leverage_sell": list(pair.leverage_sell),
        "fees": fees,
        "fees_maker": [[0, float(pair.maker_fee_pct)]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": str(pair.ordermin),
        "costmin": str(pair.costmin),
        "tick_size": str(pair.tick_size),
        "status": pair.status,
    }


def pair_from_info(pair_id: str, info: Mapping[str, Any]) -> Pair:
    """A :class:`Pair` from an ``AssetPairs`` entry (e.g. ccxt's recorded ``info``)."""
    return Pair(
        pair_id=pair_id,
        altname=str(info["altname"]),
        base=str(info["base"]),
        quote=str(info["quote"]),
        pair_decimals=int(info["pair_decimals"]),
        lot_decimals=int(info["lot_decimals"]),
        ordermin=Decimal(str(info.get("ordermin", "0"))),
        costmin=Decimal(str(info.get("costmin", "0"))),
        tick_size=Decimal(str(info.get("tick_size", f"1e-{info['pair_decimals']}"))),
        leverage_buy=tuple(int(x) for x in info.get("leverage_buy", ())),
        leverage_sell=tuple(int(x) for x in info.get("leverage_sell", ())),
        cost_decimals=int(info.get("cost_decimals", 5)),
        status=str(info.get("status", "online")),
    )


def assets_json(pairs: Iterable[Pair]) -> dict[str, Any]:
    """An ``Assets`` answer's result for every asset the pairs trade."""
    assets = sorted({a for p in pairs for a in (p.base, p.quote)})
    return {
        a: {
            "aclass": "currency",
            "altname": _alt(a),
            "decimals": _ASSET_DECIMALS.get(a, 10),
            "display_decimals": 5,
            "status": "enabled",
        }
        for a in assets
    }
