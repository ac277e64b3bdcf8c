"""Every refusal mapped to an ErrorCode, and every transport failure to the right fate.

Against the reference fakes of OKX and Kraken (written from their API docs, not from the
plugin), through real ccxt objects, so ccxt's own ``handle_errors`` turns each venue
answer into the exception the plugin maps.
"""

from __future__ import annotations

from typing import Any

import pytest
from fake_venues import quoted_kraken, quoted_okx, started

from fks_exec import BrokerUnavailable, ErrorCode, Executor, Order, OrderStatus, PluginRegistry
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.testing.okx import FakeOkx, OkxError
from fks_exec_ccxt.testing.okx import errors as okx_errors

SWAP, BTCUSD = "BTC/USDT:USDT", "BTC/USD"


@pytest.fixture
def okx_venue() -> FakeOkx:
    return quoted_okx()


@pytest.fixture
async def okx(okx_venue: FakeOkx) -> Any:
    plugin = await started(okx_venue.exchange())
    yield plugin
    await plugin.close()


@pytest.fixture
def kraken_venue() -> FakeKraken:
    return quoted_kraken()


@pytest.fixture
async def kraken(kraken_venue: FakeKraken) -> Any:
    plugin = await started(kraken_venue.exchange())
    yield plugin
    await plugin.close()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            OkxError("51008", "Order failed. Insufficient USDT margin."),
            ErrorCode.INSUFFICIENT_FUNDS,
        ),
        (okx_errors.parameter("sz"), ErrorCode.INVALID_ORDER),
        (okx_errors.unknown_instrument(), ErrorCode.INVALID_ORDER),
        (okx_errors.auth("50113"), ErrorCode.AUTH),
        (okx_errors.auth("50111"), ErrorCode.AUTH),
        (okx_errors.rate_limited(), ErrorCode.RATE_LIMITED),
        (okx_errors.auth("50102"), ErrorCode.REJECTED),  # a stale timestamp (InvalidNonce)
        (okx_errors.maintenance(), ErrorCode.MARKET_CLOSED),
    ],
)
async def test_okx_refusals(
    okx: CcxtPlugin, okx_venue: FakeOkx, error: OkxError, code: ErrorCode
) -> None:
    okx_venue.fail_next_with_okx_error(error, path="trade/batch-orders")
    result = await okx.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert (result.status, result.error_code, result.success) == (OrderStatus.REJECTED, code, False)
    assert result.error and okx_venue.order_arrivals() == {}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("EOrder:Insufficient funds", ErrorCode.INSUFFICIENT_FUNDS),
        ("EGeneral:Invalid arguments:volume", ErrorCode.INVALID_ORDER),
        ("EOrder:Order minimum not met", ErrorCode.INVALID_ORDER),
        ("EAPI:Invalid key", ErrorCode.AUTH),
        ("EAPI:Invalid nonce", ErrorCode.REJECTED),  # ccxt: InvalidNonce
        ("EAPI:Rate limit exceeded", ErrorCode.RATE_LIMITED),
        ("EService:Market in cancel_only mode", ErrorCode.MARKET_CLOSED),
    ],
)
async def test_kraken_refusals(
    kraken: CcxtPlugin, kraken_venue: FakeKraken, message: str, code: ErrorCode
) -> None:
    kraken_venue.fail_next_with_error(message, path="AddOrder")
    result = await kraken.execute_order(Order.limit(BTCUSD, "buy", "0.01", "59000"))
    assert (result.status, result.error_code) == (OrderStatus.REJECTED, code), result.error
    assert kraken_venue.orders() == []


async def test_real_refusals_from_the_venues(okx: CcxtPlugin, kraken: CcxtPlugin) -> None:
    poor = await okx.execute_order(Order.market(SWAP, "buy", "100000"))
    assert poor.error_code is ErrorCode.INSUFFICIENT_FUNDS
    broke = await kraken.execute_order(Order.market(BTCUSD, "buy", "500"))  # 30M > 100k USD
    assert broke.error_code is ErrorCode.INSUFFICIENT_FUNDS, broke.error


async def test_unavailable_exchange_sends_nothing(okx: CcxtPlugin, okx_venue: FakeOkx) -> None:
    okx_venue.refuse_next()
    with pytest.raises(BrokerUnavailable, match="okx"):
        await okx.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert okx_venue.order_arrivals() == {}


async def test_markets_that_cannot_load_send_nothing(okx_venue: FakeOkx) -> None:
    plugin = await started(okx_venue.exchange())
    okx_venue.fail_next_request("refused", path="public/instruments")
    try:
        with pytest.raises(BrokerUnavailable, match="cannot load markets"):
            await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    finally:
        await plugin.close()
    assert okx_venue.order_arrivals() == {}


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("read_timeout", ErrorCode.TIMEOUT),
        ("reset", ErrorCode.NETWORK),
        (HttpResponse.text("Service Unavailable", 503), ErrorCode.NETWORK),
        (HttpResponse.text("Internal Server Error", 500), ErrorCode.NETWORK),
    ],
)
async def test_uncertain_outcomes_are_unknown(
    okx: CcxtPlugin, okx_venue: FakeOkx, fault: Any, code: ErrorCode
) -> None:
    okx_venue.fail_next_request(fault, path="trade/batch-orders", after_venue_acted=True)
    result = await okx.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert (result.status, result.success, result.sent) == (OrderStatus.UNKNOWN, False, None)
    assert result.error_code is code
    assert "do not resend" in (result.error or "")


async def test_timeout_after_the_order_landed_is_reconciled_never_resent(
    okx: CcxtPlugin, okx_venue: FakeOkx
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("ccxt", okx)
    executor = Executor(registry, routes={"*/USDT:USDT": "ccxt"}, reconcile_delay_s=0)
    order = Order.limit(SWAP, "buy", "1", "59000")
    okx_venue.fail_next_request("read_timeout", path="trade/batch-orders", after_venue_acted=True)
    result = await executor.execute(order)
    assert result.status is OrderStatus.ACCEPTED  # found by client order id
    (held,) = okx_venue.orders()
    assert result.order_id == held.ord_id
    assert (await executor.execute(order)).order_id == result.order_id
    assert okx_venue.order_arrivals() == {order.client_order_id: 1}


async def test_timeout_before_the_order_landed_stays_unknown(
    kraken: CcxtPlugin, kraken_venue: FakeKraken
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("ccxt", kraken)
    executor = Executor(registry, default="ccxt", reconcile_delay_s=0, reconcile_attempts=2)
    order = Order.limit(BTCUSD, "buy", "0.01", "59000")
    kraken_venue.fail_next_request("read_timeout", path="AddOrder")  # before it acted
    result = await executor.execute(order)
    assert result.status is OrderStatus.UNKNOWN  # not found: never assumed, never resent
    assert kraken_venue.order_arrivals() == {} and kraken_venue.orders() == []


async def test_a_reused_client_id_returns_the_order_the_exchange_holds(
    okx: CcxtPlugin, okx_venue: FakeOkx
) -> None:
    order = Order.limit(SWAP, "buy", "1", "59000")
    first = await okx.execute_order(order)
    again = await okx.execute_order(order)  # e.g. after a restart of the strategy
    assert again.order_id == first.order_id
    assert again.status is OrderStatus.ACCEPTED
    assert len(okx_venue.orders()) == 1
