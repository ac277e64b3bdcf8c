"""The fake Kraken's fault injection, in-process and on a real loopback socket.

In-process, ccxt's aiohttp session is swapped (exact faults); on loopback a real ccxt
kraken object with its own aiohttp session talks to a real HTTP server on 127.0.0.1
(at most a few connections per test, each bounded by ccxt's 300 ms timeout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ccxt
import pytest

from fks_exec.testing.faults import FaultInjection
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.kraken import Credentials, FakeKraken
from fks_exec_ccxt.testing.loopback import LoopbackServer, blackhole, refusing_url

BTC = "BTC/USD"
TIMEOUT_MS = 300


@pytest.fixture
def venue() -> FakeKraken:
    fake = FakeKraken()
    fake.set_price("XBTUSD", "60000", "60000.1", "60000")
    return fake


@pytest.fixture
async def kraken(venue: FakeKraken) -> AsyncIterator[Any]:
    exchange = venue.exchange()
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def test_the_venue_implements_the_fault_protocol(venue: FakeKraken) -> None:
    assert isinstance(venue, FaultInjection)


def test_credentials_repr_hides_the_secret() -> None:
    shown = repr(Credentials(api_key="k", secret="c2VjcmV0LXZhbHVl"))
    assert "c2VjcmV0LXZhbHVl" not in shown and "k" in shown


def test_latency_must_not_be_negative(venue: FakeKraken) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        venue.set_latency(-0.1)


async def test_refuse_next_sends_nothing_and_only_hits_orders(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.refuse_next()
    await kraken.fetch_balance()  # reads pass: the fault waits for an order request
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "r1"})
    assert venue.order_arrivals() == {} and venue.orders() == []
    await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "r1"})
    assert venue.order_arrivals() == {"r1": 1}


@pytest.mark.parametrize("acted", [True, False])
async def test_lost_answer_after_or_before_the_venue_acted(
    venue: FakeKraken, kraken: Any, acted: bool
) -> None:
    venue.lose_next_answer(after_broker_acted=acted)
    with pytest.raises(ccxt.NetworkError):
        await kraken.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "lost"})
    assert venue.order_arrivals() == ({"lost": 1} if acted else {})
    found = await kraken.fetch_open_orders(None, None, None, {"clientOrderId": "lost"})
    closed = await kraken.fetch_closed_orders()
    assert found == []  # a market order does not rest
    assert [o["clientOrderId"] for o in closed] == (["lost"] if acted else [])


async def test_disconnect_refuses_reads_too_until_reconnect(venue: FakeKraken, kraken: Any) -> None:
    venue.disconnect()
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await kraken.fetch_balance()
    venue.reconnect()
    assert (await kraken.fetch_balance())["USD"]["total"] == 100000


async def test_latency_past_ccxts_timeout_is_a_timeout_after_the_venue_acted(
    venue: FakeKraken,
) -> None:
    exchange = venue.exchange(timeout=50)
    try:
        await exchange.load_markets()
        venue.set_latency(0.2)
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "slow"})
    finally:
        await exchange.close()
    assert venue.order_arrivals() == {"slow": 1}


async def test_kraken_errors_map_through_ccxts_handle_errors(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.fail_next_with_error("EService:Unavailable", path="AddOrder")
    await kraken.fetch_balance()  # another path: the planned answer waits for AddOrder
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    venue.fail_next_with_error("EService:Market in cancel_only mode")
    with pytest.raises(ccxt.OnMaintenance):
        await kraken.fetch_balance()
    assert venue.orders() == []


async def test_a_cloudflare_page_falls_to_ccxts_http_status_table(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.fail_next_request(HttpResponse.text("<html>busy</html>", 520, "text/html"))
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await kraken.fetch_balance()


async def test_cut_body_in_process_is_an_exchange_error_after_the_venue_acted(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.fail_next_request("cut_body", path="AddOrder")
    with pytest.raises(ccxt.ExchangeError) as raised:
        await kraken.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "cut"})
    assert not isinstance(raised.value, ccxt.NetworkError)
    assert venue.order_arrivals() == {"cut": 1}


# ---------------------------------------------------------------------- loopback
@pytest.fixture
async def server(venue: FakeKraken) -> AsyncIterator[LoopbackServer]:
    async with venue.serve() as running:
        yield running


def real_kraken(venue: FakeKraken, url: str) -> Any:
    """A ccxt kraken object with its own real aiohttp session, sending to ``url``."""
    return venue.exchange_at(url, timeout=TIMEOUT_MS)


async def test_orders_work_over_real_http(venue: FakeKraken, server: LoopbackServer) -> None:
    exchange = real_kraken(venue, server.url)
    try:
        placed = await exchange.create_order(
            BTC, "market", "buy", 0.1, None, {"clientOrderId": "http"}
        )
        assert (await exchange.fetch_order(placed["id"]))["filled"] == 0.1
    finally:
        await exchange.close()
    assert venue.order_arrivals() == {"http": 1}
    assert server.requests_seen <= 6


async def test_cut_body_on_a_real_socket(venue: FakeKraken, server: LoopbackServer) -> None:
    exchange = real_kraken(venue, server.url)
    try:
        await exchange.load_markets()
        venue.fail_next_request("cut_body", path="AddOrder")
        with pytest.raises(ccxt.ExchangeError) as raised:
            await exchange.create_order(BTC, "market", "buy", 0.1, None, {"clientOrderId": "cut2"})
    finally:
        await exchange.close()
    assert not isinstance(raised.value, ccxt.NetworkError)  # though the order was placed
    assert venue.order_arrivals() == {"cut2": 1}


async def test_refused_connection_on_a_real_socket(venue: FakeKraken) -> None:
    exchange = real_kraken(venue, refusing_url())
    try:
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_connect_that_hangs_is_a_timeout_with_nothing_sent(venue: FakeKraken) -> None:
    with blackhole() as url:
        exchange = real_kraken(venue, url)
        try:
            with pytest.raises(ccxt.RequestTimeout):
                await exchange.fetch_balance()
        finally:
            await exchange.close()
    assert venue.orders() == []


def test_every_kraken_fake_module_stays_small() -> None:
    import fks_exec_ccxt.testing.kraken as package

    folder = Path(package.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_the_fake_imports_nothing_of_the_plugin() -> None:
    """Written from Kraken's docs: only the plugin-independent testing transport is used."""
    import ast

    import fks_exec_ccxt.testing.kraken as package

    allowed = ("fks_exec_ccxt.testing.kraken", "fks_exec_ccxt.testing.aiohttp_transport",
               "fks_exec_ccxt.testing.loopback", "fks_exec_ccxt.testing.venue_faults",
               "fks_exec.testing.faults")  # fmt: skip
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith("fks_exec"):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


def test_every_rule_is_documented_on_the_fakes_page() -> None:
    from dataclasses import fields

    from fks_exec_ccxt.testing.kraken import Rules

    page = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "ccxt-kraken-fake.md"
    text = page.read_text()
    missing = [f.name for f in fields(Rules) if f"| `{f.name}` |" not in text]
    assert not missing, f"Rules fields missing from {page.name}: {missing}"
