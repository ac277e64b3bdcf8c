"""A fake OKX (REST API v5) that a real ``ccxt.async_support.okx`` object trades against.

Written from OKX's public API documentation (https://www.okx.com/docs-v5/en/) and from
what ccxt's ``okx`` sends (``ccxt/async_support/okx.py``, ccxt 4.5.90), never from the
fks-exec plugin. ccxt's HTTP is replaced below its own request code, at the aiohttp
session (:mod:`fks_exec_ccxt.testing.aiohttp_transport`), so ccxt's signing, request log
and ``handle_errors`` run for real; the same venue can also sit behind a real loopback
HTTP server (:mod:`fks_exec_ccxt.testing.loopback`)::

    venue = FakeOkx(balances={"USDT": "100000"}, pos_mode="net_mode")
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size="2")
    exchange = venue.exchange()                   # ccxt.async_support.okx, attached
    await exchange.create_order("BTC/USDT:USDT", "market", "buy", 5)   # 5 contracts
    venue.position("BTC-USDT-SWAP")               # Decimal('2'): the depth filled 2
    await exchange.close()

Modules: :mod:`.markets` (instruments), :mod:`.signing` (OK-ACCESS-* check),
:mod:`.errors` (codes and bodies), :mod:`.account` (cash, positions), :mod:`.book`
(regular orders), :mod:`.algo` (stop orders), :mod:`.trading` (request rules),
:mod:`.endpoints` (routes), :mod:`.wire` (JSON), :mod:`.rules` (inferred behaviour),
:mod:`.venue` (:class:`FakeOkx`).
"""

from __future__ import annotations

from fks_exec_ccxt.testing.okx.errors import OkxError
from fks_exec_ccxt.testing.okx.markets import DEFAULT_INSTRUMENTS, Instrument
from fks_exec_ccxt.testing.okx.rules import Rules
from fks_exec_ccxt.testing.okx.signing import Credentials
from fks_exec_ccxt.testing.okx.venue import FakeOkx

__all__ = ["DEFAULT_INSTRUMENTS", "Credentials", "FakeOkx", "Instrument", "OkxError", "Rules"]
