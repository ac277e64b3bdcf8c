"""The bridge's wire format: length-prefixed JSON frames and an HMAC handshake.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. The server
opens with ``{"hello": <nonce hex>}``; the client answers ``{"auth": HMAC-SHA256(secret,
nonce) hex}``; the server answers ``{"ok": true}`` or closes. Then each request
``{"call": name, "args": [...], "kwargs": {...}}`` gets ``{"value": ..., "last_error":
[code, text]}`` or ``{"error": text}``. Result records (struct sequences with
``_asdict``) are ``{"__record__": type name, "fields": {...}}``; datetimes are
``{"__datetime__": ISO text}``.

Whatever arrives is read with bounds, so a broken or hostile peer costs a
:class:`ProtocolError`, never a crash or a stall: frames over their limit are refused
before they are read (a peer that has not passed the handshake gets
:data:`MAX_HANDSHAKE_FRAME`), integers over 40 digits, nesting over 32 levels,
malformed records and record names that are not identifiers are refused, and at most
256 record types are remembered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import struct
from collections import namedtuple
from datetime import datetime
from functools import lru_cache
from typing import Any

__all__ = [
    "FUNCTIONS",
    "MAX_FRAME",
    "MAX_HANDSHAKE_FRAME",
    "ProtocolError",
    "decode",
    "encode",
    "loads",
    "proof",
    "read_frame",
    "write_frame",
]

MAX_FRAME = 64 * 1024 * 1024
"""Largest frame accepted (a long history can be big; anything larger is refused)."""
MAX_HANDSHAKE_FRAME = 64 * 1024
"""Largest frame read before the peer proved it knows the secret (and the constants)."""
_MOST_INT_DIGITS = 40
_DEEPEST = 32

FUNCTIONS = frozenset(
    {
        "initialize",
        "login",
        "shutdown",
        "version",
        "last_error",
        "account_info",
        "terminal_info",
        "symbols_total",
        "symbols_get",
        "symbol_info",
        "symbol_info_tick",
        "symbol_select",
        "market_book_add",
        "market_book_get",
        "market_book_release",
        "copy_rates_from",
        "copy_rates_from_pos",
        "copy_rates_range",
        "copy_ticks_from",
        "copy_ticks_range",
        "orders_total",
        "orders_get",
        "order_calc_margin",
        "order_calc_profit",
        "order_check",
        "order_send",
        "positions_total",
        "positions_get",
        "history_orders_total",
        "history_orders_get",
        "history_deals_total",
        "history_deals_get",
    }
)
"""The MetaTrader5 package's functions (https://www.mql5.com/en/docs/python_metatrader5);
the only names the server will call."""


class ProtocolError(Exception):
    """A frame that is not valid, too large, or a connection closed mid-frame."""


def proof(secret: str, nonce: str) -> str:
    """The handshake answer: HMAC-SHA256 of ``nonce`` keyed with ``secret``, in hex."""
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def write_frame(sock: socket.socket, message: Any) -> None:
    """Send ``message`` as one frame (raises ``OSError`` when the socket fails)."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise ProtocolError("connection closed")
        chunks += chunk
    return bytes(chunks)


def read_frame(sock: socket.socket, limit: int = MAX_FRAME) -> Any:
    """Read one frame of at most ``limit`` bytes; raises :class:`ProtocolError` or
    ``OSError`` (timeouts too)."""
    (size,) = struct.unpack(">I", _exactly(sock, 4))
    if size > limit:
        raise ProtocolError(f"frame of {size} bytes is over the limit of {limit}")
    return loads(_exactly(sock, size))


def loads(body: bytes) -> Any:
    """A frame's body as JSON data; raises :class:`ProtocolError` for what is not
    UTF-8 JSON, nests too deep or has an integer of more than 40 digits."""
    try:
        return json.loads(body, parse_int=_bounded_int)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"not JSON: {str(exc)[:80]}") from None


def _bounded_int(text: str) -> int:
    if len(text) > _MOST_INT_DIGITS + 1:  # before int(): a huge one is slow to parse
        raise ProtocolError(f"an integer of {len(text)} digits")
    return int(text)


def encode(value: Any) -> Any:
    """``value`` as JSON-able data: records as field maps, tuples as lists."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if hasattr(value, "_asdict"):
        fields = {k: encode(v) for k, v in value._asdict().items()}
        return {"__record__": type(value).__name__, "fields": fields}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays of rates and ticks
        return encode(value.tolist())
    raise TypeError(f"the bridge cannot carry a {type(value).__name__}")


@lru_cache(maxsize=256)
def _record_type(name: str, fields: tuple[str, ...]) -> Any:
    try:
        return namedtuple(name, fields)  # refuses keywords, "_x", duplicates, non-names
    except (ValueError, TypeError):
        raise ProtocolError(f"not a record type: {name[:40]!r} {fields[:3]!r}") from None


def decode(value: Any, _depth: int = 0) -> Any:
    """Inverse of :func:`encode`: field maps become named tuples, lists tuples.

    Raises :class:`ProtocolError` for a malformed record or datetime and for nesting
    over 32 levels (no real result nests more than three).
    """
    if _depth > _DEEPEST:
        raise ProtocolError(f"nested over {_DEEPEST} levels")
    if isinstance(value, list):
        return tuple(decode(v, _depth + 1) for v in value)
    if isinstance(value, dict):
        if "__record__" in value:
            name, fields = value["__record__"], value.get("fields")
            if not isinstance(name, str) or not isinstance(fields, dict):
                raise ProtocolError("a record needs a type name and a map of fields")
            kind = _record_type(name, tuple(fields))
            return kind(*(decode(v, _depth + 1) for v in fields.values()))
        if "__datetime__" in value:
            text = value["__datetime__"]
            try:
                return datetime.fromisoformat(text)
            except (TypeError, ValueError):
                raise ProtocolError(f"not a datetime: {str(text)[:40]!r}") from None
        return {k: decode(v, _depth + 1) for k, v in value.items()}
    return value
