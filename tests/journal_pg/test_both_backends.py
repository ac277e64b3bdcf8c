"""The executor's journal guarantees, run on SQLite and on PostgreSQL alike: no id sent
twice across restarts, a refused id sent on retry, a crash reconciled and not resent,
and two executors (two journal handles) racing on one id sending it once."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.journal import Journal, JournalState, journal_from_spec


def _load_executor_tests() -> Any:
    """tests/test_journal_executor.py by path, for its Venue and plugin."""
    path = Path(__file__).parents[1] / "test_journal_executor.py"
    spec = importlib.util.spec_from_file_location("fks_journal_executor_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


helpers = _load_executor_tests()
Venue, VenuePlugin, executor_on = helpers.Venue, helpers.VenuePlugin, helpers.executor_on


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "journal.sqlite3")
    else:
        yield request.getfixturevalue("pg_url")


def order(cid: str, quantity: int = 1) -> Order:
    return Order.market("X", "buy", quantity, client_order_id=cid)


async def test_a_restarted_executor_sends_no_id_twice(spec: str) -> None:
    venue = Venue()
    async with executor_on(venue, spec) as first:
        results = [await first.execute(order(f"r-{i}")) for i in range(5)]
    async with executor_on(venue, spec) as second:
        again = await asyncio.gather(*(second.execute(order(f"r-{i}")) for i in range(5)))
    assert [r.order_id for r in again] == [r.order_id for r in results]
    assert venue.arrivals == Counter({f"r-{i}": 1 for i in range(5)})


async def test_an_id_refused_before_sending_is_sent_on_retry_after_restart(spec: str) -> None:
    venue = Venue()
    venue.refuse.add("n-1")
    async with executor_on(venue, spec) as first:
        with pytest.raises(BrokerUnavailable):
            await first.execute(order("n-1"))
    async with executor_on(venue, spec) as second:
        result = await second.execute(order("n-1"))
        entry = await second.journal.get("n-1")
    assert result.status is OrderStatus.ACCEPTED and venue.arrivals["n-1"] == 1
    assert entry is not None and entry.attempt == 2 and entry.state is JournalState.SENT


async def test_a_crash_after_sending_is_reconciled_at_start_not_resent(spec: str) -> None:
    venue = Venue()
    journal: Journal = journal_from_spec(spec)
    await journal.open()
    # What a crash between "handed to the plugin" and "answer recorded" leaves behind.
    await journal.claim(order("k-1"), "venue", {"venue_id": "V-k-1"})
    await journal.claim(order("k-2"), "venue", {"venue_id": "V-k-2"})  # never arrived
    await journal.close()
    venue.book["k-1"] = helpers.ExecutionResult.for_order(
        order("k-1"), plugin="venue", status=OrderStatus.ACCEPTED, order_id="V-k-1"
    )
    venue.arrivals["k-1"] = 1
    async with executor_on(venue, spec) as ex:
        found, lost = await ex.journal.get("k-1"), await ex.journal.get("k-2")
        unknown = await ex.execute(order("k-2"))
    assert found is not None and found.state is JournalState.SENT
    assert lost is not None and lost.state is JournalState.UNKNOWN
    assert unknown.status is OrderStatus.UNKNOWN and "not sent again" in (unknown.error or "")
    assert venue.arrivals == Counter({"k-1": 1})


async def test_two_executors_racing_on_one_id_send_it_once(spec: str) -> None:
    venue = Venue()
    gate = asyncio.Event()

    class Slow(VenuePlugin):  # type: ignore[misc, valid-type]
        async def _execute_order(self, order: Order) -> Any:
            await gate.wait()
            return await super()._execute_order(order)

    def slow_executor() -> Executor:
        registry = PluginRegistry(discover=False)
        registry.register("venue", Slow(venue))
        return Executor(registry, default="venue", journal=spec, reconcile_delay_s=0)

    async with slow_executor() as first, slow_executor() as second:
        assert first.journal.owner != second.journal.owner  # two handles, as two processes
        racing = [asyncio.create_task(ex.execute(order("race-1"))) for ex in (first, second)]
        await asyncio.sleep(0.2)  # both claimed: one sends (held at the gate), one waits
        gate.set()
        results = await asyncio.gather(*racing)
    assert venue.arrivals == Counter({"race-1": 1})
    assert [r.order_id for r in results] == ["V-race-1", "V-race-1"]


async def test_a_waiter_gives_up_after_claim_wait_s_and_sends_nothing(spec: str) -> None:
    venue = Venue()
    gate = asyncio.Event()

    class Slow(VenuePlugin):  # type: ignore[misc, valid-type]
        async def _execute_order(self, order: Order) -> Any:
            await gate.wait()
            return await super()._execute_order(order)

    registry = PluginRegistry(discover=False)
    registry.register("venue", Slow(venue))
    holder = Executor(registry, default="venue", journal=spec, reconcile_delay_s=0)
    async with holder, executor_on(venue, spec) as waiter:
        waiter.journal.claim_wait_s = 0.2
        sending = asyncio.create_task(holder.execute(order("w-1")))
        for _ in range(500):  # until the holder's intent is committed (bounded)
            if await holder.journal.get("w-1") is not None:
                break
            await asyncio.sleep(0.01)
        gave_up = await waiter.execute(order("w-1"))
        still = await waiter.journal.get("w-1")
        gate.set()
        sent = await sending
        await holder.journal.flush()
    assert gave_up.status is OrderStatus.UNKNOWN and "another process" in (gave_up.error or "")
    assert still is not None and still.state is JournalState.SENDING  # nothing recorded
    assert sent.status is OrderStatus.ACCEPTED and venue.arrivals == Counter({"w-1": 1})
