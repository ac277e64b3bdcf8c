"""A lookup never turns a final order back into an open one (outside mt5 review,
2026-12-04: one failed deals read made a filled order read ``accepted``, filled 0, and
``Executor.get_order`` recorded that over the fill, so the journal and ``execute``'s
answer for the id said the order was still working, unfilled).

A final order cannot change. A lookup that says otherwise is returned to its caller (it
is what the broker said) but not recorded, in memory or in the journal, with or without
the order in this process's memory; a correction from one final status to another is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.journal import JournalState, SqliteJournal

BOUND_S = 10.0


def _answer(order: Order, status: OrderStatus, filled: str = "0") -> ExecutionResult:
    fields: dict[str, Any] = {"order_id": "S1", "filled_quantity": filled}
    if filled != "0":
        fields["average_price"] = "100"
    return ExecutionResult.for_order(order, plugin="alpha", status=status, **fields)


OPEN_AGAIN = [OrderStatus.ACCEPTED, OrderStatus.PENDING, OrderStatus.UNKNOWN]


@pytest.mark.parametrize("later", OPEN_AGAIN)
@pytest.mark.parametrize("restarted", [False, True])
def test_a_lookup_that_reopens_a_filled_order_is_returned_not_recorded(
    make_plugin: Any, tmp_path: Path, later: OrderStatus, restarted: bool
) -> None:
    path = tmp_path / "journal.sqlite3"
    order = Order.market("X", "buy", 3, client_order_id="done-1")

    async def play() -> None:
        plugin = make_plugin("alpha")
        registry = PluginRegistry(discover=False)
        registry.register("alpha", plugin)
        async with Executor(registry, default="alpha", journal=str(path)) as ex:
            first = await ex.execute(order)
            assert first.status is OrderStatus.FILLED
            if restarted:  # the order is in the journal only
                await ex.close()
                ex = Executor(registry, default="alpha", journal=str(path))
                await ex.start()
            try:
                plugin.known["done-1"] = _answer(order, later)  # a read that missed the fill
                looked = await ex.get_order("done-1")
                assert looked is not None and looked.status is later  # what the broker said
                again = await ex.execute(order)  # the same id: answered from the record
                assert again.status is OrderStatus.FILLED and again.filled_quantity == 3
            finally:
                await ex.close()
        journal = SqliteJournal(path)
        await journal.open()
        try:
            entry = await journal.get("done-1")
            events = await journal.events("done-1")
        finally:
            await journal.close()
        assert entry is not None and entry.state is JournalState.FINAL
        assert entry.result is not None and entry.result.status is OrderStatus.FILLED
        assert [e.kind for e in events].count("status") == 0
        assert len(plugin.sent) == 1

    asyncio.run(asyncio.wait_for(play(), BOUND_S))


@pytest.mark.parametrize("restarted", [False, True])
def test_a_correction_from_one_final_status_to_another_is_recorded(
    make_plugin: Any, tmp_path: Path, restarted: bool
) -> None:
    path = tmp_path / "journal.sqlite3"
    order = Order.limit("X", "buy", 3, 100, client_order_id="done-2")

    async def play() -> None:
        plugin = make_plugin("alpha")
        plugin.on_order = lambda o: _answer(o, OrderStatus.CANCELED)
        registry = PluginRegistry(discover=False)
        registry.register("alpha", plugin)
        ex = Executor(registry, default="alpha", journal=str(path))
        await ex.start()
        try:
            assert (await ex.execute(order)).status is OrderStatus.CANCELED
            if restarted:
                await ex.close()
                ex = Executor(registry, default="alpha", journal=str(path))
                await ex.start()
            plugin.known["done-2"] = _answer(order, OrderStatus.CANCELED, "1")  # a late fill
            looked = await ex.get_order("done-2")
            assert looked is not None and looked.filled_quantity == 1
            again = await ex.execute(order)
            assert again.status is OrderStatus.CANCELED and again.filled_quantity == 1
        finally:
            await ex.close()

    asyncio.run(asyncio.wait_for(play(), BOUND_S))
