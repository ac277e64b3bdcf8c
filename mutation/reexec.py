"""Put an import-time mutant (a constant, a default value, a class attribute) into a process
that has already imported the module: run the mutated module anew and carry over what changed.

The mutated source runs in a fresh module object. The original module then takes from it,
in place, so every existing reference sees the change:
- a function keeps its identity and takes the new code, defaults and keyword defaults (also
  through `__wrapped__`, and for the methods, static and class methods and properties of a
  class defined in the module);
- a plain value that changed (numbers, text, tuples, dicts... of such, compiled patterns,
  foreign classes) is rebound in the module and in every module that imported it by name;
- any other object that is merely new (a lock, a logger, a dataclass's field table: made
  again by unchanged code) is left as it was, so identities hold.
CannotCarryOver is raised, and the mutant must be tested by importing the mutated file,
when the names bound on the mutated line change in a way that cannot be carried over (an
instance, a pydantic field), or when nothing at all was carried over. Running the
unmutated source this way first (engine.py does) shows whether a module can use this.
"""

from __future__ import annotations

import re
import sys
import types
from decimal import Decimal
from typing import Any

_SKIP = frozenset(
    {
        "__dict__",
        "__weakref__",
        "__module__",
        "__qualname__",
        "__doc__",
        "__annotations__",
        "__orig_bases__",
        "__parameters__",
    }
)


class CannotCarryOver(Exception):
    """The mutated module differs in a way that cannot be put into the running one."""


def run_anew(module: types.ModuleType, source: str, mutated_names: frozenset[str]) -> int:
    """Run `source` as `module` and carry what changed into `module` itself; returns how many
    changes were carried. `mutated_names` are the names the mutated line binds: a change to
    one of them that cannot be carried over raises CannotCarryOver."""
    fresh = types.ModuleType(module.__name__)
    for key in ("__file__", "__package__", "__spec__", "__loader__", "__path__"):
        if key in module.__dict__:
            fresh.__dict__[key] = module.__dict__[key]
    code = compile(source, str(module.__file__), "exec", dont_inherit=True)
    sys.modules[module.__name__] = fresh
    try:
        exec(code, fresh.__dict__)  # the module's own source, mutated
    finally:
        sys.modules[module.__name__] = module
    carried = 0
    kept_as_they_were.clear()
    for name, new in fresh.__dict__.items():
        if name.startswith("__") and name.endswith("__"):
            continue
        old = module.__dict__.get(name, _MISSING)
        if old is _MISSING:
            raise CannotCarryOver(f"{name} exists only in the mutant")
        carried += carry(module, name, old, new, name in mutated_names)
    return carried


_MISSING = object()
kept_as_they_were: list[str] = []
"""Names of objects the last run_anew left as they were because they are not plain data
(made again by unchanged code, or machinery a class rebuilds): a value derived from a
mutated constant might hide among them, so engine.py trusts such a module only for
mutants of default values."""


def carry(module: types.ModuleType, name: str, old: Any, new: Any, mutated: bool) -> int:
    """Carry one module-level name over from the fresh module; returns the changes made."""
    if old is new:
        return 0
    if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        return copy_function(old, new)
    if isinstance(old, type) and getattr(old, "__module__", None) == module.__name__:
        if not isinstance(new, type):
            raise CannotCarryOver(f"{name} is no longer a class")
        return copy_class(old, new)
    if isinstance(old, types.ModuleType | type) or same(old, new):
        return 0  # an import, a foreign class, an equal value
    if is_plain(old) and is_plain(new):
        rebind(module, name, old, new)
        return 1
    if mutated:
        raise CannotCarryOver(f"{name} changed and is not a plain value")
    if type(old).__module__ not in ("typing", "typing_extensions"):
        kept_as_they_were.append(name)
    return 0  # made again by unchanged code: the running one stays


def copy_function(old: types.FunctionType, new: types.FunctionType) -> int:
    """Give `old` the code and defaults of `new` (and so on down `__wrapped__`); returns 1
    when anything differed."""
    if len(old.__code__.co_freevars) != len(new.__code__.co_freevars):
        raise CannotCarryOver(f"{old.__qualname__}: its closure changed")
    changed = int(
        old.__code__ != new.__code__
        or not same(old.__defaults__, new.__defaults__)
        or not same(old.__kwdefaults__, new.__kwdefaults__)
    )
    old.__code__ = new.__code__
    old.__defaults__ = new.__defaults__
    old.__kwdefaults__ = new.__kwdefaults__
    inner_old, inner_new = getattr(old, "__wrapped__", None), getattr(new, "__wrapped__", None)
    if isinstance(inner_old, types.FunctionType) and isinstance(inner_new, types.FunctionType):
        changed += copy_function(inner_old, inner_new)
    return changed


def copy_class(old: type, new: type) -> int:
    """Carry each attribute of a class defined in the module over from its fresh twin;
    returns the changes made. Attributes that are only new objects are left as they are."""
    if set(old.__dict__) != set(new.__dict__):
        raise CannotCarryOver(f"{old.__qualname__}: other attributes")
    changed = 0
    for attr, value in new.__dict__.items():
        current = old.__dict__[attr]
        if attr in _SKIP or current is value:
            continue
        if type(current) is not type(value):  # a decorator removed: property -> function...
            raise CannotCarryOver(f"{old.__qualname__}.{attr} is now a {type(value).__name__}")
        if isinstance(current, types.FunctionType) and isinstance(value, types.FunctionType):
            changed += copy_function(current, value)
        elif isinstance(current, staticmethod | classmethod) and type(current) is type(value):
            changed += copy_function(current.__func__, value.__func__)  # type: ignore[arg-type]
        elif isinstance(current, property) and isinstance(value, property):
            for accessor in ("fget", "fset", "fdel"):
                before, after = getattr(current, accessor), getattr(value, accessor)
                if isinstance(before, types.FunctionType) and isinstance(after, types.FunctionType):
                    changed += copy_function(before, after)
        elif isinstance(current, type) and current.__module__ == old.__module__:
            changed += copy_class(current, value)
        elif not same(current, value) and is_plain(current) and is_plain(value):
            setattr(old, attr, value)
            changed += 1
        elif not same(current, value) and not isinstance(current, _DESCRIPTORS):
            kept_as_they_were.append(f"{old.__qualname__}.{attr}")
    return changed


_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)


def same(old: Any, new: Any) -> bool:
    """Whether two values are equal and of one type (a comparison that fails is a no)."""
    try:
        return type(old) is type(new) and bool(old == new)
    except Exception:
        return False


_ATOMS = (int, float, complex, str, bytes, bool, type(None), Decimal, re.Pattern, range)


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether `value` is data that no other object can hold a changed view of."""
    if depth > 8:
        return False
    if isinstance(value, _ATOMS):
        return True
    if isinstance(value, type):
        return True  # a class as a key or value (a foreign one: the module's own are copied)
    if isinstance(value, tuple | frozenset | list | set):
        return all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(is_plain(k, depth + 1) and is_plain(v, depth + 1) for k, v in value.items())
    return False


def rebind(module: types.ModuleType, name: str, old: Any, new: Any) -> None:
    """Bind `name` to `new` in the module and wherever `old` was imported under that name."""
    for other in list(sys.modules.values()):
        namespace = getattr(other, "__dict__", None)
        if isinstance(namespace, dict) and namespace.get(name, _MISSING) is old:
            namespace[name] = new
    module.__dict__[name] = new
