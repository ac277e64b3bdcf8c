"""A strategy process SIGKILLed at random moments and restarted re-submits the same
client ids: the broker (another process) sees each id once, and the journal agrees
with it on every id. The larger run is ``make soak``."""

from __future__ import annotations

from pathlib import Path

from tests.journal_crash.harness import crash_run


def test_sigkilled_strategies_never_double_an_order(tmp_path: Path) -> None:
    report = crash_run(tmp_path, ids=40, kills=4, seed=15, timeout_s=90)
    assert report.doubled == []
    assert report.disagreements == []
    assert set(report.states.values()) == {"final"}
