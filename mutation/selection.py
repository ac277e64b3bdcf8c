"""Which tests one mutant runs against, from a coverage map of the unmutated run.

A mutant changes behaviour only when its statement runs, so a test that never runs that
statement cannot kill it: each mutant runs only the tests that executed its line. Three cases
need more:
- a mutant outside any function body (a module constant, a decorator, a default value, a class
  attribute), or on a line that ran while the module was imported, changed what exists before
  any test starts: it runs against all of the module's tests, with the mutated file on disk;
- a mutant whose line no test runs survives at once ("not covered");
- a test that starts a subprocess may import the module there, where coverage cannot see it:
  such tests are kept apart (`spawners`) and run, on disk, against every mutant the others did
  not kill.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from source_index import SourceIndex


class Route(enum.Enum):
    """How a mutant is tested."""

    SELECTED = "selected"  # in a forked process, against the tests that ran its line
    WHOLE = "whole"  # mutated on disk, against every test of the module
    NOT_COVERED = "not covered"  # no test runs its line: a survivor without a run


@dataclass(frozen=True)
class CoverageMap:
    """What the unmutated run saw: the tests that ran each line, the lines that ran at import
    or outside any test, each test's duration (wall and CPU seconds), and the tests that
    started a subprocess."""

    tests_by_line: Mapping[int, frozenset[str]]
    import_lines: frozenset[int] = frozenset()
    durations: Mapping[str, float] = field(default_factory=dict)
    run_order: tuple[str, ...] = ()
    spawners: frozenset[str] = frozenset()
    cpu_durations: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready form (see `from_json`)."""
        return {
            "tests_by_line": {str(k): sorted(v) for k, v in self.tests_by_line.items()},
            "import_lines": sorted(self.import_lines),
            "durations": dict(self.durations),
            "run_order": list(self.run_order),
            "spawners": sorted(self.spawners),
            "cpu_durations": dict(self.cpu_durations),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CoverageMap:
        """Read what `to_json` wrote (`data` is parsed JSON, so its values are untyped);
        raises KeyError or TypeError on another shape."""
        lines = data["tests_by_line"]
        assert isinstance(lines, dict)
        return cls(
            tests_by_line={int(k): frozenset(v) for k, v in lines.items()},
            import_lines=frozenset(data["import_lines"]),
            durations=dict(data["durations"]),
            run_order=tuple(data["run_order"]),
            spawners=frozenset(data["spawners"]),
            cpu_durations=dict(data.get("cpu_durations", {})),
        )


@dataclass(frozen=True)
class Plan:
    """A mutant's route and, for SELECTED, the tests to run in order (fastest first)."""

    route: Route
    tests: tuple[str, ...] = ()


def fastest_first(tests: Iterable[str], coverage: CoverageMap) -> tuple[str, ...]:
    """`tests` ordered by their unmutated duration, ties in the order they ran: with `-x`,
    a mutant is killed by its cheapest failing test."""
    position = {test: i for i, test in enumerate(coverage.run_order)}
    return tuple(
        sorted(
            set(tests),
            key=lambda t: (coverage.durations.get(t, 0.0), position.get(t, len(position)), t),
        )
    )


def plan_for(index: SourceIndex, start: tuple[int, int], coverage: CoverageMap) -> Plan:
    """Decide how the mutant starting at `start` (line, column) is tested."""
    lines = index.statement_lines(start[0])
    if not index.runs_when_called(start) or any(ln in coverage.import_lines for ln in lines):
        return Plan(Route.WHOLE)
    tests = set().union(*(coverage.tests_by_line.get(ln, frozenset()) for ln in lines))
    tests -= coverage.spawners
    if not tests:
        return Plan(Route.NOT_COVERED)
    return Plan(Route.SELECTED, fastest_first(tests, coverage))
