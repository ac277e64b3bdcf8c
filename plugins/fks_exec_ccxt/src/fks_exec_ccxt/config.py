"""Settings of the ccxt plugin (``FKS_EXEC_CCXT_<FIELD>``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from fks_exec.config import PluginConfig

__all__ = ["CcxtConfig"]


class CcxtConfig(PluginConfig):
    """How to build and drive the ccxt exchange object."""

    exchange: str | None = None
    """ccxt exchange id, e.g. ``binance``, ``bybit``, ``kraken`` (not needed when an
    exchange object is passed to ``CcxtPlugin(exchange=...)``)."""
    api_key: SecretStr | None = None
    """API key (ccxt ``apiKey``)."""
    secret: SecretStr | None = None
    """API secret."""
    password: SecretStr | None = None
    """API passphrase, for exchanges that have one (OKX, KuCoin, Bitget...)."""
    sandbox: bool = False
    """Use the exchange's testnet (``set_sandbox_mode(True)``); refused when it has none.
    A sandbox, testnet or demo-trading exchange makes the instance paper."""
    demo: bool = False
    """Use the exchange's demo trading (``enable_demo_trading(True)``, binance and bybit);
    refused when ccxt has none for it."""
    account: str | None = None
    """The account this instance trades; an order naming another ``account`` is refused
    before sending (ccxt trades the key's account only)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """ccxt ``options``, e.g. ``{"defaultType": "swap"}`` (JSON in the variable)."""
    timeout_ms: int = Field(default=10_000, gt=0)
    """HTTP timeout of one request."""
    positions_from: Literal["auto", "positions", "balances"] = "auto"
    """``positions()`` source: derivatives positions, spot balances, or ``auto``
    (positions when the exchange object loads derivative markets, else balances)."""
    health_cache_ms: int = Field(default=30_000, ge=0)
    """How long a health check's authenticated answer is reused (so polling health does
    not burn the exchange's rate limit)."""
    ticker_cache_ms: int = Field(default=2_000, ge=0)
    """How long a ticker used to check a market order's minimum cost is reused."""
