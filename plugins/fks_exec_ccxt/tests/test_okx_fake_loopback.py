"""Transport faults on real sockets: a real ccxt okx object, real aiohttp, a loopback server.

Each test opens at most a few connections to 127.0.0.1 and waits at most ccxt's
``timeout`` (300 ms here). What ccxt raises is what a plugin on ccxt will see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import ccxt
import pytest

from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.loopback import (
    LoopbackServer,
    blackhole,
    point_exchange_at,
    refusing_url,
)
from fks_exec_ccxt.testing.okx import FakeOkx
from fks_exec_ccxt.testing.okx import errors as okx_errors

LINEAR = "BTC/USDT:USDT"
TIMEOUT_MS = 300


@pytest.fixture
def venue() -> FakeOkx:
    fake = FakeOkx()
    fake.set_price("BTC-USDT-SWAP", "60000", "60000.1", "60000")
    fake.set_price("BTC-USDT", "60000", "60000.1", "60000")
    return fake


@pytest.fixture
async def server(venue: FakeOkx) -> AsyncIterator[LoopbackServer]:
    async with LoopbackServer(venue.handle) as running:
        yield running


def real_okx(venue: FakeOkx, url: str) -> Any:
    """A ccxt okx object with its own real aiohttp session, sending to ``url``."""
    import ccxt.async_support as ccxt_async

    exchange = ccxt_async.okx(
        {
            "apiKey": venue.credentials.api_key,
            "secret": venue.credentials.secret,
            "password": venue.credentials.passphrase,
            "timeout": TIMEOUT_MS,
            "options": {"fetchMarkets": {"types": ["spot", "swap"]}},
        }
    )
    return point_exchange_at(exchange, url)


@pytest.fixture
async def okx(venue: FakeOkx, server: LoopbackServer) -> AsyncIterator[Any]:
    exchange = real_okx(venue, server.url)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


async def test_orders_work_over_real_http(okx: Any, venue: FakeOkx) -> None:
    placed = await okx.create_order(LINEAR, "market", "buy", 2, None, {"clientOrderId": "real1"})
    assert (await okx.fetch_order(placed["id"], LINEAR))["filled"] == 2
    assert venue.order_arrivals() == {"real1": 1}


async def test_body_cut_off_after_the_venue_took_the_order(okx: Any, venue: FakeOkx) -> None:
    venue.fail_next_request("cut_body", path="trade/batch-orders")
    with pytest.raises(ccxt.ExchangeError) as raised:
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "cut2"})
    # real aiohttp: ClientPayloadError (a ClientError, not a connection error), which
    # ccxt maps to plain ExchangeError — not a NetworkError, though the fate is unknown
    assert not isinstance(raised.value, ccxt.NetworkError)
    assert type(raised.value.__cause__).__name__ == "ClientPayloadError"
    assert venue.order_arrivals() == {"cut2": 1} and venue.position("BTC-USDT-SWAP") == 1


@pytest.mark.parametrize("acted", [True, False])
async def test_connection_dropped_without_an_answer(okx: Any, venue: FakeOkx, acted: bool) -> None:
    venue.lose_next_answer(after_broker_acted=acted)
    with pytest.raises(ccxt.ExchangeNotAvailable) as raised:
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "drop1"})
    assert type(raised.value.__cause__).__name__ == "ServerDisconnectedError"
    assert venue.order_arrivals() == ({"drop1": 1} if acted else {})


@pytest.mark.parametrize("acted", [True, False])
async def test_answer_held_past_the_timeout(okx: Any, venue: FakeOkx, acted: bool) -> None:
    venue.fail_next_request("read_timeout", path="trade/batch-orders", after_venue_acted=acted)
    with pytest.raises(ccxt.RequestTimeout):
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "late1"})
    assert venue.order_arrivals() == ({"late1": 1} if acted else {})


async def test_connect_timeout_sends_nothing(venue: FakeOkx, server: LoopbackServer) -> None:
    exchange = real_okx(venue, server.url)
    try:
        await exchange.load_markets()
        seen = server.requests_seen
        with blackhole() as url:
            point_exchange_at(exchange, url)
            with pytest.raises(ccxt.RequestTimeout) as raised:
                await exchange.create_order(LINEAR, "market", "buy", 1)
        # under ccxt's equal total/connect/read timeouts aiohttp's total timer fires
        # first: an asyncio timeout, the same as a read timeout after sending (bare on
        # Python 3.11+, aiohttp's ConnectionTimeoutError subclass of it on 3.10)
        assert isinstance(raised.value.__cause__, asyncio.TimeoutError), raised.value.__cause__
        assert server.requests_seen == seen and venue.order_arrivals() == {}
    finally:
        await exchange.close()


async def test_refused_connection_sends_nothing(venue: FakeOkx, server: LoopbackServer) -> None:
    exchange = real_okx(venue, server.url)
    try:
        await exchange.load_markets()
        point_exchange_at(exchange, refusing_url())
        with pytest.raises(ccxt.ExchangeNotAvailable) as raised:
            await exchange.create_order(LINEAR, "market", "buy", 1)
        assert type(raised.value.__cause__).__name__ == "ClientConnectorError"
        assert venue.order_arrivals() == {}
    finally:
        await exchange.close()


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_non_json_error_pages(okx: Any, venue: FakeOkx, status: int) -> None:
    venue.fail_next_request(
        HttpResponse.text("<html><body>nope</body></html>", status, "text/html")
    )
    with pytest.raises(ccxt.ExchangeNotAvailable, match=f" {status} "):
        await okx.create_order(LINEAR, "market", "buy", 1)
    assert venue.order_arrivals() == {}


async def test_maintenance_is_on_maintenance(okx: Any, venue: FakeOkx) -> None:
    venue.fail_next_with_okx_error(okx_errors.maintenance())
    with pytest.raises(ccxt.OnMaintenance, match="50001"):
        await okx.create_order(LINEAR, "market", "buy", 1)
    assert venue.order_arrivals() == {}


async def test_rate_limit_answer_is_rate_limit_exceeded(okx: Any, venue: FakeOkx) -> None:
    venue.fail_next_with_okx_error(okx_errors.rate_limited())
    with pytest.raises(ccxt.RateLimitExceeded):
        await okx.fetch_balance()
