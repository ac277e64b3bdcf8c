"""Run cosmic-ray over the modules in mutation/modules.toml, each in a private copy of the tree.

cosmic-ray mutates a file in place and then puts it back. In a checkout that other people (and
their test runs) share, that would expose half-mutated code and could overwrite an edit made
meanwhile, so every module is mutated in its own snapshot of the working tree (tracked and
untracked files, as they are now) under the work directory, imported from there through
PYTHONPATH ahead of the editable installs.

cosmic-ray makes the mutants and keeps the session; mutation/engine.py tests them (each in a
fork of one pytest session, against the tests that run its line). This wrapper adds what
cosmic-ray leaves to the user: the table of modules and their tests, a
baseline run (the tests must pass unmutated), leaving out exotic operator variants and type
annotations, the equivalent mutants recorded in mutation/equivalent.toml (keyed by module,
function, operator and source line, so unrelated edits do not lose them), and a score check.

Usage: python mutation/run.py [--module PATH ...] [--jobs N] [--sample N] [--report] [--workdir DIR]
Exit status: 0 when every module scores at least max(minimum_score, its recorded score).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
from cosmic_ray.work_item import (  # type: ignore[import-untyped]
    TestOutcome,
    WorkerOutcome,
    WorkResult,
)
from source_index import SourceIndex
from table import (
    EQUIVALENTS,
    REPO,
    TABLE,
    Equivalent,
    ModuleSpec,
    Settings,
    load_equivalents,
    load_table,
    matching_equivalent,
)
from tally import ModuleResult, collect, report

__all__ = ["EQUIVALENTS", "TABLE", "Equivalent", "ModuleResult", "main", "run_module"]


def snapshot(dest: Path) -> None:
    """Copy the working tree's tracked and untracked (not ignored) files into `dest`."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    if dest.exists():
        shutil.rmtree(dest)
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def sandbox_env(sandbox: Path) -> dict[str, str]:
    """The environment that makes `sandbox`'s packages win over the editable installs."""
    roots = [sandbox / "src", *sorted(sandbox.glob("plugins/*/src"))]
    env = dict(os.environ)
    # last: mutation/hypothesis_profile.py, the pytest plugin every mutant run loads
    paths = [*map(str, roots), env.get("PYTHONPATH", ""), str(REPO / "mutation")]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest_command(tests: Sequence[str]) -> list[str]:
    """The pytest command for one mutant: stop at the first failure, fixed hypothesis seed."""
    head = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    return [*head, "--hypothesis-seed=0", *tests]


def write_config(sandbox: Path, spec: ModuleSpec, timeout: float) -> Path:
    """Write the cosmic-ray session config for one module into its sandbox."""
    config = sandbox / "cosmic-ray.toml"
    command = " ".join(json.dumps(part)[1:-1] for part in pytest_command(spec.tests))
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(spec.path)}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        '\n[cosmic-ray.distributor]\nname = "local"\n',
        encoding="utf-8",
    )
    return config


def mark_left_out(
    db: WorkDB,
    spec: ModuleSpec,
    settings: Settings,
    equivalents: list[Equivalent],
    index: SourceIndex,
) -> int:
    """Mark as skipped: excluded operators, annotations, `*` that is syntax, `if TYPE_CHECKING`
    (imports for the type checker only), and recorded equivalents.

    Returns how many were left out for their operator or for lying in an annotation.
    """
    left_out = 0
    for item in db.work_items:
        (mutation,) = item.mutations
        operator = mutation.operator_name
        start = tuple(mutation.start_pos)
        if (
            any(p.fullmatch(operator) for p in settings.exclude_operators)
            or index.in_annotation(start)
            or index.not_an_operation(operator, start)
            or index.line(start[0]) == "if TYPE_CHECKING:"
        ):
            db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
            left_out += 1
            continue
        function, source = index.function(start[0]), index.line(start[0])
        matches = matching_equivalent(equivalents, spec.path, function, operator, source)
        if matches and any(m.mutant is None for m in matches):
            reason = "equivalent: " + matches[0].reason
            db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, output=reason))
    return left_out


def link_shared(workdir: Path) -> None:
    """Put ../shared (the ccxt static cases and fixtures) beside the sandboxes too.

    Tests find it as a sibling of the repository; a sandbox is a sibling of the others
    in ``workdir``, so without the link those tests skip and kill nothing.
    """
    shared = REPO.parent / "shared"
    link = workdir / "shared"
    if shared.is_dir() and not link.exists() and not link.is_symlink():
        link.symlink_to(shared, target_is_directory=True)


def sandbox_of(spec: ModuleSpec, workdir: Path) -> Path:
    """Where one module's copy of the tree and its cosmic-ray session live."""
    return workdir / re.sub(r"[^A-Za-z0-9]+", "_", spec.path)


def leave_out_all_but(db: WorkDB, sample: int) -> int:
    """Mark all but `sample` pending mutants (a seeded random choice) as not sampled."""
    pending = sorted(item.job_id for item in db.pending_work_items)
    keep = set(random.Random(0).sample(pending, min(sample, len(pending))))
    dropped = [job for job in pending if job not in keep]
    if dropped:
        db.set_multiple_results(dropped, WorkResult(WorkerOutcome.SKIPPED, output="not sampled"))
    return len(dropped)


def run_measured(
    command: Sequence[str], cwd: Path, env: dict[str, str], log: Path | None = None
) -> tuple[int, float]:
    """Run a command (its output to `log` if given); returns its exit status and the CPU
    seconds (user + system) it and the processes it waited for used: the measure of cost
    that a busy machine does not distort."""
    with open(log, "wb") if log else open(os.devnull, "wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink if log else None)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def run_module(
    spec: ModuleSpec,
    settings: Settings,
    workdir: Path,
    sample: int | None = None,
    engine: str = "selective",
) -> ModuleResult:
    """Mutate one module in its own sandbox and collect the outcome of every mutant.

    engine "selective" (mutation/engine.py) runs each mutant in a fork against the tests that
    run its line; "cosmic-ray" runs every mutant in a new pytest process over all the module's
    tests (slower by an order of magnitude; kept to compare verdicts and costs).
    """
    result = ModuleResult(spec)
    sandbox = sandbox_of(spec, workdir)
    snapshot(sandbox)
    env = sandbox_env(sandbox)
    missing = [t for t in (spec.path, *spec.tests) if not (sandbox / t).exists()]
    if missing:
        result.error = f"not found: {missing}; fix mutation/modules.toml"
        return result
    cpu = 0.0
    timeout = 0.0
    if engine == "cosmic-ray":
        try:
            timeout, cpu = cosmic_ray_timeout(spec, settings, sandbox, env)
        except RuntimeError as error:
            result.error = str(error)
            return result
    config = write_config(sandbox, spec, timeout)
    session = sandbox / "session.sqlite"
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    code, used = run_measured([*cosmic_ray, "init", str(config), str(session)], sandbox, env)
    if code != 0:
        result.error = f"cosmic-ray init failed (exit {code})"
        return result
    cpu += used
    index = SourceIndex.of((sandbox / spec.path).read_text(encoding="utf-8"))
    with use_db(str(session)) as db:
        result.left_out = mark_left_out(db, spec, settings, load_equivalents(), index)
        if sample is not None:
            result.left_out += leave_out_all_but(db, sample)
    if engine == "cosmic-ray":
        command = [*cosmic_ray, "exec", str(config), str(session)]
    else:
        command = engine_command(spec, settings, session, "pending")
    code, used = run_measured(command, sandbox, env)
    record_cpu(sandbox, cpu + used, engine)
    if code != 0:
        result.error = f"the {engine} run failed (exit {code}): see its output above"
        return result
    return collect(result, sandbox)


def cosmic_ray_timeout(
    spec: ModuleSpec, settings: Settings, sandbox: Path, env: dict[str, str]
) -> tuple[float, float]:
    """Run the module's tests once, unmutated, the way cosmic-ray will: returns the per-mutant
    timeout it should use and the CPU seconds spent; raises RuntimeError (with the output's
    tail) when the tests fail."""
    started = time.monotonic()
    log = sandbox / "baseline.log"
    code, cpu = run_measured(pytest_command(spec.tests), sandbox, env, log)
    if code != 0:
        raise RuntimeError("tests fail unmutated:\n" + log.read_text(errors="replace")[-3000:])
    return settings.timeout_factor * (time.monotonic() - started) + 5.0, cpu


def engine_command(spec: ModuleSpec, settings: Settings, session: Path, only: str) -> list[str]:
    """The command line of mutation/engine.py for one module's session."""
    engine = REPO / "mutation" / "engine.py"
    head = [sys.executable, str(engine), "--module", spec.path, "--session", str(session)]
    stats = session.parent / "engine-stats.json"
    options = ["--timeout-factor", str(settings.timeout_factor), "--only", only]
    return [*head, *options, "--stats", str(stats), *spec.tests]


def record_cpu(sandbox: Path, seconds: float, engine: str) -> None:
    """Keep a module's CPU cost next to its session, for the report."""
    text = json.dumps({"cpu_seconds": round(seconds, 1), "engine": engine})
    (sandbox / "cpu.json").write_text(text, encoding="utf-8")


def recheck(
    spec: ModuleSpec, settings: Settings, workdir: Path, engine: str = "selective"
) -> ModuleResult:
    """Run the last session's survivors again against the tests as they are now, with
    `engine` (as run_module's).

    The quick loop while killing survivors: only when the module itself is unchanged
    since that session (its mutants are numbered by position in it).
    """
    result = ModuleResult(spec)
    sandbox = sandbox_of(spec, workdir)
    session = sandbox / "session.sqlite"
    if not session.exists():
        result.error = f"no session in {sandbox}: run the module first"
        return result
    config = sandbox / "cosmic-ray.toml"
    before, saved = (sandbox / spec.path).read_text(encoding="utf-8"), session.read_bytes()
    settings_text = config.read_text(encoding="utf-8")
    snapshot(sandbox)
    session.write_bytes(saved)
    config.write_text(settings_text, encoding="utf-8")
    if (sandbox / spec.path).read_text(encoding="utf-8") != before:
        result.error = "the module changed since its session: run it in full"
        return result
    code = rerun_survivors(spec, settings, sandbox, engine)
    if code != 0:
        result.error = f"the {engine} recheck failed (exit {code}): see its output above"
        return result
    return collect(result, sandbox)


def rerun_survivors(spec: ModuleSpec, settings: Settings, sandbox: Path, engine: str) -> int:
    """Test the survivors of the session in `sandbox` again with `engine`; returns the exit
    status of the engine's run. cosmic-ray runs only pending mutants, so for it the
    survivors' results are dropped first (and set anew by its run)."""
    session = sandbox / "session.sqlite"
    env = sandbox_env(sandbox)
    if engine != "cosmic-ray":
        return run_measured(engine_command(spec, settings, session, "survived"), sandbox, env)[0]
    try:  # the session may come from the selective engine, whose config has no timeout
        timeout, _ = cosmic_ray_timeout(spec, settings, sandbox, env)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    config = write_config(sandbox, spec, timeout)
    reopen_survivors(session)
    command = [sys.executable, "-m", "cosmic_ray.cli", "exec", str(config), str(session)]
    return run_measured(command, sandbox, env)[0]


def reopen_survivors(session: Path) -> int:
    """Drop the results of the session's survivors, making them pending; returns how many."""
    with use_db(str(session), WorkDB.Mode.open) as db:
        survivors = [
            (item.job_id,)
            for item, result in db.completed_work_items
            if result.test_outcome == TestOutcome.SURVIVED
        ]
    with contextlib.closing(sqlite3.connect(session)) as connection, connection:
        connection.executemany("DELETE FROM work_results WHERE job_id = ?", survivors)
    return len(survivors)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the chosen modules (default: all) and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", help="a path from modules.toml (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="modules mutated at once")
    default_workdir = Path(tempfile.gettempdir()) / "fks-exec-mutation"
    parser.add_argument("--workdir", type=Path, default=default_workdir)
    parser.add_argument("--sample", type=int, help="run only N random mutants: an estimate")
    parser.add_argument(
        "--report", action="store_true", help="tally the last (or a running) session, run nothing"
    )
    parser.add_argument(
        "--recheck", action="store_true", help="run only the last session's survivors again"
    )
    parser.add_argument(
        "--engine",
        choices=["selective", "cosmic-ray"],
        default="selective",
        help="selective: each mutant in a fork against the tests that run its line (default);"
        " cosmic-ray: each in a new process against all the module's tests",
    )
    args = parser.parse_args(argv)
    settings, table = load_table()
    chosen = args.module or list(table)
    unknown = [m for m in chosen if m not in table]
    if unknown:
        parser.error(f"not in mutation/modules.toml: {unknown}; add a line there first")
    args.workdir.mkdir(parents=True, exist_ok=True)
    link_shared(args.workdir)
    # The PostgreSQL tests' server, started once per session, not once per mutant's fork.
    os.environ.setdefault("FKS_EXEC_PG_START_AT_COLLECTION", "1")
    if args.recheck:
        results = [recheck(table[m], settings, args.workdir, args.engine) for m in chosen]
        return 0 if report(results, settings) else 1
    if args.report:
        spec_of = table.__getitem__
        results = [
            collect(ModuleResult(spec_of(m)), sandbox_of(spec_of(m), args.workdir)) for m in chosen
        ]
        return 0 if report(results, settings) else 1
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = pool.map(
            lambda m: run_module(table[m], settings, args.workdir, args.sample, args.engine), chosen
        )
        results = list(runs)
    return 0 if report(results, settings) else 1


if __name__ == "__main__":
    sys.exit(main())
