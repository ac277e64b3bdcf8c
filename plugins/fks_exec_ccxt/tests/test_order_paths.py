"""The paths of :mod:`fks_exec_ccxt.orders` the venue tests pass through without pinning:
which book a cancel tries first, what a cancel's failure means, how an order whose
state was not read back is reported, and answers that are no definite ones.

Against the reference fakes (OKX: a stop is an algo order, cancelled with
``cancel-algos``; Kraken: a cancel by id alone answers a count), and ccxt objects whose
calls are replaced where a venue answer cannot be had from a fake.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import ccxt.async_support as ccxt_async
import pytest
from fake_venues import quoted_kraken, quoted_okx, started
from markets import ccxt_market

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse, attach_session

SWAP = "BTC/USDT:USDT"


def _since(exchange: Any, start: int) -> list[tuple[str, str, str]]:
    return [(r.method, r.path, r.raw_query) for r in exchange.session.requests[start:]]


async def test_a_stop_is_read_back_and_cancelled_in_the_trigger_book_first() -> None:
    venue = quoted_okx()
    exchange = venue.exchange()
    plugin = await started(exchange)
    try:
        await plugin.market(SWAP)
        start = len(exchange.session.requests)
        stop = await plugin.execute_order(Order.stop(SWAP, "sell", "1", "59000"))
        algo = stop.order_id
        query = f"instId=BTC-USDT-SWAP&algoId={algo}"
        assert _since(exchange, start)[-1] == ("GET", "/api/v5/trade/order-algo", query)
        start = len(exchange.session.requests)
        cancelled = await plugin.cancel_order(algo)
        sent = exchange.session.requests[start]
        assert (sent.path, json.loads(sent.body or "")) == (
            "/api/v5/trade/cancel-algos",
            [{"algoId": algo, "instId": "BTC-USDT-SWAP"}],
        )
        assert [r for r in _since(exchange, start) if "cancel" in r[1]] == [
            ("POST", "/api/v5/trade/cancel-algos", "")
        ]
        limit = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "50000"))
        start = len(exchange.session.requests)
        await plugin.cancel_order(limit.order_id)
        assert [r[1] for r in _since(exchange, start) if "cancel" in r[1]] == [
            "/api/v5/trade/cancel-order"
        ]
    finally:
        await plugin.close()
    assert stop.status is OrderStatus.ACCEPTED and cancelled.status is OrderStatus.CANCELED


async def test_a_stop_another_process_placed_is_found_in_the_trigger_book_after_the_regular() -> (
    None
):
    venue = quoted_okx()
    placing = await started(venue.exchange())
    other = await started(venue.exchange())
    try:
        stop = await placing.execute_order(Order.stop(SWAP, "sell", "1", "59000"))
        start = len(other.exchange.session.requests)
        cancelled = await other.cancel_order(stop.order_id, SWAP)
        cancels = [r[1] for r in _since(other.exchange, start) if "cancel" in r[1]]
    finally:
        await placing.close()
        await other.close()
    assert cancels == ["/api/v5/trade/cancel-order", "/api/v5/trade/cancel-algos"]
    assert cancelled.status is OrderStatus.CANCELED and cancelled.order_id == stop.order_id


async def test_a_cancel_by_id_alone_is_unknown_until_read_and_keeps_the_id() -> None:
    venue = quoted_kraken()
    venue.set_price("XBTUSD", "60010", "60010.1", "60010")  # the limit rests
    placing = await started(venue.exchange())
    other = await started(venue.exchange())  # no symbol known for the id
    try:
        placed = await placing.execute_order(Order.limit("BTC/USD", "buy", "0.05", "60000"))
        result = await other.cancel_order(placed.order_id)
        missing = await other.cancel_order("OXXXXX-XXXXX-XXXXXX")
    finally:
        await placing.close()
        await other.close()
    assert result.status is OrderStatus.UNKNOWN and result.order_id == placed.order_id
    assert "(no symbol to read the order by)" in (result.error or "")
    assert result.symbol == "?"
    assert missing.status is OrderStatus.REJECTED and missing.symbol == "?"
    assert missing.sent is True and "Unknown order" in (missing.error or "")


def _refused_with(exc: BaseException) -> Any:
    async def cancel_order(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return cancel_order


def _unreachable() -> BaseException:
    exc = ccxt_async.NetworkError("okx GET https://www.okx.com failed")
    exc.__cause__ = socket.gaierror("name or service not known")
    return exc


@pytest.mark.parametrize(
    ("exc", "status", "sent", "code"),
    [
        (ccxt_async.InvalidOrder("okx order already filled"), "rejected", True, "invalid_order"),
        (ccxt_async.AuthenticationError("okx key revoked"), "rejected", True, "auth"),
        (ccxt_async.RequestTimeout("okx timed out"), "unknown", None, "timeout"),
        (ccxt_async.ExchangeNotAvailable("okx 503"), "unknown", None, "network"),
    ],
)
async def test_what_a_failed_cancel_says(
    exc: BaseException, status: str, sent: bool | None, code: str
) -> None:
    plugin = await started(quoted_okx().exchange())
    try:
        await plugin.market(SWAP)
        plugin.exchange.cancel_order = _refused_with(exc)
        result = await plugin.cancel_order("123", SWAP)
    finally:
        await plugin.close()
    assert (result.status.value, result.sent, result.error_code) == (status, sent, ErrorCode(code))
    assert type(exc).__name__ in (result.error or "")


async def test_a_cancel_that_could_not_connect_raises_nothing_sent() -> None:
    plugin = await started(quoted_okx().exchange())
    try:
        await plugin.market(SWAP)
        plugin.exchange.cancel_order = _refused_with(_unreachable())
        with pytest.raises(BrokerUnavailable, match="okx: NetworkError"):
            await plugin.cancel_order("123", SWAP)
    finally:
        await plugin.close()


async def _cancel_read_as(read: dict[str, Any], exchange_id: str = "okx") -> Any:
    # A cancel answered with ids only, then a read-back that answers ``read``.
    plugin = await started(quoted_okx().exchange())
    try:
        await plugin.market(SWAP)

        async def cancel_order(*args: Any, **kwargs: Any) -> Any:
            return {"id": "123", "info": {}}

        async def fetch_order(*args: Any, **kwargs: Any) -> Any:
            return read

        plugin.exchange.cancel_order = cancel_order
        plugin.exchange.fetch_order = fetch_order
        plugin.exchange.id = exchange_id
        return await plugin.cancel_order("123", SWAP)
    finally:
        await plugin.close()


async def test_a_read_back_that_says_nothing_of_a_fill_leaves_the_cancel_unknown() -> None:
    result = await _cancel_read_as({"id": "123", "status": "canceled", "filled": None})
    assert result.status is OrderStatus.UNKNOWN
    assert "the venue did not say what filled" in (result.error or "")


async def test_only_okx_reads_are_taken_as_okx_algo_orders() -> None:
    # an algoId that never fired means "filled nothing" on OKX only
    read = {"id": "123", "status": "canceled", "filled": None}
    read["info"] = {"algoId": "123", "state": "canceled"}
    okx = await _cancel_read_as(read)
    other = await _cancel_read_as(read, exchange_id="notokx")
    assert okx.status is OrderStatus.CANCELED and okx.filled_quantity == 0
    assert other.status is OrderStatus.UNKNOWN


async def test_a_cancel_read_with_an_impossible_fill_is_no_definite_answer() -> None:
    read = {"id": "123", "status": "canceled", "amount": 1.0, "filled": 2.0, "average": 60000.0}
    result = await _cancel_read_as(read)
    assert result.status is OrderStatus.UNKNOWN
    assert "filled 2.0 is above the order's amount 1.0: not a definite answer" in (
        result.error or ""
    )


async def test_an_order_read_back_by_client_id_when_its_id_read_fails() -> None:
    venue = quoted_okx("60010")  # the limit rests
    plugin = await started(venue.exchange())
    try:

        async def fetch_order(*args: Any, **kwargs: Any) -> Any:
            raise ccxt_async.NetworkError("connection reset")

        plugin.exchange.fetch_order = fetch_order
        found = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "60000"))

        async def nothing(*args: Any, **kwargs: Any) -> list[Any]:
            return []

        plugin.exchange.fetch_open_orders = nothing
        plugin.exchange.fetch_closed_orders = nothing
        plugin.exchange.fetch_canceled_orders = nothing
        lost = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "60000"))
    finally:
        await plugin.close()
    assert found.status is OrderStatus.ACCEPTED and found.error is None
    assert lost.status is OrderStatus.UNKNOWN and lost.sent is True
    assert "searching by client id did not find it" in (lost.error or "")


HYPERLIQUID = "BTC/USDC:USDC"


async def _hyperliquid_answering(statuses: list[Any]) -> Any:
    from markets import exchange_with

    from fks_exec_ccxt import CcxtPlugin

    market = ccxt_market(HYPERLIQUID, amount=0.00001, price=1.0, id="0", baseId=0)
    exchange = exchange_with(
        "hyperliquid", market, walletAddress="0x" + "11" * 20, privateKey="0x" + "22" * 32
    )
    answer = {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}

    async def handle(request: Any) -> HttpResponse:
        if request.path == "/info":  # the lookups afterwards: no order of ours there
            return HttpResponse.json("default" if "userAbstraction" in request.body else [])
        return HttpResponse.json(answer)

    attach_session(exchange, handle)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    try:
        return await plugin.execute_order(Order.limit(HYPERLIQUID, "buy", "0.01", "60000"))
    finally:
        await plugin.close()


async def test_an_answer_without_an_order_id_is_unknown() -> None:
    result = await _hyperliquid_answering([{"resting": {}}])
    assert result.status is OrderStatus.UNKNOWN and result.sent is not False
    assert "hyperliquid answered without an order id" in (result.error or "")


async def test_an_answer_filling_more_than_was_asked_is_no_definite_answer() -> None:
    plugin = await started(quoted_okx().exchange())
    try:

        async def create_order(*args: Any, **kwargs: Any) -> Any:
            return {"id": "7", "status": "closed", "amount": 1.0, "filled": 2.0, "average": 6e4}

        plugin.exchange.create_order = create_order
        result = await plugin.execute_order(Order.limit(SWAP, "buy", "1", "60000"))
    finally:
        await plugin.close()
    assert result.status is OrderStatus.UNKNOWN
    assert "okx: filled 2.0 is above the order's amount 1.0: not a definite answer" in (
        result.error or ""
    )
