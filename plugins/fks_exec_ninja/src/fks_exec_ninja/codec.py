"""The byte format of NinjaTrader 8's Automated Trading Interface socket.

Every field is ASCII text ended by one 0x00 byte. A message is a type field followed
by a fixed number of fields for that type:

======  ==============  ==========================================================
type    name            fields after the type
======  ==============  ==========================================================
``0``   Command         the ATI command line (``PLACE;ACCOUNT;...``)
``1``   Data            data type, instrument, price, size, time
``2``   Value           key, value (``OrderStatus|<id>``, ``MarketPosition|ES 12-25|Sim101``)
``3``   ConfirmOrders   ``1`` or ``0``
``4``   Subscribe       instrument, ``1`` (subscribe) or ``0`` (unsubscribe)
======  ==============  ==========================================================

These facts come from a public decompilation of NinjaTrader's client DLL, so the
decoder is tolerant: a message whose fields are not ASCII is reported and skipped (the
stream stays in step, since the field count is known), while an unknown type or a
field longer than the limit cannot be stepped over and is reported as fatal, and the
connection is then dropped and opened again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "COMMAND",
    "CONFIRM_ORDERS",
    "DATA",
    "FIELD_COUNTS",
    "MAX_FIELD_BYTES",
    "SUBSCRIBE",
    "VALUE",
    "Decoder",
    "Malformed",
    "Message",
    "StreamCorrupt",
    "encode",
]

COMMAND, DATA, VALUE, CONFIRM_ORDERS, SUBSCRIBE = "0", "1", "2", "3", "4"
FIELD_COUNTS = {COMMAND: 1, DATA: 5, VALUE: 2, CONFIRM_ORDERS: 1, SUBSCRIBE: 2}
MAX_FIELD_BYTES = 4096
"""Longest field accepted; a peer cannot make the reader buffer more."""


@dataclass(frozen=True)
class Message:
    """One decoded message: its type and its fields (without the type)."""

    type: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Malformed:
    """A message that was skipped (non-ASCII bytes); the stream is still in step."""

    type: str
    reason: str


class StreamCorrupt(Exception):
    """The stream cannot be resynchronised (unknown type, oversized field)."""


def encode(kind: str, *fields: str) -> bytes:
    """The bytes of one message. Raises ``ValueError`` for a wrong field count, a
    non-ASCII field or one containing the 0x00 terminator."""
    if FIELD_COUNTS.get(kind) != len(fields):
        raise ValueError(
            f"message type {kind!r} takes {FIELD_COUNTS.get(kind)} fields, got {len(fields)}"
        )
    out = bytearray()
    for field in (kind, *fields):
        if not field.isascii() or "\x00" in field:
            raise ValueError(f"ATI fields are ASCII without NUL bytes: {field!r}")
        out += field.encode("ascii") + b"\x00"
    return bytes(out)


class Decoder:
    """Turns bytes, cut anywhere, into messages.

    ``feed(chunk)`` returns the messages (and :class:`Malformed` notes) completed by
    ``chunk``. Raises :class:`StreamCorrupt` when the stream cannot be followed.
    """

    def __init__(self, max_field: int = MAX_FIELD_BYTES) -> None:
        self._max = max_field
        self._partial = bytearray()
        self._fields: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Message | Malformed]:
        """Decode ``chunk``; see the class docstring."""
        out: list[Message | Malformed] = []
        start = 0
        while True:
            end = chunk.find(b"\x00", start)
            if end < 0:
                self._partial += chunk[start:]
                if len(self._partial) > self._max:
                    raise StreamCorrupt(f"a field longer than {self._max} bytes")
                return out
            field = bytes(self._partial) + chunk[start:end] if self._partial else chunk[start:end]
            self._partial.clear()
            start = end + 1
            if len(field) > self._max:
                raise StreamCorrupt(f"a field longer than {self._max} bytes")
            self._fields.append(field)
            done = self._complete()
            if done is not None:
                out.append(done)

    def _complete(self) -> Message | Malformed | None:
        kind_bytes = self._fields[0]
        try:
            kind = kind_bytes.decode("ascii")
        except UnicodeDecodeError:
            raise StreamCorrupt(f"message type {kind_bytes!r} is not ASCII") from None
        count = FIELD_COUNTS.get(kind)
        if count is None:
            raise StreamCorrupt(f"unknown message type {kind!r}")
        if len(self._fields) < count + 1:
            return None
        raw, self._fields = self._fields[1:], []
        try:
            return Message(kind, tuple(f.decode("ascii") for f in raw))
        except UnicodeDecodeError:
            return Malformed(kind, "non-ASCII bytes in a field")


def encode_all(messages: Iterable[tuple[str, ...]]) -> bytes:
    """Several messages, each ``(type, field, ...)``, as one byte string."""
    return b"".join(encode(m[0], *m[1:]) for m in messages)
