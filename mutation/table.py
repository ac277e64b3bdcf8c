"""The two tables mutation/run.py reads: modules.toml (modules, their tests, their scores)
and equivalent.toml (surviving mutants judged equivalent, with their reasons)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import tomllib
from source_index import mutant_line

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "mutation" / "modules.toml"
EQUIVALENTS = REPO / "mutation" / "equivalent.toml"


@dataclass(frozen=True)
class Settings:
    """The [settings] table: timeout factor, score floor and left-out operators."""

    timeout_factor: float
    minimum_score: float
    exclude_operators: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class ModuleSpec:
    """One row of the [modules] table: a module, its tests, and its recorded score."""

    path: str
    tests: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class Equivalent:
    """A surviving mutant judged equivalent; `mutant` narrows it when the key is shared."""

    module: str
    function: str
    operator: str
    source: str
    reason: str
    mutant: str | None = None


def load_table(path: Path = TABLE) -> tuple[Settings, dict[str, ModuleSpec]]:
    """Read modules.toml; raises KeyError or ValueError naming a malformed entry."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    raw = data["settings"]
    settings = Settings(
        timeout_factor=float(raw["timeout_factor"]),
        minimum_score=float(raw["minimum_score"]),
        exclude_operators=tuple(re.compile(p) for p in raw["exclude_operators"]),
    )
    modules = {
        name: ModuleSpec(name, tuple(row["tests"]), float(row.get("score", 0.0)))
        for name, row in data["modules"].items()
    }
    return settings, modules


def load_equivalents(path: Path = EQUIVALENTS) -> list[Equivalent]:
    """Read equivalent.toml; every entry needs module, function, operator, source, reason."""
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    return [Equivalent(**entry) for entry in entries]


def matching_equivalent(
    equivalents: Iterable[Equivalent], module: str, function: str, operator: str, source: str
) -> list[Equivalent]:
    """The recorded equivalents whose key matches this mutant (before checking `mutant`)."""
    return [
        e
        for e in equivalents
        if (e.module, e.function, e.operator, e.source) == (module, function, operator, source)
    ]


def survivor_entry(module: str, function: str, operator: str, source: str, diff: str) -> str:
    """A new survivor as a ready-to-fill equivalent.toml entry, with its diff."""
    fields = {"module": module, "function": function, "operator": operator, "source": source}
    fields["mutant"] = mutant_line(diff)
    body = "\n".join(f"{key} = {json.dumps(value)}" for key, value in fields.items())
    hunk = "\n".join("# " + line for line in diff.splitlines() if not line.startswith("---"))
    return f'{hunk}\n[[equivalent]]\n{body}\nreason = "TODO: why no test can tell"\n'
