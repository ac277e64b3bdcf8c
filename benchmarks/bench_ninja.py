"""ninja plugin: PLACE -> Filled round trips on loopback, and throughput in flight.

Both sides talk to the same fake NinjaTrader in the same event loop, so its work is in
both; the raw side writes the same PLACE bytes on its own asyncio socket and reads
values until its order's OrderStatus is Filled.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

ROUND_TRIPS = 400
IN_FLIGHT = 2_000


async def _raw_round_trip(reader: Any, writer: Any, decoder: Any, line: str, order_id: str) -> None:
    from fks_exec_ninja.codec import COMMAND, encode

    writer.write(encode(COMMAND, line))
    await writer.drain()
    key = f"OrderStatus|{order_id}"
    while True:
        for message in decoder.feed(await reader.read(65536)):
            if message.fields == (key, "Filled"):
                return


async def _run() -> tuple[float, float, float]:
    from fks_exec import Order
    from fks_exec_ninja import NinjaPlugin
    from fks_exec_ninja.codec import CONFIRM_ORDERS, Decoder, encode
    from fks_exec_ninja.testing import FakeNinjaTrader

    async with FakeNinjaTrader() as nt:
        reader, writer = await asyncio.open_connection("127.0.0.1", nt.port)
        writer.write(encode(CONFIRM_ORDERS, "0"))
        decoder = Decoder()
        plugin = NinjaPlugin()
        plugin.use_env = False
        await plugin.init({"port": nt.port})
        raw_times, plugin_times = [], []
        for i in range(ROUND_TRIPS):
            order_id = uuid.uuid4().hex
            line = f"PLACE;Sim101;ES 12-25;BUY;1;MARKET;;;GTC;;{order_id};;"
            began = time.perf_counter()
            await _raw_round_trip(reader, writer, decoder, line, order_id)
            raw_times.append(time.perf_counter() - began)
            order = Order.market("ES 12-25", "buy" if i % 2 else "sell", 1)
            began = time.perf_counter()
            result = await plugin.execute_order(order)
            plugin_times.append(time.perf_counter() - began)
            if result.status.value != "filled":
                raise RuntimeError(f"benchmark order failed: {result}")
        writer.close()
        orders = [Order.limit("ES 12-25", "buy", 1, "4000") for _ in range(IN_FLIGHT)]
        began = time.perf_counter()
        results = await asyncio.gather(*(plugin.execute_order(o) for o in orders))
        rate = IN_FLIGHT / (time.perf_counter() - began)
        if any(r.status.value != "accepted" for r in results):
            raise RuntimeError("benchmark orders in flight failed")
        await plugin.close()
    return statistics.median(raw_times), statistics.median(plugin_times), rate


def run() -> list[dict[str, Any]]:
    try:
        import fks_exec_ninja  # noqa: F401
    except ImportError:
        return []
    raw, routed, rate = asyncio.run(_run())
    return [
        {
            "name": "ninja: PLACE->Filled, plugin vs raw socket",
            "value": routed / raw,
            "unit": "x",
            "goal": "<= 1.5",
            "baseline": f"raw asyncio socket, same bytes, same fake: {raw * 1e6:.0f} us (median)",
        },
        {
            "name": "ninja: orders/s with 2000 in flight",
            "value": rate,
            "unit": "orders/s",
            "goal": ">= 20000",
            "baseline": "limit orders to the fake on loopback, one event loop for both",
        },
    ]
