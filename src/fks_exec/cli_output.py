"""What every ``fks-exec`` command shares: its exit codes and its plain-text table."""

from __future__ import annotations

from typing import TextIO

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "write_table"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
"""0 success; 1 not filled or accepted, or unhealthy; 2 usage or configuration error."""


def write_table(out: TextIO, rows: list[dict[str, str]], columns: list[str]) -> None:
    """Write ``rows`` to ``out`` as aligned ``columns`` under an upper-case header line,
    or ``(none)`` when there are no rows. Raises ``KeyError`` for a row without a column."""
    if not rows:
        out.write("(none)\n")
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip() + "\n")
