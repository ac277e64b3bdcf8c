"""Counting a module's session: killed, survived (new or recorded equivalent), left out,
and the report with each module's score against its floor."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
from cosmic_ray.work_item import (  # type: ignore[import-untyped]
    TestOutcome,
    WorkerOutcome,
    WorkResult,
)
from source_index import SourceIndex, mutant_line
from table import (
    Equivalent,
    ModuleSpec,
    Settings,
    load_equivalents,
    matching_equivalent,
    survivor_entry,
)


@dataclass
class ModuleResult:
    """Counts and the new survivors of one module's run."""

    spec: ModuleSpec
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    left_out: int = 0
    pending: int = 0
    survivors: list[str] = field(default_factory=list)
    error: str | None = None
    not_covered: int = 0
    timeouts: int = 0
    cpu_seconds: float | None = None

    @property
    def score(self) -> float:
        """Killed over killed + survived, in percent (equivalents are not counted)."""
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else 100.0


def recorded_cpu(sandbox: Path) -> float | None:
    """The CPU seconds of the module's last run, if it recorded them."""
    path = sandbox / "cpu.json"
    if not path.exists():
        return None
    return float(json.loads(path.read_text(encoding="utf-8"))["cpu_seconds"])


def collect(result: ModuleResult, sandbox: Path) -> ModuleResult:
    """Tally the session in `sandbox` (finished or not: pending mutants run in random
    order, so a partial session is a fair sample)."""
    session = sandbox / "session.sqlite"
    if not session.exists():
        result.error = f"no session in {sandbox}: run the module first"
        return result
    index = SourceIndex.of((sandbox / result.spec.path).read_text(encoding="utf-8"))
    equivalents = load_equivalents()
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            tally(result, item.mutations[0], outcome, index, equivalents)
        result.pending = db.num_work_items - db.num_results
    result.cpu_seconds = recorded_cpu(sandbox)
    return result


def tally(
    result: ModuleResult,
    mutation: object,
    outcome: WorkResult,
    index: SourceIndex,
    equivalents: list[Equivalent],
) -> None:
    """Count one finished mutant as killed, survived (new or recorded) or left out."""
    if outcome.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
        if (outcome.output or "").startswith("equivalent: "):
            result.equivalent += 1
        return
    if outcome.test_outcome != TestOutcome.SURVIVED:
        result.killed += 1
        result.timeouts += (outcome.output or "").startswith("timeout")
        return
    line = getattr(mutation, "start_pos")[0]  # noqa: B009 - cosmic-ray's MutationSpec is untyped
    operator = str(getattr(mutation, "operator_name"))  # noqa: B009
    function, source = index.function(line), index.line(line)
    mutated = mutant_line(outcome.diff or "")
    matches = matching_equivalent(equivalents, result.spec.path, function, operator, source)
    if any(m.mutant in (None, mutated) for m in matches):
        result.equivalent += 1
        return
    result.survived += 1
    entry = survivor_entry(result.spec.path, function, operator, source, outcome.diff or "")
    if (outcome.output or "").startswith("not covered"):
        result.not_covered += 1
        entry = "# not covered: no test runs this line\n" + entry
    result.survivors.append(entry)


def meets_floor(score: float, recorded: float, minimum: float) -> bool:
    """Whether a module's score keeps its floor: the `minimum` exactly, and the score its row
    records at the precision rows have, one decimal as the table prints it (21 of 22 killed,
    95.45 %, keeps a recorded 95.5)."""
    return score >= minimum and round(score, 1) >= recorded


def report(results: Sequence[ModuleResult], settings: Settings) -> bool:
    """Print survivors and the score table; True when every module meets its floor."""
    passed = True
    for res in results:
        if res.survivors:
            print(f"\n===== new survivors in {res.spec.path} =====")
            print("\n".join(res.survivors))
    print(f"\n{'module':58} killed survived equiv score  floor    cpu s")
    for res in results:
        floor = max(settings.minimum_score, res.spec.score)
        if res.error:
            print(f"{res.spec.path:58} ERROR: {res.error}")
            passed = False
            continue
        ok = meets_floor(res.score, res.spec.score, settings.minimum_score)
        passed &= ok
        partial = f" ({res.pending} not run yet)" if res.pending else ""
        partial += f" ({res.timeouts} killed by a timeout)" if res.timeouts else ""
        cpu = "" if res.cpu_seconds is None else f"{res.cpu_seconds:8.0f}"
        print(
            f"{res.spec.path:58} {res.killed:6} {res.survived:8} {res.equivalent:5} "
            f"{res.score:5.1f} {floor:5.1f} {'ok' if ok else 'BELOW'} {cpu}{partial}"
        )
    costs = [res.cpu_seconds for res in results if res.cpu_seconds is not None]
    if costs:
        total = sum(costs)
        print(f"CPU: {total:.0f} s for {len(costs)} modules, {total / 2 / 60:.1f} min on two cores")
    return passed
