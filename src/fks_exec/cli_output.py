"""What every ``fks-exec`` command shares: its exit codes and its plain-text table."""

from __future__ import annotations

from typing import TextIO

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_UNKNOWN", "EXIT_USAGE", "write_table"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3
"""0 success; 1 the broker rejected or cancelled the order with nothing filled, or a
health check failed; 2 nothing was sent (usage or configuration error, an order refused
before sending, no broker reachable); 3 the order's outcome is unknown (reconcile, do
not resend)."""


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
