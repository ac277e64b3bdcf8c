"""Stop (algo) orders on the fake OKX, driven by a real ``ccxt.async_support.okx``.

OKX keeps them behind their own endpoints (``trade/order-algo``, ``trade/cancel-algos``,
``trade/orders-algo-pending``/``-history``); ccxt reaches them with ``stopLossPrice`` /
``takeProfitPrice`` / ``triggerPrice`` when creating, and the ``trigger`` flag when
fetching or canceling.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec_ccxt.testing.okx import FakeOkx, Rules

LINEAR = "BTC/USDT:USDT"


def quote_all(venue: FakeOkx, price: str = "60000") -> None:
    """Quote every default instrument at ``price`` (ask one tick up), unlimited depth."""
    p = Decimal(price)
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"):
        venue.set_price(inst_id, p, p + Decimal("0.1"), p)


def wire_log(okx: Any, path: str) -> list[Any]:
    """Bodies (POST) or queries (GET) ccxt sent to ``/api/v5/<path>``."""
    return [
        json.loads(r.body) if r.body else r.query
        for r in okx.session.requests
        if r.path == f"/api/v5/{path}"
    ]


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


async def test_stop_loss_lives_behind_the_algo_endpoints_and_fires(
    okx: Any, venue: FakeOkx
) -> None:
    await okx.create_order(LINEAR, "market", "buy", 4)
    stop = await okx.create_order(
        LINEAR,
        "market",
        "sell",
        4,
        None,
        {"stopLossPrice": 59000, "reduceOnly": True, "clientOrderId": "sl1"},
    )
    sent = wire_log(okx, "trade/order-algo")[-1]
    assert (sent["ordType"], sent["slTriggerPx"], sent["slOrdPx"]) == ("conditional", "59000", "-1")
    assert await okx.fetch_open_orders(LINEAR) == []  # not among regular orders
    listed = await okx.fetch_open_orders(
        LINEAR, None, None, {"trigger": True, "ordType": "conditional"}
    )
    assert [o["id"] for o in listed] == [stop["id"]]
    assert listed[0]["stopLossPrice"] == 59000 and listed[0]["clientOrderId"] == "sl1"
    with pytest.raises(ccxt.OrderNotFound):
        await okx.fetch_order(stop["id"], LINEAR)  # a regular lookup does not see it
    found = await okx.fetch_order(stop["id"], LINEAR, {"trigger": True})
    assert found["status"] == "open"
    venue.set_price("BTC-USDT-SWAP", "59100", "59100.1")
    assert venue.position("BTC-USDT-SWAP") == 4  # not yet
    venue.set_price("BTC-USDT-SWAP", "58990", "58990.1")
    assert venue.position("BTC-USDT-SWAP") == 0
    fired = await okx.fetch_order(stop["id"], LINEAR, {"trigger": True})
    assert fired["status"] == "closed" and fired["info"]["state"] == "effective"
    child = await okx.fetch_order(fired["info"]["ordId"], LINEAR)
    assert child["info"]["algoId"] == stop["id"] and child["filled"] == 4
    assert venue.order_arrivals()["sl1"] == 1


async def test_stop_on_the_wrong_side_of_the_last_price_is_refused(okx: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="51280"):
        await okx.create_order(LINEAR, "market", "sell", 1, None, {"stopLossPrice": 61000})
    with pytest.raises(ccxt.InvalidOrder, match="51278"):
        await okx.create_order(LINEAR, "market", "buy", 1, None, {"stopLossPrice": 59000})


@pytest.mark.parametrize(("side", "trigger", "away", "through"), [
    ("buy", 60500, "60400", "60500"), ("sell", 59500, "59600", "59500"),
])  # fmt: skip
async def test_trigger_order_fires_when_the_price_crosses(
    okx: Any, venue: FakeOkx, side: str, trigger: int, away: str, through: str
) -> None:
    placed = await okx.create_order(LINEAR, "market", side, 2, None, {"triggerPrice": trigger})
    sent = wire_log(okx, "trade/order-algo")[-1]
    assert (sent["ordType"], sent["triggerPx"], sent["orderPx"]) == ("trigger", str(trigger), "-1")
    venue.set_price("BTC-USDT-SWAP", away, away)
    assert venue.position("BTC-USDT-SWAP") == 0
    venue.set_price("BTC-USDT-SWAP", through, through)
    assert venue.position("BTC-USDT-SWAP") == (2 if side == "buy" else -2)
    history = await okx.fetch_closed_orders(LINEAR, None, None, {"trigger": True})
    assert [o["id"] for o in history] == [placed["id"]]


@pytest.mark.parametrize(("rule", "state"), [("from_last", "live"), ("by_side", "effective")])
def test_trigger_direction_rule_is_configurable(rule: Any, state: str) -> None:
    venue = FakeOkx(rules=Rules(trigger_direction=rule))
    quote_all(venue)  # last 60000
    algo = venue.trading.place_algo(
        {"instId": "BTC-USDT-SWAP", "side": "sell", "ordType": "trigger", "sz": "1",
         "triggerPx": "61000", "orderPx": "-1", "tdMode": "cross"}
    )  # fmt: skip
    # from_last: placed below the trigger, it waits for a rise to 61000;
    # by_side: a sell fires as soon as the last price is at or under 61000
    venue.set_price("BTC-USDT-SWAP", "60500", "60500")
    assert algo.state == state


async def test_cancel_a_stop_with_the_trigger_flag(okx: Any, venue: FakeOkx) -> None:
    await okx.create_order(LINEAR, "market", "buy", 1)
    stop = await okx.create_order(LINEAR, "market", "sell", 1, None, {"stopLossPrice": 59000})
    with pytest.raises(ccxt.OrderNotFound):
        await okx.cancel_order(stop["id"], LINEAR)  # the regular endpoint does not know it
    await okx.cancel_order(stop["id"], LINEAR, {"trigger": True})
    assert wire_log(okx, "trade/cancel-algos")[-1] == [
        {"algoId": stop["id"], "instId": "BTC-USDT-SWAP"}
    ]
    venue.set_price("BTC-USDT-SWAP", "58000", "58000")
    assert venue.position("BTC-USDT-SWAP") == 1
    canceled = await okx.fetch_order(stop["id"], LINEAR, {"trigger": True})
    assert canceled["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await okx.cancel_order(stop["id"], LINEAR, {"trigger": True})


async def test_stop_by_client_id_uses_algo_cl_ord_id(okx: Any) -> None:
    await okx.create_order(LINEAR, "market", "buy", 1)
    await okx.create_order(
        LINEAR, "market", "sell", 1, None, {"stopLossPrice": 59000, "clientOrderId": "slc7"}
    )
    found = await okx.fetch_order(None, LINEAR, {"trigger": True, "clientOrderId": "slc7"})
    assert wire_log(okx, "trade/order-algo")[-1] == {
        "instId": "BTC-USDT-SWAP",
        "algoClOrdId": "slc7",
    }
    await okx.cancel_order(None, LINEAR, {"trigger": True, "clientOrderId": "slc7"})
    assert (await okx.fetch_order(found["id"], LINEAR, {"trigger": True}))["status"] == "canceled"


async def test_oco_fires_one_leg_and_cancels_the_other(okx: Any, venue: FakeOkx) -> None:
    await okx.create_order(LINEAR, "market", "buy", 2)
    oco = await okx.create_order(
        LINEAR, "market", "sell", 2, None, {"stopLossPrice": 59000, "takeProfitPrice": 61000}
    )
    assert wire_log(okx, "trade/order-algo")[-1]["ordType"] == "oco"
    venue.set_price("BTC-USDT-SWAP", "61000", "61000.1", "61000")
    fired = await okx.fetch_order(oco["id"], LINEAR, {"trigger": True})
    assert fired["info"]["actualSide"] == "tp" and venue.position("BTC-USDT-SWAP") == 0


async def test_a_stop_whose_order_fails_is_order_failed(okx: Any, venue: FakeOkx) -> None:
    await okx.create_order(LINEAR, "market", "buy", 1)
    stop = await okx.create_order(
        LINEAR, "market", "sell", 1, None, {"stopLossPrice": 59000, "reduceOnly": True}
    )
    await okx.create_order(
        LINEAR, "market", "sell", 1, None, {"reduceOnly": True}
    )  # closed by hand
    venue.set_price("BTC-USDT-SWAP", "58000", "58000")
    failed = await okx.fetch_order(stop["id"], LINEAR, {"trigger": True})
    assert failed["info"]["state"] == "order_failed" and failed["info"]["failCode"] == "51169"
    assert venue.position("BTC-USDT-SWAP") == 0


async def test_attached_stop_loss_becomes_an_algo_order_when_the_entry_fills(
    okx: Any, venue: FakeOkx
) -> None:
    await okx.create_order(LINEAR, "market", "buy", 2, None, {"stopLoss": {"triggerPrice": 59000}})
    (attached,) = venue.algo_orders()
    assert (attached.side, attached.sz, attached.sl_trigger_px) == ("sell", 2, 59000)
    venue.set_price("BTC-USDT-SWAP", "58000", "58000")
    assert venue.position("BTC-USDT-SWAP") == 0


prices = st.lists(st.integers(min_value=55_000, max_value=65_000), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    path=prices,
    trigger=st.integers(min_value=56_000, max_value=59_999),
    side=st.sampled_from(["buy", "sell"]),
)
def test_a_stop_loss_fires_exactly_when_the_price_first_reaches_it(
    path: list[int], trigger: int, side: str
) -> None:
    # A sell SL protects a long: it fires when the last price falls to it; a buy SL
    # protects a short: it fires when the price rises to it (mirrored around 60000).
    venue = FakeOkx()
    quote_all(venue)
    level = trigger if side == "sell" else 120_000 - trigger
    opening = "buy" if side == "sell" else "sell"
    venue.trading.place(
        {
            "instId": "BTC-USDT-SWAP",
            "side": opening,
            "ordType": "market",
            "sz": "1",
            "tdMode": "cross",
        }
    )
    algo = venue.trading.place_algo(
        {"instId": "BTC-USDT-SWAP", "side": side, "ordType": "conditional", "sz": "1",
         "tdMode": "cross", "slTriggerPx": str(level), "slOrdPx": "-1", "reduceOnly": True}
    )  # fmt: skip
    fired_at = None
    for step, raw in enumerate(path):
        last = raw if side == "sell" else 120_000 - raw
        venue.set_price("BTC-USDT-SWAP", last, last, last)
        reached = last <= level if side == "sell" else last >= level
        if reached and fired_at is None:
            fired_at = step
        assert (algo.state == "effective") == (fired_at is not None)
        assert venue.position("BTC-USDT-SWAP") == (
            0 if fired_at is not None else (1 if side == "sell" else -1)
        )
