"""Put a mutant into a process that has already imported the module: swap function code.

Every function object keeps its code in `__code__`. Compiling the mutated source gives a tree
of code objects shaped like the original's (a mutation changes an expression, never which
functions exist), so each function whose code differs can be given its mutated twin in place:
every reference to the function (imports elsewhere, class dicts, decorators' `__wrapped__`,
bound methods made later) then runs the mutant. Closures made later come from the patched
outer code. Only function code is swapped: a mutant that changes module or class bodies must
be tested by importing the mutated file (selection.Route.WHOLE).
"""

from __future__ import annotations

import gc
import types
from collections.abc import Iterator

CodeKey = tuple[str, int]  # (qualified name, first line): one function definition in a file


def key_of(code: types.CodeType) -> CodeKey:
    """The definition a code object was compiled from."""
    return code.co_qualname, code.co_firstlineno


def walk(code: types.CodeType) -> Iterator[types.CodeType]:
    """`code` and every code object nested in it, depth first, in constant order."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from walk(const)


def changed_functions(
    original: str, mutated: str, filename: str
) -> list[tuple[CodeKey, types.CodeType]]:
    """The (key of the original, mutated code) of every function whose code the mutation
    changed, the innermost first. Raises ValueError when the two trees differ in shape."""
    before = list(walk(compile(original, filename, "exec", dont_inherit=True)))
    after = list(walk(compile(mutated, filename, "exec", dont_inherit=True)))
    if [c.co_qualname for c in before] != [c.co_qualname for c in after]:
        raise ValueError("the mutated module defines other functions than the original")
    pairs = [
        (key_of(old), new)
        for old, new in zip(before, after, strict=True)
        if old != new and old.co_flags & _FUNCTION_FLAG
    ]
    return pairs[::-1]


# A function's code is "optimized" (fast locals); module and class bodies are not.
_FUNCTION_FLAG = 0x0001  # inspect.CO_OPTIMIZED


def live_functions(filename: str) -> dict[CodeKey, list[types.FunctionType]]:
    """Every function object alive now whose code comes from `filename`, by its key."""
    found: dict[CodeKey, list[types.FunctionType]] = {}
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__.co_filename == filename:
            found.setdefault(key_of(obj.__code__), []).append(obj)
    return found


def apply(
    changes: list[tuple[CodeKey, types.CodeType]],
    functions: dict[CodeKey, list[types.FunctionType]],
) -> int:
    """Give every live function in `changes` its mutated code; returns how many were patched
    (0 means the mutant cannot be put in place this way)."""
    patched = 0
    for key, code in changes:
        for function in functions.get(key, []):
            if len(function.__code__.co_freevars) != len(code.co_freevars):
                raise ValueError(f"{key[0]}: the mutant changes the closure's variables")
            function.__code__ = code
            patched += 1
    return patched
