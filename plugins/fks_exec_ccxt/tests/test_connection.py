"""Building the exchange from config, and paper or live from what ccxt is set to."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from fks_exec.errors import PluginInitError
from fks_exec_ccxt.config import CcxtConfig
from fks_exec_ccxt.connection import build_exchange, says_paper


async def test_sandbox_and_demo_trading_are_paper_production_is_live() -> None:
    cases = [
        (CcxtConfig(exchange="okx", sandbox=True), True),
        (CcxtConfig(exchange="bybit", demo=True), True),
        (CcxtConfig(exchange="binance", demo=True), True),
        (CcxtConfig(exchange="okx"), False),
    ]
    for config, paper in cases:
        exchange = build_exchange(config)
        try:
            assert says_paper(exchange) is paper, config
        finally:
            await exchange.close()


def test_unknown_exchanges_and_missing_modes_are_refused_at_start() -> None:
    with pytest.raises(PluginInitError, match="Did you mean okx"):
        build_exchange(CcxtConfig(exchange="okxx"))
    with pytest.raises(PluginInitError, match="no exchange configured"):
        build_exchange(CcxtConfig())
    with pytest.raises(PluginInitError, match="no demo trading"):
        build_exchange(CcxtConfig(exchange="kraken", demo=True))


async def test_credentials_reach_ccxt() -> None:
    config = CcxtConfig(exchange="okx", api_key=SecretStr("k"), secret=SecretStr("s"))
    exchange = build_exchange(config)
    try:
        assert (exchange.apiKey, exchange.secret, exchange.enableRateLimit) == ("k", "s", True)
    finally:
        await exchange.close()
