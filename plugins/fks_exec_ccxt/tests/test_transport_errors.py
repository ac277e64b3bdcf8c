"""The error map through ccxt's own transport: a real aiohttp session against a loopback
server in front of the reference OKX fake (and a black hole and a closed port).

What must hold: a body cut off after the venue took the order is ``unknown`` (found
again by client id, never resent); a connect that never completes or is refused raises
``BrokerUnavailable`` (nothing left); non-JSON 4xx, maintenance and a failed duplicate-id
lookup are reported as what they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.errors import BrokerUnavailable
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.loopback import (
    LoopbackServer,
    blackhole,
    point_exchange_at,
    refusing_url,
)
from fks_exec_ccxt.testing.okx import FakeOkx
from fks_exec_ccxt.testing.okx import errors as okx_errors

SWAP = "BTC/USDT:USDT"


@pytest.fixture
def venue() -> FakeOkx:
    fake = FakeOkx(balances={"USDT": "100000", "BTC": "10"})
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"):
        fake.set_price(inst_id, "60000", "60000.1", "60000")
    return fake


async def on_real_transport(venue: FakeOkx, url: str, timeout_ms: int = 2_000) -> CcxtPlugin:
    """The plugin on a ccxt okx whose markets came from the venue and whose HTTP now goes
    through ccxt's own aiohttp session to ``url``."""
    exchange = venue.exchange(timeout=timeout_ms)
    await exchange.load_markets()
    exchange.session = None  # ccxt opens its own aiohttp session (the plugin traces it)
    exchange.own_session = True
    point_exchange_at(exchange, url)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init()
    return plugin


@pytest.fixture
async def served(venue: FakeOkx) -> AsyncIterator[tuple[CcxtPlugin, FakeOkx]]:
    async with LoopbackServer(venue.handle) as server:
        plugin = await on_real_transport(venue, server.url)
        yield plugin, venue
        await plugin.close()


async def test_a_body_cut_after_the_venue_took_the_order_is_unknown(
    served: tuple[CcxtPlugin, FakeOkx],
) -> None:
    plugin, venue = served
    order = Order.limit(SWAP, "buy", "1", "59000")
    venue.fail_next_request("cut_body", path="/trade/")
    result = await plugin.execute_order(order)
    assert (result.status, result.sent) == (OrderStatus.UNKNOWN, None), result.error
    assert venue.order_arrivals()  # the venue has it
    found = await plugin.get_order(order.client_order_id)
    assert found is not None and found.status is OrderStatus.ACCEPTED


async def test_a_lost_answer_after_the_request_left_is_unknown(
    served: tuple[CcxtPlugin, FakeOkx],
) -> None:
    plugin, venue = served
    venue.fail_next_request("reset", path="/trade/", after_venue_acted=True)
    result = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert result.status is OrderStatus.UNKNOWN and result.sent is None


async def test_a_connect_timeout_before_sending_is_broker_unavailable(venue: FakeOkx) -> None:
    with blackhole() as url:
        plugin = await on_real_transport(venue, url, timeout_ms=300)
        try:
            with pytest.raises(BrokerUnavailable, match="before sending"):
                await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
        finally:
            await plugin.close()
    assert venue.order_arrivals() == {}


async def test_a_refused_connection_is_broker_unavailable(venue: FakeOkx) -> None:
    plugin = await on_real_transport(venue, refusing_url())
    try:
        with pytest.raises(BrokerUnavailable):
            await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    finally:
        await plugin.close()


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ErrorCode.INVALID_ORDER),
        (403, ErrorCode.AUTH),
        (404, ErrorCode.NOT_SUPPORTED),
        (429, ErrorCode.RATE_LIMITED),
    ],
)
async def test_non_json_error_pages_are_what_they_are(
    served: tuple[CcxtPlugin, FakeOkx], status: int, code: ErrorCode
) -> None:
    plugin, venue = served
    page = HttpResponse.text("<html><body>denied by the edge</body></html>", status, "text/html")
    venue.fail_next_request(page, path="/trade/")
    result = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert (result.status, result.error_code, result.sent) == (OrderStatus.REJECTED, code, True)
    assert venue.order_arrivals() == {}


async def test_maintenance_is_refused_unsent(served: tuple[CcxtPlugin, FakeOkx]) -> None:
    plugin, venue = served
    venue.fail_next_with_okx_error(okx_errors.maintenance(), path="/trade/")
    result = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert (result.status, result.error_code, result.sent) == (
        OrderStatus.REJECTED,
        ErrorCode.MARKET_CLOSED,
        False,
    )
    again = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "59000"))
    assert again.status is OrderStatus.ACCEPTED  # sent=False: may be sent again


async def test_a_duplicate_whose_lookup_fails_stays_unknown(venue: FakeOkx) -> None:
    from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, TransportFault

    reads_fail = False

    async def handler(request: HttpRequest) -> HttpResponse:
        # Every read dropped (aiohttp retries a GET on a dropped keep-alive connection).
        if reads_fail and request.method == "GET":
            raise TransportFault("reset")
        return await venue.handle(request)

    order = Order.limit(SWAP, "buy", "1", "59000")
    async with LoopbackServer(handler) as server:
        first = await on_real_transport(venue, server.url)
        placed = await first.execute_order(order)
        await first.close()
        restarted = await on_real_transport(venue, server.url)  # a new process: no memory
        try:
            reads_fail = True
            result = await restarted.execute_order(order)
            reads_fail = False
            found = await restarted.get_order(order.client_order_id)
        finally:
            await restarted.close()
    assert placed.status is OrderStatus.ACCEPTED
    assert (result.status, result.error_code) == (OrderStatus.UNKNOWN, ErrorCode.INVALID_ORDER)
    assert "client id" in (result.error or "")
    assert found is not None and found.order_id == placed.order_id
    assert len(venue.orders()) == 1


async def test_a_duplicate_is_answered_with_the_order_the_venue_holds(venue: FakeOkx) -> None:
    order = Order.limit(SWAP, "buy", "1", "59000")
    async with LoopbackServer(venue.handle) as server:
        first = await on_real_transport(venue, server.url)
        placed = await first.execute_order(order)
        await first.close()
        restarted = await on_real_transport(venue, server.url)
        try:
            result = await restarted.execute_order(order)
        finally:
            await restarted.close()
    assert result.order_id == placed.order_id and result.status is OrderStatus.ACCEPTED
    assert result.quantity == Decimal(1)
