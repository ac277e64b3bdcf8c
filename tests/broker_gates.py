"""A test helper: hold a plugin's orders at the broker until the test lets them go."""

from __future__ import annotations

import asyncio
from typing import Any

from fks_exec import ExecutionResult, Order


def gated(plugin: Any) -> asyncio.Event:
    """Make ``plugin`` hold every order at the broker until the returned event is set."""
    gate = asyncio.Event()
    send = plugin._execute_order

    async def held(order: Order) -> ExecutionResult:
        await gate.wait()
        return await send(order)

    plugin._execute_order = held
    return gate
