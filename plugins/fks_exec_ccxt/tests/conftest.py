"""Fixtures: real ccxt exchange objects served by fake venues, and the plugin on them."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit, fake_exchange

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "ccxt"

# The helpers beside the tests (static_harness, exchange_table) import by their names:
# under --import-mode=importlib a tests package would clash with the repository's tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def fixture_json(kind: str, exchange: str) -> Any:
    """One of ccxt's offline fixture files from ../shared/fixtures/ccxt."""
    path = FIXTURES / kind / f"{exchange}.json"
    if not path.exists():
        pytest.skip(f"ccxt fixtures not found at {FIXTURES} (shared/ sits beside the repo)")
    return json.loads(path.read_text())


@pytest.fixture
def ccxt_fixture() -> Any:
    """Loader of ccxt's fixture files: ``ccxt_fixture("markets", "binance")``."""
    return fixture_json


@pytest.fixture
def binance_venue() -> FakeBinance:
    venue = FakeBinance(balances={"USDT": "100000", "BTC": "1"})
    venue.set_price("BTCUSDT", "65000.00", "65001.00")
    venue.set_price("ETHUSDT", "3000.00", "3000.50")
    return venue


@pytest.fixture
def bybit_venue() -> FakeBybit:
    venue = FakeBybit(usdt="100000")
    venue.set_price("BTCUSDT", "65000.0", "65001.0")
    venue.set_price("ETHUSDT", "3000.00", "3000.50")
    return venue


@pytest.fixture
async def binance(binance_venue: FakeBinance) -> AsyncIterator[CcxtPlugin]:
    plugin = CcxtPlugin(exchange=fake_exchange(binance_venue))
    await plugin.init()
    yield plugin
    await plugin.close()


@pytest.fixture
async def bybit(bybit_venue: FakeBybit) -> AsyncIterator[CcxtPlugin]:
    plugin = CcxtPlugin(exchange=fake_exchange(bybit_venue))
    await plugin.init()
    yield plugin
    await plugin.close()
