"""Construction, symbols, reads, cancels, positions, concurrency, secrets and close."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from fks_exec import ConfigurationError, Order, OrderStatus, PluginInitError
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit, attach

SECRET = "s3cr3t-binance-value-9f8e"


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
    monkeypatch.setenv("FKS_EXEC_CCXT_EXCHANGE", "binance")
    monkeypatch.setenv("FKS_EXEC_CCXT_API_KEY", "key-from-env")
    monkeypatch.setenv("FKS_EXEC_CCXT_SECRET", SECRET)
    monkeypatch.setenv("FKS_EXEC_CCXT_OPTIONS", '{"fetchMarkets": {"types": ["spot"]}}')
    monkeypatch.setenv("FKS_EXEC_CCXT_TIMEOUT_MS", "2500")
    venue = FakeBinance(api_key="key-from-env", secret=SECRET)
    venue.set_price("BTCUSDT", "65000", "65001")
    plugin = CcxtPlugin()
    await plugin.init()
    exchange = plugin.exchange
    assert (exchange.id, exchange.timeout, exchange.enableRateLimit) == ("binance", 2500, True)
    exchange.rateLimit, exchange.timeout_on_exit = 1, 0
    attach(exchange, venue)
    result = await plugin.execute_order(Order.market("BTC/USDT", "buy", "0.001"))
    assert result.status is OrderStatus.FILLED  # the venue verified ccxt's HMAC signature
    venue.secret = "rotated"  # now every signature is wrong
    refused = await plugin.execute_order(Order.limit("BTC/USDT", "buy", "0.001", "60000"))
    assert refused.error_code == "auth"
    text = caplog.text + repr(plugin) + repr(plugin.config) + str(result) + str(refused)
    assert SECRET not in text
    await plugin.close()


async def test_sandbox_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = CcxtPlugin()
    await plugin.init({"exchange": "binance", "sandbox": True})
    assert "testnet" in str(plugin.exchange.urls["api"])
    await plugin.close()
    with pytest.raises(PluginInitError, match="no sandbox"):
        await CcxtPlugin().init({"exchange": "bitstamp", "sandbox": True})


async def test_given_exchange_object_gets_rate_limiting_forced_on(
    binance_venue: FakeBinance,
) -> None:
    from fks_exec_ccxt.testing import fake_exchange

    exchange = fake_exchange(binance_venue)
    exchange.enableRateLimit = False
    plugin = CcxtPlugin(exchange=exchange)
    await plugin.init()
    assert exchange.enableRateLimit is True
    await plugin.close()


async def test_symbols_in_unified_and_exchange_form(binance: CcxtPlugin, bybit: CcxtPlugin) -> None:
    assert (await binance.market("BTCUSDT"))["symbol"] == "BTC/USDT"  # type: ignore[index]
    assert (await bybit.market("BTCUSDT"))["symbol"] == "BTC/USDT:USDT"  # type: ignore[index]
    assert await binance.market("NOPE") is None


async def test_markets_load_once_under_concurrent_orders(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    orders = [Order.limit("BTC/USDT", "buy", "0.001", str(60000 + i)) for i in range(20)]
    results = await asyncio.gather(*(binance.execute_order(o) for o in orders))
    assert len(binance_venue.requests_to("/api/v3/exchangeInfo")) == 1
    assert len({r.order_id for r in results}) == 20
    assert all(r.status is OrderStatus.ACCEPTED for r in results)


async def test_reads(binance: CcxtPlugin, bybit: CcxtPlugin, bybit_venue: FakeBybit) -> None:
    quote = await binance.fetch_data("BTCUSDT")
    assert (quote.symbol, quote.bid, quote.ask) == ("BTC/USDT", Decimal("65000"), Decimal("65001"))
    health = await binance.health_check()
    assert health.healthy and health.latency_ms is not None
    assert {p.symbol: p.quantity for p in await binance.positions()} == {
        "BTC": Decimal(1),
        "USDT": Decimal(100000),
    }
    await bybit.execute_order(Order.market("ETH/USDT:USDT", "sell", "0.5"))
    (position,) = await bybit.positions()
    assert (position.symbol, position.quantity, position.average_price) == (
        "ETH/USDT:USDT",
        Decimal("-0.5"),
        Decimal("3000"),
    )


async def test_health_reports_an_unreachable_exchange(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    binance_venue.fail_next("refused", path="/api/v3/account")  # the authenticated read
    health = await binance.health_check()
    assert not health.healthy and health.detail.startswith("network:"), health.detail


async def test_cancel_and_get_order(binance: CcxtPlugin, bybit: CcxtPlugin) -> None:
    for plugin, symbol, qty in ((binance, "BTC/USDT", "0.001"), (bybit, "BTC/USDT:USDT", "0.01")):
        order = Order.limit(symbol, "buy", qty, "60000")
        placed = await plugin.execute_order(order)
        assert placed.order_id
        canceled = await plugin.cancel_order(placed.order_id)  # symbol remembered
        assert canceled.status is OrderStatus.CANCELED
        found = await plugin.get_order(order.client_order_id)
        assert found is not None and found.status is OrderStatus.CANCELED
        again = await plugin.cancel_order(placed.order_id, symbol)
        assert again.status is OrderStatus.REJECTED and again.error_code == "invalid_order"
    with pytest.raises(ValueError, match="needs symbol="):
        await binance.cancel_order("42")


async def test_close_awaits_the_exchange(binance_venue: FakeBinance) -> None:
    from fks_exec_ccxt.testing import fake_exchange

    exchange = fake_exchange(binance_venue)
    plugin = CcxtPlugin(exchange=exchange)
    await plugin.init()
    await plugin.close()
    assert exchange.closed_by_user is True
    assert not plugin.is_initialized
