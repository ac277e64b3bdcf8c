"""The mutation report's floors (mutation/tally.py): a score keeps the one its row records
at the row's precision, and the project minimum exactly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mutation"))

from table import ModuleSpec, Settings
from tally import ModuleResult, meets_floor, report

SETTINGS = Settings(timeout_factor=3.0, minimum_score=85.0, exclude_operators=())


def result(killed: int, survived: int, recorded: float) -> ModuleResult:
    return ModuleResult(ModuleSpec("m.py", (), recorded), killed=killed, survived=survived)


@given(st.integers(1, 2000), st.integers(0, 300))
def test_a_score_keeps_the_floor_recorded_from_its_own_table_line(
    killed: int, survived: int
) -> None:
    score = result(killed, survived, 0.0).score
    recorded = float(f"{score:.1f}")  # what the table printed, copied into the row
    assert meets_floor(score, recorded, 0.0)
    worse = result(killed, survived + 1 + survived // 10, 0.0).score
    if round(worse, 1) < recorded:
        assert not meets_floor(worse, recorded, 0.0)


def test_the_report_passes_21_of_22_against_95_5_and_fails_one_survivor_more(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert report([result(21, 1, 95.5)], SETTINGS)
    assert " ok" in capsys.readouterr().out
    assert not report([result(20, 2, 95.5)], SETTINGS)
    assert "BELOW" in capsys.readouterr().out


def test_the_project_minimum_is_not_rounded() -> None:
    assert meets_floor(85.0, 85.0, 85.0)
    assert not meets_floor(84.96, 0.0, 85.0)  # prints as 85.0, is below 85
    assert not report([result(2124, 376, 0.0)], SETTINGS)  # 84.96 %
