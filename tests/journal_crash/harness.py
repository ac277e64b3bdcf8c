"""Kill a strategy at random moments, restart it, and count at the broker.

:func:`crash_run` is shared by the small crash test in ``make test`` and the large one
in ``make soak``; both load this file by path (see :func:`load_harness` there).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fks_exec.journal import JournalState, SqliteJournal

PROCESSES = Path(__file__).with_name("processes.py")


def _load_processes() -> Any:
    # Loaded by path: a package named "tests" would shadow the plugins' test packages.
    spec = importlib.util.spec_from_file_location("fks_journal_crash_processes", PROCESSES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class CrashReport:
    """What a crash run found."""

    kills: int
    ids: int
    arrivals: dict[str, int]
    states: dict[str, str]
    disagreements: list[str] = field(default_factory=list)
    killed_in_flight: int = 0
    """Kills that left an intent without a recorded answer (an entry in ``sending``)."""

    @property
    def doubled(self) -> list[str]:
        return sorted(cid for cid, n in self.arrivals.items() if n > 1)


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(PROCESSES), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


async def _journal_states(path: Path) -> dict[str, tuple[str, str | None]]:
    journal = SqliteJournal(path)
    await journal.open()
    try:
        return {
            e.client_order_id: (e.state.value, e.result.order_id if e.result else None)
            for e in await journal.entries()
        }
    finally:
        await journal.close()


def crash_run(
    folder: Path, *, ids: int, kills: int, seed: int, timeout_s: float, delay_ms: float = 15
) -> CrashReport:
    """Start a broker, then ``kills`` strategy processes each SIGKILLed after a random
    pause, then one that finishes; return what the broker and the journal say."""
    rng = random.Random(seed)
    port_file, journal = folder / "port", folder / "journal.sqlite3"
    broker = _spawn("broker", "--port-file", str(port_file), "--delay-ms", str(delay_ms))
    deadline = time.monotonic() + timeout_s
    try:
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or broker.poll() is not None:
                raise RuntimeError("the broker process did not start")
            time.sleep(0.02)
        port = port_file.read_text()
        common = ["--port", port, "--journal", str(journal), "--count", str(ids)]
        in_flight = done = 0
        for _ in range(kills):
            strategy = _spawn("strategy", *common)
            assert strategy.stdout is not None
            strategy.stdout.readline()  # "ready": reconciled, about to send
            # Mid-run: ids already journaled are answered from the journal at once,
            # so aim at the time the ones still to send will take.
            time.sleep(rng.uniform(0, max(0.05, (ids - done) * delay_ms / 1000)))
            strategy.send_signal(signal.SIGKILL)
            strategy.wait(timeout=10)
            if journal.exists():
                states = asyncio.run(_journal_states(journal))
                in_flight += any(s == "sending" for s, _ in states.values())
                done = len(states)
        final = _spawn("strategy", *common, "--report")
        out, err = final.communicate(timeout=max(1.0, deadline - time.monotonic()))
        if final.returncode != 0:
            raise RuntimeError(f"the last strategy run failed: {err[-2000:]}")
        reported = json.loads(out.splitlines()[-1])
        at_broker = asyncio.run(_load_processes().arrivals(int(port)))
    finally:
        broker.kill()
        broker.wait(timeout=10)
    recorded = asyncio.run(_journal_states(journal))
    report = CrashReport(
        kills=kills,
        ids=ids,
        arrivals=at_broker,
        states={cid: state for cid, (state, _) in recorded.items()},
        killed_in_flight=in_flight,
    )
    for i in range(ids):
        cid = f"crash-{i}"
        state, order_id = recorded.get(cid, ("missing", None))
        if at_broker.get(cid, 0) != 1:
            report.disagreements.append(f"{cid}: reached the broker {at_broker.get(cid, 0)} times")
        if state != JournalState.FINAL.value:
            report.disagreements.append(f"{cid}: journal says {state}, the broker filled it")
        if reported.get(cid, [None, None])[1] != order_id:
            report.disagreements.append(
                f"{cid}: caller got {reported.get(cid)}, journal {order_id}"
            )
    return report
