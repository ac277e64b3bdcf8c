"""Import-time mutants in a fork: the mutated module run anew into the running one (reexec.py).

Used by engine.py before falling back to writing the mutant into the file and starting a new
pytest. Whether a module can be treated this way is checked once, on its unmutated source:
run anew and then every test, which must pass. A module whose classes are rebuilt in ways
that cannot be carried over (pydantic, enums, registries) fails that check and keeps the
slow, exact way for all its import-time mutants.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Sequence
from pathlib import Path

from forked import Exit, Limits, run_forked
from reexec import CannotCarryOver, kept_as_they_were, run_anew

NOT_CARRIED = 96  # the child could not carry the mutant over: test it on disk
KEPT_SOME = 95  # the check passed, but objects that are not plain data were kept


def bound_names(source: str, line: int) -> frozenset[str]:
    """The names that the top-level statement holding `line` binds."""
    for node in ast.parse(source).body:
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                return frozenset({node.name})
            targets = [t for n in ast.walk(node) if isinstance(n, ast.Name) for t in [n.id]]
            return frozenset(targets)
    return frozenset()


def in_signature(source: str, line: int) -> bool:
    """Whether `line` lies in the header (signature, defaults) of a function definition."""
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= line < node.body[0].lineno
        for node in ast.walk(ast.parse(source))
    )


class ImportTimeMutants:
    """Runs import-time mutants of one module in forks, once the module passed the check."""

    def __init__(
        self,
        module: types.ModuleType,
        source: str,
        run_tests: Callable[[], int],
        timeout: Limits | float,
        log: Path,
    ) -> None:
        self.module, self.source, self.run_tests = module, source, run_tests
        self.timeout, self.log = timeout, log
        self.usable: bool | None = None
        self.only_defaults = True

    def _child(self, mutated: str, names: frozenset[str], need_change: bool) -> int:
        try:
            carried = run_anew(self.module, mutated, names)
        except (CannotCarryOver, SyntaxError) as why:
            with self.log.open("a", encoding="utf-8") as out:
                out.write(f"not carried over: {why}\n")
            return NOT_CARRIED
        if need_change and not carried:
            return NOT_CARRIED
        code = self.run_tests()
        return KEPT_SOME if code == 0 and not need_change and kept_as_they_were else code

    def check(self) -> bool:
        """Whether the unmutated module, run anew, still passes every test (once); also
        notes whether it keeps objects that are not plain data (then only mutants of
        default values are run this way)."""
        if self.usable is None:
            exit_ = run_forked(
                lambda: self._child(self.source, frozenset(), False), self.timeout, self.log
            )
            self.usable = exit_.code in (0, KEPT_SOME)
            self.only_defaults = exit_.code == KEPT_SOME
        return self.usable

    def run(self, mutated: str, line: int) -> Exit | None:
        """Test one mutant in a fork: its exit (0: survived), or None to test it on disk."""
        if mutated.count("\n") != self.source.count("\n"):
            return None  # lines added or removed (a decorator): only a real import is exact
        if not self.check() or (self.only_defaults and not in_signature(self.source, line)):
            return None
        names = bound_names(mutated, line)
        exit_ = run_forked(lambda: self._child(mutated, names, True), self.timeout, self.log)
        return None if exit_.code == NOT_CARRIED else exit_


def all_tests_fastest_first(order: Sequence[str], durations: dict[str, float]) -> list[str]:
    """Every test of the baseline, the fastest first."""
    position = {t: i for i, t in enumerate(order)}
    return sorted(order, key=lambda t: (durations.get(t, 0.0), position[t]))
