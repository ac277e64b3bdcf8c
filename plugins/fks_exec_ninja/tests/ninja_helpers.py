"""Shared helpers of the ninja plugin tests: a plugin started against the reference server."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fks_exec import ExecutionResult, Order
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import ReferenceAtiServer, ServerSettings, front_month

ES = front_month("ES", dt.datetime.now(dt.timezone.utc).date())
"""The reference server's ES front month (its own roll rule)."""


async def start(nt: ReferenceAtiServer, **config: Any) -> NinjaPlugin:
    """A plugin connected to ``nt`` with short timeouts and ``ES`` mapped."""
    plugin = NinjaPlugin()
    plugin.use_env = False
    settings: dict[str, Any] = {
        "port": nt.port,
        "order_timeout_s": 2,
        "connect_timeout_s": 2,
        "symbols": {"ES": ES},
        "reconnect_min_s": 0.02,
        "reconnect_max_s": 0.2,
    }
    settings.update(config)
    await plugin.init(settings)
    return plugin


@asynccontextmanager
async def running(
    settings: ServerSettings | None = None, **config: Any
) -> AsyncIterator[tuple[ReferenceAtiServer, NinjaPlugin]]:
    """The reference server with ``settings`` and a plugin started against it."""
    async with ReferenceAtiServer(settings) as nt:
        plugin = await start(nt, **config)
        try:
            yield nt, plugin
        finally:
            await plugin.close()


async def placing(
    nt: ReferenceAtiServer, plugin: NinjaPlugin, order: Order
) -> tuple[str, asyncio.Future[ExecutionResult]]:
    """Start ``order`` and return its NinjaTrader order id and the call in flight, once
    its PLACE has reached ``nt`` (whose values the test then pushes by hand)."""
    order_id = order_id_for(order.client_order_id)
    call = asyncio.ensure_future(plugin.execute_order(order))
    await nt.wait_until(lambda: any(order_id in c.text for c in nt.commands))
    return order_id, call
