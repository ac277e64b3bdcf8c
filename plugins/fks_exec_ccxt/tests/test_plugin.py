"""Construction, symbols, reads, cancels, positions, concurrency, secrets and close."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from fake_venues import quoted_okx, started

from fks_exec import ConfigurationError, Order, OrderStatus, PluginInitError
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.testing.okx import Credentials, FakeOkx

SECRET = "s3cr3t-okx-value-9f8e"
SPOT, SWAP = "BTC/USDT", "BTC/USDT:USDT"


def okx_venue() -> FakeOkx:
    return quoted_okx(balances={"USDT": "100000", "BTC": "1"})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)


async def test_unknown_exchange_id_suggests_close_ids() -> None:
    with pytest.raises(PluginInitError, match="Did you mean binance"):
        await CcxtPlugin().init({"exchange": "binanse"})
    with pytest.raises(PluginInitError, match="FKS_EXEC_CCXT_EXCHANGE"):
        await CcxtPlugin().init()
    with pytest.raises(ConfigurationError, match="FKS_EXEC_CCXT_TIMEOUT_MS"):
        await CcxtPlugin().init({"exchange": "binance", "timeout_ms": -5})


async def test_built_from_environment_with_signed_requests_and_no_leaks(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FKS_EXEC_CCXT_EXCHANGE", "okx")
    monkeypatch.setenv("FKS_EXEC_CCXT_API_KEY", "key-from-env")
    monkeypatch.setenv("FKS_EXEC_CCXT_SECRET", SECRET)
    monkeypatch.setenv("FKS_EXEC_CCXT_PASSWORD", "pass-from-env")
    monkeypatch.setenv("FKS_EXEC_CCXT_OPTIONS", '{"fetchMarkets": {"types": ["spot"]}}')
    monkeypatch.setenv("FKS_EXEC_CCXT_TIMEOUT_MS", "2500")
    venue = okx_venue()
    venue.credentials = Credentials("key-from-env", SECRET, "pass-from-env")
    plugin = CcxtPlugin()
    await plugin.init()
    exchange = plugin.exchange
    assert (exchange.id, exchange.timeout, exchange.enableRateLimit) == ("okx", 2500, True)
    exchange.rateLimit = 1
    venue.attach(exchange)
    result = await plugin.execute_order(Order.market(SPOT, "buy", "0.001"))
    assert result.status is OrderStatus.FILLED  # the venue verified ccxt's signature
    venue.credentials = Credentials("key-from-env", "rotated", "pass-from-env")
    refused = await plugin.execute_order(Order.limit(SPOT, "buy", "0.001", "59000"))
    assert refused.error_code == "auth"
    text = caplog.text + repr(plugin) + repr(plugin.config) + str(result) + str(refused)
    # ccxt logs OKX's OK-ACCESS-PASSPHRASE header at DEBUG: masked in its own logger.
    assert "OK-ACCESS-PASSPHRASE" in caplog.text
    assert SECRET not in text and "pass-from-env" not in text
    await plugin.close()


async def test_sandbox_mode() -> None:
    plugin = CcxtPlugin()
    plugin.use_env = False
    await plugin.init({"exchange": "okx", "sandbox": True})
    assert plugin.is_paper is True
    await plugin.close()
    with pytest.raises(PluginInitError, match="no sandbox"):
        await CcxtPlugin().init({"exchange": "bitstamp", "sandbox": True})


async def test_given_exchange_object_gets_rate_limiting_forced_on() -> None:
    exchange = okx_venue().exchange()
    exchange.enableRateLimit = False
    plugin = await started(exchange)
    assert exchange.enableRateLimit is True
    await plugin.close()


async def test_symbols_in_unified_and_exchange_form() -> None:
    okx = await started(okx_venue().exchange())
    kraken_venue = FakeKraken()
    kraken = await started(kraken_venue.exchange())
    try:
        assert (await okx.market("BTC-USDT-SWAP"))["symbol"] == SWAP  # type: ignore[index]
        assert (await okx.market("BTC-USDT"))["symbol"] == SPOT  # type: ignore[index]
        assert (await kraken.market("XXBTZUSD"))["symbol"] == "BTC/USD"  # type: ignore[index]
        assert await okx.market("NOPE") is None
    finally:
        await okx.close()
        await kraken.close()


async def test_markets_load_once_under_concurrent_orders() -> None:
    plugin = await started(okx_venue().exchange())
    try:
        orders = [Order.limit(SWAP, "buy", "1", str(50000 + i)) for i in range(20)]
        results = await asyncio.gather(*(plugin.execute_order(o) for o in orders))
        loads = [r for r in plugin.exchange.session.requests if r.path.endswith("/instruments")]
        assert len(loads) == 2  # one load: spot and swap, once each
        assert len({r.order_id for r in results}) == 20
        assert all(r.status is OrderStatus.ACCEPTED for r in results)
    finally:
        await plugin.close()


async def test_reads() -> None:
    venue = okx_venue()
    plugin = await started(venue.exchange(options={"fetchMarkets": {"types": ["spot"]}}))
    swap = await started(venue.exchange())
    try:
        quote = await plugin.fetch_data("BTC-USDT")
        assert (quote.symbol, quote.bid, quote.ask) == (SPOT, Decimal(60000), Decimal("60000.1"))
        health = await plugin.health_check()
        assert health.healthy and health.latency_ms is not None
        balances = {p.symbol: (p.quantity, p.unit) for p in await plugin.positions()}
        assert balances == {"BTC": (Decimal(1), "base"), "USDT": (Decimal(100000), "base")}
        await swap.execute_order(Order.market(SWAP, "sell", "5"))
        (position,) = await swap.positions()
        assert (position.symbol, position.quantity, position.unit, position.average_price) == (
            SWAP,
            Decimal(-5),
            "contracts",
            Decimal(60000),
        )
    finally:
        await plugin.close()
        await swap.close()


async def test_health_reports_an_unreachable_exchange() -> None:
    venue = okx_venue()
    plugin = await started(venue.exchange())
    venue.fail_next_request("refused", path="/account/balance")  # the authenticated read
    try:
        health = await plugin.health_check()
    finally:
        await plugin.close()
    assert not health.healthy and health.detail.startswith("network:"), health.detail


@pytest.mark.parametrize(
    ("symbol", "quantity"), [(SPOT, "0.001"), (SWAP, "1"), ("BTC/USD", "0.01")]
)
async def test_cancel_and_get_order(symbol: str, quantity: str) -> None:
    if symbol == "BTC/USD":
        kraken = FakeKraken()
        kraken.set_price("XBTUSD", "60000", "60000.1")
        plugin = await started(kraken.exchange())
    else:
        plugin = await started(okx_venue().exchange())
    try:
        order = Order.limit(symbol, "buy", quantity, "50000")
        placed = await plugin.execute_order(order)
        assert placed.order_id
        canceled = await plugin.cancel_order(placed.order_id)  # symbol remembered
        assert canceled.status is OrderStatus.CANCELED, canceled.error
        found = await plugin.get_order(order.client_order_id)
        assert found is not None and found.status is OrderStatus.CANCELED
        again = await plugin.cancel_order(placed.order_id, symbol)
        assert again.status is OrderStatus.REJECTED and again.error_code == "invalid_order"
    finally:
        await plugin.close()


async def test_a_cancel_without_symbol_of_a_foreign_order_says_what_to_do() -> None:
    plugin = await started(okx_venue().exchange())
    try:
        with pytest.raises(ValueError, match="needs symbol="):
            await plugin.cancel_order("42")
    finally:
        await plugin.close()


async def test_close_awaits_the_exchange() -> None:
    exchange = okx_venue().exchange()
    plugin = await started(exchange)
    await plugin.close()
    assert exchange.closed_by_user is True
    assert not plugin.is_initialized


def test_the_symbol_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    plugin = CcxtPlugin()
    plugin._remembered = 3
    for key in ("a", "b", "c"):
        plugin._remember(key, f"{key}/USDT")
    plugin._remember("a", "A/USDT")  # refreshed: now the newest
    plugin._remember("d", "d/USDT")  # over the bound: "b", the oldest, goes
    assert list(plugin._symbols.items()) == [
        ("c", "c/USDT"),
        ("a", "A/USDT"),
        ("d", "d/USDT"),
    ]
    plugin._remember("e", "e/USDT")
    assert list(plugin._symbols) == ["a", "d", "e"]
