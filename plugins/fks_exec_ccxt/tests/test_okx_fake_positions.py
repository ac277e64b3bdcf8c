"""Positions on the fake OKX: contracts, position modes, and the money they move.

Driven by a real ``ccxt.async_support.okx``; accounting properties check the fake's
own arithmetic against an independent identity (flat again, profit is what was
received minus what was paid, whatever the averaging).
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

from fks_exec_ccxt.testing.okx import FakeOkx

LINEAR, INVERSE = "BTC/USDT:USDT", "BTC/USD:BTC"


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


async def test_positions_are_in_contracts_for_linear_and_inverse(okx: Any) -> None:
    await okx.create_order(LINEAR, "market", "buy", 50)
    await okx.create_order(INVERSE, "market", "sell", 1)
    positions = {p["symbol"]: p for p in await okx.fetch_positions()}
    linear, inverse = positions[LINEAR], positions[INVERSE]
    assert (linear["contracts"], linear["contractSize"], linear["side"]) == (50, 0.01, "long")
    assert (inverse["contracts"], inverse["contractSize"], inverse["side"]) == (1, 100, "short")
    assert linear["info"]["pos"] == "50" and inverse["info"]["pos"] == "-1"


async def test_closing_a_position_with_exactly_what_it_holds(okx: Any, venue: FakeOkx) -> None:
    await okx.create_order(INVERSE, "market", "buy", 1)
    (held,) = await okx.fetch_positions([INVERSE])
    await okx.create_order(INVERSE, "market", "sell", held["contracts"], None, {"reduceOnly": True})
    assert wire_log(okx, "trade/batch-orders")[-1][0]["sz"] == "1"
    assert venue.position("BTC-USD-SWAP") == 0
    (flat,) = await okx.fetch_positions([INVERSE])  # asked by instId: listed with pos 0
    assert flat["contracts"] == 0 and flat["info"]["pos"] == "0"
    assert await okx.fetch_positions() == []


async def test_reduce_only_larger_than_the_position_is_refused(okx: Any) -> None:
    await okx.create_order(LINEAR, "market", "buy", 2)
    with pytest.raises(ccxt.InvalidOrder, match="51112"):
        await okx.create_order(LINEAR, "market", "sell", 3, None, {"reduceOnly": True})


async def test_inverse_profit_is_paid_in_the_coin(okx: Any, venue: FakeOkx) -> None:
    before = venue.balance("BTC")
    venue.set_price("BTC-USD-SWAP", "50000", "50000")
    await okx.create_order(INVERSE, "market", "buy", 10)  # 1000 USD of BTC at 50000
    venue.set_price("BTC-USD-SWAP", "62500", "62500")
    await okx.create_order(INVERSE, "market", "sell", 10, None, {"reduceOnly": True})
    pnl = Decimal(1000) * (Decimal(1) / 50000 - Decimal(1) / 62500)
    fees = Decimal("0.0005") * (Decimal(1000) / 50000 + Decimal(1000) / 62500)
    assert venue.balance("BTC") - before == pnl - fees


async def test_long_short_mode_needs_pos_side_and_keeps_both_sides() -> None:
    venue = FakeOkx(pos_mode="long_short_mode")
    quote_all(venue)
    exchange = venue.exchange()
    try:
        with pytest.raises(ccxt.BadRequest, match="posSide"):
            await exchange.create_order(LINEAR, "market", "buy", 1)
        await exchange.create_order(LINEAR, "market", "buy", 3, None, {"posSide": "long"})
        await exchange.create_order(LINEAR, "market", "sell", 2, None, {"posSide": "short"})
        sides = {p["side"]: p["contracts"] for p in await exchange.fetch_positions()}
        assert sides == {"long": 3, "short": 2}
        await exchange.create_order(LINEAR, "market", "sell", 3, None, {"posSide": "long"})
        assert (
            venue.position("BTC-USDT-SWAP", "long"),
            venue.position("BTC-USDT-SWAP", "short"),
        ) == (0, 2)
        assert (await exchange.fetch_position_mode())["hedged"] is True
    finally:
        await exchange.close()


trades = st.lists(
    st.tuples(st.sampled_from(["buy", "sell"]), st.integers(1, 40), st.integers(40_000, 80_000)),
    min_size=1,
    max_size=10,
)


@settings(max_examples=60, deadline=None)
@given(sequence=trades, inst_id=st.sampled_from(["BTC-USDT-SWAP", "BTC-USD-SWAP"]))
def test_round_trip_profit_is_received_minus_paid(
    sequence: list[tuple[str, int, int]], inst_id: str
) -> None:
    venue = FakeOkx(balances={"USDT": "100000000", "BTC": "100000"})
    inst = venue.trading.instrument(inst_id)
    settle = inst.settle
    before = venue.balance(settle)
    held = Decimal(0)
    flows = Decimal(0)  # settle currency received minus paid, fees apart
    fees = Decimal(0)

    def trade(side: str, qty: Decimal, px: Decimal) -> None:
        nonlocal held, flows, fees
        venue.set_price(inst_id, px, px, px)
        body = {"instId": inst_id, "side": side, "ordType": "market", "sz": str(qty)}
        venue.trading.place({**body, "tdMode": "cross"})
        sign = 1 if side == "buy" else -1
        held += sign * qty
        value = qty * inst.ct_val / px if inst.inverse else qty * inst.ct_val * px
        flows += sign * value if inst.inverse else -sign * value  # coin bought / quote paid
        fees += value * inst.taker_fee

    for side, size, price in sequence:
        trade(side, Decimal(size), Decimal(price))
        assert venue.position(inst_id) == held
    if held:
        trade("sell" if held > 0 else "buy", abs(held), Decimal(sequence[-1][2]))
    assert venue.position(inst_id) == 0
    assert abs(venue.balance(settle) - before - (flows - fees)) < Decimal("1e-18")


async def test_closing_more_than_the_hedged_long_is_refused() -> None:
    venue = FakeOkx(pos_mode="long_short_mode")
    quote_all(venue)
    exchange = venue.exchange()
    try:
        await exchange.create_order(LINEAR, "market", "buy", 2, None, {"posSide": "long"})
        with pytest.raises(ccxt.InvalidOrder, match="51112"):
            await exchange.create_order(LINEAR, "market", "sell", 3, None, {"posSide": "long"})
        with pytest.raises(ccxt.ExchangeError, match="51169"):
            await exchange.create_order(LINEAR, "market", "buy", 1, None, {"posSide": "short"})
        assert venue.position("BTC-USDT-SWAP", "long") == 2
    finally:
        await exchange.close()


async def test_position_mode_can_change_only_while_nothing_is_open(
    okx: Any, venue: FakeOkx
) -> None:
    await okx.set_position_mode(True)
    assert venue.pos_mode == "long_short_mode"
    await okx.create_order(LINEAR, "market", "buy", 1, None, {"posSide": "long"})
    with pytest.raises(ccxt.ExchangeError, match="59000"):
        await okx.set_position_mode(False)
    assert venue.pos_mode == "long_short_mode"
