"""Where a mutant sits in its module: function, source line, annotation or syntax.

Used by mutation/run.py to key equivalent mutants and to leave out mutants that test
nothing (inside type annotations, or on a `*` that is syntax rather than arithmetic).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


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

    @classmethod
    def of(cls, text: str) -> SourceIndex:
        """Index the source text of a module."""
        tree = ast.parse(text)
        spans = definition_spans(tree), annotation_spans(tree), operator_spans(tree)
        return cls(text.splitlines(), *spans)

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
