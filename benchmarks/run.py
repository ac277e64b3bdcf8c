"""Run every benchmarks/bench_*.py module and print one table of ratios.

Each module exposes ``run() -> list[dict]``; a row has ``name``, ``value``, ``unit``,
``goal`` (text such as "<= 1.25") and ``baseline`` (what the value is measured
against, in the same run). The rows are also written to benchmarks/results.json.

``python benchmarks/run.py --only bench_mock [--only bench_core ...]`` runs only the
named modules (for working on one area; results.json is then left alone).
"""

from __future__ import annotations

import importlib.util
import json
import operator
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
OPS = {"<=": operator.le, ">=": operator.ge}


def met(row: dict[str, Any]) -> str:
    op, _, bound = str(row["goal"]).partition(" ")
    check = OPS.get(op)
    return "-" if check is None else ("yes" if check(row["value"], float(bound)) else "NO")


def main(argv: list[str]) -> int:
    only = {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--only"}
    paths = [p for p in sorted(HERE.glob("bench_*.py")) if not only or p.stem in only]
    if only - {p.stem for p in paths}:
        print(
            f"no such benchmark module: {sorted(only - {p.stem for p in paths})}", file=sys.stderr
        )
        return 2
    rows: list[dict[str, Any]] = []
    for path in paths:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses look their module up while defining
        spec.loader.exec_module(module)
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        rows.extend(module.run())
    if not only:
        (HERE / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    header = f"{'benchmark':<44} {'value':>12} {'unit':<10} {'goal':<12} {'met':<4} baseline"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['name']:<44} {row['value']:>12,.3f} {row['unit']:<10} {row['goal']:<12} "
            f"{met(row):<4} {row['baseline']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
