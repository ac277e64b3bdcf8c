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


_LOWER_HEX32 = re.compile("[0-9a-f]{32}")


def _digest(client_order_id: str) -> str:
    return hashlib.sha256(client_order_id.encode()).hexdigest()


def venue_client_id(client_order_id: str, rule: ClientIdRule) -> str:
    """The id sent for ``client_order_id`` under ``rule`` (prefix included).

    Kept as it is when the venue allows it (its characters, its length, and for a venue
    with ``free_text_max`` either that short or exactly the full length); otherwise the
    leading hex digits of its SHA-256 (``hex128``: ``0x`` + 32 of them; ``int63``: an
    integer below 2**62).

    ``hex128`` keeps only an id that is already 32 lower-case hex digits: any other
    (upper-case hex included) is hashed, never case-folded, so two ids that differ in
    case never share a cloid (distinct ids collide only if SHA-256's first 128 bits do).
    """
    if rule.form == "hex128":
        kept = _LOWER_HEX32.fullmatch(client_order_id) is not None
        return "0x" + (client_order_id if kept else _digest(client_order_id)[:32])
    if rule.form == "int63":
        if re.fullmatch("[1-9][0-9]{0,17}", client_order_id):
            return client_order_id
        return str(int(_digest(client_order_id)[:15], 16) + 1)
    room = rule.max_length - len(rule.prefix)
    free = rule.free_text_max
    if _allowed(rule.charset, room).fullmatch(client_order_id) and (
        free is None or len(client_order_id) <= free or len(client_order_id) == room
    ):
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
