"""A restarted strategy on MT5 and on an exchange re-submits its last orders: with the
journal, the terminal and the venue see each client id once (issue 15's 20-of-20
doubles). Each "restart" is a new executor and a new plugin on the same fake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fks_exec import Executor, Order, PluginRegistry

ORDERS = 20


async def _twice(make_plugin: Any, name: str, journal: Path, symbol: str, qty: str) -> list[Any]:
    results = []
    for _ in range(2):  # the first run, then the restarted one re-submitting every id
        registry = PluginRegistry(discover=False)
        plugin = make_plugin()
        plugin.use_env = False
        registry.register(name, plugin)
        async with Executor(registry, default=name, journal=str(journal)) as executor:
            results.append(
                [
                    await executor.execute(
                        Order.market(symbol, "buy", qty, client_order_id=f"re-{i}")
                    )
                    for i in range(ORDERS)
                ]
            )
    return results


async def test_mt5_restart_places_no_second_deal(tmp_path: Path) -> None:
    mt5 = pytest.importorskip("fks_exec_mt5")
    from fks_exec_mt5.testing import FakeMetaTrader5

    terminal = FakeMetaTrader5.hedging()
    first, second = await _twice(
        lambda: mt5.Mt5Plugin(mt5=terminal), "mt5", tmp_path / "j.sqlite3", "EURUSD", "0.1"
    )
    assert [r.order_id for r in second] == [r.order_id for r in first]
    assert all(r.status.value == "filled" for r in first)
    arrivals = terminal.order_arrivals()
    assert len(arrivals) == ORDERS and set(arrivals.values()) == {1}


async def test_exchange_allowing_reuse_of_a_finished_id_gets_each_id_once(
    tmp_path: Path,
) -> None:
    ccxt_plugin = pytest.importorskip("fks_exec_ccxt")
    from fks_exec_ccxt.testing.okx import FakeOkx

    # OKX documents that a clOrdId must be unique among pending orders only, so a
    # finished order's id is accepted again: only the journal stops the second send.
    venue = FakeOkx(balances={"USDT": "100000", "BTC": "1"})
    venue.set_price("BTC-USDT", "65000.0", "65000.1")
    options = {"fetchMarkets": {"types": ["spot"]}}
    first, second = await _twice(
        lambda: ccxt_plugin.CcxtPlugin(exchange=venue.exchange(options=options)),
        "ccxt",
        tmp_path / "j.sqlite3",
        "BTC/USDT",
        "0.001",
    )
    assert [r.order_id for r in second] == [r.order_id for r in first]
    assert all(r.status.value == "filled" for r in first)
    arrivals = venue.order_arrivals()
    assert len(arrivals) == ORDERS and set(arrivals.values()) == {1}
