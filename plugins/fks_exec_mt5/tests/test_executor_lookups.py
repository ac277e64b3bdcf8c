"""Through the executor, ``get_order`` of an MT5 order that closed a whole position is
its fill, after a restart too: the executor passes the order's hints from the journal
(its quantity), which the terminal's history alone lacks (a bare ``get_order`` of such
a close by a new process is ``unknown``: it may have been the first leg of a split
order)."""

from __future__ import annotations

from pathlib import Path

from fks_exec import Executor, Order
from fks_exec.testing import isolated_registry
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing.reference import FakeMetaTrader5


async def test_a_close_looked_up_through_the_executor_after_a_restart_is_its_fill(
    tmp_path: Path,
) -> None:
    terminal, journal = FakeMetaTrader5.netting(), str(tmp_path / "journal.sqlite3")
    first = Mt5Plugin(mt5=terminal)
    async with Executor(isolated_registry(mt5=first), default="mt5", journal=journal) as ex:
        await ex.execute(Order.market("EURUSD", "buy", "0.01", client_order_id="open-1"))
        close = Order.market("EURUSD", "sell", "0.01", client_order_id="close-1")
        assert (await ex.execute(close)).status == "filled"
    again = Mt5Plugin(mt5=terminal)  # a new process: it remembers nothing
    async with Executor(isolated_registry(mt5=again), default="mt5", journal=journal) as ex:
        bare = await again.get_order("close-1")
        assert bare is not None and bare.status == "unknown"  # the premise
        found = await ex.get_order("close-1")
        assert found is not None
        assert (found.status.value, str(found.filled_quantity)) == ("filled", "0.01")
