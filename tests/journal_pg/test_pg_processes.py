"""One client id across OS processes sharing a PostgreSQL journal: two racing
executors send it once, and a process SIGKILLed while holding the lease leaves an
order that is adopted, reconciled and never sent again."""

from __future__ import annotations

import asyncio
import json
import logging
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from subprocess import Popen

import pytest
from pg_venue import SharedVenuePlugin, arrivals

from fks_exec import Executor, Order, OrderStatus, PluginRegistry
from fks_exec.journal import JournalState
from fks_exec.journal.postgres import PostgresJournal

STRATEGY = Path(__file__).with_name("pg_strategy_process.py")
TIMEOUT_S = 60


def _spawn(url: str, cid: str, hold_s: float, lease_s: float, wait_s: float) -> Popen[str]:
    argv = [sys.executable, str(STRATEGY), url, cid, str(hold_s), str(lease_s), str(wait_s)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT_S)
    assert ready, "the strategy process did not start in time"
    assert json.loads(proc.stdout.readline()) == {"ready": True}  # started, journal open
    return proc


def _go(*procs: Popen[str]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


def _answer(proc: Popen[str]) -> dict[str, str]:
    out, _ = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _wait_for_arrival(url: str, deadline_s: float = 20) -> None:
    deadline = time.monotonic() + deadline_s
    while not arrivals(url):
        assert time.monotonic() < deadline, "the order never reached the venue"
        time.sleep(0.02)


@pytest.mark.parametrize("hold_s", [0.0, 1.5])
def test_two_processes_racing_on_one_id_send_it_once(
    pg_url: str, tmp_path: Path, hold_s: float
) -> None:
    # hold_s 1.5 > lease_s 0.5: the holder's renewals keep the other one waiting.
    racers = [_spawn(pg_url, "race-1", hold_s, 0.5, 20) for _ in range(2)]
    _go(*racers)
    answers = [_answer(p) for p in racers]
    sent = arrivals(pg_url)
    assert [cid for cid, _ in sent] == ["race-1"]
    assert [a["status"] for a in answers] == ["accepted", "accepted"]
    assert {a["order_id"] for a in answers} == {"V-race-1"}


async def _executor(url: str, lease_s: float, wait_s: float) -> Executor:
    registry = PluginRegistry(discover=False)
    registry.register("venue", SharedVenuePlugin(url))
    journal = PostgresJournal(url, lease_s=lease_s, claim_wait_s=wait_s)
    return Executor(registry, default="venue", journal=journal, reconcile_delay_s=0)


async def test_a_sigkilled_holder_is_adopted_and_reconciled_not_resent(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = _spawn(pg_url, "kill-1", 3600, 1.0, 1)
    _go(holder)
    _wait_for_arrival(pg_url)  # sent, and in flight at the broker
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=TIMEOUT_S)
    for stream in (holder.stdin, holder.stdout):
        assert stream is not None
        stream.close()

    # At once the lease is still live: start-up reconciliation leaves the entry to its
    # holder; the same id then waits until the lease expires (no renewals from the
    # dead), is adopted, and is reconciled at the venue: found, never sent again.
    ex = await _executor(pg_url, lease_s=1.0, wait_s=20.0)
    with caplog.at_level(logging.INFO, logger="fks_exec.executor"):
        await ex.start()
    try:
        again = await ex.execute(Order.market("X", "buy", 1, client_order_id="kill-1"))
        entry, owner = await ex.journal.get("kill-1"), ex.journal.owner
        kinds = [e.kind for e in await ex.journal.events("kill-1")]
    finally:
        await ex.close()
    assert any("venue: held_elsewhere 1" in r.getMessage() for r in caplog.records)
    assert again.status is OrderStatus.ACCEPTED and again.order_id == "V-kill-1"
    assert entry is not None and entry.state is JournalState.SENT
    assert entry.owner == owner  # adopted by this process (a closed journal owns anew)
    assert kinds == ["intent", "reconciled"]
    assert arrivals(pg_url) == [("kill-1", holder.pid)]


async def test_a_dead_holder_never_found_at_the_venue_becomes_unknown(
    pg_url: str, tmp_path: Path
) -> None:
    # Killed between the committed intent and the send (the venue never saw it).
    journal = PostgresJournal(pg_url, lease_s=0.3)
    await journal.open()
    await journal.claim(Order.market("X", "buy", 1, client_order_id="lost-1"), "venue", {})
    with_dead_owner = "elsewhere:1:dead"
    await journal.close()
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:  # as a crashed host leaves it
        conn.execute("UPDATE orders SET owner = %s", (with_dead_owner,))
    await asyncio.sleep(0.4)  # its lease expires
    ex = await _executor(pg_url, lease_s=5.0, wait_s=5.0)
    async with ex:  # start(): adopted and reconciled before any order is sent
        entry = await ex.journal.get("lost-1")
        again = await ex.execute(Order.market("X", "buy", 1, client_order_id="lost-1"))
    assert entry is not None and entry.state is JournalState.UNKNOWN
    assert again.status is OrderStatus.UNKNOWN and "not sent again" in (again.error or "")
    assert arrivals(pg_url) == []
