"""ccxt's own static okx cases, replayed against the fake OKX (read from ../shared at test time).

* request cases: the body or query the fake receives from a real ccxt okx object for a
  unified call is exactly what ccxt's case expects (``skipKeys`` aside), and the fake
  understands it (it places the order, or refuses a cancel of an id it never saw);
* response cases: an order in the state of a recorded answer, read back from the fake,
  parses (through ccxt) to the same key fields as the recorded answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt
import pytest

from fks_exec_ccxt.testing.okx import FakeOkx
from fks_exec_ccxt.testing.okx.markets import instrument_from_info

STATIC = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "ccxt-static"
PRICES = {"BTC": "100000", "LTC": "100", "ADA": "0.3", "ETH": "3000"}


def static(kind: str) -> Any:
    """One of ccxt's okx static files, or a clean skip when ../shared is absent."""
    path = STATIC / f"okx.{kind}.json"
    if not path.exists():
        pytest.skip(f"ccxt static cases not found at {STATIC}")
    return json.loads(path.read_text())


def venue_for(pos_mode: Any) -> FakeOkx:
    markets = static("markets")
    instruments = [
        instrument_from_info(m["info"]) for k, m in markets.items() if not k.startswith("_")
    ]
    venue = FakeOkx(
        balances={"USDT": "10000000", "BTC": "1000", "LTC": "100000", "ADA": "10000000"},
        pos_mode=pos_mode,
        instruments=instruments,
    )
    for inst in instruments:
        price = PRICES[inst.base]
        venue.set_price(inst.inst_id, price, price, price)
    return venue


def request_cases() -> Iterator[Any]:
    path = STATIC / "okx.request.json"
    if not path.exists():
        yield pytest.param(None, None, id="static-cases-absent")
        return
    methods = json.loads(path.read_text())["methods"]
    for method, cases in methods.items():
        for case in cases:
            if case.get("output", True) is None and method in ("createOrder",):
                continue  # ccxt's case has no expected body
            yield pytest.param(method, case, id=f"{method}: {case['description']}")


def _strip(value: Any, skip: set[str]) -> Any:
    if isinstance(value, list):
        return [_strip(v, skip) for v in value]
    if isinstance(value, dict):
        return {k: _strip(v, skip) for k, v in value.items() if k not in skip}
    return value


def _pos_mode(case: dict[str, Any]) -> str:
    output = case.get("output")
    entries = output if isinstance(output, list) else [output or {}]
    hedged = any(isinstance(e, dict) and e.get("posSide") in ("long", "short") for e in entries)
    return "long_short_mode" if hedged else "net_mode"


@pytest.mark.parametrize(("method", "case"), list(request_cases()))
async def test_ccxt_request_case_reaches_the_fake_as_expected(
    method: str | None, case: Any
) -> None:
    if method is None:
        pytest.skip(f"ccxt static cases not found at {STATIC}")
    skip = set(static("request").get("skipKeys", []))
    venue = venue_for(_pos_mode(case))
    _open_what_it_closes(venue, case)
    exchange = venue.exchange()
    try:
        call = getattr(exchange, _snake(method))
        try:
            result = await call(*case["input"])
        except ccxt.OrderNotFound:
            assert method == "cancelOrder", "only cancels of ids the fake never saw may fail"
            result = None
        url = urlsplit(case["url"])
        sent = [r for r in exchange.session.requests if r.path == url.path]
        assert sent, f"nothing sent to {url.path}"
        if "output" in case:
            assert _strip(json.loads(sent[-1].body), skip) == _strip(case["output"], skip)
        else:
            assert sent[-1].query == dict(parse_qsl(url.query))
        if method == "createOrder":
            assert result is not None and result["id"], "the fake did not accept ccxt's request"
    finally:
        await exchange.close()


def _open_what_it_closes(venue: FakeOkx, case: dict[str, Any]) -> None:
    """A reduce-only regular order needs a position to reduce: open it first."""
    output = case.get("output")
    if not isinstance(output, list) or not output[0].get("reduceOnly"):
        return
    entry = output[0]
    opposite = "buy" if entry["side"] == "sell" else "sell"
    venue.trading.place({**entry, "side": opposite, "reduceOnly": False, "clOrdId": "setup1"})


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


KEY_FIELDS = (
    "symbol",
    "type",
    "side",
    "price",
    "average",
    "amount",
    "filled",
    "remaining",
    "status",
)


async def test_create_order_answers_parse_like_the_recorded_ones() -> None:
    recorded = static("response")["methods"]["createOrder"]
    for case in recorded:
        venue = venue_for("net_mode")
        exchange = venue.exchange(enableLastJsonResponse=True)
        symbol, kind, side, amount, price, params = case["input"]
        try:
            await exchange.load_markets()
            # the recorded answer came with 0.01 contracts, below the minimum (0.1) of
            # the recorded markets; the answer's shape does not depend on the size
            amount = max(amount, exchange.markets[symbol]["limits"]["amount"]["min"])
            parsed = await exchange.create_order(symbol, kind, side, amount, price, params)
        finally:
            await exchange.close()
        expected = case["parsed"]
        assert {k: parsed[k] for k in KEY_FIELDS} == {k: expected[k] for k in KEY_FIELDS}, case[
            "description"
        ]
        fake_row = set(exchange.last_json_response["data"][0])
        assert set(case["httpResponse"]["data"][0]) <= fake_row


async def test_open_conditional_order_reads_back_like_the_recorded_one() -> None:
    (case, *_) = [
        c for c in static("response")["methods"]["fetchOpenOrders"] if "trigger" in c["description"]
    ]
    row = case["httpResponse"]["data"][0]
    venue = venue_for("net_mode")
    venue.set_price(row["instId"], row["last"], row["last"], row["last"])
    exchange = venue.exchange()
    try:
        await exchange.create_order("LTC/USDT:USDT", "market", row["side"], float(row["sz"]), None,
                                    {"stopLossPrice": float(row["slTriggerPx"])})  # fmt: skip
        parsed = await exchange.fetch_open_orders(*case["input"])
        fake_rows = exchange.session.requests
    finally:
        await exchange.close()
    (expected,) = case["parsed"]
    assert {k: parsed[0][k] for k in KEY_FIELDS} == {k: expected[k] for k in KEY_FIELDS}
    assert fake_rows[-1].query == {"instId": "LTC-USDT-SWAP", "ordType": "conditional"}


async def test_open_post_only_order_reads_back_like_the_recorded_one() -> None:
    (case,) = [
        c
        for c in static("response")["methods"]["fetchOpenOrders"]
        if "take profit" in c["description"]
    ]
    row = case["httpResponse"]["data"][0]
    venue = venue_for("long_short_mode")
    exchange = venue.exchange()
    try:
        size, price = float(row["sz"]), float(row["px"])
        params = {"postOnly": True, "posSide": row["posSide"]}
        await exchange.create_order("ADA/USDT:USDT", "limit", row["side"], size, price, params)
        parsed = await exchange.fetch_open_orders(*case["input"])
    finally:
        await exchange.close()
    (expected,) = case["parsed"]
    assert {k: parsed[0][k] for k in KEY_FIELDS} == {k: expected[k] for k in KEY_FIELDS}
    assert parsed[0]["info"]["ordType"] == row["ordType"] == "post_only"


async def test_filled_market_order_reads_back_like_the_recorded_one() -> None:
    (case,) = static("response")["methods"]["fetchClosedOrders"]
    row = case["httpResponse"]["data"][0]
    venue = venue_for("long_short_mode")
    venue.set_price(row["instId"], row["avgPx"], row["avgPx"], row["avgPx"])
    exchange = venue.exchange()
    try:
        await exchange.create_order("LTC/USDT:USDT", "market", row["side"], float(row["sz"]), None,
                                    {"posSide": row["posSide"]})  # fmt: skip
        parsed = await exchange.fetch_closed_orders(*case["input"])
    finally:
        await exchange.close()
    (expected,) = case["parsed"]
    # "cost" differs: the recorded case (disabled upstream) predates the contract size
    # of LTC-USDT-SWAP in the recorded markets (ctVal 1), which ccxt multiplies in
    assert {k: parsed[0][k] for k in KEY_FIELDS} == {k: expected[k] for k in KEY_FIELDS}
    missing = set(row) - set(parsed[0]["info"])
    assert missing <= {"pxType", "pxUsd", "pxVol", "quickMgnType", "stpId"}, missing
