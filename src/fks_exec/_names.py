"""Parsing of the comma-separated name lists used in FKS_EXEC_* variables."""

from __future__ import annotations


def parse_name_list(text: str | None) -> list[str]:
    """Split ``"a, b,c"`` into ``["a", "b", "c"]``; empty items are dropped."""
    if not text:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]
