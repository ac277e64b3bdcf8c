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
    text = "\x00".join((kind, *fields))
    if text.isascii() and text.count("\x00") == len(fields):
        return text.encode("ascii") + b"\x00"
    bad = next(f for f in (kind, *fields) if not f.isascii() or "\x00" in f)
    raise ValueError(f"ATI fields are ASCII without NUL bytes: {bad!r}")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:  # one "?" per byte that is not ASCII, as the DLL reads it
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
        if self._partial:
            self._partial += chunk
            data = bytes(self._partial)
            self._partial.clear()
        else:
            data = chunk
        end = data.rfind(0)
        if end < 0:
            self._partial += data
            self._check_partial(out)
            return out
        fields = _text(data[:end]).split("\x00")  # one character per byte
        self._partial += data[end + 1 :]
        fault = None
        if end > self._max:
            fault = next((i for i, f in enumerate(fields) if len(f) > self._max), None)
            if fault is not None:
                del fields[fault:]
        self._decode(fields, out)
        if fault is not None:
            raise StreamCorrupt(f"a field longer than {self._max} bytes", out)
        self._check_partial(out)
        return out

    def feed_values(self, chunk: bytes) -> list[str] | None:
        """The fields of the whole messages in ``chunk`` (``[type, key, value, type,
        key, value, ...]``) when, with what is pending from earlier chunks, they are only
        Value messages of ASCII text: the common read, taken without making a
        :class:`Message` each (an incomplete last message is kept for the next chunk,
        as :meth:`feed` keeps it). Else None, and nothing was consumed: decode
        ``chunk`` with :meth:`feed`."""
        partial = self._partial
        if self._kind is not None or len(partial) + len(chunk) > self._max:
            return None
        if 0 not in chunk:  # no field ends here: kept whole for the next read
            partial += chunk
            return []
        data = bytes(partial) + chunk if partial else chunk
        end = data.rfind(0)
        if not data.isascii():
            return None
        fields = data[:end].decode("ascii").split("\x00")
        whole = len(fields) - len(fields) % 3
        if fields[:whole:3].count(VALUE) * 3 != whole or fields[whole : whole + 1] not in (
            [],
            [VALUE],
        ):
            return None
        partial.clear()
        if whole < len(fields):  # the start of a message: read again with what follows
            partial += "\x00".join(fields[whole:]).encode("ascii") + b"\x00"
            del fields[whole:]
        partial += data[end + 1 :]
        return fields

    def _decode(self, fields: list[str], out: list[Message]) -> None:
        kind, need, taken = self._kind, self._need, self._fields
        i, count, append = 0, len(fields), out.append
        while i < count:
            if kind is None:
                field = fields[i]
                if field == VALUE and i + 2 < count:  # the common case: a whole Value
                    append(Message(VALUE, (fields[i + 1], fields[i + 2])))
                    i += 3
                    continue
                i += 1
                if field in FIELD_COUNTS:
                    kind, need = field, FIELD_COUNTS[field]
                    continue
                try:
                    kind = str(int(field))
                except ValueError:
                    self._kind, self._fields = None, []
                    raise StreamCorrupt(
                        f"message type {field[:40]!r} is not an integer", out
                    ) from None
                need = FIELD_COUNTS.get(kind, 1)
                if kind not in FIELD_COUNTS:
                    kind = _SKIPPED
                continue
            take = min(need, count - i)
            taken.extend(fields[i : i + take])
            i += take
            need -= take
            if not need:
                if kind != _SKIPPED:
                    append(Message(kind, tuple(taken)))
                taken = []
                kind = None
        self._kind, self._need, self._fields = kind, need, taken

    def _check_partial(self, out: list[Message]) -> None:
        if len(self._partial) > self._max:
            raise StreamCorrupt(f"a field longer than {self._max} bytes", out)
