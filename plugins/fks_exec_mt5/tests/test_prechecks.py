"""Orders a symbol's rules forbid are refused before sending, naming the rule; the
fill policy chosen is one MetaQuotes' table allows (the reference fake enforces it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec_mt5 import constants as c
from fks_exec_mt5.mapping import comment_for
from fks_exec_mt5.prechecks import SymbolRules, check_stop_limit_side
from fks_exec_mt5.testing.reference import (
    SYMBOL_EXPIRATION_GTC,
    SYMBOL_FILLING_FOK,
    SYMBOL_FILLING_IOC,
    FakeMetaTrader5,
)

from .conftest import started

D = Decimal
MODES = {
    "request": c.SYMBOL_TRADE_EXECUTION_REQUEST,
    "instant": c.SYMBOL_TRADE_EXECUTION_INSTANT,
    "market": c.SYMBOL_TRADE_EXECUTION_MARKET,
    "exchange": c.SYMBOL_TRADE_EXECUTION_EXCHANGE,
}
FLAGS = {"fok": SYMBOL_FILLING_FOK, "ioc": SYMBOL_FILLING_IOC, "both": 3, "none": 0}


def orders() -> dict[str, Order]:
    return {
        "market": Order.market("EURUSD", "buy", "0.1"),
        "limit": Order.limit("EURUSD", "buy", "0.1", D("1.05")),
        "stop": Order.stop("EURUSD", "buy", "0.1", D("1.15")),
        "stop_limit": Order.stop_limit("EURUSD", "buy", "0.1", D("1.15"), D("1.14")),
    }


_BASE = {"symbol": "EURUSD", "volume": 0.1, "deviation": 1000}
REQUESTS = {
    "market": {**_BASE, "action": c.TRADE_ACTION_DEAL, "type": c.ORDER_TYPE_BUY, "price": 1.1001},
    "limit": {
        **_BASE,
        "action": c.TRADE_ACTION_PENDING,
        "type": c.ORDER_TYPE_BUY_LIMIT,
        "price": 1.05,
    },
    "stop": {
        **_BASE,
        "action": c.TRADE_ACTION_PENDING,
        "type": c.ORDER_TYPE_BUY_STOP,
        "price": 1.15,
    },
    "stop_limit": {
        **_BASE,
        "action": c.TRADE_ACTION_PENDING,
        "type": c.ORDER_TYPE_BUY_STOP_LIMIT,
        "price": 1.15,
        "stoplimit": 1.14,
    },
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("flags", sorted(FLAGS))
@pytest.mark.parametrize("kind", ["market", "limit", "stop", "stop_limit"])
@pytest.mark.parametrize("reading", ["table", "reference"])
async def test_fill_policy_is_one_the_server_takes_or_refused_unsent(
    mode: str, flags: str, kind: str, reading: str
) -> None:
    """Under either reading of MetaQuotes' texts (the fake's ``return_for_market_orders``):
    the one order the readings disagree on, a market order on Market execution without
    FOK/IOC flags, goes with Return (the MQL5 reference) and a server that follows the
    help page's table answers it 10030; every other order is one the server takes, or is
    refused before sending when no policy would do."""
    terminal = FakeMetaTrader5.netting()
    terminal.update_symbol(
        "EURUSD",
        execution_mode=MODES[mode],
        filling_flags=FLAGS[flags],
        return_for_market_orders=reading == "reference",
    )
    plugin = await started(terminal, deviation_points=1000)
    result = await plugin.execute_order(orders()[kind])
    await plugin.close()
    terminal.initialize()
    disputed = (mode, flags, kind) == ("market", "none", "market")
    if result.sent is False:
        assert not disputed
        assert "fill policy" in (result.error or ""), result
        assert terminal.order_arrivals() == {}
        # ... and the server would indeed have refused every policy for it
        for policy in (c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC, c.ORDER_FILLING_RETURN):
            checked = terminal.order_check({**REQUESTS[kind], "type_filling": policy})
            assert checked.retcode == c.TRADE_RETCODE_INVALID_FILL, (policy, checked)
    elif disputed and reading == "table":
        assert result.status is OrderStatus.REJECTED and result.sent is True, result
        assert (result.raw or {}).get("retcode") == c.TRADE_RETCODE_INVALID_FILL
        assert not result.filled_quantity
    else:
        assert result.status in (OrderStatus.FILLED, OrderStatus.ACCEPTED), result


async def test_day_orders_need_the_symbols_expiration_mode() -> None:
    terminal = FakeMetaTrader5.hedging()
    terminal.update_symbol("EURUSD", expiration_flags=SYMBOL_EXPIRATION_GTC)
    plugin = await started(terminal)
    day = Order.limit("EURUSD", "buy", "0.1", D("1.05"), time_in_force="day")
    result = await plugin.execute_order(day)
    assert result.sent is False and "SYMBOL_EXPIRATION_DAY" in (result.error or "")
    gtc = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.05")))
    assert gtc.status is OrderStatus.ACCEPTED
    await plugin.close()


async def test_stops_level_is_checked_for_pending_prices_and_stops() -> None:
    terminal = FakeMetaTrader5.hedging()  # USDJPY: stops level 50 points = 0.050
    plugin = await started(terminal, deviation_points=100)
    near = await plugin.execute_order(Order.limit("USDJPY", "buy", "0.1", D("149.990")))
    assert near.sent is False and "SYMBOL_TRADE_STOPS_LEVEL" in (near.error or "")
    tight = Order.market("USDJPY", "buy", "0.1", stop_loss=D("149.980"))
    refused = await plugin.execute_order(tight)
    assert refused.sent is False and "stop_loss" in (refused.error or "")
    wrong_side = Order.market("USDJPY", "buy", "0.1", take_profit=D("149.000"))
    assert (await plugin.execute_order(wrong_side)).sent is False
    fine = await plugin.execute_order(Order.limit("USDJPY", "buy", "0.1", D("149.900")))
    assert fine.status is OrderStatus.ACCEPTED
    assert terminal.order_arrivals() == {comment_for(fine.client_order_id): 1}
    await plugin.close()


async def test_freeze_level_blocks_a_cancel_before_sending() -> None:
    terminal = FakeMetaTrader5.hedging()  # USDJPY: freeze level 20 points = 0.020
    plugin = await started(terminal)
    placed = await plugin.execute_order(Order.limit("USDJPY", "buy", "0.1", D("149.900")))
    assert placed.order_id is not None
    terminal.set_tick("USDJPY", "149.910", "149.915")  # 0.015 above the order
    frozen = await plugin.cancel_order(placed.order_id)
    assert frozen.status is OrderStatus.REJECTED and frozen.sent is False
    assert "SYMBOL_TRADE_FREEZE_LEVEL" in (frozen.error or "")
    terminal.set_tick("USDJPY", "150.000", "150.010")
    assert (await plugin.cancel_order(placed.order_id)).status is OrderStatus.CANCELED
    await plugin.close()


async def test_volume_limit_counts_positions_and_pending_orders() -> None:
    terminal = FakeMetaTrader5.hedging()  # XAUUSD: volume_limit 5
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("XAUUSD", "buy", "3"))
    await plugin.execute_order(Order.limit("XAUUSD", "buy", "1.5", D("2300")))
    over = await plugin.execute_order(Order.market("XAUUSD", "buy", "1"))
    assert over.sent is False and "volume_limit" in (over.error or "")
    closing = await plugin.execute_order(Order.market("XAUUSD", "sell", "1"))
    assert closing.status is OrderStatus.FILLED  # reducing is never limited
    await plugin.close()


async def test_trade_mode_close_only_refuses_opening_but_not_closing() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
    terminal.update_symbol("EURUSD", trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    plugin.session.forget_symbols()  # the symbol changed: read it again
    opening = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert opening.sent is False and "close-only" in (opening.error or "")
    closing = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
    assert closing.status is OrderStatus.FILLED
    await plugin.close()


@pytest.mark.parametrize(
    ("side", "stop", "limit", "placed"),
    [
        ("buy", "1.1050", "1.1060", False),  # a buy limit above the market it is placed at
        ("sell", "1.0950", "1.0940", False),
        ("buy", "1.1050", "1.1050", True),
        ("buy", "1.1050", "1.1040", True),
        ("sell", "1.0950", "1.0960", True),
    ],
)
async def test_a_stop_limit_whose_limit_is_beyond_its_stop_is_refused_unsent(
    side: str, stop: str, limit: str, placed: bool
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    order = Order.stop_limit("EURUSD", side, "0.1", D(stop), D(limit))
    result = await plugin.execute_order(order)
    await plugin.close()
    if placed:
        assert result.status is OrderStatus.ACCEPTED, result
        return
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert f"limit {limit}" in (result.error or "") and "stop" in (result.error or "")
    assert terminal.order_arrivals() == {}
    terminal.initialize()  # ... and the server would have refused it (10015)
    kind = c.ORDER_TYPE_BUY_STOP_LIMIT if side == "buy" else c.ORDER_TYPE_SELL_STOP_LIMIT
    request = {**REQUESTS["stop_limit"], "type": kind, "price": float(stop)}
    checked = terminal.order_check({**request, "stoplimit": float(limit)})
    assert checked.retcode == c.TRADE_RETCODE_INVALID_PRICE, checked


@pytest.mark.parametrize(
    ("quantity", "says"),
    [
        ("0.05", "rounds down to 0.04 on its volume step 0.02, below the minimum 0.05"),
        ("0.055", "smallest volume it takes is 0.06"),
        ("0.04", "0.04 lots of EURUSD is below the minimum 0.05"),
    ],
)
async def test_a_minimum_volume_off_the_step_grid_is_named_in_the_refusal(
    quantity: str, says: str
) -> None:
    terminal = FakeMetaTrader5.hedging()
    terminal.update_symbol("EURUSD", volume_min=D("0.05"), volume_step=D("0.02"))
    plugin = await started(terminal)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", quantity))
    smallest = await plugin.execute_order(Order.market("EURUSD", "buy", "0.06"))
    await plugin.close()
    assert result.status is OrderStatus.REJECTED and result.sent is False
    assert says in (result.error or ""), result.error
    assert smallest.status is OrderStatus.FILLED


@pytest.mark.parametrize("blocks", [True, False])
@pytest.mark.parametrize("account", ["hedging", "netting"])
async def test_closing_a_position_with_a_stop_inside_the_freeze_level_is_left_to_the_server(
    account: str, blocks: bool
) -> None:
    """MetaQuotes' MT5 documentation forbids *modifying* a position whose SL/TP is within
    SYMBOL_TRADE_FREEZE_LEVEL (article 2555); that closing it is forbidden too is MQL4's
    rule. So the plugin sends the close and reports the server's answer, either way."""
    make = FakeMetaTrader5.hedging if account == "hedging" else FakeMetaTrader5.netting
    terminal = make(account_options={"freeze_blocks_close": blocks})
    plugin = await started(terminal)
    opened = await plugin.execute_order(Order.market("USDJPY", "buy", "0.1", stop_loss=D("149.94")))
    assert opened.status is OrderStatus.FILLED, opened
    terminal.set_tick("USDJPY", "149.955", "149.960")  # the SL is 0.015 away: frozen
    (closed,) = await plugin.close_position("USDJPY")
    await plugin.close()
    if blocks:
        assert closed.status is OrderStatus.REJECTED and closed.sent is True, closed
        assert "10029" in (closed.error or "") and "freeze level" in (closed.error or "")
        assert terminal.net_volume("USDJPY") == D("0.1")
    else:
        assert closed.status is OrderStatus.FILLED, closed


def test_a_stop_limit_on_the_wrong_side_is_refused_with_the_side_to_put_it_on() -> None:
    terminal = FakeMetaTrader5.hedging()
    terminal.initialize()
    rules = SymbolRules.of(terminal.symbol_info("EURUSD"))
    with pytest.raises(OrderDenied) as buy:
        check_stop_limit_side(rules, True, D("1.1050"), D("1.1060"))
    assert str(buy.value) == (
        "a buy stop-limit on EURUSD with its limit 1.1060 above its stop 1.1050: when the stop "
        "triggers, MetaTrader places a buy limit order at 1.1060, which would be on the wrong "
        "side of the market. Put the limit at or below the stop"
    )
    with pytest.raises(OrderDenied) as sell:
        check_stop_limit_side(rules, False, D("1.0950"), D("1.0940"))
    assert str(sell.value) == (
        "a sell stop-limit on EURUSD with its limit 1.0940 below its stop 1.0950: when the stop "
        "triggers, MetaTrader places a sell limit order at 1.0940, which would be on the wrong "
        "side of the market. Put the limit at or above the stop"
    )
    # A limit at the stop is on the right side for both.
    check_stop_limit_side(rules, True, D("1.1050"), D("1.1050"))
    check_stop_limit_side(rules, False, D("1.0950"), D("1.0950"))
