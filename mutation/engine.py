"""Test the mutants of one module's cosmic-ray session, each against only the tests it needs.

Run by mutation/run.py inside a module's sandbox (cwd), with the sandbox first on PYTHONPATH:

1. One pytest session collects the module's tests, under coverage, which notes the lines that
   run at import; the session's run loop is then replaced (session_runner.Runner) by steps 2
   and 3.
2. Baseline, in a fork: run every test once, unmutated, recording (line_recorder.py, per
   test) which tests run each line, each test's duration, and which tests start a
   subprocess. The tests must pass.
3. Each pending mutant goes by the route selection.plan_for gives it: in a fork, its functions'
   code swapped for the mutant's (patching.py), against the tests that ran its line, fastest
   first, stopping at the first failure; or mutated on disk against all the tests; or, when no
   test runs its line, a survivor at once. A survivor is then run on disk against the tests
   that start subprocesses, if there are any.

Results go into the session's database as cosmic-ray's own worker would write them, so
run.py's tally, equivalents and `--report` read them unchanged. Statistics (the routes taken
and the CPU seconds of this process and all its children) go to `--stats` as JSON.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import resource
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path

import coverage
import exception_names
import patching
import pytest
from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]
from cosmic_ray.plugins import get_operator  # type: ignore[import-untyped]
from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
from cosmic_ray.work_item import (  # type: ignore[import-untyped]
    MutationSpec,
    TestOutcome,
    WorkerOutcome,
    WorkItem,
    WorkResult,
)
from forked import Limits, output_to, run_forked, run_process
from hypothesis_profile import PROFILE
from import_time import ImportTimeMutants, all_tests_fastest_first
from import_uses import ImportReaders, assigned_names
from selection import CoverageMap, Plan, Route, fastest_first, plan_for
from session_runner import Runner, baseline, import_target, module_name
from source_index import SourceIndex

# FKS_MUTATION_WHOLE_ON_DISK=1: every import-time mutant the exact way (to compare verdicts)
WHOLE_ON_DISK = os.environ.get("FKS_MUTATION_WHOLE_ON_DISK") == "1"
NOT_PATCHED = 97  # the child found no live function to give the mutant's code
HERE = Path(__file__).resolve().parent
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-p", "hypothesis_profile", "--hypothesis-seed=0"]
IN_PROCESS_ARGS = ["--capture=no"]  # each test's own capture (capsys...) still works
PYTEST_ARGS += [f"--hypothesis-profile={PROFILE}"]
exception_names.install()  # a dotted name in `except (A, b.C)` (cosmic-ray crashes on it)


def run_in_fork(
    changes: list[tuple[patching.CodeKey, types.CodeType]],
    functions: dict[patching.CodeKey, list[types.FunctionType]],
    runner: Runner,
    tests: Sequence[str],
    log: Path,
) -> int:
    """The child's work for one mutant: swap the code in, run the tests, stop at a failure."""
    if not patching.apply(changes, functions):
        return NOT_PATCHED
    return runner.run(tests, log)


class Session:
    """One module's mutants and everything needed to test them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.module = str(args.module)
        self.path = Path(self.module).resolve()
        self.tests: list[str] = list(args.tests)
        self.factor = float(args.timeout_factor)
        self.log = Path("mutant.log").resolve()
        self.source = self.path.read_text(encoding="utf-8")
        self.index = SourceIndex.of(self.source)
        self.routes: dict[str, int] = {}
        self.route_cpu: dict[str, float] = {}
        self.timeouts: dict[str, int] = {}
        self.coverage = CoverageMap({})
        self.functions: dict[patching.CodeKey, list[types.FunctionType]] = {}
        self.whole_seconds = 0.0
        self.baseline_cpu = 0.0
        self.start_cpu = 0.0
        self.filename = str(self.path)
        self.runner: Runner | None = None
        self.import_time: ImportTimeMutants | None = None
        self.readers: ImportReaders | None = None

    def prepare(self, runner: Runner, import_lines: frozenset[int]) -> None:
        """Run the baseline in a fork; raises RuntimeError when the tests fail unmutated."""
        self.runner = runner
        self.functions = dict(patching.live_functions(self.filename))
        out = Path("coverage-map.json").resolve()
        started, cpu_before = time.monotonic(), cpu_seconds()
        recorder = runner.recorder
        filename = self.filename
        exit_ = run_forked(lambda: baseline(filename, runner, recorder, out), 3600.0, self.log)
        self.whole_seconds = time.monotonic() - started
        self.baseline_cpu = cpu_seconds() - cpu_before
        if exit_.code != 0:
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"tests fail unmutated (exit {exit_.code}):\n{tail}")
        seen = CoverageMap.from_json(json.loads(out.read_text(encoding="utf-8")))
        self.coverage = CoverageMap(
            seen.tests_by_line,
            seen.import_lines | import_lines,
            seen.durations,
            seen.run_order,
            seen.spawners,
            seen.cpu_durations,
        )
        self.check_on_disk()
        everything = all_tests_fastest_first(self.coverage.run_order, dict(self.coverage.durations))
        self.import_time = ImportTimeMutants(
            sys.modules[module_name(self.module)],
            self.source,
            lambda: runner.run(everything, self.log),
            self.limits(everything),
            self.log,
        )
        self.readers = ImportReaders(self.path, self.source, self.coverage.import_lines, Path.cwd())

    def test(self, mutation: MutationSpec) -> WorkResult:
        """Make one mutant and decide its fate."""
        started = cpu_seconds()
        operator = get_operator(mutation.operator_name)(**getattr(mutation, "operator_args", {}))
        mutated = mutate_code(self.source, operator, mutation.occurrence)
        if mutated is None:
            return WorkResult(worker_outcome=WorkerOutcome.NO_TEST)
        lines = self.source.splitlines(), mutated.splitlines()
        diff = "\n".join(difflib.unified_diff(*lines, self.module, self.module, lineterm=""))
        plan = plan_for(self.index, tuple(mutation.start_pos), self.coverage)
        outcome, output, route = self.follow(plan, mutated, mutation.start_pos[0])
        if outcome == TestOutcome.SURVIVED and self.coverage.spawners:
            outcome, output = self.on_disk(mutated, self.fastest(self.coverage.spawners))
            route += " + subprocess tests"
        self.routes[route] = self.routes.get(route, 0) + 1
        self.route_cpu[route] = self.route_cpu.get(route, 0.0) + cpu_seconds() - started
        if output.startswith("timeout ("):  # killed for a limit: counted apart, by which
            limit = output.removeprefix("timeout (").rstrip(")")
            self.timeouts[limit] = self.timeouts.get(limit, 0) + 1
        if outcome == TestOutcome.SURVIVED and plan.route == Route.NOT_COVERED:
            output = "not covered: no test runs this line"
        return WorkResult(WorkerOutcome.NORMAL, output[-2000:], outcome, diff)

    def limits(self, tests: Sequence[str]) -> Limits:
        """The time limits of a forked run of `tests`: `--timeout-factor` times their CPU
        seconds in the baseline (1 s for a test it did not time), plus 5 s; the same on
        their wall seconds as the net for a hang."""
        cpu = sum(self.coverage.cpu_durations.get(t, 1.0) for t in tests)
        wall = sum(self.coverage.durations.get(t, 1.0) for t in tests)
        return Limits(cpu=self.factor * cpu + 5.0, wall=self.factor * wall + 5.0)

    def fastest(self, tests: frozenset[str]) -> list[str]:
        """Tests in the order the baseline ran them."""
        return [t for t in self.coverage.run_order if t in tests]

    def follow(self, plan: Plan, mutated: str, line: int) -> tuple[TestOutcome, str, str]:
        """Run the mutant the way `plan` says: (outcome, output, route taken)."""
        if plan.route == Route.NOT_COVERED:
            return TestOutcome.SURVIVED, "", plan.route.value
        if plan.route == Route.SELECTED:
            try:
                changes = patching.changed_functions(self.source, mutated, self.filename)
            except (ValueError, SyntaxError):
                changes = []
            timeout = self.limits(plan.tests)
            tests = plan.tests
            runner, log = self.prepared_runner(), self.log
            patched = run_forked(
                lambda: run_in_fork(changes, self.functions, runner, tests, log),
                timeout,
                self.log,
            )
            if patched.code != NOT_PATCHED and changes:
                output = self.log.read_text(encoding="utf-8", errors="replace")
                if patched.timed_out:
                    return TestOutcome.KILLED, f"timeout ({patched.limit})", plan.route.value
                killed = patched.code != 0
                return (TestOutcome.KILLED if killed else TestOutcome.SURVIVED), output, "selected"
        read_elsewhere = self.read_elsewhere(mutated, line) if plan.route == Route.WHOLE else None
        if read_elsewhere is not None:
            outcome, output = self.on_disk(mutated, self.tests)
            return outcome, output, "whole: read at import elsewhere"
        if plan.route == Route.WHOLE and self.import_time is not None and not WHOLE_ON_DISK:
            exit_ = self.import_time.run(mutated, line)
            if exit_ is not None:
                output = self.log.read_text(encoding="utf-8", errors="replace")
                if exit_.timed_out:
                    return TestOutcome.KILLED, f"timeout ({exit_.limit})", "whole in fork"
                killed = exit_.code != 0
                return (
                    (TestOutcome.KILLED if killed else TestOutcome.SURVIVED),
                    output,
                    "whole in fork",
                )
        outcome, output = self.on_disk(mutated, self.tests)
        return outcome, output, Route.WHOLE.value

    def prepared_runner(self) -> Runner:
        """The session's Runner; raises RuntimeError before `prepare` has given it one."""
        if self.runner is None:
            raise RuntimeError("Session.prepare must run before a mutant is tested")
        return self.runner

    def read_elsewhere(self, mutated: str, line: int) -> str | None:
        """Which other code read a name that the mutated statement binds while it was
        imported (`name in module`), or None: rebinding it in a fork would leave what that
        code built with the old value, so such a mutant runs from disk."""
        if self.readers is None:
            return None
        return self.readers.reader_of(assigned_names(mutated, line))

    def on_disk(self, mutated: str, tests: Sequence[str]) -> tuple[TestOutcome, str]:
        """Write the mutant into the module's file, run `tests` in a new process, put it back."""
        command = [sys.executable, "-m", "pytest", "-x", *PYTEST_ARGS, *tests]
        cpu = self.factor * (self.start_cpu + self.baseline_cpu) + 10.0
        limits = Limits(cpu=cpu, wall=self.factor * self.whole_seconds + 10.0)
        try:
            self.path.write_text(mutated, encoding="utf-8")
            exit_ = run_process(command, limits, self.log)
        finally:
            self.path.write_text(self.source, encoding="utf-8")
        output = self.log.read_text(encoding="utf-8", errors="replace")
        if exit_.timed_out:
            return TestOutcome.KILLED, f"timeout ({exit_.limit})"
        return (TestOutcome.SURVIVED if exit_.code == 0 else TestOutcome.KILLED), output

    def check_on_disk(self) -> None:
        """Run the fastest test the on-disk way, unmutated: raises RuntimeError when that
        fails, since every mutant run that way would then count as killed."""
        fastest = fastest_first(self.coverage.run_order, self.coverage)[:1]
        started = cpu_seconds()
        self.start_cpu = 60.0  # a generous limit for the measurement itself
        outcome, output = self.on_disk(self.source, fastest)
        self.start_cpu = cpu_seconds() - started  # a new process's start and collection
        if outcome != TestOutcome.SURVIVED:
            raise RuntimeError(f"a test run in a new process fails unmutated:\n{output[-3000:]}")


def chosen_items(db: WorkDB, only: str) -> list[WorkItem]:
    """The work items to run: pending ones (in a seeded random order, so a session stopped
    early is a fair sample), or those that survived last time."""
    if only == "survived":
        return [i for i, r in db.completed_work_items if r.test_outcome == TestOutcome.SURVIVED]
    items = list(db.pending_work_items)
    random.Random(0).shuffle(items)
    return items


def cpu_seconds() -> float:
    """User + system CPU time of this process and every child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, prepare, test every chosen mutant, write the statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True)
    parser.add_argument("--session", required=True, type=Path)
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--only", choices=["pending", "survived"], default="pending")
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("tests", nargs="+")
    args = parser.parse_args(argv)
    session = Session(args)
    cov = coverage.Coverage(data_file=None, include=[str(session.path)], config_file=False)
    done: list[WorkItem] = []
    errors: list[str] = []

    def work(runner: Runner) -> int:
        try:
            session.filename = import_target(session.path)
            cov.stop()
            import_lines = frozenset(cov.get_data().lines(session.filename) or ())
            session.prepare(runner, import_lines)
        except RuntimeError as error:
            errors.append(str(error))
            return 2
        with use_db(str(args.session), WorkDB.Mode.open) as db:
            done.extend(chosen_items(db, args.only))
            for item in done:
                db.set_result(item.job_id, session.test(item.mutations[0]))
        return 0

    runner = Runner(work)
    cov.start()  # notes the lines that run while the module is imported
    with output_to(session.log):
        arguments = [*PYTEST_ARGS, *IN_PROCESS_ARGS, *session.tests]
        code = pytest.main(arguments, plugins=[runner, runner.recorder])
    if errors or code not in (0, 5) or runner.code:
        print(*errors, f"pytest exit {code}; see {session.log}", file=sys.stderr)
        return 2
    items = done
    stats = {
        "mutants": len(items),
        "routes": session.routes,
        "route_cpu_seconds": {k: round(v, 1) for k, v in session.route_cpu.items()},
        "cpu_seconds": cpu_seconds(),
        "baseline_cpu_seconds": round(session.baseline_cpu, 1),
        "timeouts": session.timeouts,
    }
    args.stats.write_text(json.dumps(stats, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
