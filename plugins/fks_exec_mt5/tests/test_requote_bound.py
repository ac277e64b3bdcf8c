"""A requoted market order is resent at a fresh price (``requote_retries`` times), but
never at a price more than ``deviation_points`` from the leg's first one: the deviation
is "the largest slippage accepted on a market order" (docs/plugins/mt5.md,
*Configuration*), and a chase of a running market must not pass it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted, opened, requote

D = Decimal
POINT = D("0.00001")  # EURUSD's


def _moving(terminal: FakeMetaTrader5, scripted: Scripted, moves: list[int]) -> None:
    """Each order_send is answered 10004 and the market then moves by the next of
    ``moves`` points; the one after the last move is the server's own answer."""

    def answer(move: int) -> Any:
        def send(real: Any, request: dict[str, Any]) -> Any:
            tick = terminal.symbol_info_tick("EURUSD")
            bid = D(repr(tick.bid)) + move * POINT
            terminal.set_tick("EURUSD", bid, bid + D("0.0001"))
            return requote(real, request)

        return send

    for move in moves:
        scripted.then("order_send", answer(move))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moves=st.lists(st.integers(min_value=-15, max_value=15), max_size=5),
    deviation=st.integers(min_value=0, max_value=30),
    retries=st.integers(min_value=0, max_value=4),
    buy=st.booleans(),
)
async def test_no_resend_is_further_than_the_deviation_from_the_first_price(
    moves: list[int], deviation: int, retries: int, buy: bool
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, deviation_points=deviation, requote_retries=retries)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        _moving(terminal, scripted, moves)
        result = await plugin.execute_order(Order.market("EURUSD", "buy" if buy else "sell", "0.1"))
    finally:
        await plugin.close()
    prices = [D(repr(request["price"])) for request in scripted.sent]
    assert 1 <= len(prices) <= 1 + retries
    assert all(abs(price - prices[0]) <= deviation * POINT for price in prices)
    # it stops only when it must: out of retries, out of requotes, or out of reach
    sent = len(prices)
    if sent <= min(retries, len(moves)):
        walked = sum(moves[:sent]) * POINT
        assert abs(walked) > deviation * POINT, (prices, moves)
    if result.status is OrderStatus.REJECTED:
        assert result.error is not None and "deviation_points" in result.error


async def test_requotes_within_the_deviation_are_resent_until_one_fills() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, deviation_points=10)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        _moving(terminal, scripted, [4, 4])  # 8 points in all: within 10
        result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert result.status is OrderStatus.FILLED, result
        prices = [request["price"] for request in scripted.sent]
        assert len(prices) == 3 and prices[0] < prices[1] < prices[2]
        scripted.sent.clear()
        _moving(terminal, scripted, [6, 6, 6])  # the second resend would be 12 away
        result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert result.status is OrderStatus.REJECTED and result.sent is True, result
        assert len(scripted.sent) == 2
        assert result.error == (
            f"{c.TRADE_RETCODE_REQUOTE} Requote: resent at fresh prices up to "
            "requote_retries times, never more than deviation_points from the first price"
        )
    finally:
        await plugin.close()


async def test_a_later_legs_reach_is_measured_from_its_own_first_price() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, deviation_points=10)
    opened(terminal, c.ORDER_TYPE_BUY, 0.1)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted

    def leg_one(real: Any, request: dict[str, Any]) -> Any:
        sent = real(request)  # it fills; then the market drops 9 points
        tick = terminal.symbol_info_tick("EURUSD")
        terminal.set_tick("EURUSD", D(repr(tick.bid)) - 9 * POINT, D(repr(tick.ask)) - 9 * POINT)
        return sent

    try:
        scripted.then("order_send", leg_one)
        _moving(terminal, scripted, [8, 8])  # leg 2: 8 from its first price, then 16
        result = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
        prices = [D(repr(request["price"])) for request in scripted.sent]
        assert len(prices) == 3, prices  # leg 1, leg 2, and one resend 8 points away
        assert (prices[1] - prices[0], prices[2] - prices[1]) == (-9 * POINT, 8 * POINT)
        assert result.status is OrderStatus.PARTIALLY_FILLED, result
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    finally:
        await plugin.close()


async def test_a_market_out_of_reach_ends_the_retries_even_if_it_comes_back() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, deviation_points=10, requote_retries=3)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    first = terminal.symbol_info_tick("EURUSD")

    def back(real: Any, *args: Any, **kwargs: Any) -> Any:
        terminal.set_tick("EURUSD", D(repr(first.bid)), D(repr(first.ask)))
        return real(*args, **kwargs)

    try:
        _moving(terminal, scripted, [15])  # the resend would be 15 points away: none
        for answer in (lambda real, *a, **k: real(*a, **k),) * 2:  # the order's, the retry's
            scripted.then("symbol_info_tick", answer)
        scripted.then("symbol_info_tick", back)  # a later read would be back in reach
        result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert result.status is OrderStatus.REJECTED, result
        assert len(scripted.sent) == 1
    finally:
        await plugin.close()


async def test_a_pending_order_answered_with_a_price_retcode_is_not_resent() -> None:
    # a resend takes the market's price: a limit order must never be moved there, however
    # much slippage a market order may have
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, requote_retries=3, deviation_points=100_000)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        scripted.then("order_send", requote)
        result = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.09")))
        assert result.status is OrderStatus.REJECTED, result
        assert [request["price"] for request in scripted.sent] == [1.09]
    finally:
        await plugin.close()
