"""A strategy process SIGKILLed at random moments and restarted re-submits the same
client ids: the broker (another process) sees each id once, and the journal agrees
with it on every id. The larger run is ``make soak``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any


def load_harness() -> Any:
    """tests/journal_crash/harness.py, loaded by path (no package named "tests")."""
    path = Path(__file__).with_name("journal_crash") / "harness.py"
    spec = importlib.util.spec_from_file_location("fks_journal_crash_harness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_sigkilled_strategies_never_double_an_order(tmp_path: Path) -> None:
    report = load_harness().crash_run(tmp_path, ids=40, kills=4, seed=15, timeout_s=90)
    assert report.doubled == []
    assert report.disagreements == []
    assert set(report.states.values()) == {"final"}
