"""The pytest side of mutation/engine.py: one collected session whose tests are run on demand.

`Runner` replaces pytest's run loop, so the tests collected once can be run again and again
(in forks) through their ordinary run protocol; `Recorder` and `baseline` record, for the
unmutated run, which tests run each line of the module, how long each takes and which ones
start a subprocess.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from line_recorder import OUTSIDE_TESTS, LineRecorder
from selection import CoverageMap


def module_name(path: str) -> str:
    """The import name of a source file: src/fks_exec/kit/ttl.py -> fks_exec.kit.ttl."""
    parts = Path(path).with_suffix("").parts
    parts = parts[parts.index("src") + 1 :]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class Runner:
    """A pytest plugin that keeps one collected session open and runs chosen tests in it.

    pytest.main collects the tests once; its run loop is replaced by `work`, which runs
    the baseline and every mutant in forks of this process, each calling the tests'
    ordinary run protocol (fixtures, marks, warnings filters, capture) directly: no new
    configuration, plugin loading or collection per mutant.
    """

    def __init__(self, work: Callable[[Runner], int]) -> None:
        self.work = work
        self.items: dict[str, pytest.Item] = {}
        self.failures: list[pytest.TestReport] = []
        self.recorder = Recorder()
        self.code = 0

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Instead of running the tests: do the mutation work with them at hand."""
        self.items = {item.nodeid: item for item in session.items}
        self.code = self.work(self)
        return True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note a failing phase (setup, call or teardown) of a test."""
        if report.failed:
            self.failures.append(report)

    def run(self, nodeids: Sequence[str], log: Path | None = None) -> int:
        """Run these tests in order, stopping at the first failure: 1 if one failed."""
        chosen = [self.items[n] for n in nodeids if n in self.items]
        for position, item in enumerate(chosen):
            following = chosen[position + 1] if position + 1 < len(chosen) else None
            item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
            if self.failures:
                if log is not None:
                    with log.open("a", encoding="utf-8") as out:
                        out.write(f"{self.failures[0].nodeid}\n{self.failures[0].longreprtext}")
                return 1
        return 0


def import_target(path: Path) -> str:
    """Import the module under test (if the tests have not); returns the file name its code
    carries. Raises RuntimeError when it was imported from somewhere else than `path`."""
    module = importlib.import_module(module_name(str(path.relative_to(Path.cwd()))))
    if Path(module.__file__ or "").resolve() != path:
        raise RuntimeError(f"{module.__name__} was imported from {module.__file__}, not {path}")
    return str(module.__file__)


class Recorder:
    """A pytest plugin for the baseline: one coverage context per test, its duration, and
    whether it started a subprocess (seen through audit events)."""

    SPAWNING = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork"})

    def __init__(self) -> None:
        self.cov: LineRecorder | None = None
        self.current = ""
        self.durations: dict[str, float] = {}
        self.cpu_durations: dict[str, float] = {}
        self.order: list[str] = []
        self.spawners: set[str] = set()

    def audit(self, event: str, _args: object) -> None:
        """sys.addaudithook's callback: note a test that starts a process."""
        if self.current and event in self.SPAWNING:
            self.spawners.add(self.current)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> object:
        """Measure one test (setup, call and teardown) under its own context."""
        if self.cov is None:  # a mutant's run: nothing to record
            return (yield)
        self.current = item.nodeid
        self.order.append(item.nodeid)
        self.cov.switch_context(item.nodeid)
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return (yield)
        finally:
            self.durations[item.nodeid] = time.perf_counter() - started
            self.cpu_durations[item.nodeid] = time.process_time() - cpu
            self.cov.switch_context(OUTSIDE_TESTS)
            self.current = ""


def baseline(filename: str, runner: Runner, recorder: Recorder, out: Path) -> int:
    """Run every test once, unmutated, recording the lines of `filename` (the name its code
    carries) each test runs; write the CoverageMap to `out`."""
    cov = LineRecorder(filename)  # not coverage.py: see line_recorder.py
    recorder.cov = cov
    sys.addaudithook(recorder.audit)
    cov.start()
    failed = 0
    for nodeid in runner.items:  # all of them: a failure here is reported, not a stop
        failed |= runner.run([nodeid])
        runner.failures.clear()
    cov.stop()
    by_line: dict[int, set[str]] = {}
    outside: set[int] = set()
    for line, contexts in cov.contexts_by_line().items():
        tests_here = {c for c in contexts if c not in ("", OUTSIDE_TESTS)}
        by_line[line] = tests_here
        if len(tests_here) < len(contexts):
            outside.add(line)
    mapped = CoverageMap(
        tests_by_line={k: frozenset(v) for k, v in by_line.items()},
        import_lines=frozenset(outside),
        durations=recorder.durations,
        run_order=tuple(recorder.order),
        spawners=frozenset(recorder.spawners),
        cpu_durations=recorder.cpu_durations,
    )
    out.write_text(json.dumps(mapped.to_json()), encoding="utf-8")
    return failed
