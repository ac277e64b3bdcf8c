"""mt5 plugin: an order through the plugin vs a direct order_send on the same fake.

The fake is the reference fake (written from MetaQuotes' documentation) on a netting
account. The direct side reads the tick and sends a prepared request from the
plugin's own worker thread, so the difference is the plugin: the hop to the worker
thread, the symbol rules, the positions read (netting SL/TP carry, hedging exits),
pre-checks, request building and the result.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from decimal import Decimal
from typing import Any

ORDERS = 2_000
ROUNDS = 3


async def _run() -> tuple[list[float], list[float], list[float]]:
    from fks_exec import Order
    from fks_exec_mt5 import Mt5Plugin
    from fks_exec_mt5 import constants as c
    from fks_exec_mt5.testing.reference import FakeMetaTrader5

    terminal = FakeMetaTrader5.netting(account_options={"balance": Decimal(10**12)})
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    await plugin.init()
    worker = plugin.worker
    orders = [Order.market("EURUSD", "buy" if i % 2 else "sell", "0.01") for i in range(ORDERS)]
    # The 2,000 prepared orders and the fake's state are scaffolding: keep the cyclic
    # collector from scanning them again and again (both sides pay its young passes).
    gc.collect()
    gc.freeze()

    def direct(i: int) -> float:
        request = {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": "EURUSD",
            "volume": 0.01,
            "type": c.ORDER_TYPE_BUY if i % 2 else c.ORDER_TYPE_SELL,
            "price": terminal.symbol_info_tick("EURUSD").ask
            if i % 2
            else terminal.symbol_info_tick("EURUSD").bid,
            "deviation": 10,
            "magic": plugin.magic,
            "comment": f"d{i}",
            "type_filling": c.ORDER_FILLING_FOK,
            "type_time": c.ORDER_TIME_GTC,
        }
        began = time.perf_counter()
        result = terminal.order_send(request)
        spent = time.perf_counter() - began
        assert result.retcode == c.TRADE_RETCODE_DONE, result
        return spent

    direct_us, routed_us, hop_us = [], [], []
    for i, order in enumerate(orders):
        began = time.perf_counter()
        await worker.run(_nothing)
        hop_us.append((time.perf_counter() - began) * 1e6)
        direct_us.append(await worker.run(direct, i) * 1e6)
        began = time.perf_counter()
        result = await plugin.execute_order(order)
        routed_us.append((time.perf_counter() - began) * 1e6)
        if result.status.value != "filled":  # a fast failure is not a fast order
            raise RuntimeError(f"benchmark order failed: {result}")
    await plugin.close()
    gc.unfreeze()
    return direct_us, routed_us, hop_us


def _nothing() -> None:
    return None


def run() -> list[dict[str, Any]]:
    try:
        import fks_exec_mt5  # noqa: F401
    except ImportError:
        return []
    added, direct, hops = [], [], []
    for _ in range(ROUNDS):
        d, r, h = asyncio.run(_run())
        added.append(statistics.median(r) - statistics.median(d))
        direct.append(statistics.median(d))
        hops.append(statistics.median(h))
    hop = statistics.median(hops)
    return [
        {
            "name": "mt5: added per order vs direct order_send",
            "value": statistics.median(added),
            "unit": "us",
            "goal": "<= 100",
            "baseline": f"order_send on the fake, median {statistics.median(direct):.0f} us",
        },
        {
            "name": "mt5: of which the hop to the worker thread",
            "value": hop,
            "unit": "us",
            "goal": "info",
            "baseline": "an empty call through the same single worker thread",
        },
    ]
