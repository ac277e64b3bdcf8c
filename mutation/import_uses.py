"""Which names other code read while it was imported: such a name's mutant must run from disk.

reexec.py rebinds a changed constant in the running process, but whatever another module
already built from it at import (a pydantic model from a shared `ConfigDict`, an annotated
field type, a table, a `parametrize` list) keeps the old value, so the mutant would survive
although a fresh import kills it. `ImportReaders` finds, once per session, every name that
the import-time code of the other loaded modules under a root reads (module and class bodies,
decorators, default values, annotations: everything but function bodies), and the names
that functions of the module under test read when their bodies ran at import (another
module may have called them then). A mutant binding one of those names goes to the disk.
The check is by name, so it is conservative: an unrelated module reading the same name only
costs a slower run, never a false verdict.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path


def assigned_names(source: str, line: int) -> frozenset[str]:
    """The names the top-level statement holding `line` stores (assignment targets, the
    name of a function or class), not the names it merely reads."""
    for node in ast.parse(source).body:
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                return frozenset({node.name})
            return frozenset(
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)
            )
    return frozenset()


def _import_time_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and every node under it that runs when its module is imported: function and
    lambda bodies are left out, their decorators, defaults and annotations kept."""
    yield node
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        parts: list[ast.AST] = [*node.decorator_list, node.args]
        parts += [node.returns] if node.returns is not None else []
    elif isinstance(node, ast.Lambda):
        parts = [node.args]
    else:
        parts = list(ast.iter_child_nodes(node))
    for part in parts:
        yield from _import_time_nodes(part)


def _names_in(nodes: Iterator[ast.AST]) -> set[str]:
    """The names and attribute names read among `nodes`, and the words of string constants
    (a quoted annotation is read by name when pydantic or typing resolves it)."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(w for w in _words(node.value) if w.isidentifier())
    return found


def _words(text: str) -> list[str]:
    """The identifier-like words of a string constant (short ones only: docstrings and
    messages are no annotations)."""
    if len(text) > 200:
        return []
    for mark in "[],.|()'\" ":
        text = text.replace(mark, " ")
    return text.split()


def read_at_import(source: str) -> set[str]:
    """Every name the import-time code of `source` reads."""
    return _names_in(_import_time_nodes(ast.parse(source)))


def read_by_functions_run_at_import(source: str, import_lines: frozenset[int]) -> set[str]:
    """The names read in the bodies of the functions of `source` whose body ran at import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = range(node.body[0].lineno, (node.end_lineno or node.lineno) + 1)
            if any(line in import_lines for line in body):
                found |= _names_in(ast.walk(node))
    return found


class ImportReaders:
    """The names read at import by code other than the module under test's own top level."""

    def __init__(self, target: Path, source: str, import_lines: frozenset[int], root: Path):
        self.target, self.root = target.resolve(), root.resolve()
        self.source, self.import_lines = source, import_lines
        self._readers: dict[str, set[str]] | None = None

    def readers(self) -> dict[str, set[str]]:
        """Name -> the modules (or `module:function`) that read it at import; computed once,
        over the modules loaded now whose file lies under the root."""
        if self._readers is None:
            self._readers = {}
            for name, module in list(sys.modules.items()):
                path = Path(getattr(module, "__file__", None) or "").resolve()
                if path == self.target or path.suffix != ".py" or self.root not in path.parents:
                    continue
                try:
                    names = read_at_import(path.read_text(encoding="utf-8"))
                except (OSError, SyntaxError, UnicodeDecodeError):
                    continue
                for read in names:
                    self._readers.setdefault(read, set()).add(name)
            own = read_by_functions_run_at_import(self.source, self.import_lines)
            for read in own:
                where = f"{self.target.name}: a function run at import"
                self._readers.setdefault(read, set()).add(where)
        return self._readers

    def reader_of(self, names: frozenset[str]) -> str | None:
        """One module that read one of `names` at import (`name in module`), or None."""
        readers = self.readers()
        for name in sorted(names):
            if name in readers:
                return f"{name} in {sorted(readers[name])[0]}"
        return None
