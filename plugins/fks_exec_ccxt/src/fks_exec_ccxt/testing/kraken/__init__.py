"""A fake Kraken (spot REST, with margin) that a real ``ccxt.async_support.kraken`` trades against.

Written from Kraken's public API documentation (https://docs.kraken.com/api/) and from
what ccxt's ``kraken`` sends (``ccxt/async_support/kraken.py``, ccxt 4.5.90), never from
the fks-exec plugin. ccxt's HTTP is replaced below its own request code, at the aiohttp
session (:mod:`fks_exec_ccxt.testing.aiohttp_transport`), so ccxt's signing, request log
and ``handle_errors`` run for real; the same venue can sit behind a real loopback HTTP
server (:mod:`fks_exec_ccxt.testing.loopback`)::

    venue = FakeKraken(balances={"ZUSD": "100000"})
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.5")
    exchange = venue.exchange()                   # ccxt.async_support.kraken, attached
    await exchange.create_order("BTC/USD", "market", "buy", 2, None, {"leverage": 5})
    venue.position("XBTUSD")                      # Decimal('0.5'): the depth filled 0.5
    await exchange.close()

Modules: :mod:`.pairs` (asset pairs), :mod:`.signing` (API-Sign and nonce),
:mod:`.errors` (error texts), :mod:`.params` (AddOrder parameters), :mod:`.orders`
(records), :mod:`.account` (cash, positions), :mod:`.trading` (matching),
:mod:`.endpoints` (routes), :mod:`.wire` (JSON), :mod:`.rules` (inferred behaviour),
:mod:`.venue` (:class:`FakeKraken`).
"""

from __future__ import annotations

from fks_exec_ccxt.testing.kraken.errors import KrakenError
from fks_exec_ccxt.testing.kraken.pairs import DEFAULT_PAIRS, Pair, pair_from_info
from fks_exec_ccxt.testing.kraken.rules import Rules
from fks_exec_ccxt.testing.kraken.signing import Credentials
from fks_exec_ccxt.testing.kraken.venue import DEFAULT_BALANCES, FakeKraken

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_PAIRS",
    "Credentials",
    "FakeKraken",
    "KrakenError",
    "Pair",
    "Rules",
    "pair_from_info",
]
