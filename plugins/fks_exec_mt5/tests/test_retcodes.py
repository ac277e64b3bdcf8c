"""Return codes, requotes, IPC failures and reconciliation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Executor, Order, OrderStatus, PluginRegistry
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.mapping import RETCODES
from fks_exec_mt5.testing import FakeMetaTrader5


async def test_server_refusals(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    closed = await mt5.execute_order(Order.market("US500", "buy", "1"))
    assert (closed.error_code, closed.error) == (ErrorCode.MARKET_CLOSED, "10018 Market closed")
    poor = await mt5.execute_order(Order.market("EURUSD", "buy", "100"))
    assert poor.error_code is ErrorCode.INSUFFICIENT_FUNDS
    stops = await mt5.execute_order(Order.market("XAUUSD", "buy", "0.01", stop_loss="2650.0"))
    assert stops.error_code is ErrorCode.INVALID_ORDER and "10016" in (stops.error or "")
    price = await mt5.execute_order(Order.limit("EURUSD", "buy", "0.1", "1.2"))
    assert price.error_code is ErrorCode.INVALID_ORDER and "10015" in (price.error or "")
    terminal.algo_trading = False
    off = await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert off.error_code is ErrorCode.AUTH and "Algo Trading" in (off.error or "")


def test_every_trade_retcode_is_mapped() -> None:
    real = {v for n, v in vars(c).items() if n.startswith("TRADE_RETCODE_")}
    assert real <= set(RETCODES)


async def test_requotes_are_retried_at_fresh_prices_a_bounded_number_of_times(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    terminal.requote_next(2)
    filled = await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert filled.status is OrderStatus.FILLED
    prices = [r["price"] for r in terminal.sent]
    assert len(prices) == 3 and prices[0] < prices[1] < prices[2]
    terminal.requote_next(10)
    refused = await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert refused.status is OrderStatus.REJECTED and "10004" in (refused.error or "")
    assert len(terminal.sent) == 3 + 4  # 1 try + 3 retries


async def test_no_server_connection_sends_nothing(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    terminal.server_connected = False
    with pytest.raises(BrokerUnavailable, match="10031"):
        await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert terminal.open_positions == []


async def test_ipc_failure_before_sending_reconnects_and_is_unavailable(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    terminal.fail_next_ipc(c.RES_E_INTERNAL_FAIL_SEND)
    with pytest.raises(BrokerUnavailable, match="-10001"):
        await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert terminal.calls.count("initialize") == 2  # reconnected once
    assert terminal.open_positions == []
    again = await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert again.status is OrderStatus.FILLED


async def test_ipc_failure_after_sending_is_unknown_then_reconciled_never_resent(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("mt5", mt5)
    executor = Executor(registry, default="mt5", reconcile_delay_s=0)
    order = Order.market("EURUSD", "buy", "0.1")
    terminal.fail_next_ipc(c.RES_E_INTERNAL_FAIL_RECEIVE, after_send=True)
    result = await executor.execute(order)
    assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, 1 * result.quantity)
    assert result.average_price == Decimal(repr(terminal.deals[0].price))
    assert await executor.execute(order) == result
    assert len(terminal.sent) == 1
    direct = await mt5.execute_order(order)  # the plugin itself also refuses a resend
    assert direct.order_id == result.order_id and len(terminal.sent) == 1


async def test_get_order_states(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    resting = Order.limit("EURUSD", "buy", "0.1", "1.08")
    await mt5.execute_order(resting)
    found = await mt5.get_order(resting.client_order_id)
    assert found is not None and found.status is OrderStatus.ACCEPTED
    terminal.set_price("EURUSD", 1.07990, 1.07998)  # the limit fills
    filled = await mt5.get_order(resting.client_order_id)
    assert filled is not None and filled.status is OrderStatus.FILLED
    assert filled.average_price is not None and filled.average_price <= 1 * filled.average_price
    assert await mt5.get_order("never-sent") is None


async def test_cancel(mt5: Mt5Plugin, terminal: FakeMetaTrader5) -> None:
    placed = await mt5.execute_order(Order.stop("EURUSD", "buy", "0.1", "1.1"))
    assert placed.order_id
    canceled = await mt5.cancel_order(placed.order_id)
    assert canceled.status is OrderStatus.CANCELED and canceled.symbol == "EURUSD"
    again = await mt5.cancel_order(placed.order_id)
    assert again.status is OrderStatus.REJECTED and again.error_code is ErrorCode.INVALID_ORDER
    assert terminal.sent[-1]["action"] == c.TRADE_ACTION_REMOVE
