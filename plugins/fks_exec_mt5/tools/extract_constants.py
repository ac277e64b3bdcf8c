"""Extract the constant table of the real MetaTrader5 package into tests/data.

The package is published for Windows only, but its constants are plain assignments in
``MetaTrader5/__init__.py`` of the wheel. Run (any OS, needs the package index):

    pip download --no-deps --only-binary=:all: --platform win_amd64 \\
        --python-version 3.11 MetaTrader5 -d /tmp/mt5
    python tools/extract_constants.py /tmp/mt5/metatrader5-*.whl

It writes tests/data/metatrader5-<version>.json, which the tests pin the plugin's
constants and the fake terminal's against, together with the lower-case identifiers
found in the compiled ``_core`` module (its function names and the field names of the
named tuples it returns), which pin the fake's functions and fields.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from pathlib import Path


def constants(source: str) -> dict[str, int]:
    """Every ``NAME = <int expression>`` at module level of the package's __init__."""
    table = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    value = eval(compile(ast.Expression(node.value), "<const>", "eval"), {})  # noqa: S307
                except Exception:  # noqa: S112 - not a constant expression
                    continue
                if isinstance(value, int):
                    table[target.id] = value
    return table


IDENTIFIER = re.compile(rb"(?<![A-Za-z0-9_])[a-z][a-z0-9_]{1,40}(?![A-Za-z0-9_])")


def identifiers(binary: bytes) -> list[str]:
    """Lower-case identifiers in a compiled module: its names and field names."""
    return sorted({m.decode() for m in IDENTIFIER.findall(binary)})


def main(wheel: str) -> int:
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("MetaTrader5/__init__.py").decode()
        core = next(n for n in archive.namelist() if n.startswith("MetaTrader5/_core"))
        binary = archive.read(core)
    version = next(
        line.split("'")[1] for line in source.splitlines() if line.startswith("__version__")
    )
    out = Path(__file__).parents[1] / "tests" / "data" / f"metatrader5-{version}.json"
    table = {
        "version": version,
        "constants": constants(source),
        "core_identifiers": identifiers(binary),
    }
    out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({len(constants(source))} constants)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
