"""okx_algo.py's rules one by one (mutation survivors): which answers carry OKX's
market-price marker, which algo orders fired, and what a fired one reads back as."""

from __future__ import annotations

from typing import Any

import pytest

from fks_exec_ccxt.okx_algo import fired_order_id, never_fired, read_fired, without_market_price

MARKET = {"algoId": "9", "ordPx": "-1", "px": "", "state": "live"}


@pytest.mark.parametrize(
    ("cost", "kept"),
    [
        (-2.0, None),  # ccxt's amount x -1: dropped
        (-0.5, None),
        (-0.0, None),
        (0.0, None),  # nothing filled at the -1 "price": no cost either
        (0.5, 0.5),  # a real (positive) cost stays
        (1.0, 1.0),
        (118000.0, 118000.0),
        (None, None),
        ("12", "12"),  # not a number ccxt derived: left for to_result to judge
    ],
)
def test_the_market_price_marker_drops_the_price_and_only_a_derived_cost(
    cost: Any, kept: Any
) -> None:
    raw = {"id": "9", "price": -1.0, "cost": cost, "amount": 2.0, "info": dict(MARKET)}
    out = without_market_price(raw)
    assert out == {**raw, "price": None, "cost": kept}
    assert raw["price"] == -1.0 and raw["cost"] == cost  # the answer itself is not changed


@pytest.mark.parametrize(
    "info",
    [
        None,  # no venue answer
        "ordPx=-1",  # not a dict
        {"ordPx": "60000", "px": ""},  # a trigger with its own limit price
        {"ordPx": "", "px": ""},
        {"ordPx": "-1", "px": "60000"},  # a regular order's own price
        {"px": "60000"},
        {},
    ],
)
def test_an_answer_without_the_marker_is_returned_as_it_is(info: Any) -> None:
    raw = {"id": "9", "price": -1.0, "cost": -2.0, "info": info}
    assert without_market_price(raw) is raw


@pytest.mark.parametrize("state", ["effective", "partially_effective"])
def test_a_fired_algo_order_names_the_order_it_placed(state: str) -> None:
    assert fired_order_id({"info": {"algoId": "9", "state": state, "ordId": "77"}}) == "77"
    assert fired_order_id({"info": {"algoId": "9", "state": state, "ordId": 77}}) == "77"
    assert fired_order_id({"info": {"algoId": "9", "state": state, "ordId": ""}}) is None
    assert fired_order_id({"info": {"algoId": "9", "state": state}}) is None
    assert never_fired({"info": {"algoId": "9", "state": state, "ordId": "77"}}) is False


@pytest.mark.parametrize("state", ["live", "pause", "canceled", "order_failed", None])
def test_an_algo_order_that_did_not_fire_placed_nothing(state: str | None) -> None:
    info = {"algoId": "9", "state": state, "ordId": "77"}
    assert fired_order_id({"info": info}) is None
    assert never_fired({"info": info}) is True


@pytest.mark.parametrize(
    "info",
    [
        {"ordId": "77", "state": "effective"},  # no algoId: not an algo order
        {"algoId": "", "ordId": "77", "state": "effective"},
        {"ordId": "77", "state": "live"},  # a regular order, resting
        {"ordId": "77", "state": "canceled"},
        {"algoId": "", "ordId": "77", "state": "filled"},
        None,
        "effective",
    ],
)
def test_a_regular_order_is_neither_fired_nor_never_fired(info: Any) -> None:
    assert fired_order_id({"info": info}) is None
    assert never_fired({"info": info}) is False


class _Venue:
    def __init__(self, venue_id: str, child: dict[str, Any]) -> None:
        self.id = venue_id
        self.child = child
        self.reads: list[tuple[str, str]] = []

    async def fetch_order(self, order_id: str, symbol: str) -> dict[str, Any]:
        self.reads.append((order_id, symbol))
        return self.child


_FIRED = {"algoId": "9", "state": "effective", "ordId": "77"}


@pytest.mark.parametrize(
    ("algo_symbol", "order_symbol", "symbol"),
    [
        ("BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDT:USDT"),  # the algo order's own first
        (None, "ETH/USDT:USDT", "ETH/USDT:USDT"),  # else the placed order's
        ("BTC/USDT:USDT", None, "BTC/USDT:USDT"),
    ],
)
async def test_a_fired_algo_order_reads_as_the_order_it_placed_under_its_own_ids(
    algo_symbol: str | None, order_symbol: str | None, symbol: str
) -> None:
    raw = {"id": "9", "clientOrderId": "st1", "symbol": algo_symbol, "info": dict(_FIRED)}
    child = {
        "id": "77",
        "clientOrderId": "",
        "symbol": order_symbol,
        "filled": 2.0,
        "average": 58900.0,
        "status": "closed",
        "info": {"ordId": "77"},
    }
    venue = _Venue("okx", child)
    read = await read_fired(venue, raw, "BTC/USDT:USDT")
    assert venue.reads == [("77", "BTC/USDT:USDT")]
    assert read == {
        **child,
        "id": "9",
        "clientOrderId": "st1",
        "symbol": symbol,
        "info": {"algo": _FIRED, "order": {"ordId": "77"}},
    }


async def test_only_a_fired_okx_algo_order_is_read_again() -> None:
    fired = {"id": "9", "info": dict(_FIRED)}
    live = {"id": "9", "info": {**_FIRED, "state": "live"}}
    kraken = _Venue("kraken", {"id": "77"})
    assert await read_fired(kraken, fired, "BTC/USD") is fired and kraken.reads == []
    okx = _Venue("okx", {"id": "77"})
    assert await read_fired(okx, live, "BTC/USDT:USDT") is live and okx.reads == []
