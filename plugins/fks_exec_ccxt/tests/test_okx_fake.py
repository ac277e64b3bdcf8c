"""The fake OKX venue driven by a real ``ccxt.async_support.okx`` (not by our plugin).

ccxt's HTTP is replaced at the aiohttp session, so ccxt's request building, signing,
request log and ``handle_errors`` run for real. Transport faults at the socket level
are in ``test_okx_fake_loopback.py``; ccxt's own static cases in
``test_okx_fake_static.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec.testing.faults import FaultInjection
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.okx import Credentials, FakeOkx, OkxError, Rules
from fks_exec_ccxt.testing.okx import errors as okx_errors

LINEAR, INVERSE, SPOT = "BTC/USDT:USDT", "BTC/USD:BTC", "BTC/USDT"
CCXT_VERSION = "4.5.90"


def quote_all(venue: FakeOkx, price: str = "60000") -> None:
    """Quote every default instrument around ``price`` with unlimited depth."""
    p = Decimal(price)
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"):
        venue.set_price(inst_id, p, p + Decimal("0.1"), p)


@pytest.fixture
def venue() -> FakeOkx:
    fake = FakeOkx(balances={"USDT": "100000", "BTC": "10"})
    quote_all(fake)
    return fake


@pytest.fixture
async def okx(venue: FakeOkx) -> AsyncIterator[Any]:
    exchange = venue.exchange()
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def wire_log(okx: Any, path: str) -> list[Any]:
    """Bodies (POST) or queries (GET) ccxt sent to ``path``."""
    return [
        json.loads(r.body) if r.body else r.query
        for r in okx.session.requests
        if r.path == f"/api/v5/{path}"
    ]


def test_the_ccxt_version_is_the_one_this_fake_was_checked_against() -> None:
    # The plugin pins ccxt in its pyproject; this fake was read against this release.
    assert ccxt.__version__ == CCXT_VERSION


def test_the_venue_implements_the_fault_protocol(venue: FakeOkx) -> None:
    assert isinstance(venue, FaultInjection)


def test_credentials_repr_hides_the_secret_and_passphrase() -> None:
    shown = repr(Credentials(secret="s3cret", passphrase="pa55"))
    assert "s3cret" not in shown and "pa55" not in shown


# ---------------------------------------------------------------------- markets, reads
async def test_markets_carry_okx_contract_sizes(okx: Any) -> None:
    assert okx.markets[LINEAR]["contractSize"] == 0.01
    assert okx.markets[INVERSE]["contractSize"] == 100
    assert okx.markets[SPOT]["spot"] is True
    assert okx.markets[LINEAR]["precision"]["amount"] == 0.1


async def test_server_time_ticker_and_balance(okx: Any, venue: FakeOkx) -> None:
    assert isinstance(await okx.fetch_time(), int)
    ticker = await okx.fetch_ticker(LINEAR)
    assert (ticker["bid"], ticker["ask"]) == (60000, 60000.1)
    balance = await okx.fetch_balance()
    assert balance["USDT"]["free"] == 100000 and balance["BTC"]["total"] == 10


# ---------------------------------------------------------------------- regular orders
async def test_limit_order_rests_then_is_found_listed_and_canceled(okx: Any) -> None:
    placed = await okx.create_order(LINEAR, "limit", "buy", 1, 59000)
    sent = wire_log(okx, "trade/batch-orders")[-1][0]
    assert sent["sz"] == "1" and sent["px"] == "59000" and sent["tdMode"] == "cross"
    fetched = await okx.fetch_order(placed["id"], LINEAR)
    assert (fetched["status"], fetched["amount"], fetched["filled"]) == ("open", 1, 0)
    assert [o["id"] for o in await okx.fetch_open_orders(LINEAR)] == [placed["id"]]
    await okx.cancel_order(placed["id"], LINEAR)
    assert (await okx.fetch_order(placed["id"], LINEAR))["status"] == "canceled"
    assert [o["id"] for o in await okx.fetch_canceled_orders(LINEAR)] == [placed["id"]]
    assert await okx.fetch_open_orders(LINEAR) == []


async def test_order_query_and_cancel_by_client_id(okx: Any) -> None:
    await okx.create_order(LINEAR, "limit", "sell", 2, 61000, {"clientOrderId": "fks0001abc"})
    by_client = await okx.fetch_order(None, LINEAR, {"clientOrderId": "fks0001abc"})
    assert by_client["clientOrderId"] == "fks0001abc" and by_client["side"] == "sell"
    await okx.cancel_order(None, LINEAR, {"clientOrderId": "fks0001abc"})
    assert wire_log(okx, "trade/cancel-order")[-1] == {
        "instId": "BTC-USDT-SWAP",
        "clOrdId": "fks0001abc",
    }
    again = await okx.fetch_order(None, LINEAR, {"clientOrderId": "fks0001abc"})
    assert again["status"] == "canceled"


async def test_market_order_fills_at_the_touch_and_is_closed(okx: Any, venue: FakeOkx) -> None:
    placed = await okx.create_order(LINEAR, "market", "buy", 3)
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert (order["status"], order["filled"], order["average"]) == ("closed", 3, 60000.1)
    assert order["fee"]["currency"] == "USDT" and order["fee"]["cost"] > 0
    assert [o["id"] for o in await okx.fetch_closed_orders(LINEAR)] == [placed["id"]]
    assert venue.position("BTC-USDT-SWAP") == 3


async def test_spot_market_buy_in_base_moves_both_balances(okx: Any, venue: FakeOkx) -> None:
    await okx.create_order(SPOT, "market", "buy", 0.5)
    assert venue.balance("BTC") == Decimal("10.5") - Decimal("0.5") * Decimal("0.0015")
    assert venue.balance("USDT") == Decimal("100000") - Decimal("0.5") * Decimal("60000.1")


async def test_spot_market_buy_sized_in_quote_spends_that_much(okx: Any, venue: FakeOkx) -> None:
    # OKX: a spot market order's sz unit is set by tgtCcy (quote_ccy: quote currency)
    placed = await okx.create_order(SPOT, "market", "buy", 6000, None, {"tgtCcy": "quote_ccy"})
    sent = wire_log(okx, "trade/batch-orders")[-1][0]
    assert (sent["sz"], sent["tgtCcy"]) == ("6000", "quote_ccy")
    order = await okx.fetch_order(placed["id"], SPOT)
    bought = Decimal(order["info"]["accFillSz"])
    assert order["cost"] == 6000 and bought * Decimal("60000.1") <= 6000
    assert 6000 - bought * Decimal("60000.1") < Decimal("60000.1") * Decimal("0.00000001")
    assert venue.balance("USDT") == Decimal(100000) - bought * Decimal("60000.1")


async def test_a_batch_that_partly_fails_answers_code_2(okx: Any) -> None:
    orders = [
        {"symbol": LINEAR, "type": "limit", "side": "buy", "amount": 1, "price": 59000},
        {"symbol": LINEAR, "type": "limit", "side": "buy", "amount": 1, "price": 59000,
         "params": {"sz": "0.15"}},
    ]  # fmt: skip
    placed = await okx.create_orders(orders)
    assert placed[0]["id"] and placed[1]["status"] == "rejected"
    assert placed[1]["info"]["sCode"] == "51121"


@pytest.mark.parametrize(
    ("args", "error", "code"),
    [
        ((SPOT, "limit", "buy", 1, 60000, {"reduceOnly": True}), ccxt.InvalidOrder, "51139"),
        ((LINEAR, "limit", "buy", 1, 60000, {"sz": "0.15"}), ccxt.InvalidOrder, "51121"),
        ((LINEAR, "market", "buy", 100000), ccxt.InsufficientFunds, "51008"),
        ((SPOT, "limit", "buy", 5, 60000), ccxt.InsufficientFunds, "51008"),
        ((SPOT, "limit", "sell", 11, 60000), ccxt.InsufficientFunds, "51008"),
        ((LINEAR, "limit", "buy", 1, 60000, {"posSide": "long"}), ccxt.BadRequest, "51000"),
        ((LINEAR, "limit", "buy", 1, 60000, {"clientOrderId": "a-b"}), ccxt.BadRequest, "51000"),
        ((LINEAR, "limit", "buy", 1, 60000, {"clientOrderId": "x" * 33}), ccxt.BadRequest, "51000"),
        ((LINEAR, "market", "sell", 1, None, {"reduceOnly": True}), ccxt.ExchangeError, "51169"),
    ],
)
async def test_refusals_map_through_ccxts_handle_errors(
    okx: Any, venue: FakeOkx, args: Any, error: type, code: str
) -> None:
    with pytest.raises(error, match=f'"sCode": "{code}"'):
        await okx.create_order(*args)
    assert venue.order_arrivals() == {}


async def test_duplicate_pending_client_id_is_refused_and_reaches_the_book_once(
    okx: Any, venue: FakeOkx
) -> None:
    await okx.create_order(LINEAR, "limit", "buy", 1, 59000, {"clientOrderId": "dup1"})
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        await okx.create_order(LINEAR, "limit", "buy", 1, 59000, {"clientOrderId": "dup1"})
    assert venue.order_arrivals() == {"dup1": 1}


async def test_client_id_of_a_finished_order_is_accepted_again_by_default(
    okx: Any, venue: FakeOkx
) -> None:
    # Documented: "clOrdId must be unique among the clOrdIds of all pending orders".
    await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "reuse1"})
    await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "reuse1"})
    assert venue.order_arrivals() == {"reuse1": 2}
    assert venue.position("BTC-USDT-SWAP") == 2


async def test_rules_can_make_client_ids_unique_forever() -> None:
    venue = FakeOkx(rules=Rules(client_id_unique_among="all"))
    quote_all(venue)
    exchange = venue.exchange()
    try:
        await exchange.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "once1"})
        with pytest.raises(ccxt.InvalidOrder):
            await exchange.create_order(
                LINEAR, "market", "buy", 1, None, {"clientOrderId": "once1"}
            )
    finally:
        await exchange.close()


# ---------------------------------------------------------------------- partial fills
async def test_limit_order_fills_partly_then_rests_and_fills_as_maker(
    okx: Any, venue: FakeOkx
) -> None:
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size="2")
    placed = await okx.create_order(LINEAR, "limit", "buy", 5, 60000.1)
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert (order["status"], order["filled"], order["remaining"]) == ("open", 2, 3)
    assert order["info"]["state"] == "partially_filled"
    venue.set_price("BTC-USDT-SWAP", "59990", "59995", ask_size="10")
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert (order["status"], order["filled"]) == ("closed", 5)
    # 2 taken at the ask, 3 filled resting at the order's own price
    assert Decimal(order["info"]["avgPx"]) == Decimal("60000.1")
    assert venue.position("BTC-USDT-SWAP") == 5


@pytest.mark.parametrize(
    ("params", "filled", "state"),
    [({"timeInForce": "IOC"}, 2, "canceled"), ({"timeInForce": "FOK"}, 0, "canceled")],
)
async def test_ioc_keeps_a_partial_fill_and_fok_none(
    okx: Any, venue: FakeOkx, params: dict[str, str], filled: int, state: str
) -> None:
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size="2")
    placed = await okx.create_order(LINEAR, "limit", "buy", 5, 60000.1, params)
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert (order["info"]["state"], order["filled"]) == (state, filled)


async def test_post_only_that_would_take_is_canceled(okx: Any) -> None:
    placed = await okx.create_order(LINEAR, "limit", "buy", 1, 60000.1, {"postOnly": True})
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert order["status"] == "canceled" and order["filled"] == 0 and order["postOnly"]


async def test_market_remainder_beyond_depth_is_canceled(okx: Any, venue: FakeOkx) -> None:
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size="1.5")
    placed = await okx.create_order(LINEAR, "market", "buy", 4)
    order = await okx.fetch_order(placed["id"], LINEAR)
    assert (order["info"]["state"], order["filled"]) == ("canceled", 1.5)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(depths=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=6))
def test_partial_fills_never_exceed_the_order_nor_the_quoted_depth(depths: list[int]) -> None:
    venue = FakeOkx()
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size="0")
    order = venue.trading.place(
        {"instId": "BTC-USDT-SWAP", "side": "buy", "ordType": "limit", "sz": "50",
         "px": "60000.1", "tdMode": "cross"}
    )  # fmt: skip
    for depth in depths:
        venue.set_price("BTC-USDT-SWAP", "60000", "60000.1", ask_size=Decimal(depth) / 10)
    offered = sum(Decimal(d) / 10 for d in depths)
    assert order.acc_fill_sz == min(Decimal(50), offered)
    assert venue.position("BTC-USDT-SWAP") == order.acc_fill_sz
    assert order.state == ("filled" if offered >= 50 else "partially_filled" if offered else "live")


# ---------------------------------------------------------------------- request-level errors
@pytest.mark.parametrize(
    ("error", "ccxt_error"),
    [
        (okx_errors.maintenance(), ccxt.OnMaintenance),
        (okx_errors.rate_limited(), ccxt.RateLimitExceeded),
        (okx_errors.auth("50113"), ccxt.AuthenticationError),
        (okx_errors.auth("50102"), ccxt.InvalidNonce),
    ],
)
async def test_request_level_errors_map_to_ccxt_classes(
    okx: Any, venue: FakeOkx, error: OkxError, ccxt_error: type
) -> None:
    venue.fail_next_with_okx_error(error, path="trade/batch-orders")
    with pytest.raises(ccxt_error):
        await okx.create_order(LINEAR, "market", "buy", 1)
    assert venue.order_arrivals() == {}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret": "wrong"}, "50113"),
        ({"password": "wrong"}, "50105"),
        ({"apiKey": "wrong"}, "50111"),
    ],
)
async def test_bad_credentials_are_refused_by_the_signature_check(
    venue: FakeOkx, change: dict[str, str], code: str
) -> None:
    exchange = venue.exchange(**change)
    try:
        with pytest.raises(ccxt.AuthenticationError, match=code):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_a_stale_timestamp_is_refused(venue: FakeOkx) -> None:
    exchange = venue.exchange(options={"timeDifference": 60_000})  # clock 60 s behind
    try:
        with pytest.raises(ccxt.InvalidNonce, match="50102"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_unknown_orders_are_not_found(okx: Any) -> None:
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await okx.fetch_order("123", LINEAR)
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await okx.cancel_order("123", LINEAR)


@pytest.mark.parametrize("status", [400, 403, 404])
async def test_non_json_error_pages_fall_to_ccxts_http_status_table(
    okx: Any, venue: FakeOkx, status: int
) -> None:
    # okx.handle_errors returns on a non-JSON body; ccxt's base httpExceptions then
    # map 400/403/404 to ExchangeNotAvailable, a NetworkError: code built on ccxt must
    # look at the status, not only at the class.
    venue.fail_next_request(HttpResponse.text("<html>error</html>", status, "text/html"))
    with pytest.raises(ccxt.ExchangeNotAvailable, match=f" {status} "):
        await okx.fetch_balance()


# ---------------------------------------------------------------------- fault injection
async def test_refuse_next_sends_nothing(okx: Any, venue: FakeOkx) -> None:
    venue.refuse_next()
    with pytest.raises(ccxt.ExchangeNotAvailable) as raised:
        await okx.create_order(LINEAR, "market", "buy", 1)
    assert type(raised.value.__cause__).__name__ == "ClientConnectorError"
    assert venue.order_arrivals() == {} and venue.position("BTC-USDT-SWAP") == 0
    await okx.create_order(LINEAR, "market", "buy", 1)  # only the next one
    assert venue.position("BTC-USDT-SWAP") == 1


@pytest.mark.parametrize("acted", [True, False])
async def test_lost_answer_after_or_before_the_venue_acted(
    okx: Any, venue: FakeOkx, acted: bool
) -> None:
    venue.lose_next_answer(after_broker_acted=acted)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "lost1"})
    assert venue.order_arrivals() == ({"lost1": 1} if acted else {})
    assert venue.position("BTC-USDT-SWAP") == (1 if acted else 0)


async def test_disconnect_refuses_reads_too_until_reconnect(okx: Any, venue: FakeOkx) -> None:
    venue.disconnect()
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await okx.fetch_balance()
    venue.reconnect()
    assert (await okx.fetch_balance())["USDT"]["total"] == 100000


async def test_latency_past_ccxts_timeout_is_a_timeout_after_the_venue_acted(
    venue: FakeOkx,
) -> None:
    exchange = venue.exchange(timeout=50)
    try:
        await exchange.load_markets()
        venue.set_latency(0.2)
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.create_order(
                LINEAR, "market", "buy", 1, None, {"clientOrderId": "slow1"}
            )
        assert venue.order_arrivals() == {"slow1": 1}
    finally:
        venue.set_latency(0)
        await exchange.close()
    with pytest.raises(ValueError, match="latency"):
        venue.set_latency(-1)


async def test_cut_body_in_process_is_an_exchange_error_from_a_payload_error(
    okx: Any, venue: FakeOkx
) -> None:
    venue.fail_next_request("cut_body", path="trade/batch-orders")
    with pytest.raises(ccxt.ExchangeError) as raised:
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"clientOrderId": "cut1"})
    assert not isinstance(raised.value, ccxt.NetworkError)  # ccxt: ClientError -> ExchangeError
    assert type(raised.value.__cause__).__name__ == "ClientPayloadError"
    assert venue.order_arrivals() == {"cut1": 1}


def test_every_okx_fake_module_stays_small() -> None:
    from pathlib import Path

    import fks_exec_ccxt.testing.okx as package

    for module in Path(package.__file__).parent.glob("*.py"):
        assert len(module.read_text().splitlines()) <= 400, module.name
