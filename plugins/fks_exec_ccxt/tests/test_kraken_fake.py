"""The fake Kraken venue driven by a real ``ccxt.async_support.kraken`` (not by our plugin).

ccxt's HTTP is replaced at the aiohttp session, so ccxt's request building, signing,
request log and ``handle_errors`` run for real. Stops and margin are in
``test_kraken_fake_margin.py``; faults in ``test_kraken_fake_faults.py``; ccxt's own
static cases in ``test_kraken_fake_static.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import ccxt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec_ccxt.testing.kraken import DEFAULT_PAIRS, FakeKraken, Rules
from fks_exec_ccxt.testing.kraken.signing import sign

BTC = "BTC/USD"
CCXT_VERSION = "4.5.90"


@pytest.fixture
def venue() -> FakeKraken:
    fake = FakeKraken(balances={"ZUSD": "100000", "XXBT": "2"})
    fake.set_price("XBTUSD", "60000", "60000.1", "60000")
    return fake


@pytest.fixture
async def kraken(venue: FakeKraken) -> AsyncIterator[Any]:
    exchange = venue.exchange()
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def sent(exchange: Any, name: str) -> list[dict[str, str]]:
    """The form bodies ccxt posted to ``/0/private/<name>``."""
    return [
        dict(parse_qsl(r.body or ""))
        for r in exchange.session.requests
        if r.path == f"/0/private/{name}"
    ]


def test_ccxt_version_is_the_pinned_one() -> None:
    assert ccxt.__version__ == CCXT_VERSION


def test_signature_matches_krakens_documented_example() -> None:
    # https://docs.kraken.com/api/docs/guides/spot-rest-auth, "Examples"
    secret = (
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
    )
    data = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
    assert sign(secret, "/0/private/AddOrder", "1616492376594", data) == (
        "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
    )


async def test_markets_load_with_krakens_ids_and_precision(kraken: Any) -> None:
    market = kraken.market(BTC)
    assert market["id"] == "XXBTZUSD"
    assert market["precision"] == {"amount": 1e-08, "price": 0.1}
    assert market["margin"] is True
    assert kraken.market("LTC/USDT")["margin"] is False


async def test_public_endpoints_time_status_ticker_and_pairs(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.clock = venue.trading.clock = lambda: 1_800_000_000.5
    assert await kraken.fetch_time() == 1_800_000_000_000
    assert (await kraken.fetch_status())["status"] == "ok"
    venue.set_price("XBTUSD", "59990", "60010", "60001", ask_size="1.5")
    ticker = await kraken.fetch_ticker(BTC)
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (59990, 60010, 60001)
    assert ticker["askVolume"] == 1.5
    answer = await kraken.public_get_assetpairs({"pair": "XBTUSD,ETHUSD"})
    assert sorted(answer["result"]) == ["XETHZUSD", "XXBTZUSD"]
    with pytest.raises(ccxt.ExchangeError, match="Unknown asset pair"):
        await kraken.public_get_ticker({"pair": "NOPEUSD"})


async def test_wrong_secret_is_refused_with_invalid_signature(venue: FakeKraken) -> None:
    exchange = venue.exchange(secret="d3Jvbmcgc2VjcmV0")
    try:
        # ccxt 4.5.90 has no mapping for this text: it surfaces as a plain ExchangeError
        with pytest.raises(ccxt.ExchangeError, match="EAPI:Invalid signature"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()
    assert venue.orders() == []


async def test_unknown_key_is_refused(venue: FakeKraken) -> None:
    exchange = venue.exchange(apiKey="someone-else")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="EAPI:Invalid key"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_a_nonce_that_does_not_increase_is_refused(venue: FakeKraken, kraken: Any) -> None:
    await kraken.fetch_balance()
    kraken.nonce = lambda: 1  # an older nonce than the one just used
    kraken.options["nonce"] = None
    kraken.incrementing_nonce = lambda: 1
    with pytest.raises(ccxt.InvalidNonce):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    assert venue.orders() == []


async def test_the_same_nonce_twice_is_refused(venue: FakeKraken, kraken: Any) -> None:
    await kraken.fetch_balance()
    last = venue.nonces.last
    assert last is not None
    kraken.incrementing_nonce = lambda: last
    with pytest.raises(ccxt.InvalidNonce):
        await kraken.fetch_balance()
    kraken.incrementing_nonce = lambda: last + 1
    await kraken.fetch_balance()


async def test_nonce_window_admits_a_slightly_older_nonce() -> None:
    venue = FakeKraken(rules=Rules(nonce_window_ms=1000))
    exchange = venue.exchange()
    try:
        await exchange.fetch_balance()
        last = venue.nonces.last
        assert last is not None
        exchange.incrementing_nonce = lambda: last - 10
        await exchange.fetch_balance()
        exchange.incrementing_nonce = lambda: last - 5000
        with pytest.raises(ccxt.InvalidNonce):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_market_buy_fills_at_the_ask_and_moves_balances(
    venue: FakeKraken, kraken: Any
) -> None:
    order = await kraken.create_order(BTC, "market", "buy", 0.5)
    fetched = await kraken.fetch_order(order["id"])
    assert fetched["status"] == "closed"
    assert fetched["filled"] == 0.5 and fetched["average"] == 60000.1
    fee = Decimal("30000.05") * Decimal("0.0026")
    assert venue.balance("XXBT") == Decimal("2.5")
    assert venue.balance("ZUSD") == Decimal("100000") - Decimal("30000.05") - fee.quantize(
        Decimal("0.00001")
    )
    assert fetched["trades"] and fetched["trades"][0]["id"] == venue.trades()[0].trade_id


async def test_partial_fill_against_a_shallow_book_rests_the_limit_remainder(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.3")
    order = await kraken.create_order(BTC, "limit", "buy", 1, 60001)
    first = await kraken.fetch_order(order["id"])
    assert (first["status"], first["filled"], first["remaining"]) == ("open", 0.3, 0.7)
    venue.set_price("XBTUSD", "59990", "60000.5", ask_size="2")  # crosses the resting bid
    second = await kraken.fetch_order(order["id"])
    assert (second["status"], second["filled"]) == ("closed", 1.0)
    assert [t.maker for t in venue.trades()] == [False, True]
    assert venue.trades()[1].price == Decimal("60001")  # a maker fills at its own price


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_orders_share_one_quotes_depth(venue: FakeKraken, kraken: Any, side: str) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.5", bid_size="0.5")
    first = await kraken.create_order(BTC, "market", side, 0.3)
    second = await kraken.create_order(BTC, "market", side, 0.3)
    filled = [(await kraken.fetch_order(o["id"]))["filled"] for o in (first, second)]
    assert filled == [0.3, 0.2]  # the second order gets what the first left of the depth


@pytest.mark.parametrize(("side", "price"), [("buy", 60000.1), ("sell", 60000)])
async def test_a_limit_at_the_touch_trades_at_once(
    venue: FakeKraken, kraken: Any, side: str, price: float
) -> None:
    order = await kraken.create_order(BTC, "limit", side, 0.1, price)
    fetched = await kraken.fetch_order(order["id"])
    assert (fetched["status"], fetched["average"]) == ("closed", price)
    assert venue.trades()[0].maker is False


async def test_market_remainder_beyond_the_depth_is_canceled(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.2")
    order = await kraken.create_order(BTC, "market", "buy", 1)
    fetched = await kraken.fetch_order(order["id"])
    assert (fetched["status"], fetched["filled"]) == ("canceled", 0.2)


async def test_market_remainder_rests_when_the_rule_says_so() -> None:
    venue = FakeKraken(rules=Rules(market_remainder="rest"))
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.2")
    exchange = venue.exchange()
    try:
        order = await exchange.create_order(BTC, "market", "buy", 1)
        venue.set_price("XBTUSD", "60000", "60000.1", ask_size="5")
        fetched = await exchange.fetch_order(order["id"])
    finally:
        await exchange.close()
    assert (fetched["status"], fetched["filled"]) == ("closed", 1.0)


async def test_ioc_cancels_what_does_not_fill_at_once(venue: FakeKraken, kraken: Any) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.25")
    order = await kraken.create_order(BTC, "limit", "buy", 1, 60001, {"timeInForce": "IOC"})
    assert sent(kraken, "AddOrder")[-1]["timeinforce"] == "IOC"
    fetched = await kraken.fetch_order(order["id"])
    assert (fetched["status"], fetched["filled"]) == ("canceled", 0.25)


async def test_gtd_needs_an_expiry_and_expires(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:expiretm"):
        await kraken.create_order(BTC, "limit", "buy", 0.1, 50000, {"timeInForce": "GTD"})
    order = await kraken.create_order(
        BTC, "limit", "buy", 0.1, 50000, {"timeInForce": "GTD", "expiretm": "+1"}
    )
    venue.clock = venue.trading.clock = lambda: 4_102_444_800.0  # year 2100
    venue.set_price("XBTUSD", "60000", "60000.1")
    assert venue.orders()[-1].status == "expired"
    assert venue.orders()[-1].txid == order["id"]


async def test_post_only_that_would_take_is_canceled(venue: FakeKraken, kraken: Any) -> None:
    order = await kraken.create_order(BTC, "limit", "buy", 0.1, 60005, {"postOnly": True})
    assert sent(kraken, "AddOrder")[-1]["oflags"] == "post"
    fetched = await kraken.fetch_order(order["id"])
    assert fetched["status"] == "canceled" and fetched["filled"] == 0
    assert fetched["info"]["reason"] == "Post only order"
    resting = await kraken.create_order(BTC, "limit", "buy", 0.1, 59000, {"postOnly": True})
    assert (await kraken.fetch_order(resting["id"]))["postOnly"] is True


@pytest.mark.parametrize("ordertype", ["market", "stop-loss-limit"])
async def test_post_only_is_for_limit_orders_only(
    venue: FakeKraken, kraken: Any, ordertype: str
) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:oflags"):
        await kraken.private_post_addorder(
            {"pair": "XBTUSD", "type": "sell", "ordertype": ordertype, "volume": "0.1",
             "price": "59000", "price2": "58900", "oflags": "post"}
        )  # fmt: skip
    assert venue.orders() == []


async def test_post_only_that_would_take_is_refused_under_the_reject_rule() -> None:
    venue = FakeKraken(rules=Rules(post_only_crossing="reject"))
    venue.set_price("XBTUSD", "60000", "60000.1")
    exchange = venue.exchange()
    try:
        with pytest.raises(ccxt.ExchangeError, match="EOrder:Post only order"):
            await exchange.create_order(BTC, "limit", "buy", 0.1, 60005, {"postOnly": True})
    finally:
        await exchange.close()
    assert venue.orders() == []


async def test_fee_in_base_with_fcib(venue: FakeKraken, kraken: Any) -> None:
    await kraken.create_order(BTC, "market", "buy", 1, None, {"oflags": "fcib"})
    assert venue.balance("XXBT") == Decimal("3") - Decimal("0.0026")
    assert venue.balance("ZUSD") == Decimal("100000") - Decimal("60000.1")


async def test_viqc_buys_for_a_quote_amount(venue: FakeKraken, kraken: Any) -> None:
    venue.set_price("XBTUSD", "59999.9", "60000")
    await kraken.create_order(BTC, "market", "buy", 6000, None, {"oflags": "viqc"})
    assert sent(kraken, "AddOrder")[-1]["oflags"] == "viqc,viqc"  # ccxt 4.5.90 repeats it
    (trade,) = venue.trades()
    assert trade.vol == Decimal("0.1") and trade.cost == Decimal("6000")
    assert venue.orders()[0].status == "closed"


async def test_insufficient_funds_places_nothing(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        await kraken.create_order(BTC, "limit", "buy", 5, 60000)
    with pytest.raises(ccxt.InsufficientFunds):
        await kraken.create_order(BTC, "market", "sell", 3)
    assert venue.orders() == []


async def test_open_orders_hold_funds(venue: FakeKraken, kraken: Any) -> None:
    await kraken.create_order(BTC, "limit", "buy", 1, 50000)
    await kraken.create_order(BTC, "limit", "sell", 1.5, 70000)
    balance = await kraken.fetch_balance()
    assert balance["USD"]["used"] == pytest.approx(50000 * 1.0026)
    assert balance["BTC"]["used"] == 1.5
    with pytest.raises(ccxt.InsufficientFunds):
        await kraken.create_order(BTC, "limit", "sell", 0.6, 70000)  # 2 held 1.5
    with pytest.raises(ccxt.InsufficientFunds):
        await kraken.create_order(BTC, "limit", "buy", 1, 50000)


async def test_order_below_minimum_or_too_precise_is_refused(
    venue: FakeKraken, kraken: Any
) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="Order minimum not met"):
        await kraken.create_order("ETH/USD", "limit", "buy", 0.001, 2000)
    kraken.markets[BTC]["precision"]["price"] = 0.01  # let ccxt send 2 decimals
    with pytest.raises(ccxt.ExchangeError, match="up to 1 decimals"):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000.55)
    assert venue.orders() == []


async def test_price_off_the_tick_or_cost_below_costmin_is_refused() -> None:
    venue = FakeKraken(pairs=[replace(DEFAULT_PAIRS[0], tick_size=Decimal("0.5"))])
    exchange = venue.exchange()
    try:
        with pytest.raises(ccxt.ExchangeError, match="EOrder:Tick size check failed"):
            await exchange.create_order(BTC, "limit", "buy", 0.01, 50000.3)
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50000.5)
        with pytest.raises(ccxt.ExchangeError, match="Cost minimum not met"):
            await exchange.create_order(BTC, "limit", "buy", 0.0001, 4000)  # 0.40 < 0.5
    finally:
        await exchange.close()
    assert [o.spec.price for o in venue.orders()] == [Decimal("50000.5")]


async def test_volume_decimals_and_relative_prices(venue: FakeKraken, kraken: Any) -> None:
    base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000"}
    await kraken.private_post_addorder({**base, "volume": "0.12345678"})  # lot_decimals 8
    with pytest.raises(ccxt.InvalidOrder, match="Invalid arguments:volume"):
        await kraken.private_post_addorder({**base, "volume": "0.123456789"})
    with pytest.raises(ccxt.InvalidOrder, match="Invalid arguments:volume"):
        await kraken.private_post_addorder({**base, "volume": "0"})
    for relative in ("+5", "-5", "#5", "2%"):
        with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:price"):
            await kraken.private_post_addorder({**base, "volume": "0.01", "price": relative})
    assert len(venue.orders()) == 1


async def test_gtd_takes_an_absolute_expiry_in_the_future(venue: FakeKraken, kraken: Any) -> None:
    now = venue.clock()
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:expiretm"):
        await kraken.create_order(
            BTC, "limit", "buy", 0.01, 50000, {"timeInForce": "GTD", "expiretm": str(int(now) - 5)}
        )
    await kraken.create_order(
        BTC, "limit", "buy", 0.01, 50000, {"timeInForce": "GTD", "expiretm": str(int(now) + 60)}
    )
    assert venue.orders()[0].spec.expiretm == int(now) + 60


async def test_flag_combinations_kraken_does_not_take(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:oflags"):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"oflags": "fcib,fciq"})
    with pytest.raises(ccxt.InvalidOrder, match="Invalid arguments:viqc"):
        await kraken.create_order(BTC, "market", "sell", 100, None, {"oflags": "viqc"})
    assert venue.orders() == []


async def test_viqc_buy_that_spends_all_but_dust_is_closed(venue: FakeKraken, kraken: Any) -> None:
    await kraken.create_order(BTC, "market", "buy", 6000, None, {"oflags": "viqc"})
    (order,) = venue.orders()
    assert order.vol_exec == Decimal("0.09999983")  # 6000 / 60000.1, down to 8 decimals
    assert order.status == "closed"  # what is left buys less than one lot step


async def test_query_takes_at_most_50_txids(venue: FakeKraken, kraken: Any) -> None:
    placed = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    many = ",".join([placed["id"]] * 51)
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:txid"):
        await kraken.private_post_queryorders({"txid": many})
    answer = await kraken.private_post_queryorders({"txid": ",".join([placed["id"]] * 50)})
    assert list(answer["result"]) == [placed["id"]]


async def test_a_nonce_past_64_bits_is_refused(venue: FakeKraken, kraken: Any) -> None:
    kraken.incrementing_nonce = lambda: 2**64
    with pytest.raises(ccxt.InvalidNonce):
        await kraken.fetch_balance()
    kraken.incrementing_nonce = lambda: 2**64 - 1
    await kraken.fetch_balance()


async def test_sells_use_the_pairs_sell_leverages() -> None:
    pair = replace(DEFAULT_PAIRS[0], leverage_buy=(2, 3), leverage_sell=(2,))
    venue = FakeKraken(pairs=[pair])
    venue.set_price("XBTUSD", "60000", "60000.1", "60000")
    exchange = venue.exchange()
    try:
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"leverage": 3})
        with pytest.raises(ccxt.ExchangeError, match="leverage"):
            await exchange.create_order(BTC, "market", "sell", 0.01, None, {"leverage": 3})
    finally:
        await exchange.close()
    assert len(venue.orders()) == 1


async def test_stops_that_together_exceed_the_cash_never_overdraw_it() -> None:
    venue = FakeKraken(balances={"ZUSD": "7000"})
    venue.set_price("XBTUSD", "60000", "60000.1", "60000")
    exchange = venue.exchange()
    try:
        for _ in range(2):  # each fits the cash alone; stops hold nothing until they fire
            await exchange.create_order(BTC, "market", "buy", 0.1, None, {"stopLossPrice": 61000})
        venue.set_price("XBTUSD", "61000", "61000", "61000")
    finally:
        await exchange.close()
    first, second = venue.orders()
    assert first.vol_exec == Decimal("0.1") and Decimal(0) < second.vol_exec < Decimal("0.1")
    assert Decimal(0) <= venue.balance("ZUSD") < Decimal("1")


async def test_expiretm_without_gtd_is_refused(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:expiretm"):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"expiretm": "+60"})
    assert venue.orders() == []


async def test_post_only_market_state_takes_only_post_orders(
    venue: FakeKraken, kraken: Any
) -> None:
    venue.set_pair_status("XBTUSD", "post_only")
    with pytest.raises(ccxt.OnMaintenance):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"postOnly": True})
    venue.set_pair_status("XBTUSD", "maintenance")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"postOnly": True})
    assert len(venue.orders()) == 1


async def test_unknown_pair_is_a_bad_symbol(venue: FakeKraken, kraken: Any) -> None:
    # Kraken's documented text; ccxt 4.5.90 maps only "EQuery:Invalid asset pair"
    with pytest.raises(ccxt.ExchangeError, match="EQuery:Unknown asset pair"):
        await kraken.private_post_addorder(
            {"pair": "DOGEUSD", "type": "buy", "ordertype": "market", "volume": "1"}
        )


async def test_validate_places_nothing(venue: FakeKraken, kraken: Any) -> None:
    answer = await kraken.private_post_addorder(
        {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.1",
         "price": "50000", "validate": "true", "cl_ord_id": "check-only"}
    )  # fmt: skip
    assert "txid" not in answer["result"]
    assert answer["result"]["descr"]["order"] == "buy 0.10000000 XBTUSD @ limit 50000.0"
    assert venue.orders() == [] and venue.order_arrivals() == {}


# ---------------------------------------------------------------------- client ids
@pytest.mark.parametrize(
    "cl_ord_id",
    ["6d1b345e-2821-40e2-ad83-4ecb18a06876", "da8e4ad59b78481c93e589746b0cf91f",
     "arb-20240509-00010", "x"],
)  # fmt: skip
async def test_documented_cl_ord_id_formats_are_accepted(
    venue: FakeKraken, kraken: Any, cl_ord_id: str
) -> None:
    await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": cl_ord_id})
    assert venue.order_arrivals() == {cl_ord_id: 1}


@pytest.mark.parametrize(
    "cl_ord_id",
    ["nineteen-characters", "6d1b345e-2821-40e2-ad83-4ecb18a0687g",
     "da8e4ad59b78481c93e589746b0cf91", "tab\there"],
)  # fmt: skip
async def test_other_cl_ord_ids_are_refused(venue: FakeKraken, kraken: Any, cl_ord_id: str) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:cl_ord_id"):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": cl_ord_id})
    assert venue.orders() == []


async def test_duplicate_cl_ord_id_is_refused_while_open_then_reusable(
    venue: FakeKraken, kraken: Any
) -> None:
    first = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "dup"})
    with pytest.raises(ccxt.ExchangeError, match="Duplicate cl_ord_id"):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "dup"})
    await kraken.cancel_order(first["id"])
    await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "dup"})
    assert venue.order_arrivals() == {"dup": 2}


async def test_duplicate_cl_ord_id_is_refused_for_ever_under_the_all_rule() -> None:
    venue = FakeKraken(rules=Rules(cl_ord_id_unique_among="all"))
    exchange = venue.exchange()
    try:
        first = await exchange.create_order(
            BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "d"}
        )
        await exchange.cancel_order(first["id"])
        with pytest.raises(ccxt.ExchangeError):
            await exchange.create_order(BTC, "limit", "buy", 0.01, 5e4, {"clientOrderId": "d"})
    finally:
        await exchange.close()


@pytest.mark.parametrize(("userref", "ok"), [(2**31 - 1, True), (-(2**31), True), (2**31, False)])
async def test_userref_is_a_signed_32_bit_integer(
    venue: FakeKraken, kraken: Any, userref: int, ok: bool
) -> None:
    call = kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"userref": userref})
    if ok:
        await call
        assert venue.order_arrivals() == {str(userref): 1}
    else:
        with pytest.raises(ccxt.ExchangeError, match="Invalid arguments:userref"):
            await call


async def test_userref_and_cl_ord_id_are_mutually_exclusive(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Invalid arguments"):
        await kraken.create_order(
            BTC, "limit", "buy", 0.01, 50000, {"userref": 7, "clientOrderId": "both"}
        )
    assert venue.orders() == []


async def test_orders_are_found_and_cancelled_by_each_id(venue: FakeKraken, kraken: Any) -> None:
    by_ref = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"userref": 42})
    by_cl = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"clientOrderId": "c-1"})
    plain = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    assert [o["id"] for o in await kraken.fetch_open_orders(None, None, None, {"userref": 42})] == [
        by_ref["id"]
    ]
    found = await kraken.fetch_open_orders(None, None, None, {"clientOrderId": "c-1"})
    assert [(o["id"], o["clientOrderId"]) for o in found] == [(by_cl["id"], "c-1")]
    queried = await kraken.fetch_order(by_ref["id"], None, {"userref": 42})
    assert queried["clientOrderId"] == "42"
    await kraken.cancel_order(None, None, {"userref": 42})
    await kraken.cancel_order(None, None, {"clientOrderId": "c-1"})
    await kraken.cancel_order(plain["id"])
    assert {o.txid: o.status for o in venue.orders()} == {
        by_ref["id"]: "canceled", by_cl["id"]: "canceled", plain["id"]: "canceled"
    }  # fmt: skip
    with pytest.raises(ccxt.OrderNotFound):
        await kraken.cancel_order(plain["id"])


async def test_cancel_by_userref_leaves_finished_orders_alone(
    venue: FakeKraken, kraken: Any
) -> None:
    filled = await kraken.create_order(BTC, "market", "buy", 0.01, None, {"userref": 9})
    resting = await kraken.create_order(BTC, "limit", "buy", 0.01, 50000, {"userref": 9})
    answer = await kraken.private_post_cancelorder({"txid": 9})
    assert answer["result"]["count"] == 1
    statuses = {o.txid: o.status for o in venue.orders()}
    assert statuses == {filled["id"]: "closed", resting["id"]: "canceled"}


async def test_query_of_an_unknown_txid(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="Invalid order"):
        await kraken.fetch_order("OAAAAA-BBBBB-CCCCCC")
    lenient = FakeKraken(rules=Rules(query_unknown_txid="omit"))
    exchange = lenient.exchange()
    try:
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.fetch_order("OAAAAA-BBBBB-CCCCCC")
    finally:
        await exchange.close()


async def test_closed_orders_list_newest_first(venue: FakeKraken, kraken: Any) -> None:
    a = await kraken.create_order(BTC, "market", "buy", 0.01)
    b = await kraken.create_order(BTC, "market", "buy", 0.02)
    closed = await kraken.fetch_closed_orders()
    assert {o["id"] for o in closed} == {a["id"], b["id"]}
    assert all(o["status"] == "closed" for o in closed)
    answer = await kraken.private_post_closedorders()
    assert list(answer["result"]["closed"]) == [b["id"], a["id"]]  # newest first
    assert answer["result"]["count"] == 2


async def test_trades_are_attached_and_listed(venue: FakeKraken, kraken: Any) -> None:
    venue.set_price("XBTUSD", "60000", "60000.1", ask_size="0.3")
    order = await kraken.create_order(BTC, "limit", "buy", 0.5, 60001)
    venue.set_price("XBTUSD", "59000", "60000.5", ask_size="1")
    fetched = await kraken.fetch_order(order["id"])
    trade_ids = [t["id"] for t in fetched["trades"]]
    assert trade_ids == [t.trade_id for t in venue.trades()] and len(trade_ids) == 2
    trades = await kraken.fetch_order_trades(order["id"], BTC, None, None, {"trades": trade_ids})
    assert sorted(t["amount"] for t in trades) == [0.2, 0.3]
    assert {t["order"] for t in trades} == {order["id"]}
    mine = await kraken.fetch_my_trades(BTC)
    assert sorted(t["id"] for t in mine) == sorted(trade_ids)


async def test_closed_orders_page_and_window() -> None:
    now = [1_800_000_000.0]
    venue = FakeKraken(clock=lambda: now[0])
    venue.set_price("XBTUSD", "60000", "60000.1", "60000")
    exchange = venue.exchange()
    try:
        for _ in range(55):
            now[0] += 10
            await exchange.create_order(BTC, "market", "buy", 0.001)
        first = (await exchange.private_post_closedorders())["result"]
        second = (await exchange.private_post_closedorders({"ofs": 50}))["result"]
        bounds = {"start": 1_800_000_100, "end": 1_800_000_200, "closetime": "open"}
        window = (await exchange.private_post_closedorders(bounds))["result"]
    finally:
        await exchange.close()
    txids = [o.txid for o in venue.orders()]
    assert (first["count"], len(first["closed"]), len(second["closed"])) == (55, 50, 5)
    assert list(first["closed"]) + list(second["closed"]) == txids[::-1]
    assert list(window["closed"]) == txids[9:20][::-1]  # opened at +100 s ... +200 s


async def test_cancel_all_cancels_every_open_order(venue: FakeKraken, kraken: Any) -> None:
    for _ in range(3):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)
    await kraken.create_order(BTC, "market", "buy", 0.01)
    await kraken.cancel_all_orders()
    assert [o.status for o in venue.orders()] == ["canceled"] * 3 + ["closed"]


async def test_open_orders_past_the_limit_are_refused() -> None:
    venue = FakeKraken(rules=Rules(max_open_orders=2))
    exchange = venue.exchange()
    try:
        first = await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
        with pytest.raises(ccxt.ExchangeError, match="EOrder:Orders limit exceeded"):
            await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
        await exchange.cancel_order(first["id"])
        await exchange.create_order(BTC, "limit", "buy", 0.01, 50000)
    finally:
        await exchange.close()
    assert [o.status for o in venue.orders()] == ["canceled", "open", "open"]


async def test_cancel_only_market_refuses_new_orders(venue: FakeKraken, kraken: Any) -> None:
    venue.set_pair_status("XBTUSD", "cancel_only")
    with pytest.raises(ccxt.OnMaintenance):
        await kraken.create_order(BTC, "limit", "buy", 0.01, 50000)


# ---------------------------------------------------------------------- property
STEP = st.one_of(
    st.tuples(st.just("quote"), st.integers(59900, 60100), st.integers(0, 30), st.integers(0, 30)),
    st.tuples(st.sampled_from(["market", "limit", "ioc"]), st.sampled_from(["buy", "sell"]),
              st.integers(1, 30), st.integers(-50, 50)),
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_fills_respect_orders_depth_and_balances(steps: list[tuple[Any, ...]]) -> None:
    """Whatever the orders and quotes: no order fills past its volume, no quote fills past
    its depth, no balance goes negative, and the cash moves by exactly the fills and fees."""

    async def run() -> None:
        venue = FakeKraken(balances={"ZUSD": "500000", "XXBT": "5"})
        venue.set_price("XBTUSD", "60000", "60000.1", ask_size="1", bid_size="1")
        depth = {"buy": Decimal("1"), "sell": Decimal("1")}
        seen = 0
        exchange = venue.exchange()
        try:
            await exchange.load_markets()
            for step in steps:
                if step[0] == "quote":
                    _, bid, bid_tenths, ask_tenths = step
                    depth = {"buy": Decimal(ask_tenths) / 10, "sell": Decimal(bid_tenths) / 10}
                    seen = len(venue.trades())
                    venue.set_price("XBTUSD", bid, Decimal(bid) + Decimal("0.1"), bid,
                                    bid_size=depth["sell"], ask_size=depth["buy"])  # fmt: skip
                else:
                    kind, side, tenths, offset = step
                    price = 60000 + offset if kind != "market" else None
                    params = {"timeInForce": "IOC"} if kind == "ioc" else {}
                    ccxt_kind = "market" if kind == "market" else "limit"
                    with contextlib.suppress(ccxt.InsufficientFunds):
                        await exchange.create_order(
                            BTC, ccxt_kind, side, tenths / 10, price, params
                        )
                since = venue.trades()[seen:]
                for s in ("buy", "sell"):
                    assert sum((t.vol for t in since if t.side == s), Decimal(0)) <= depth[s]
                assert all(o.vol_exec <= o.spec.volume for o in venue.orders())
                assert venue.balance("ZUSD") >= 0 and venue.balance("XXBT") >= 0
            trades = venue.trades()
            signed = sum((t.vol if t.side == "buy" else -t.vol for t in trades), Decimal(0))
            paid = sum((t.cost if t.side == "buy" else -t.cost for t in trades), Decimal(0))
            fees = sum((t.fee for t in trades), Decimal(0))
            assert venue.balance("XXBT") == 5 + signed
            assert venue.balance("ZUSD") == 500000 - paid - fees
        finally:
            await exchange.close()

    asyncio.run(run())
