"""The mutation tool's own logic (mutation/): which tests a mutant runs, how a mutant is put
into a running process, and the forked runs. A wrong choice here would count a mutant as
survived or killed without the tests having decided it, so each case is pinned."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "mutation"))

import forked  # noqa: E402
import import_time  # noqa: E402
import patching  # noqa: E402
import reexec  # noqa: E402
import run  # noqa: E402
from cosmic_ray.work_db import WorkDB, use_db  # noqa: E402
from cosmic_ray.work_item import TestOutcome as Outcome  # noqa: E402
from cosmic_ray.work_item import WorkerOutcome, WorkResult  # noqa: E402
from selection import CoverageMap, Route, fastest_first, plan_for  # noqa: E402
from source_index import SourceIndex  # noqa: E402

TOY = '''\
"""A module to mutate."""

import asyncio
import contextlib

LIMIT = 10
SPARE = 3
SHARED = 5


def clamp(x: int, floor: int = 0) -> int:
    if x > LIMIT:
        return LIMIT
    total = (
        x
        + floor
    )
    return total


def unused(x: int) -> int:
    return x + 1


def make_adder(n: int):
    def add(x: int) -> int:
        return x + n

    return add


class Box:
    size = LIMIT + 1

    def grow(self, by: int) -> int:
        return self.size + by


async def _forever() -> None:
    while True:
        await asyncio.sleep(10)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def finish() -> int:
    task = asyncio.get_running_loop().create_task(_forever())
    await asyncio.sleep(0)
    await _stop(task)  # resumed by a throw: Python 3.11 sends no `call` event here
    return LIMIT * 2
'''


def line_of(text: str, source: str = TOY) -> int:
    """The 1-based line of the first line of TOY containing `text`."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def position(text: str, source: str = TOY) -> tuple[int, int]:
    """(line, column) where `text` starts in TOY."""
    line = line_of(text, source)
    return line, source.splitlines()[line - 1].index(text)


def covered(**tests_by_text: list[str]) -> CoverageMap:
    """A coverage map in which the line holding each key's text ran the given tests."""
    by_line = {line_of(text.replace("_", " ")): frozenset(t) for text, t in tests_by_text.items()}
    return CoverageMap(tests_by_line=by_line)


INDEX = SourceIndex.of(TOY)


def test_a_mutant_in_a_function_body_runs_only_the_tests_that_ran_its_line() -> None:
    cov = CoverageMap(
        tests_by_line={line_of("if x > LIMIT"): frozenset({"t::slow", "t::fast"})},
        durations={"t::slow": 2.0, "t::fast": 0.1},
    )
    plan = plan_for(INDEX, position("x > LIMIT"), cov)
    assert plan.route is Route.SELECTED
    assert plan.tests == ("t::fast", "t::slow")


def test_a_line_no_test_runs_is_not_covered() -> None:
    cov = CoverageMap(tests_by_line={line_of("if x > LIMIT"): frozenset({"t::a"})})
    assert plan_for(INDEX, position("x + 1"), cov).route is Route.NOT_COVERED


@pytest.mark.parametrize(
    "where",
    ["LIMIT = 10", "floor: int = 0", "size = LIMIT + 1"],
    ids=["module constant", "default value", "class attribute"],
)
def test_code_that_runs_at_import_runs_against_every_test(where: str) -> None:
    cov = CoverageMap(tests_by_line={line_of(where): frozenset({"t::a"})})
    start = position(where.split()[-1]) if where != "floor: int = 0" else position("0)")
    assert plan_for(INDEX, start, cov).route is Route.WHOLE


def test_a_function_body_line_that_ran_at_import_runs_against_every_test() -> None:
    line = line_of("return x + 1")
    cov = CoverageMap(tests_by_line={line: frozenset({"t::a"})}, import_lines=frozenset({line}))
    assert plan_for(INDEX, position("x + 1"), cov).route is Route.WHOLE


def test_a_statement_over_several_lines_is_covered_by_any_of_its_lines() -> None:
    # the tracer may report only the line of `+ floor`; the mutant sits on `x`'s line
    cov = CoverageMap(tests_by_line={line_of("+ floor"): frozenset({"t::a"})})
    plan = plan_for(INDEX, (line_of("total = ("), 8), cov)
    assert plan.route is Route.SELECTED
    assert plan.tests == ("t::a",)
    # and a neighbouring statement's tests are not borrowed
    assert plan_for(INDEX, position("x > LIMIT"), cov).route is Route.NOT_COVERED


def test_tests_that_start_a_subprocess_are_not_run_in_the_fork() -> None:
    line = line_of("if x > LIMIT")
    cov = CoverageMap(
        tests_by_line={line: frozenset({"t::cli", "t::unit"})}, spawners=frozenset({"t::cli"})
    )
    assert plan_for(INDEX, position("x > LIMIT"), cov).tests == ("t::unit",)
    only_spawner = CoverageMap(tests_by_line={line: frozenset({"t::cli"})}, spawners={"t::cli"})  # type: ignore[arg-type]
    assert plan_for(INDEX, position("x > LIMIT"), only_spawner).route is Route.NOT_COVERED


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.floats(0, 10), min_size=1))
def test_fastest_first_orders_every_test_by_duration(durations: dict[str, float]) -> None:
    cov = CoverageMap(tests_by_line={}, durations=durations, run_order=tuple(sorted(durations)))
    ordered = fastest_first(list(durations) * 2, cov)
    assert sorted(ordered) == sorted(durations)  # each once
    times = [durations[t] for t in ordered]
    assert times == sorted(times)


def test_the_coverage_map_survives_its_json_form() -> None:
    cov = CoverageMap(
        tests_by_line={3: frozenset({"a", "b"})},
        import_lines=frozenset({1}),
        durations={"a": 0.5},
        run_order=("a", "b"),
        spawners=frozenset({"b"}),
    )
    assert CoverageMap.from_json(json.loads(json.dumps(cov.to_json()))) == cov


def load_toy(tmp_path: Path, source: str = TOY) -> types.ModuleType:
    path = tmp_path / "toy_module.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("toy_module", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_swapping_code_changes_every_reference_to_the_function(tmp_path: Path) -> None:
    toy = load_toy(tmp_path)
    clamp, adder_before = toy.clamp, toy.make_adder(1)  # references taken before the swap
    mutated = TOY.replace("if x > LIMIT:", "if x < LIMIT:").replace("x + n", "x - n")
    changes = patching.changed_functions(TOY, mutated, toy.__file__)
    assert {key[0] for key, _ in changes} == {"clamp", "make_adder", "make_adder.<locals>.add"}
    assert clamp(3) == 3 and adder_before(5) == 6
    assert patching.apply(changes, patching.live_functions(toy.__file__)) == 3
    assert clamp(3) == 10 and toy.clamp(3) == 10
    assert toy.make_adder(1)(5) == 4  # a closure made after the swap
    assert adder_before(5) == 4  # and one made before (a decorator's wrapper, say)


def test_swapping_code_reaches_methods_and_leaves_other_functions(tmp_path: Path) -> None:
    toy = load_toy(tmp_path)
    box, unused = toy.Box(), toy.unused
    mutated = TOY.replace("self.size + by", "self.size - by")
    changes = patching.changed_functions(TOY, mutated, toy.__file__)
    assert patching.apply(changes, patching.live_functions(toy.__file__)) == 1
    assert box.grow(1) == 10
    assert unused.__code__ is toy.unused.__code__ and unused(1) == 2


def test_a_mutant_of_module_code_changes_no_function() -> None:
    mutated = TOY.replace("LIMIT = 10", "LIMIT = 11").replace("size = LIMIT + 1", "size = 0")
    assert patching.changed_functions(TOY, mutated, "toy.py") == []


def test_a_mutant_that_changes_which_functions_exist_is_refused() -> None:
    mutated = TOY.replace("def unused", "def renamed")
    with pytest.raises(ValueError, match="other functions"):
        patching.changed_functions(TOY, mutated, "toy.py")


def test_a_forked_run_reports_its_exit_code_and_output(tmp_path: Path) -> None:
    log = tmp_path / "log"

    def body() -> int:
        print("from the child")
        return 3

    assert forked.run_forked(body, 30, log).code == 3
    assert "from the child" in log.read_text()


def test_a_forked_run_that_raises_is_a_crash_with_its_traceback(tmp_path: Path) -> None:
    log = tmp_path / "log"

    def body() -> int:
        raise LookupError("boom")

    assert forked.run_forked(body, 30, log).code == forked.CRASHED
    assert "LookupError: boom" in log.read_text()


def test_a_forked_run_past_its_time_is_killed_with_what_it_started(tmp_path: Path) -> None:
    log, pid_file = tmp_path / "log", tmp_path / "pid"

    def body() -> int:
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        pid_file.write_text(str(sleeper.pid))
        time.sleep(60)
        return 0

    exit_ = forked.run_forked(body, 1.0, log)
    assert exit_.timed_out
    sleeper = int(pid_file.read_text())
    for _ in range(100):  # the kill is asynchronous; init reaps the orphan soon after
        try:
            os.kill(sleeper, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the process the run started outlived the timeout")


def test_a_forked_run_is_stopped_for_its_cpu_not_for_waiting(tmp_path: Path) -> None:
    """A busy loop past its CPU seconds is a "cpu" timeout well before its wall limit; a
    run that only waits longer than its CPU limit is not (a busy machine stretches wall
    time, not CPU time)."""
    log = tmp_path / "log"

    def spin() -> int:
        while True:
            pass

    def wait() -> int:
        time.sleep(1.5)
        return 0

    spun = forked.run_forked(spin, forked.Limits(cpu=1.0, wall=120.0), log)
    assert spun.timed_out and spun.limit == "cpu"
    waited = forked.run_forked(wait, forked.Limits(cpu=1.0, wall=120.0), log)
    assert waited == forked.Exit(0)


def test_a_process_run_is_stopped_for_its_cpu_with_its_output_kept(tmp_path: Path) -> None:
    log = tmp_path / "log"
    busy = [sys.executable, "-c", "print('started', flush=True)\nwhile True: pass"]
    exit_ = forked.run_process(busy, forked.Limits(cpu=1.0, wall=120.0), log)
    assert exit_.limit == "cpu" and "started" in log.read_text()
    quiet = [sys.executable, "-c", "import sys; sys.exit(4)"]
    assert forked.run_process(quiet, forked.Limits(cpu=30.0, wall=120.0), log) == forked.Exit(4)


@pytest.mark.parametrize(("load", "wall"), [(0.0, 10.0), (3.0, 15.0), (100.0, 40.0)])
def test_the_wall_limit_is_stretched_by_the_load_at_most_four_times(
    monkeypatch: pytest.MonkeyPatch, load: float, wall: float
) -> None:
    monkeypatch.setattr(forked.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(forked.os, "cpu_count", lambda: 2)
    assert forked.Limits(cpu=1.0, wall=10.0).wall_now() == wall


TOY_USER = """\
from toy_pkg.calc import SHARED

RESERVE = SHARED * 2  # built from another module's constant at import
"""

TOY_TESTS = """\
import asyncio

from toy_pkg.calc import clamp, finish
from toy_pkg.user import RESERVE

def test_reserve():
    assert RESERVE == 10

def test_clamp_caps():
    assert clamp(11) == 10

def test_clamp_passes_small_values():
    assert clamp(3) == 3

def test_finish():
    assert asyncio.run(finish()) == 20
"""


def toy_project(tmp_path: Path, module: str) -> tuple[Path, dict[str, str]]:
    """The toy package, its tests and a cosmic-ray session over `module` in `tmp_path`:
    the session's path and the environment that imports the toy from there."""
    (tmp_path / "src" / "toy_pkg").mkdir(parents=True)
    (tmp_path / "src" / "toy_pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "toy_pkg" / "calc.py").write_text(TOY)
    (tmp_path / "src" / "toy_pkg" / "user.py").write_text(TOY_USER)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TOY_TESTS)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "-p no:fks_exec"\n'  # the toy needs no plugin
    )
    config = tmp_path / "cosmic-ray.toml"
    config.write_text(
        textwrap.dedent(f"""\
        [cosmic-ray]
        module-path = "{module}"
        timeout = 10.0
        excluded-modules = []
        test-command = "true"
        [cosmic-ray.distributor]
        name = "local"
        """)
    )
    session = tmp_path / "session.sqlite"
    env = dict(os.environ, PYTHONPATH=f"{tmp_path / 'src'}{os.pathsep}{REPO / 'mutation'}")
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run([*cosmic_ray, "init", str(config), str(session)], cwd=tmp_path, check=True)
    return session, env


def test_the_engine_gives_each_route_its_verdict(tmp_path: Path) -> None:
    """End to end on a toy project: a mutant killed in a fork, one surviving there, one on
    a line no test runs, import-time ones killed and surviving in a fork, and a constant
    that another module built a value from at import, killed from disk (in a fork, its
    rebinding would leave that value as it was: a false survivor)."""
    module = "src/toy_pkg/calc.py"
    session, env = toy_project(tmp_path, module)
    keep = {  # (line, operator) of the mutants this test judges; the rest are skipped
        (line_of("if x > LIMIT"), "core/ReplaceComparisonOperator_Gt_GtE"): "survived",
        (line_of("if x > LIMIT"), "core/ReplaceComparisonOperator_Gt_Lt"): "killed",
        (line_of("return x + 1"), "core/ReplaceBinaryOperator_Add_Sub"): "survived",
        # a line coverage.py loses on Python 3.11 (mutation/line_recorder.py): not "not covered"
        (line_of("return LIMIT * 2"), "core/ReplaceBinaryOperator_Mul_Add"): "killed",
        (line_of("LIMIT = 10"), "core/NumberReplacer"): "killed",
        (line_of("SPARE = 3"), "core/NumberReplacer"): "survived",
        (line_of("SHARED = 5"), "core/NumberReplacer"): "killed",
        (line_of("def clamp"), "core/NumberReplacer"): "killed",  # the default of floor
    }
    with use_db(str(session), WorkDB.Mode.open) as db:
        chosen = {}
        for item in db.work_items:
            (mutation,) = item.mutations
            key = (mutation.start_pos[0], mutation.operator_name)
            if key in keep:
                chosen[item.job_id] = key
            else:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED))
    assert set(chosen.values()) == set(keep)
    stats = tmp_path / "stats.json"
    engine = [sys.executable, str(REPO / "mutation" / "engine.py"), "--module", module]
    arguments = ["--session", str(session), "--stats", str(stats), "tests/test_calc.py"]
    subprocess.run([*engine, *arguments], cwd=tmp_path, env=env, check=True, timeout=120)
    with use_db(str(session), WorkDB.Mode.open) as db:
        verdicts = {chosen[i.job_id]: r for i, r in db.completed_work_items if i.job_id in chosen}
    for key, expected in keep.items():
        assert verdicts[key].test_outcome.value == expected, (key, verdicts[key].output)
    uncovered = (line_of("return x + 1"), "core/ReplaceBinaryOperator_Add_Sub")
    assert verdicts[uncovered].output.startswith("not covered")
    at_import = {line_of("LIMIT = 10"), line_of("SPARE = 3"), line_of("def clamp")}
    whole = sum(1 for key in chosen.values() if key[0] in at_import)
    read_elsewhere = sum(1 for key in chosen.values() if key[0] == line_of("SHARED = 5"))
    routes = json.loads(stats.read_text())["routes"]
    assert routes == {
        "selected": 3,
        "not covered": 1,
        "whole in fork": whole,
        "whole: read at import elsewhere": read_elsewhere,
    }
    assert (tmp_path / module).read_text() == TOY  # the file is put back


def test_an_import_time_mutant_is_carried_into_the_running_module(tmp_path: Path) -> None:
    toy = load_toy(tmp_path)
    importer = types.ModuleType("toy_importer")  # as `from toy_module import LIMIT, clamp`
    importer.LIMIT, importer.clamp = toy.LIMIT, toy.clamp  # type: ignore[attr-defined]
    sys.modules["toy_importer"] = importer
    clamp, box = toy.clamp, toy.Box()
    try:
        mutated = TOY.replace("LIMIT = 10", "LIMIT = 11").replace(
            "floor: int = 0", "floor: int = 1"
        )
        assert reexec.run_anew(toy, mutated, frozenset({"LIMIT"})) >= 2
        assert toy.LIMIT == 11 and importer.LIMIT == 11  # imported by name: follows
        assert clamp is toy.clamp and clamp(20) == 11 and clamp(3) == 4  # same function
        assert toy.Box.size == 12 and box.size == 12  # LIMIT + 1, computed anew
        assert toy.Box is type(box)  # classes keep their identity
    finally:
        del sys.modules["toy_importer"]
        sys.modules.pop("toy_module", None)


def test_the_unmutated_source_carries_nothing(tmp_path: Path) -> None:
    toy = load_toy(tmp_path)
    assert reexec.run_anew(toy, TOY, frozenset()) == 0


def test_an_instance_changed_on_the_mutated_line_cannot_be_carried(tmp_path: Path) -> None:
    source = TOY + "\nDEFAULT_BOX = Box()\n"
    toy = load_toy(tmp_path, source)
    before = toy.DEFAULT_BOX
    assert reexec.run_anew(toy, source, frozenset()) == 0  # made again, unchanged: kept
    assert toy.DEFAULT_BOX is before
    with pytest.raises(reexec.CannotCarryOver, match="DEFAULT_BOX"):
        reexec.run_anew(toy, source, frozenset({"DEFAULT_BOX"}))


def test_objects_made_again_are_kept_and_noted(tmp_path: Path) -> None:
    source = TOY + "\nimport threading\nGUARD = threading.Lock()\n"
    toy = load_toy(tmp_path, source)
    guard = toy.GUARD
    reexec.run_anew(toy, source, frozenset())
    assert toy.GUARD is guard and reexec.kept_as_they_were == ["GUARD"]
    reexec.run_anew(toy, TOY + "\nimport threading\n", frozenset())
    assert reexec.kept_as_they_were == []


def test_a_default_value_is_in_the_signature_and_a_constant_is_not() -> None:
    assert import_time.in_signature(TOY, line_of("def clamp"))
    assert not import_time.in_signature(TOY, line_of("LIMIT = 10"))
    assert not import_time.in_signature(TOY, line_of("if x > LIMIT"))
    assert import_time.bound_names(TOY, line_of("LIMIT = 10")) == {"LIMIT"}
    assert import_time.bound_names(TOY, line_of("size = LIMIT")) == {"Box"}


def test_a_removed_decorator_cannot_be_carried(tmp_path: Path) -> None:
    shelf = "class Shelf:\n    @property\n    def width(self) -> int:\n        return 2\n"
    source = TOY + "\n\n" + shelf
    toy = load_toy(tmp_path, source)
    with pytest.raises(reexec.CannotCarryOver, match="width is now a function"):
        reexec.run_anew(toy, source.replace("    @property\n", ""), frozenset({"Shelf"}))
    assert toy.Shelf().width == 2


@pytest.mark.parametrize("engine", ["selective", "cosmic-ray"])
def test_a_recheck_runs_only_the_survivors_with_the_engine_asked_for(
    tmp_path: Path, engine: str
) -> None:
    """A survivor that a new test kills is killed by the recheck; a mutant killed before
    is not run again (its verdict stays as it was, even a wrong one); the cosmic-ray
    recheck runs its own way (`cosmic-ray exec`, which writes no engine statistics)."""
    module = "src/toy_pkg/calc.py"
    session, _ = toy_project(tmp_path, module)
    spare, limit = line_of("SPARE = 3"), line_of("LIMIT = 10")
    with use_db(str(session), WorkDB.Mode.open) as db:
        outcomes = {}
        for item in db.work_items:
            line = item.mutations[0].start_pos[0]
            operator = item.mutations[0].operator_name
            if line in (spare, limit) and operator == "core/NumberReplacer":
                outcomes[item.job_id] = "survived" if line == spare else "killed"
                verdict = Outcome.SURVIVED if line == spare else Outcome.KILLED
                db.set_result(item.job_id, WorkResult(WorkerOutcome.NORMAL, "", verdict, ""))
            else:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED))
    assert sorted(set(outcomes.values())) == ["killed", "survived"]
    tests = tmp_path / "tests" / "test_calc.py"
    spare_test = "\nfrom toy_pkg.calc import SPARE\n\ndef test_spare():\n    assert SPARE == 3\n"
    tests.write_text(
        tests.read_text().replace("== 10", "== 10 or True", 1) + spare_test
    )  # LIMIT's mutants would survive now: a recheck that ran them would say so
    settings = run.Settings(timeout_factor=3.0, minimum_score=85.0, exclude_operators=())
    spec = run.ModuleSpec(module, ("tests/test_calc.py",), 0.0)
    assert run.rerun_survivors(spec, settings, tmp_path, engine) == 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        assert not db.pending_work_items
        after = {
            i.job_id: r.test_outcome for i, r in db.completed_work_items if i.job_id in outcomes
        }
    assert after == dict.fromkeys(outcomes, Outcome.KILLED)
    assert (tmp_path / "engine-stats.json").exists() == (engine == "selective")
