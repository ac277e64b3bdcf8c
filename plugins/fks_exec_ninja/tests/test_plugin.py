"""The plugin against the fake NinjaTrader: orders, brackets, faults, reads, the check."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from fks_exec import (
    BrokerUnavailable,
    ErrorCode,
    Executor,
    Order,
    OrderStatus,
    PluginInitError,
    PluginRegistry,
)
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.check import main as check_main
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing import FakeNinjaTrader


@pytest.fixture
async def nt() -> AsyncIterator[FakeNinjaTrader]:
    async with FakeNinjaTrader() as server:
        yield server


async def start(nt: FakeNinjaTrader, **config: object) -> NinjaPlugin:
    plugin = NinjaPlugin()
    plugin.use_env = False
    await plugin.init(
        {
            "port": nt.port,
            "order_timeout_s": 1,
            "connect_timeout_s": 1,
            "symbols": {"ES": "ES 12-25"},
            **config,
        }
    )
    return plugin


async def settle() -> None:
    await asyncio.sleep(0.05)


async def test_place_commands_and_results(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    market = Order.market("ES", "buy", 2)
    result = await plugin.execute_order(market)
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.FILLED,
        2,
        Decimal("5000.25"),
    )
    order_id = order_id_for(market.client_order_id)
    assert nt.commands[-1] == f"PLACE;Sim101;ES 12-25;BUY;2;MARKET;;;GTC;;{order_id};;"
    limit = await plugin.execute_order(Order.limit("ES", "sell", 1, "5100.5", time_in_force="day"))
    assert nt.commands[-1].split(";")[3:9] == ["SELL", "1", "LIMIT", "5100.5", "", "DAY"]
    assert limit.status is OrderStatus.ACCEPTED
    await plugin.execute_order(Order.stop("ES", "sell", 1, "4900"))
    assert nt.commands[-1].split(";")[5:8] == ["STOPMARKET", "", "4900"]
    await plugin.execute_order(Order.stop_limit("ES", "buy", 1, stop_price="5050", price="5051"))
    assert nt.commands[-1].split(";")[5:8] == ["STOPLIMIT", "5051", "5050"]
    assert all(len(c.split(";")) == 13 for c in nt.commands)
    await plugin.close()


async def test_refusals(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    fractional = await plugin.execute_order(Order.market("ES", "buy", "1.5"))
    assert fractional.error_code is ErrorCode.INVALID_ORDER and nt.commands == []
    ioc = await plugin.execute_order(Order.limit("ES", "buy", 1, "4900", time_in_force="ioc"))
    assert ioc.error_code is ErrorCode.NOT_SUPPORTED and nt.commands == []
    unknown = await plugin.execute_order(Order.market("CL 01-26", "buy", 1))
    assert (unknown.status, unknown.error_code) == (OrderStatus.REJECTED, ErrorCode.REJECTED)
    wrong_account = await start(nt, account="Live999")
    assert (await wrong_account.execute_order(Order.market("ES", "buy", 1))).status is (
        OrderStatus.REJECTED
    )
    await plugin.close()
    await wrong_account.close()


async def test_bracket_exits_share_an_oco_after_the_entry_fills(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    entry = Order.limit("ES", "buy", 1, "4990", stop_loss="4950", take_profit="5050")
    assert (await plugin.execute_order(entry)).status is OrderStatus.ACCEPTED
    assert len(nt.orders) == 1  # no exits before the entry fills
    await nt.set_price("ES 12-25", "4989.75", "4990.00")
    await settle()
    _entry, sl, tp = nt.orders.values()
    assert (sl.kind, sl.stop, tp.kind, tp.limit) == ("STOPMARKET", 4950, "LIMIT", 5050)
    assert sl.oco == tp.oco != "" and sl.action == tp.action == "SELL"
    await nt.set_price("ES 12-25", "5050.00", "5050.25")
    await settle()
    assert (tp.state, sl.state) == ("Filled", "Cancelled")
    assert await plugin.positions() == []
    await plugin.close()


async def test_every_frame_split_into_single_bytes(nt: FakeNinjaTrader) -> None:
    nt.split_bytes = True
    plugin = await start(nt)
    result = await plugin.execute_order(Order.market("ES", "sell", 1))
    assert result.status is OrderStatus.FILLED
    await plugin.close()


async def test_garbage_is_survived_or_reconnected(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    await nt.send_garbage(b"2\x00K\xc3\xa9y\x00v\x00")  # non-ASCII: skipped
    await settle()
    assert plugin.ati.connects == 1 and plugin.ati.connected
    await nt.send_garbage(b"7\x00what\x00")  # unknown type: cannot resync, reconnect
    await settle()
    assert await plugin.ati.wait_connected(2)
    assert plugin.ati.connects == 2
    assert (await plugin.execute_order(Order.market("ES", "buy", 1))).status is OrderStatus.FILLED
    await plugin.close()


async def test_drop_before_place_is_unknown_and_not_placed_twice(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    registry = PluginRegistry(discover=False)
    registry.register("ninja", plugin)
    executor = Executor(registry, default="ninja", reconcile_delay_s=0.1, reconcile_attempts=3)
    nt.drop_on_next_place("before")
    order = Order.market("ES", "buy", 1)
    result = await executor.execute(order)
    assert result.status is OrderStatus.UNKNOWN  # it never arrived; nobody can prove that
    assert await executor.execute(order) == result
    assert len(nt.orders) == 0 and len(nt.commands) == 1
    await plugin.close()


async def test_drop_after_place_is_reconciled_after_reconnect(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    registry = PluginRegistry(discover=False)
    registry.register("ninja", plugin)
    executor = Executor(registry, default="ninja", reconcile_delay_s=0.2, reconcile_attempts=5)
    nt.drop_on_next_place("after")
    order = Order.market("ES", "buy", 1)
    result = await executor.execute(order)
    assert result.status is OrderStatus.FILLED  # read back from the values pushed on reconnect
    assert result.order_id == order_id_for(order.client_order_id)
    assert len(nt.orders) == 1
    await plugin.close()


async def test_not_connected_sends_nothing(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt, reconnect_max_s=0.05)
    await nt.stop()
    await settle()
    with pytest.raises(BrokerUnavailable, match="not connected"):
        await plugin.execute_order(Order.market("ES", "buy", 1))
    assert not (await plugin.health_check()).healthy
    await plugin.close()


async def test_ati_never_ready_explains_what_to_enable(nt: FakeNinjaTrader) -> None:
    nt.ati_ready = False
    with pytest.raises(PluginInitError, match="AT Interface"):
        await start(nt, connect_timeout_s=0.2)
    plugin = NinjaPlugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="36973"):
        await plugin.init({"port": 1, "connect_timeout_s": 0.2})


async def test_confirm_orders_off_by_default(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    assert nt._clients[0].confirm_orders == "0"
    await plugin.close()


async def test_cancel_get_order_positions_close_and_data(nt: FakeNinjaTrader) -> None:
    plugin = await start(nt)
    resting = Order.limit("ES", "buy", 1, "4000")
    placed = await plugin.execute_order(resting)
    found = await plugin.get_order(resting.client_order_id)
    assert found is not None and found.status is OrderStatus.ACCEPTED
    canceled = await plugin.cancel_order(placed.order_id or "")
    assert canceled.status is OrderStatus.CANCELED
    assert nt.commands[-1].split(";")[0] == "CANCEL"
    again = await plugin.cancel_order(placed.order_id or "")
    assert again.status is OrderStatus.REJECTED
    await plugin.execute_order(Order.market("ES", "sell", 3))
    (position,) = await plugin.positions()
    assert (position.symbol, position.quantity, position.average_price) == (
        "ES",
        Decimal(-3),
        Decimal("5000.00"),
    )
    await plugin.close_position("ES")
    await settle()
    assert await plugin.positions() == []
    quote = await plugin.fetch_data("ES")
    assert (quote.bid, quote.ask) == (Decimal("5000.00"), Decimal("5000.25"))
    await nt.set_price("ES 12-25", "5001.00", "5001.25")
    await settle()
    assert (await plugin.fetch_data("ES")).bid == Decimal("5001.00")
    await plugin.close()
    await settle()
    assert nt.clients == 0


def test_check_against_the_fake() -> None:
    async def run() -> tuple[int, str]:
        async with FakeNinjaTrader() as server:
            out = io.StringIO()
            loop = asyncio.get_running_loop()
            code = await loop.run_in_executor(
                None, check_main, ["--port", str(server.port), "--instrument", "ES 12-25"], out
            )
            return code, out.getvalue()

    code, text = asyncio.run(run())
    assert code == 0, text
    assert "PLACE buy 1 ES 12-25 LIMIT 2500.00" in text and "CANCEL: canceled" in text
    assert "<< Message(type='2', fields=('ATI', 'True'))" in text and text.endswith("PASS\n")
