"""The byte format of NinjaTrader 8's Automated Trading Interface socket, read as the DLL reads it.

Every field is ASCII text ended by one 0x00 byte. A message is an integer type field
followed by a fixed number of fields for that type (public decompilation of NinjaTrader's
client DLL, ``Server/AtiSocket.cs``, ``Loop``):

======  ==============  ==========================================================
type    name            fields after the type
======  ==============  ==========================================================
``0``   Command         the ATI command line (``PLACE;ACCOUNT;...``)
``1``   Data            data type, instrument, price, size, time
``2``   Value           key, value (``OrderStatus|<id>``, ``MarketPosition|ES 12-25|Sim101``)
``3``   ConfirmOrders   ``1`` or ``0``
``4``   Subscribe       instrument, ``1`` (subscribe) or ``0`` (unsubscribe)
other   (skipped)       one field, read and dropped (``Loop``'s default case)
======  ==============  ==========================================================

As in the DLL there is no length prefix and no field cap of the protocol's own
(``ReadString`` reads until the NUL); ours is :data:`MAX_FIELD_BYTES`, a bound against a
peer exhausting memory, far above the longest real value (``Orders|<account>`` lists
every order id of the account: ~33 bytes an order). Bytes that are not ASCII are read
as ``?``, as the DLL's ASCII decoding does. A type field that is not an integer cannot
be stepped over (the DLL's ``Convert.ToInt32`` throws and the socket is disposed):
:class:`StreamCorrupt`, which carries the messages decoded before it.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "COMMAND",
    "CONFIRM_ORDERS",
    "DATA",
    "FIELD_COUNTS",
    "MAX_FIELD_BYTES",
    "SUBSCRIBE",
    "VALUE",
    "Decoder",
    "Message",
    "StreamCorrupt",
    "encode",
]

COMMAND, DATA, VALUE, CONFIRM_ORDERS, SUBSCRIBE = "0", "1", "2", "3", "4"
FIELD_COUNTS = {COMMAND: 1, DATA: 5, VALUE: 2, CONFIRM_ORDERS: 1, SUBSCRIBE: 2}
MAX_FIELD_BYTES = 16 * 1024 * 1024
"""Longest field accepted (16 MiB, ~500,000 order ids); a memory bound, not NinjaTrader's."""
_SKIPPED = "?"  # the type of a message the DLL reads and drops


class Message(NamedTuple):
    """One decoded message: its type and its fields (without the type)."""

    type: str
    fields: tuple[str, ...]


class StreamCorrupt(Exception):
    """The stream cannot be followed (a type that is not an integer, an oversized field).

    ``messages`` holds the messages decoded from the same input before the fault.
    """

    def __init__(self, reason: str, messages: list[Message] | None = None) -> None:
        super().__init__(reason)
        self.messages: list[Message] = messages or []


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
        out += field.encode("ascii")
        out.append(0)
    return bytes(out)


def _text(raw: bytes) -> str:
    return raw.decode("ascii", errors="replace").replace("\ufffd", "?")


class Decoder:
    """Turns bytes, cut anywhere, into messages.

    ``feed(chunk)`` returns the messages completed by ``chunk`` (skipped types are not
    returned). Raises :class:`StreamCorrupt` when the stream cannot be followed; the
    exception carries the messages completed before the fault.
    """

    def __init__(self, max_field: int = MAX_FIELD_BYTES) -> None:
        if max_field < 1:
            raise ValueError("max_field must be at least 1 byte")
        self._max = max_field
        self._partial = bytearray()
        self._kind: str | None = None  # type of the message being read
        self._need = 0  # fields it still needs
        self._fields: list[str] = []

    def feed(self, chunk: bytes) -> list[Message]:
        """Decode ``chunk``; see the class docstring."""
        out: list[Message] = []
        if b"\x00" not in chunk:
            self._partial += chunk
            self._check_partial(out)
            return out
        if self._partial:
            self._partial += chunk
            data = bytes(self._partial)
            self._partial.clear()
        else:
            data = chunk
        parts = data.split(b"\x00")
        tail = parts.pop()
        kind, need, fields, limit = self._kind, self._need, self._fields, self._max
        for raw in parts:
            if len(raw) > limit:
                self._kind, self._need = kind, need
                raise StreamCorrupt(f"a field longer than {limit} bytes", out)
            try:
                field = raw.decode("ascii")
            except UnicodeDecodeError:
                field = _text(raw)
            if kind is None:
                if field in FIELD_COUNTS:
                    kind, need = field, FIELD_COUNTS[field]
                    continue
                try:
                    kind = str(int(field))
                except ValueError:
                    self._kind = None
                    raise StreamCorrupt(
                        f"message type {field[:40]!r} is not an integer", out
                    ) from None
                need = FIELD_COUNTS.get(kind, 1)
                if kind not in FIELD_COUNTS:
                    kind = _SKIPPED
                continue
            fields.append(field)
            need -= 1
            if not need:
                if kind != _SKIPPED:
                    out.append(Message(kind, tuple(fields)))
                fields.clear()
                kind = None
        self._kind, self._need = kind, need
        self._partial += tail
        self._check_partial(out)
        return out

    def _check_partial(self, out: list[Message]) -> None:
        if len(self._partial) > self._max:
            raise StreamCorrupt(f"a field longer than {self._max} bytes", out)
