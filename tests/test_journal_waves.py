"""The SQLite journal's writer gets the claims the event loop queues in one turn as
one item (a wave), handed over at the loop's next turn, and everything else the loop
queues behind that wave keeps its place."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import fks_exec.journal.worker as worker_module
from fks_exec import Order
from fks_exec.journal import JournalState, JournalUpdate, SqliteJournal


class _CountingQueue(queue.SimpleQueue[Any]):
    """A SimpleQueue that notes what was put in it (a list: a wave of that size)."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[Any] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.puts.append(len(item) if isinstance(item, list) else type(item).__name__)
        super().put(item, block, timeout)


@pytest.fixture
async def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SqliteJournal]:
    monkeypatch.setattr(queue, "SimpleQueue", _CountingQueue)  # the writer's, made at open()
    opened = SqliteJournal(tmp_path / "j.sqlite3", synchronous="normal")
    await opened.open()
    yield opened
    await opened.close()


def _puts(journal: SqliteJournal) -> list[Any]:
    counting = journal._require()._queue
    assert isinstance(counting, _CountingQueue)
    return counting.puts


def _order(cid: str) -> Order:
    return Order.market("X", "buy", 1, client_order_id=cid)


async def test_the_claims_of_one_turn_reach_the_writer_as_one_item(journal: SqliteJournal) -> None:
    claims = [journal.claim(_order(f"w{i}"), "p", {}) for i in range(64)]
    done = await asyncio.gather(*claims)
    assert all(claim.claimed for claim in done)
    assert _puts(journal) == [64]  # one hand-over and one wake-up (was 64 _Task puts)
    assert journal.batch_sizes == {64: 1}


async def test_a_wave_is_handed_over_once_it_holds_max_batch(journal: SqliteJournal) -> None:
    extra = 40
    claims = [
        journal.claim(_order(f"m{i}"), "p", {}) for i in range(worker_module.MAX_BATCH + extra)
    ]
    done = await asyncio.gather(*claims)
    assert all(claim.claimed for claim in done)
    assert _puts(journal) == [worker_module.MAX_BATCH, extra]


async def test_what_the_loop_queues_behind_a_waiting_wave_keeps_its_place(
    journal: SqliteJournal,
) -> None:
    claiming = asyncio.ensure_future(journal.claim(_order("k1"), "p", {}))
    await asyncio.sleep(0)  # the claim joined a wave, not handed over yet
    assert _puts(journal) == []
    journal.record_soon(JournalUpdate("k1", JournalState.SENT, "result"))  # the same id
    reading = asyncio.ensure_future(journal.get("k1"))
    await asyncio.sleep(0)  # the read queued
    # the wave first, then the others (a lazy write goes as a list of one, like the
    # deferred results the loop hands over together)
    assert _puts(journal) == [1, 1, "_Task"]
    assert (await claiming).claimed
    entry = await reading
    assert entry is not None and entry.state is JournalState.SENT
    kinds = [event.kind for event in await journal.events("k1")]
    assert kinds == ["intent", "result"]


async def test_a_journal_used_from_another_threads_loop_queues_one_task_a_claim(
    journal: SqliteJournal,
) -> None:
    async def claim_two() -> list[bool]:
        done = await asyncio.gather(*(journal.claim(_order(f"t{i}"), "p", {}) for i in range(2)))
        return [claim.claimed for claim in done]

    answers: list[list[bool]] = []
    thread = threading.Thread(target=lambda: answers.append(asyncio.run(claim_two())))
    thread.start()
    await asyncio.to_thread(thread.join, 30)
    assert answers == [[True, True]]
    assert _puts(journal) == ["_Task", "_Task"]  # not the opening loop's: no wave
    assert {e.client_order_id for e in await journal.entries()} == {"t0", "t1"}


def test_a_journal_used_by_a_later_loop_of_the_same_thread_still_claims(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3", synchronous="normal")
    asyncio.run(journal.open())  # that loop ends; its thread runs the next one

    async def claim_and_close() -> bool:
        claim = await asyncio.wait_for(journal.claim(_order("later-1"), "p", {}), 30)
        await journal.close()
        return claim.claimed

    assert asyncio.run(claim_and_close())


async def test_the_claims_of_the_turn_the_journal_closes_in_are_committed(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path, synchronous="normal")
    await journal.open()
    claiming = [asyncio.ensure_future(journal.claim(_order(f"c{i}"), "p", {})) for i in range(3)]
    await asyncio.sleep(0)  # a wave waits for the loop's next turn ...
    await journal.close()  # ... and goes before the writer stops (closing in this turn)
    answered = await asyncio.wait_for(asyncio.gather(*claiming), 10)
    assert [claim.claimed for claim in answered] == [True, True, True]
    again = SqliteJournal(path, synchronous="normal")
    await again.open()
    assert {e.client_order_id for e in await again.entries()} == {"c0", "c1", "c2"}
    await again.close()
