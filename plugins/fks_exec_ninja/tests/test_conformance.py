"""The core conformance suite against the reference ATI server, faults included."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderSide
from fks_exec.testing import ConformanceTarget, PluginConformance
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.testing.reference import ReferenceAtiServer

from .ninja_helpers import ES


class TestNinjaConformance(PluginConformance):
    async def make_target(self) -> ConformanceTarget:
        server = ReferenceAtiServer()
        await server.start()
        plugin = NinjaPlugin()
        plugin.use_env = False
        await plugin.init(
            {
                "port": server.port,
                "order_timeout_s": 1,
                "reconnect_min_s": 0.02,
                "reconnect_max_s": 0.1,
            }
        )
        return ConformanceTarget(
            plugin=plugin,
            symbol=ES,
            quantity=Decimal(1),
            resting_limit_price=lambda side: Decimal(5000 if side is OrderSide.BUY else 7000),
            stop_price=lambda side: Decimal(7000 if side is OrderSide.BUY else 5000),
            rejected_order=lambda: Order.market("NOPE 12-25", "buy", 1),
            expected_rejection=ErrorCode.REJECTED,
            cleanup=server.stop,
            faults=server,
        )

    def test_refused_then_retried_is_sent_once(self) -> None:
        """NinjaTrader's socket is persistent: an order written in the instant between the
        server's drop and the plugin seeing it may have left, so it is ``unknown``, not
        "not sent" (the suite's case assumes a connection per request). The plugin's part:
        once it has seen the drop, orders raise BrokerUnavailable and reach nothing; after
        the reconnect the retry is sent once."""

        async def scenario(t: ConformanceTarget) -> None:
            server, plugin = t.faults, t.plugin
            assert isinstance(server, ReferenceAtiServer) and isinstance(plugin, NinjaPlugin)
            order = Order.market(t.symbol, "buy", t.quantity)
            server.disconnect()
            await server.wait_until(lambda: not plugin.ati.connected)
            with pytest.raises(BrokerUnavailable):
                await plugin.execute_order(order)
            assert server.order_arrivals() == {}
            server.reconnect()
            assert await plugin.ati.wait_connected(3)
            await asyncio.sleep(0.05)  # the account's order list after ATI
            retried = await plugin.execute_order(order)
            assert retried.success, retried.error
            assert list(server.order_arrivals().values()) == [1]

        self._run(scenario)
