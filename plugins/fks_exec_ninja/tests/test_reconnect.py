"""Reconnects against hostile peers: bounded, one attempt at a time, ended by close()
and by a failed init; and what a reconnect or a restart must not leave behind."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, Order, OrderStatus, PluginInitError
from fks_exec.kit import Backoff
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.testing.reference import (
    Greeting,
    ReferenceAtiServer,
    Repush,
    ServerSettings,
)

from .ninja_helpers import ES, running, start


def tasks_of_ours() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t.get_name().startswith("fks-exec-ninja")}


@pytest.mark.parametrize("greeting", [Greeting.CLOSE_BEFORE_ATI, Greeting.WITHHELD])
async def test_a_failed_init_leaves_nothing_running(greeting: Greeting) -> None:
    async with ReferenceAtiServer(ServerSettings(greeting=greeting)) as nt:
        with pytest.raises(PluginInitError, match="AT Interface"):
            await start(nt, connect_timeout_s=0.3)
        await asyncio.sleep(0.6)
        assert nt.connections.attempts == 1
        assert nt.connections.open_now == 0
        assert tasks_of_ours() == set()


async def test_accept_then_close_after_a_good_start_backs_off() -> None:
    async with running(reconnect_min_s=0.05, reconnect_max_s=0.4) as (nt, plugin):
        nt.configure(greeting=Greeting.CLOSE_BEFORE_ATI)
        nt.disconnect()
        nt.reconnect()
        began = time.monotonic()
        await asyncio.sleep(1.5)
        # pauses of at least 0.025, 0.05, 0.1, 0.2, 0.2, ... s: at most ~9 in 1.5 s
        assert 2 <= nt.connections.attempts_since(began) <= 10
        assert nt.connections.max_open <= 1
        assert len(tasks_of_ours()) == 1  # the one supervisor
        ati = plugin.ati
        await plugin.close()
        started = ati.attempts  # close() has awaited the supervisor: no more
        await asyncio.sleep(0.5)
        assert ati.attempts == started
        # the server counts a connection when its accept runs, which can be just after
        # close() returns for a handshake the kernel finished before; never more than
        # the attempts the plugin had started by then
        assert nt.connections.attempts <= started
        assert tasks_of_ours() == set()


async def test_a_peer_that_never_says_ati_gets_one_attempt_at_a_time() -> None:
    async with running(connect_timeout_s=0.2, reconnect_min_s=0.02, reconnect_max_s=0.1) as (
        nt,
        plugin,
    ):
        nt.configure(greeting=Greeting.WITHHELD)
        nt.disconnect()
        nt.reconnect()
        await asyncio.sleep(1.5)
        attempts = nt.connections.attempts
        assert 3 <= attempts <= 12  # each attempt waits 0.2 s for ATI, then a pause
        assert nt.connections.max_open <= 1
        assert not plugin.ati.connected
        with pytest.raises(BrokerUnavailable):
            await plugin.execute_order(Order.market("ES", "buy", 1))
        assert nt.order_arrivals() == {}
        await plugin.close()
        await asyncio.sleep(0.3)
        assert nt.connections.attempts <= attempts + 1
        assert nt.connections.open_now == 0


async def test_close_ends_the_loop_while_the_peer_is_down() -> None:
    async with running(reconnect_min_s=0.02, reconnect_max_s=0.05) as (nt, plugin):
        nt.disconnect()
        await asyncio.sleep(0.3)
        await plugin.close()
        # A connect the kernel completed before close() reaches the server's accept on a
        # later turn of this loop: let those turns run, then nothing more may arrive.
        await asyncio.sleep(0.05)
        after = nt.connections.attempts
        await asyncio.sleep(0.3)
        assert nt.connections.attempts == after
        assert tasks_of_ours() == set()


def test_backoff_is_capped_and_jittered() -> None:
    backoff = Backoff(0.1, 1.0)
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.05 <= d <= 1.0 for d in delays)
    assert delays[0] <= 0.1 and max(delays) > 0.5
    assert len({round(d, 6) for d in delays[6:]}) > 1  # jittered, not in step
    backoff.reset()
    assert backoff.next_delay() <= 0.1
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(0.5, 0.1)


async def test_reconnect_clears_stale_values_and_resubscribes() -> None:
    async with running(ServerSettings(repush=Repush.NONE)) as (nt, plugin):
        resting = Order.limit("ES", "buy", 1, "5000")
        placed = await plugin.execute_order(resting)
        assert placed.status is OrderStatus.ACCEPTED
        await plugin.fetch_data("ES")
        nt.disconnect()
        nt.reconnect()
        await nt.wait_until(lambda: plugin.ati.connects == 2 and plugin.ati.ati_up)
        await nt.wait_until(lambda: "Orders|Sim101" in plugin.ati.values)
        found = await plugin.get_order(resting.client_order_id)
        assert found is not None and found.status is OrderStatus.UNKNOWN  # not a stale accepted
        assert f"OrderStatus|{placed.order_id}" not in plugin.ati.values
        await nt.wait_until(lambda: f"MarketData|{ES}|1" in plugin.ati.values)
        nt.set_last_price(ES, Decimal("6001"))
        await nt.wait_until(lambda: plugin.ati.values.get(f"MarketData|{ES}|1") == "6001")


@pytest.mark.parametrize("repush", [Repush.NONE, Repush.DELAYED, Repush.ALL])
async def test_no_second_place_after_a_restart(repush: Repush) -> None:
    """A new process (new plugin) sends the same client order id again after NinjaTrader
    restarted: the id is in Orders|<account>, so it is reconciled, never placed again."""
    async with ReferenceAtiServer(ServerSettings(repush=repush)) as nt:
        order = Order.market("ES", "buy", 1)
        first = await start(nt)
        assert (await first.execute_order(order)).status is OrderStatus.FILLED
        await first.close()
        await nt.stop()
        await nt.start()
        second = await start(nt)
        again = await second.execute_order(order)
        assert again.status in (OrderStatus.FILLED, OrderStatus.UNKNOWN)
        assert again.sent is not False
        assert max(nt.order_arrivals().values()) == 1
        await second.close()


async def test_no_order_before_the_account_order_list() -> None:
    server = ServerSettings(push_account_values_on_connect=False)
    async with running(server, order_list_wait_s=0.2) as (nt, plugin):
        health = await plugin.health_check()
        assert not health.healthy and "Orders|Sim101" in health.detail
        with pytest.raises(BrokerUnavailable, match="order list"):
            await plugin.execute_order(Order.market("ES", "buy", 1))
        assert nt.order_arrivals() == {}
    async with running(server, require_order_list=False) as (nt, plugin):
        result = await plugin.execute_order(Order.market("ES", "buy", 1))
        assert result.status is OrderStatus.FILLED


async def test_init_refused_port_says_what_to_check() -> None:
    plugin = NinjaPlugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="36973"):
        await plugin.init({"port": 1, "connect_timeout_s": 0.2})
    assert tasks_of_ours() == set()
