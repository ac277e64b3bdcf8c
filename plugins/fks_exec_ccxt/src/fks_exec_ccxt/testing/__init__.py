"""Fake exchanges for testing code that trades through the ccxt plugin, offline.

Real ccxt exchange objects are used; only their HTTP layer is replaced (see
:func:`attach`), so ccxt's own request building, signing, parsing and error mapping
run against a fake venue that behaves like the exchange::

    from fks_exec_ccxt import CcxtPlugin
    from fks_exec_ccxt.testing import FakeBinance, fake_exchange

    venue = FakeBinance()
    venue.set_price("BTCUSDT", "65000", "65001")
    plugin = CcxtPlugin(exchange=fake_exchange(venue))
"""

from __future__ import annotations

from typing import Any

from fks_exec_ccxt.testing.binance import FakeBinance, binance_symbol_info
from fks_exec_ccxt.testing.bybit import FakeBybit, bybit_linear_info
from fks_exec_ccxt.testing.engine import Engine, EngineError, FakeOrder
from fks_exec_ccxt.testing.transport import FakeVenue, Fault, RecordedRequest, Response, attach

__all__ = [
    "Engine",
    "EngineError",
    "FakeBinance",
    "FakeBybit",
    "FakeOrder",
    "FakeVenue",
    "Fault",
    "RecordedRequest",
    "Response",
    "attach",
    "binance_symbol_info",
    "bybit_linear_info",
    "fake_exchange",
]

_DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}},
    "bybit": {"fetchMarkets": {"types": ["linear"]}, "defaultType": "swap"},
}


def fake_exchange(venue: FakeVenue, *, rate_limit_ms: int = 1, **config: Any) -> Any:
    """A ``ccxt.async_support`` exchange of the venue's kind, wired to ``venue``.

    It carries the venue's API key and secret, loads only the market types the venue
    serves, and keeps rate limiting on with a 1 ms pace (the real pace would only slow
    tests). ``config`` is merged into the exchange's constructor settings.
    """
    import ccxt.async_support as ccxt_async

    settings: dict[str, Any] = {
        "apiKey": venue.api_key,
        "secret": venue.secret,
        "enableRateLimit": True,
        "rateLimit": rate_limit_ms,
        "options": {**_DEFAULT_OPTIONS.get(venue.exchange_id, {}), **config.pop("options", {})},
        **config,
    }
    exchange = getattr(ccxt_async, venue.exchange_id)(settings)
    exchange.timeout_on_exit = 0  # the pause lets real TLS sockets close; there are none
    return attach(exchange, venue)
