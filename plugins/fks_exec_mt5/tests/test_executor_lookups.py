"""Through the executor, ``get_order`` of an MT5 order that closed a whole position is
its fill: the executor passes the order's hints (its lots), which the history alone
lacks (a bare ``get_order`` of such a close is ``unknown``: it may have been the first
leg of a split order)."""

from __future__ import annotations

from fks_exec import Executor, Order
from fks_exec.testing import isolated_registry
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing.reference import FakeMetaTrader5


async def test_a_close_looked_up_through_the_executor_is_its_fill() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = Mt5Plugin(mt5=terminal)
    async with Executor(isolated_registry(mt5=plugin), default="mt5", journal="memory") as ex:
        await ex.execute(Order.market("EURUSD", "buy", "0.01", client_order_id="open-1"))
        close = Order.market("EURUSD", "sell", "0.01", client_order_id="close-1")
        assert (await ex.execute(close)).status == "filled"
        bare = await plugin.get_order("close-1")
        assert bare is not None and bare.status == "unknown"  # the premise
        found = await ex.get_order("close-1")
        assert found is not None
        assert (found.status.value, str(found.filled_quantity)) == ("filled", "0.01")
