"""Our ``client_order_id`` in the form a venue takes, derived deterministically.

The same id always gives the same venue id, so a new process finds an order again
without any stored state; the lookup hints record it anyway (:func:`venue_client_id`).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from fks_exec_ccxt.venues import ClientIdRule

__all__ = ["echoed_client_id", "venue_client_id"]


@lru_cache(maxsize=64)
def _allowed(charset: str, max_length: int) -> re.Pattern[str]:
    return re.compile(f"[{charset}]{{1,{max_length}}}")


def _digest(client_order_id: str) -> str:
    return hashlib.sha256(client_order_id.encode()).hexdigest()


def venue_client_id(client_order_id: str, rule: ClientIdRule) -> str:
    """The id sent for ``client_order_id`` under ``rule`` (prefix included).

    Kept as it is when the venue allows it; otherwise the leading hex digits of its
    SHA-256 (``hex128``: ``0x`` + 32 of them; ``int63``: an integer below 2**62).
    """
    if rule.form == "hex128":
        text = client_order_id.lower()
        core = text if re.fullmatch("[0-9a-f]{32}", text) else _digest(client_order_id)[:32]
        return "0x" + core
    if rule.form == "int63":
        if re.fullmatch("[1-9][0-9]{0,17}", client_order_id):
            return client_order_id
        return str(int(_digest(client_order_id)[:15], 16) + 1)
    room = rule.max_length - len(rule.prefix)
    if _allowed(rule.charset, room).fullmatch(client_order_id):
        core = client_order_id
    else:
        core = _digest(client_order_id)[:room]
    return rule.prefix + core


def echoed_client_id(raw: dict[str, Any], rule: ClientIdRule) -> str | None:
    """The venue's form of the client id in a ccxt order structure, where ``rule`` says."""
    if rule.echo == "clientOrderId":
        value = raw.get("clientOrderId")
    else:
        value = (raw.get("info") or {}).get(rule.echo.removeprefix("info."))
    return None if value in (None, "") else str(value)
