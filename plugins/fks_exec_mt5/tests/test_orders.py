"""What each order becomes on the wire, and what never reaches it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.mapping import Denial, build_request, choose_filling, comment_for
from fks_exec_mt5.testing import FakeMetaTrader5


async def test_market_order_request(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    order = Order.market("EURUSD", "buy", "0.127", stop_loss="1.07", take_profit="1.10")
    result = await mt5.execute_order(order)
    (request,) = terminal.sent
    assert request == {
        "action": c.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.12,
        "type": c.ORDER_TYPE_BUY,
        "price": 1.08512,
        "deviation": 20,
        "magic": 424242,
        "type_filling": c.ORDER_FILLING_FOK,
        "type_time": c.ORDER_TIME_GTC,
        "comment": comment_for(order.client_order_id),
        "sl": 1.07,
        "tp": 1.1,
    }
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.FILLED,
        Decimal("0.12"),
        Decimal("1.08512"),
    )
    assert result.quantity == Decimal("0.12")  # rounded down to the volume step


@pytest.mark.parametrize(
    ("order", "kind", "price", "stoplimit"),
    [
        (Order.limit("EURUSD", "buy", "0.1", "1.080004"), c.ORDER_TYPE_BUY_LIMIT, 1.08, None),
        (Order.limit("EURUSD", "sell", "0.1", "1.09"), c.ORDER_TYPE_SELL_LIMIT, 1.09, None),
        (Order.stop("EURUSD", "buy", "0.1", "1.09"), c.ORDER_TYPE_BUY_STOP, 1.09, None),
        (Order.stop("EURUSD", "sell", "0.1", "1.08"), c.ORDER_TYPE_SELL_STOP, 1.08, None),
        (
            Order.stop_limit("EURUSD", "buy", "0.1", stop_price="1.0900", price="1.0895"),
            c.ORDER_TYPE_BUY_STOP_LIMIT,
            1.09,
            1.0895,
        ),
        (
            Order.stop_limit("EURUSD", "sell", "0.1", stop_price="1.0800", price="1.0805"),
            c.ORDER_TYPE_SELL_STOP_LIMIT,
            1.08,
            1.0805,
        ),
    ],
)
async def test_pending_orders(
    mt5: Mt5Plugin,
    terminal: FakeMetaTrader5,
    order: Order,
    kind: int,
    price: float,
    stoplimit: float | None,
) -> None:
    result = await mt5.execute_order(order)
    (request,) = terminal.sent
    assert request["action"] == c.TRADE_ACTION_PENDING
    assert (request["type"], request["price"], request.get("stoplimit")) == (kind, price, stoplimit)
    assert request["type_filling"] == c.ORDER_FILLING_RETURN
    assert result.status is OrderStatus.ACCEPTED and result.order_id


async def test_day_orders_and_tick_rounding(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    terminal.set_session("US500", open=True)
    await mt5.execute_order(Order.limit("US500", "buy", "1.05", "5000.13", time_in_force="day"))
    (request,) = terminal.sent
    assert request["type_time"] == c.ORDER_TIME_DAY
    assert request["price"] == 5000.25  # US500 moves in 0.25 ticks
    assert request["volume"] == 1.0  # 1.05 rounded down to the 0.1 step


async def test_filling_follows_the_symbols_flags(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    await mt5.execute_order(Order.market("XAUUSD", "buy", "0.01"))  # IOC only
    assert terminal.sent[-1]["type_filling"] == c.ORDER_FILLING_IOC
    refused = await mt5.execute_order(Order.market("XAUUSD", "buy", "0.01", time_in_force="fok"))
    assert refused.error_code is ErrorCode.NOT_SUPPORTED
    assert len(terminal.sent) == 1


@settings(max_examples=60)
@given(
    flags=st.integers(0, 7),
    exemode=st.sampled_from([1, 2, 3]),
    tif=st.sampled_from(["gtc", "day", "ioc", "fok"]),
)
def test_the_classic_10030_cannot_happen(flags: int, exemode: int, tif: str) -> None:
    terminal = FakeMetaTrader5()
    terminal.initialize()
    spec = terminal._state.symbols["EURUSD"]
    spec.filling_mode, spec.trade_exemode = flags, exemode
    order = Order.market("EURUSD", "buy", "0.01", time_in_force=tif)
    info, tick = terminal.symbol_info("EURUSD"), terminal.symbol_info_tick("EURUSD")
    request = build_request(order, info, tick, deviation=10, magic=0)
    if isinstance(request, Denial):
        assert request.code is ErrorCode.NOT_SUPPORTED
        assert isinstance(choose_filling(info, order), Denial)
        return
    assert terminal.order_send(request).retcode != c.TRADE_RETCODE_INVALID_FILL


async def test_symbol_outside_market_watch_is_selected_first(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    result = await mt5.execute_order(Order.market("GBPJPY", "sell", "0.1"))
    assert result.status is OrderStatus.FILLED
    assert terminal.calls.index("symbol_select") < terminal.calls.index("order_send")


@pytest.mark.parametrize(
    ("order", "fragment"),
    [
        (Order.market("EURUSD", "buy", "0.004"), "below the minimum 0.01"),
        (Order.market("EURUSD", "buy", "900"), "above the maximum 500"),
        (Order.limit("EURUSD", "buy", "0.1", "1.08", time_in_force="ioc"), "gtc or day"),
        (Order.limit("EURUSD", "sell", "0.1", "1.09", reduce_only=True), "reduce-only pending"),
        (Order.market("EURUSD", "sell", "0.1", reduce_only=True), "only 0 lots held"),
        (Order.market("NOPE", "buy", "1"), "no symbol 'NOPE'"),
    ],
)
async def test_refused_before_sending(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5, order: Order, fragment: str
) -> None:
    result = await mt5.execute_order(order)
    assert result.status is OrderStatus.REJECTED
    assert fragment in (result.error or "")
    assert terminal.sent == []


def test_comments_carry_the_client_order_id() -> None:
    assert comment_for("strategy-7") == "strategy-7"
    long_id = "0123456789abcdef0123456789abcdef"
    assert len(comment_for(long_id)) == 31 and comment_for(long_id) == comment_for(long_id)
    assert comment_for(long_id).isascii() and comment_for(long_id) != comment_for(long_id[::-1])


async def test_reduce_only_closes_against_the_position(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    opened = await mt5.execute_order(Order.market("EURUSD", "buy", "0.3"))
    reduced = await mt5.execute_order(Order.market("EURUSD", "sell", "0.1", reduce_only=True))
    assert reduced.status is OrderStatus.FILLED
    assert terminal.sent[-1]["position"] == int(opened.order_id or 0)
    (position,) = await mt5.positions()
    assert position.quantity == Decimal("0.2")
