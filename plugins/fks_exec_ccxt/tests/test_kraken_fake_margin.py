"""Stops and margin on the fake Kraken, driven by a real ``ccxt.async_support.kraken``.

Trigger directions are AddOrder's (https://docs.kraken.com/api/docs/rest-api/add-order):
stop-loss from the unfavourable side, take-profit from the favourable side, compared with
the ``last`` or ``index`` price as ``trigger`` says. Margin: ``leverage`` opens a position
(OpenPositions), an opposite ``reduce_only`` order closes it.
"""

from __future__ import annotations

import asyncio
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

BTC = "BTC/USD"


@pytest.fixture
def venue() -> FakeKraken:
    fake = FakeKraken(balances={"ZUSD": "100000", "XXBT": "2", "XLTC": "10"})
    fake.set_price("XBTUSD", "60000", "60000.1", "60000")
    return fake


@pytest.fixture
async def kraken(venue: FakeKraken) -> AsyncIterator[Any]:
    exchange = venue.exchange()
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def last_add_order(exchange: Any) -> dict[str, str]:
    (request,) = [r for r in exchange.session.requests if r.path == "/0/private/AddOrder"][-1:]
    return dict(parse_qsl(request.body or ""))


# ---------------------------------------------------------------------- stops
@pytest.mark.parametrize(
    ("side", "kind", "fires_at", "holds_at"),
    [
        ("sell", "stopLossPrice", "58999", "59001"),  # a sell stop fires on a fall
        ("buy", "stopLossPrice", "61001", "60999"),  # a buy stop fires on a rise
        ("sell", "takeProfitPrice", "61001", "60999"),  # a sell take-profit on a rise
        ("buy", "takeProfitPrice", "58999", "59001"),  # a buy take-profit on a fall
    ],
)
async def test_trigger_fires_only_from_the_documented_side(
    venue: FakeKraken, kraken: Any, side: str, kind: str, fires_at: str, holds_at: str
) -> None:
    trigger = 59000 if (side == "sell") == (kind == "stopLossPrice") else 61000
    order = await kraken.create_order(BTC, "market", side, 0.1, None, {kind: trigger})
    expected_type = "stop-loss" if kind == "stopLossPrice" else "take-profit"
    assert last_add_order(kraken)["ordertype"] == expected_type
    venue.set_price("XBTUSD", holds_at, holds_at, holds_at)
    assert (await kraken.fetch_order(order["id"]))["status"] == "open"
    venue.set_price("XBTUSD", fires_at, fires_at, fires_at)
    fetched = await kraken.fetch_order(order["id"])
    assert (fetched["status"], fetched["filled"]) == ("closed", 0.1)
    assert fetched["average"] == float(fires_at)


@pytest.mark.parametrize(
    ("side", "kind", "trigger"),
    [("sell", "stopLossPrice", 59000), ("buy", "stopLossPrice", 61000),
     ("sell", "takeProfitPrice", 61000), ("buy", "takeProfitPrice", 59000)],
)  # fmt: skip
async def test_a_trigger_fires_when_the_price_reaches_it_exactly(
    venue: FakeKraken, kraken: Any, side: str, kind: str, trigger: int
) -> None:
    order = await kraken.create_order(BTC, "market", side, 0.1, None, {kind: trigger})
    venue.set_price("XBTUSD", trigger, trigger, trigger)  # documented: "reaches the stop price"
    assert (await kraken.fetch_order(order["id"]))["status"] == "closed"


async def test_stop_loss_limit_rests_at_price2_once_triggered(
    venue: FakeKraken, kraken: Any
) -> None:
    order = await kraken.create_order(BTC, "limit", "sell", 0.1, 58000, {"stopLossPrice": 59000})
    sent = last_add_order(kraken)
    assert (sent["ordertype"], sent["price"], sent["price2"]) == (
        "stop-loss-limit",
        "59000",
        "58000",
    )
    venue.set_price("XBTUSD", "57000", "57000.1", "58900")  # triggered; bid below the limit
    fetched = await kraken.fetch_order(order["id"])
    assert (fetched["status"], fetched["filled"]) == ("open", 0)
    assert fetched["stopLossPrice"] == 59000 and fetched["price"] == 58000
    venue.set_price("XBTUSD", "58000", "58000.1", "58000")
    assert (await kraken.fetch_order(order["id"]))["status"] == "closed"
    assert venue.trades()[-1].price == Decimal("58000")


async def test_index_trigger_ignores_the_last_price(venue: FakeKraken, kraken: Any) -> None:
    await kraken.private_post_addorder(
        {"pair": "XBTUSD", "type": "sell", "ordertype": "stop-loss", "volume": "0.1",
         "price": "59000", "trigger": "index"}
    )  # fmt: skip
    venue.set_price("XBTUSD", "58000", "58000.1", "58000", index="59500")
    assert venue.orders()[-1].status == "open"
    venue.set_price("XBTUSD", "58000", "58000.1", "59500", index="58900")
    assert venue.orders()[-1].status == "closed"


async def test_index_triggers_on_a_pair_without_an_index_are_refused(kraken: Any) -> None:
    pair = replace(DEFAULT_PAIRS[0], index_available=False)
    venue = FakeKraken(pairs=[pair])
    venue.set_price("XBTUSD", "60000", "60000.1", "60000")
    exchange = venue.exchange()
    order = {"pair": "XBTUSD", "type": "sell", "ordertype": "stop-loss", "volume": "0.1",
             "price": "59000"}  # fmt: skip
    try:
        with pytest.raises(ccxt.ExchangeError, match="Index unavailable"):
            await exchange.private_post_addorder({**order, "trigger": "index"})
        await exchange.private_post_addorder({**order, "trigger": "last"})
    finally:
        await exchange.close()
    assert len(venue.orders()) == 1


async def test_a_trigger_already_reached_fires_at_once_or_is_refused() -> None:
    for rule, outcome in (("fire", "closed"), ("reject", None)):
        venue = FakeKraken(rules=Rules(trigger_already_reached=rule))  # type: ignore[arg-type]
        venue.set_price("XBTUSD", "60000", "60000.1", "60000")
        exchange = venue.exchange()
        try:
            call = exchange.create_order(BTC, "market", "sell", 0.1, None, {"stopLossPrice": 61000})
            if outcome is None:
                with pytest.raises(ccxt.ExchangeError, match="Invalid price"):
                    await call
                assert venue.orders() == []
            else:
                await call
                assert venue.orders()[0].status == outcome
        finally:
            await exchange.close()


async def test_open_stop_reads_back_with_its_trigger(venue: FakeKraken, kraken: Any) -> None:
    await kraken.create_order("LTC/USDT", "market", "sell", 0.1, None, {"takeProfitPrice": 120})
    (order,) = await kraken.fetch_open_orders()
    assert order["info"]["descr"]["order"] == "sell 0.10000000 LTCUSDT @ take profit 120.00000"
    assert (order["type"], order["takeProfitPrice"], order["status"]) == ("market", 120, "open")


async def test_stop_is_cancelled_by_txid(venue: FakeKraken, kraken: Any) -> None:
    order = await kraken.create_order(BTC, "market", "sell", 0.1, None, {"stopLossPrice": 59000})
    await kraken.cancel_order(order["id"])
    venue.set_price("XBTUSD", "58000", "58000", "58000")
    assert venue.orders()[0].status == "canceled" and venue.trades() == []


# ---------------------------------------------------------------------- margin
async def test_leverage_opens_a_position_without_moving_spot_balances(
    venue: FakeKraken, kraken: Any
) -> None:
    await kraken.create_order(BTC, "market", "buy", 0.5, None, {"leverage": 5})
    assert venue.position("XBTUSD") == Decimal("0.5")
    assert venue.balance("XXBT") == Decimal("2")  # margin does not deliver the base
    fee = (Decimal("0.5") * Decimal("60000.1") * Decimal("0.0026")).quantize(Decimal("1e-5"))
    assert venue.balance("ZUSD") == Decimal("100000") - fee
    venue.set_price("XBTUSD", "61000", "61000.1", "61000")
    (position,) = await kraken.fetch_positions()
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.5)
    assert position["unrealizedPnl"] == pytest.approx((61000 - 60000.1) * 0.5)  # at the bid
    assert position["leverage"] == 5
    assert position["initialMargin"] == pytest.approx(0.5 * 60000.1 / 5)


async def test_reduce_only_closes_the_position_and_pays_the_pnl(
    venue: FakeKraken, kraken: Any
) -> None:
    await kraken.create_order(BTC, "market", "sell", 0.5, None, {"leverage": 5})
    venue.set_price("XBTUSD", "59000", "59000.1", "59000")
    cash_before = venue.balance("ZUSD")
    await kraken.create_order(BTC, "market", "buy", 0.5, None, {"leverage": 5, "reduceOnly": True})
    assert last_add_order(kraken)["reduce_only"] == "true"
    assert venue.position("XBTUSD") == 0 and await kraken.fetch_positions() == []
    pnl = (Decimal("60000") - Decimal("59000.1")) * Decimal("0.5")
    fee = (Decimal("0.5") * Decimal("59000.1") * Decimal("0.0026")).quantize(Decimal("1e-5"))
    assert venue.balance("ZUSD") == cash_before + pnl - fee


async def test_reduce_only_larger_than_the_position_is_clipped(
    venue: FakeKraken, kraken: Any
) -> None:
    await kraken.create_order(BTC, "market", "buy", 0.3, None, {"leverage": 2})
    order = await kraken.create_order(
        BTC, "market", "sell", 1, None, {"leverage": 2, "reduceOnly": True}
    )
    fetched = await kraken.fetch_order(order["id"])
    assert fetched["filled"] == 0.3 and venue.position("XBTUSD") == 0


async def test_reduce_only_overflow_is_refused_under_the_reject_rule() -> None:
    venue = FakeKraken(rules=Rules(reduce_only_overflow="reject"))
    venue.set_price("XBTUSD", "60000", "60000.1", "60000")
    exchange = venue.exchange()
    try:
        await exchange.create_order(BTC, "market", "buy", 0.3, None, {"leverage": 2})
        with pytest.raises(ccxt.ExchangeError, match="Reduce only"):
            await exchange.create_order(
                BTC, "market", "sell", 1, None, {"leverage": 2, "reduceOnly": True}
            )
    finally:
        await exchange.close()
    assert venue.position("XBTUSD") == Decimal("0.3")


async def test_reduce_only_without_a_position_is_refused(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="Reduce only"):
        await kraken.create_order(
            BTC, "market", "sell", 0.1, None, {"leverage": 2, "reduceOnly": True}
        )
    assert venue.orders() == []


async def test_reduce_only_stop_is_canceled_when_the_position_is_gone(
    venue: FakeKraken, kraken: Any
) -> None:
    await kraken.create_order(BTC, "market", "buy", 0.2, None, {"leverage": 2})
    answer = await kraken.private_post_addorder(
        {"pair": "XXBTZUSD", "type": "sell", "ordertype": "stop-loss", "volume": "0.2",
         "price": "59000", "leverage": "2", "reduce_only": "true"}
    )  # fmt: skip
    (txid,) = answer["result"]["txid"]
    await kraken.create_order(BTC, "market", "sell", 0.2, None, {"leverage": 2, "reduceOnly": True})
    venue.set_price("XBTUSD", "58000", "58000.1", "58000")
    fetched = await kraken.fetch_order(txid)
    assert (fetched["status"], fetched["filled"]) == ("canceled", 0)
    assert venue.position("XBTUSD") == 0  # the stop did not open a short


async def test_ccxt_cannot_parse_the_answer_to_a_leveraged_stop_market_order(
    venue: FakeKraken, kraken: Any
) -> None:
    """ccxt 4.5.90 reads word 9 of ``descr.order`` as the limit price: for
    ``sell 0.20000000 XBTUSD @ stop loss 59000.0 with 2:1 leverage`` that is ``2:1``,
    and ``Precise`` raises ValueError *after Kraken placed the order*. Code calling
    ccxt must treat that as an order of unknown fate, never as a refusal."""
    await kraken.create_order(BTC, "market", "buy", 0.2, None, {"leverage": 2})
    with pytest.raises(ValueError, match="too many values to unpack"):
        await kraken.create_order(
            BTC, "market", "sell", 0.2, None, {"stopLossPrice": 59000, "leverage": 2}
        )
    assert venue.orders()[-1].spec.ordertype == "stop-loss"
    assert venue.orders()[-1].status == "open"


async def test_opposite_margin_order_closes_first_then_opens_the_rest(
    venue: FakeKraken, kraken: Any
) -> None:
    await kraken.create_order(BTC, "market", "buy", 0.2, None, {"leverage": 2})
    await kraken.create_order(BTC, "market", "sell", 0.5, None, {"leverage": 2})
    assert venue.position("XBTUSD") == Decimal("-0.3")
    assert [(p.side, p.open_vol) for p in venue.positions()] == [("sell", Decimal("0.3"))]


async def test_unlisted_leverage_and_spot_only_pairs_are_refused(
    venue: FakeKraken, kraken: Any
) -> None:
    with pytest.raises(ccxt.ExchangeError, match="leverage"):
        await kraken.create_order(BTC, "market", "buy", 0.1, None, {"leverage": 10})
    venue.set_price("LTCUSDT", "70", "70.01", "70")
    with pytest.raises(ccxt.ExchangeError, match="leverage"):
        await kraken.create_order("LTC/USDT", "market", "buy", 1, None, {"leverage": 2})
    assert venue.orders() == []


async def test_margin_beyond_the_collateral_is_refused(venue: FakeKraken, kraken: Any) -> None:
    with pytest.raises(ccxt.ExchangeError, match="EOrder:Margin level too low"):
        await kraken.create_order(BTC, "market", "buy", 9, None, {"leverage": 5})
    assert venue.orders() == []


async def test_trade_balance_reports_margin_used(venue: FakeKraken, kraken: Any) -> None:
    await kraken.create_order(BTC, "market", "buy", 0.5, None, {"leverage": 5})
    balance = (await kraken.private_post_tradebalance({"asset": "ZUSD"}))["result"]
    assert Decimal(balance["m"]) == Decimal("0.5") * Decimal("60000.1") / 5


# ---------------------------------------------------------------------- property
STEPS = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 40), st.booleans(),
              st.integers(59000, 61000)),
    min_size=1, max_size=12,
)  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_reduce_only_never_grows_or_flips_a_position(
    steps: list[tuple[str, int, bool, int]],
) -> None:
    async def run() -> None:
        venue = FakeKraken(balances={"ZUSD": "10000000"})
        venue.set_price("XBTUSD", "60000", "60000", "60000")
        exchange = venue.exchange()
        try:
            await exchange.load_markets()
            for side, tenths, reduce, price in steps:
                venue.set_price("XBTUSD", price, price, price, ask_size="2", bid_size="2")
                before = venue.position("XBTUSD")
                params: dict[str, Any] = {"leverage": 2}
                if reduce:
                    params["reduceOnly"] = True
                try:
                    await exchange.create_order(BTC, "market", side, tenths / 10, None, params)
                except ccxt.ExchangeError:
                    assert reduce, "only a reduce-only order with nothing to reduce is refused"
                    continue
                after = venue.position("XBTUSD")
                if reduce:
                    assert abs(after) <= abs(before) and after * before >= 0
                assert len({p.side for p in venue.positions()}) <= 1  # netted, never hedged
        finally:
            await exchange.close()

    asyncio.run(run())
