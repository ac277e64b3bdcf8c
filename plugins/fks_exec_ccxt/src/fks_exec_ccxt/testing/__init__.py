"""Reference fake exchanges for testing code that trades through the ccxt plugin, offline.

Each fake is written from the venue's public API documentation, never from the plugin.
Real ccxt exchange objects are used; only their aiohttp session is replaced
(:mod:`~fks_exec_ccxt.testing.aiohttp_transport`), so ccxt's own request building,
signing, parsing and error mapping run against a venue that behaves like the exchange;
the same venue can also sit behind a real loopback HTTP server
(:mod:`~fks_exec_ccxt.testing.loopback`)::

    from fks_exec_ccxt import CcxtPlugin
    from fks_exec_ccxt.testing.okx import FakeOkx

    venue = FakeOkx(balances={"USDT": "100000"})
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1")
    plugin = CcxtPlugin(exchange=venue.exchange())

* :mod:`fks_exec_ccxt.testing.okx`: :class:`FakeOkx`, OKX v5 (spot, linear and inverse
  swaps, algo orders, net and long/short position modes);
* :mod:`fks_exec_ccxt.testing.kraken`: :class:`FakeKraken`, Kraken spot REST with margin;
* :mod:`fks_exec_ccxt.testing.hyperliquid`: :class:`FakeHyperliquid`, Hyperliquid's
  ``/info`` and ``/exchange``, recording every request that reached it.

The first two implement :class:`fks_exec.testing.faults.FaultInjection`.
"""

from __future__ import annotations

from fks_exec_ccxt.testing.hyperliquid import FakeHyperliquid
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.testing.okx import FakeOkx

__all__ = ["FakeHyperliquid", "FakeKraken", "FakeOkx"]
