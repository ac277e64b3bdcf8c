"""Where a mutant sits in its module: function, source line, annotation or syntax.

Used by mutation/run.py to key equivalent mutants and to leave out mutants that test
nothing (inside type annotations, or on a `*` that is syntax rather than arithmetic).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field


def definition_spans(tree: ast.Module) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every class and function, outermost first."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def annotation_spans(tree: ast.Module) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Start and end (line, column) of every type annotation; mutating them tests nothing."""
    nodes: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            nodes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            nodes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            nodes.append(node.annotation)
    return [
        ((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in nodes
    ]


def body_spans(tree: ast.Module) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Start and end of the body of every function and lambda: code that runs when it is called.

    Everything else (module and class bodies, decorators, default values) runs at import.
    """
    spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
    first: ast.stmt | ast.expr
    last: ast.stmt | ast.expr
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first, last = node.body[0], node.body[-1]
        elif isinstance(node, ast.Lambda):
            first = last = node.body
        else:
            continue
        end = (last.end_lineno or last.lineno, last.end_col_offset or 0)
        spans.append(((first.lineno, first.col_offset), end))
    return spans


def statement_spans(tree: ast.Module) -> list[tuple[int, int]]:
    """First and last line of every statement; of a compound one (if, for, def, except...),
    only its header, the lines before its body."""
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt | ast.ExceptHandler | ast.match_case):
            continue
        start = node.pattern.lineno if isinstance(node, ast.match_case) else node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body:
            spans.append((start, max(start, body[0].lineno - 1)))
        else:
            spans.append((start, getattr(node, "end_lineno", None) or start))
    return spans


def operator_spans(tree: ast.Module) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Start and end of every binary operation; a `*` elsewhere (`def f(*, x)`) is syntax."""
    return [
        ((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0))
        for n in ast.walk(tree)
        if isinstance(n, ast.BinOp | ast.AugAssign)
    ]


@dataclass(frozen=True)
class SourceIndex:
    """Answers, for a position in one module, its function, its line and whether it is typing."""

    lines: list[str]
    definitions: list[tuple[int, int, str]]
    annotations: list[tuple[tuple[int, int], tuple[int, int]]]
    operations: list[tuple[tuple[int, int], tuple[int, int]]]
    bodies: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    statements: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> SourceIndex:
        """Index the source text of a module."""
        tree = ast.parse(text)
        spans = definition_spans(tree), annotation_spans(tree), operator_spans(tree)
        return cls(text.splitlines(), *spans, body_spans(tree), statement_spans(tree))

    def function(self, line: int) -> str:
        """The innermost class or function enclosing `line`, or <module>."""
        inside = [name for first, last, name in self.definitions if first <= line <= last]
        return inside[-1] if inside else "<module>"

    def line(self, line: int) -> str:
        """The stripped text of a 1-based line."""
        return self.lines[line - 1].strip()

    def in_annotation(self, start: tuple[int, int]) -> bool:
        """Whether a mutation starting at `start` lies inside a type annotation."""
        return any(begin <= start < end for begin, end in self.annotations)

    def runs_when_called(self, start: tuple[int, int]) -> bool:
        """Whether a mutation at `start` lies in a function's (or lambda's) body, so that it
        changes nothing until the function is called (and not at import)."""
        return any(begin <= start <= end for begin, end in self.bodies)

    def statement_lines(self, line: int) -> range:
        """The lines of the innermost statement (or compound statement's header) holding
        `line`: a tracer may report any of them when that statement runs."""
        holding = [(last - first, first, last) for first, last in self.statements]
        inside = [span for span in holding if span[1] <= line <= span[2]]
        if not inside:
            return range(line, line + 1)
        _, first, last = min(inside)
        return range(first, last + 1)

    def not_an_operation(self, operator: str, start: tuple[int, int]) -> bool:
        """Whether a binary-operator mutant sits on a `*` that is syntax, not arithmetic."""
        if not operator.startswith("core/ReplaceBinaryOperator_"):
            return False
        return not any(begin <= start < end for begin, end in self.operations)


def mutant_line(diff: str) -> str:
    """The first added line of a cosmic-ray diff, stripped."""
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            return line[1:].strip()
    return ""
