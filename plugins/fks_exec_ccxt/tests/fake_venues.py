"""The reference fakes as the plugin tests use them: quoted, and the plugin started on them.

Imported by name (conftest puts this folder on the path), like static_harness.
"""

from __future__ import annotations

from typing import Any

from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.testing.okx import FakeOkx

OKX_INSTRUMENTS = ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP")


def quoted_okx(price: str = "60000", **settings: Any) -> FakeOkx:
    """A FakeOkx (``settings`` to its constructor; a big USDT and BTC balance by default)
    quoting every default instrument at ``price`` / ``price + 0.1``, unlimited depth."""
    settings.setdefault("balances", {"USDT": "100000", "BTC": "10"})
    venue = FakeOkx(**settings)
    ask = str(float(price) + 0.1)
    for inst_id in OKX_INSTRUMENTS:
        venue.set_price(inst_id, price, ask, price)
    return venue


def quoted_kraken(**settings: Any) -> FakeKraken:
    """A FakeKraken (``settings`` to its constructor) quoting XBTUSD at 60000 / 60000.1."""
    venue = FakeKraken(**settings)
    venue.set_price("XBTUSD", "60000", "60000.1")
    return venue


async def started(exchange: Any, config: dict[str, Any] | None = None) -> CcxtPlugin:
    """The plugin on ``exchange``, initialised with ``config`` and no FKS_EXEC_* variables."""
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init(config)
    return plugin
