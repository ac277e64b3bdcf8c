"""Parsing of plugin names: comma lists of FKS_EXEC_* variables, instance names."""

from __future__ import annotations

import re


def parse_name_list(text: str | None) -> list[str]:
    """Split ``"a, b,c"`` into ``["a", "b", "c"]``; empty items are dropped."""
    if not text:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def split_instance(name: str) -> tuple[str, str | None]:
    """Split a plugin instance name ``"ccxt:okx-testnet"`` into ``("ccxt", "okx-testnet")``.

    A plain plugin name gives ``(name, None)``. Raises ``ValueError`` when the instance
    part is empty or holds characters other than letters, digits, ``-`` and ``_``.
    """
    kind, sep, instance = name.partition(":")
    if not sep:
        return name, None
    if not kind or not _INSTANCE.fullmatch(instance):
        raise ValueError(
            f"plugin instance name {name!r} must look like 'PLUGIN:INSTANCE' with an "
            "INSTANCE of letters, digits, '-' or '_' (e.g. 'ccxt:okx-testnet')"
        )
    return kind, instance
