"""Two instances of the ccxt plugin in one executor, routed by symbol (issue 13)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Executor, Order, OrderStatus, PluginRegistry

pytest.importorskip("fks_exec_ccxt")

from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.okx import FakeOkx


def _venue(btc: str) -> FakeOkx:
    venue = FakeOkx(balances={"USDT": "100000", "BTC": btc})
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP"):
        venue.set_price(inst_id, "60000", "60000.1", "60000")
    return venue


async def test_two_ccxt_instances_routed_by_symbol_keep_their_own_venues() -> None:
    spot_venue, swap_venue = _venue("1"), _venue("0")
    registry = PluginRegistry(discover=False)
    for name, venue in (("ccxt:spot", spot_venue), ("ccxt:swaps", swap_venue)):
        plugin = CcxtPlugin(exchange=venue.exchange())
        plugin.use_env = False
        registry.register(name, plugin)
    executor = Executor(
        registry,
        routes={"BTC/USDT": "ccxt:spot", "*:USDT": "ccxt:swaps"},
        journal="memory",
        reconcile_delay_s=0,
    )
    async with executor as ex:
        spot = await ex.execute(Order.market("BTC/USDT", "sell", "0.01"))
        swap = await ex.execute(Order.market("BTC/USDT:USDT", "buy", "1"))
        health = await ex.health()
    assert (spot.plugin, swap.plugin) == ("ccxt:spot", "ccxt:swaps")
    assert spot.status is OrderStatus.FILLED and swap.status is OrderStatus.FILLED
    assert sum(spot_venue.order_arrivals().values()) == 1
    assert sum(swap_venue.order_arrivals().values()) == 1
    assert swap_venue.position("BTC-USDT-SWAP") == Decimal(1)
    assert spot_venue.position("BTC-USDT-SWAP") == Decimal(0)
    assert set(health) == {"ccxt:spot", "ccxt:swaps"}
