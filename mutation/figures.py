"""Print the mutation figures of docs/reliability.md as a Markdown table.

For each module in mutation/modules.toml it tallies the newest session found in the given
work directories (several people may each run modules in their own), with its CPU seconds,
and gives the recorded floor for modules that have no session.

Usage: python mutation/figures.py [WORKDIR ...]   (default: $TMPDIR/fks-exec-mutation)
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from run import sandbox_of
from table import ModuleSpec, load_table
from tally import ModuleResult, collect


def newest_session(spec: ModuleSpec, workdirs: Sequence[Path]) -> Path | None:
    """The sandbox holding the most recent session of `spec`'s module, if any."""
    found = [sandbox_of(spec, w) for w in workdirs]
    found = [s for s in found if (s / "session.sqlite").exists()]
    return max(found, key=lambda s: (s / "session.sqlite").stat().st_mtime, default=None)


def row(spec: ModuleSpec, workdirs: Sequence[Path]) -> tuple[str, float | None]:
    """One table row for a module, and its CPU seconds when its session recorded them."""
    sandbox = newest_session(spec, workdirs)
    name = f"`{spec.path}`"
    if sandbox is None:
        return f"| {name} | - | - | - | - | - | {spec.score:.1f} % | - |", None
    try:
        result = collect(ModuleResult(spec), sandbox)
    except (IndexError, OSError, ValueError) as error:  # a run is rewriting that sandbox
        return f"| {name} | - | - | - | - | unreadable ({error}) | {spec.score:.1f} % | - |", None
    when = datetime.fromtimestamp((sandbox / "session.sqlite").stat().st_mtime, timezone.utc)
    cpu = "-" if result.cpu_seconds is None else f"{result.cpu_seconds:.0f}"
    partial = f" ({result.pending} not run)" if result.pending else ""
    return (
        f"| {name} | {when:%H:%M} | {result.killed} | {result.survived} | {result.equivalent}"
        f" | {result.score:.1f} %{partial} | {spec.score:.1f} % | {cpu} |",
        result.cpu_seconds if not result.pending else None,
    )


def main(argv: Sequence[str]) -> int:
    """Print the table and the CPU total of the modules whose full session was measured."""
    workdirs = [Path(a) for a in argv] or [Path(tempfile.gettempdir()) / "fks-exec-mutation"]
    _, table = load_table()
    print("| module | run (UTC) | killed | survived | equivalent | score | recorded | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    measured: list[float] = []
    for spec in table.values():
        line, cpu = row(spec, workdirs)
        print(line)
        if cpu is not None:
            measured.append(cpu)
    total = sum(measured)
    print(f"\n{len(measured)} of {len(table)} modules measured in full: {total:.0f} CPU-s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
