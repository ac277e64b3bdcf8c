"""``make soak`` part: the journal crash run at scale.

A strategy process is SIGKILLed 30 times at random moments while sending 300 orders
to a broker in another process, restarted each time, and finishes; every id must
reach the broker once and the journal must agree with the broker on every id.
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run(ids: int = 300, kills: int = 30, seed: int = 15) -> dict[str, Any]:
    """Run the crash test and return its figures (``failed`` says whether it held)."""
    path = ROOT / "tests" / "journal_crash" / "harness.py"
    spec = importlib.util.spec_from_file_location("fks_journal_crash_harness", path)
    assert spec is not None and spec.loader is not None
    harness = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = harness  # dataclasses look their module up by name
    spec.loader.exec_module(harness)
    with tempfile.TemporaryDirectory() as folder:
        report = harness.crash_run(
            Path(folder), ids=ids, kills=kills, seed=seed, timeout_s=900, delay_ms=10
        )
    return {
        "ids": report.ids,
        "kills": report.kills,
        "kills_with_an_order_in_flight": report.killed_in_flight,
        "reached_the_broker_twice": len(report.doubled),
        "disagreements": len(report.disagreements),
        "failed": bool(report.doubled or report.disagreements),
    }


if __name__ == "__main__":
    figures = run()
    print(figures)
    sys.exit(1 if figures["failed"] else 0)
