"""cosmic-ray's ExceptionReplacer, able to mutate a dotted name in a tuple of exceptions.

The operator mutates an ``except`` clause by setting the ``value`` of the name it replaces.
In ``except (OSError, asyncio.TimeoutError)`` the second name is a parso node
(``asyncio`` ``.TimeoutError``), which has no ``value``: cosmic-ray 8.4 raises
AttributeError while making that mutant, and engine.py's pytest session stops with an
internal error, so no mutant of the module is tested (ninja plugin.py, 2026-12-02). Here
such a node is replaced by the one name ``CosmicRayTestingException``, as a plain name's
leaf is: the same mutant cosmic-ray makes of every other name in a clause.
"""

from __future__ import annotations

from typing import Any

from cosmic_ray.exceptions import CosmicRayTestingException  # type: ignore[import-untyped]
from cosmic_ray.operators.exception_replacer import (  # type: ignore[import-untyped]
    ExceptionReplacer,
)
from parso.python.tree import Name

__all__ = ["install", "mutate"]

_REPLACEMENT = CosmicRayTestingException.__name__
_leaf_mutate = ExceptionReplacer.mutate


def mutate(self: Any, node: Any, index: int) -> Any:
    """ExceptionReplacer.mutate: the ``index``-th name of the clause ``node`` replaced by
    ``CosmicRayTestingException``, a dotted name as a whole."""
    target = ExceptionReplacer._name_nodes(node)[index]
    if hasattr(target, "value"):  # a leaf: cosmic-ray's own way
        return _leaf_mutate(self, node, index)
    parent = target.parent
    name = Name(_REPLACEMENT, target.start_pos, prefix=target.get_first_leaf().prefix)
    name.parent = parent
    parent.children[parent.children.index(target)] = name
    return node


def install() -> None:
    """Make every ExceptionReplacer (``core/ExceptionReplacer``) mutate this way."""
    ExceptionReplacer.mutate = mutate
