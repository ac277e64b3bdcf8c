"""Group commit never loses an intent it answered for: a process claiming ids in
concurrent bursts (and recording results lazily) is SIGKILLed after a random number of
answered claims; every id whose claim had returned is in the file, with its intent.
Claims are committed before the lazy results queued with them: a kill between the two
commits loses only results, whose entries stay open (reconciled, never sent again)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

CLAIMER = textwrap.dedent(
    """
    import asyncio, random, sys
    from fks_exec import ExecutionResult, Order
    from fks_exec.journal import JournalUpdate, SqliteJournal

    async def claim(journal, cid):
        order = Order.market("X", "buy", 1, client_order_id=cid)
        if (await journal.claim(order, "p", {})).claimed:
            sys.stdout.write(cid + "\\n")
            sys.stdout.flush()  # told: the intent is recorded
            result = ExecutionResult.for_order(order, plugin="p", status="accepted")
            journal.record_soon(JournalUpdate.from_result(result))

    async def main():
        journal = SqliteJournal(sys.argv[1], synchronous=sys.argv[2])
        await journal.open()
        rng, n = random.Random(int(sys.argv[3])), 0
        while True:  # until killed
            burst = rng.randint(1, 40)
            await asyncio.gather(*(claim(journal, f"d-{n + i}") for i in range(burst)))
            n += burst

    asyncio.run(main())
    """
)


def _run_and_kill(path: Path, synchronous: str, seed: int, answered: int) -> set[str]:
    """The ids the claimer said were recorded before it was SIGKILLed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CLAIMER, str(path), synchronous, str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    told = set()
    try:
        for _ in range(answered):
            line = proc.stdout.readline()
            assert line, "the claimer ended before it was killed"
            told.add(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        rest, _ = proc.communicate(timeout=30)
    return told | set(rest.split())


@given(
    synchronous=st.sampled_from(["full", "normal"]),
    seed=st.integers(0, 2**16),
    answered=st.integers(1, 100),
)
@settings(max_examples=4, deadline=None)
def test_no_answered_intent_is_lost_to_a_sigkill(
    synchronous: str, seed: int, answered: int
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "j.sqlite3"
        told = _run_and_kill(path, synchronous, seed, answered)
        assert len(told) >= answered
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            stored = {c for (c,) in conn.execute("SELECT client_order_id FROM orders")}
            intents = {
                c
                for (c,) in conn.execute(
                    "SELECT o.client_order_id FROM events AS e JOIN orders AS o "
                    "ON o.ref = e.order_ref WHERE e.kind = 'intent'"
                )
            }
            states = {s for (s,) in conn.execute("SELECT DISTINCT state FROM orders")}
        finally:
            conn.close()
        assert told <= stored, sorted(told - stored)[:5]
        assert told <= intents
        assert states <= {"sending", "sent"}


SPLIT_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from fks_exec.journal import worker

    kill_at, splits = int(sys.argv[4]), [0]
    claims_first, commit = worker.SqliteWorker._claims_first, worker.SqliteWorker._commit
    later = []

    def splitting(self, batch):
        first, then = claims_first(self, batch)
        if then:
            splits[0] += 1
            later[:] = [then]
        return first, then

    def committing(self, conn, batch):
        if later and batch is later[0] and splits[0] >= kill_at:
            ids = sorted({t.job.client_order_id for t in batch})
            sys.stdout.write("lost " + " ".join(ids) + "\\n")
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # the claims are committed, these are not
        return commit(self, conn, batch)

    worker.SqliteWorker._claims_first = splitting
    worker.SqliteWorker._commit = committing
    """
)


@given(seed=st.integers(0, 2**16), kill_at=st.integers(1, 6))
@settings(max_examples=3, deadline=None)
def test_a_kill_between_the_claims_commit_and_the_lazy_results_loses_only_results(
    seed: int, kill_at: int
) -> None:
    import asyncio
    import tempfile

    from fks_exec import Order
    from fks_exec.journal import SqliteJournal

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "j.sqlite3"
        script = SPLIT_KILLER + CLAIMER
        proc = subprocess.run(
            [sys.executable, "-c", script, str(path), "full", str(seed), str(kill_at)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        lines = proc.stdout.split("\n")
        lost = next(line.split()[1:] for line in lines if line.startswith("lost "))
        told = {line for line in lines if line.startswith("d-")}
        conn = sqlite3.connect(path)
        try:
            states = dict(conn.execute("SELECT client_order_id, state FROM orders"))
            intents = {
                c
                for (c,) in conn.execute(
                    "SELECT o.client_order_id FROM events AS e JOIN orders AS o "
                    "ON o.ref = e.order_ref WHERE e.kind = 'intent'"
                )
            }
        finally:
            conn.close()
        assert told <= intents  # every answered claim is durable ...
        assert lost and {states[c] for c in lost} == {"sending"}  # ... its result is not

        async def claim_again(cid: str) -> bool:
            journal = SqliteJournal(path)
            await journal.open()
            try:
                order = Order.market("X", "buy", 1, client_order_id=cid)
                return (await journal.claim(order, "p", {})).claimed
            finally:
                await journal.close()

        assert not asyncio.run(claim_again(lost[0]))  # open: reconciled, never sent again
