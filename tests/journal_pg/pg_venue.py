"""A broker shared by processes: every order that arrives is a row in ``venue_orders``
(in the test's schema), so a test counts arrivals across OS processes. The plugin can
hold an order "in flight" after it arrived, to leave a window for races and kills."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

import psycopg

from fks_exec import (
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
)

TABLE = "CREATE TABLE IF NOT EXISTS venue_orders (cid TEXT NOT NULL, pid INTEGER NOT NULL)"


def arrivals(url: str) -> list[tuple[str, int]]:
    """Every (client id, sender pid) that reached the venue, in arrival order."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TABLE)
        return [(r[0], int(r[1])) for r in conn.execute("SELECT cid, pid FROM venue_orders")]


class SharedVenuePlugin(ExecutionPlugin):
    """Sends by inserting a row (committed before the hold), finds by reading them."""

    name: ClassVar[str] = "venue"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GET_ORDER})

    def __init__(self, url: str, hold_s: float = 0.0) -> None:
        super().__init__()
        self.url, self.hold_s, self.use_env = url, hold_s, False

    async def _connect(self, config: Any) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(TABLE)

    async def _execute_order(self, order: Order) -> ExecutionResult:
        import os

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(
                "INSERT INTO venue_orders (cid, pid) VALUES (%s, %s)",
                (order.client_order_id, os.getpid()),
            )
        await asyncio.sleep(self.hold_s)
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.ACCEPTED,
            order_id=f"V-{order.client_order_id}",
        )

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        found = [cid for cid, _ in arrivals(self.url) if cid == client_order_id]
        if not found:
            return None
        return ExecutionResult.for_order(
            Order.market("X", "buy", 1, client_order_id=client_order_id),
            plugin=self.name,
            status=OrderStatus.ACCEPTED,
            order_id=f"V-{client_order_id}",
        )

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=2)

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)
