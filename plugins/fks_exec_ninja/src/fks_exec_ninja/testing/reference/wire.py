"""The ATI socket's wire format, exactly as NinjaTrader's client DLL reads and writes it.

Source: the public decompilation of ``NinjaTrader.Client.dll`` (github.com/lightfi7/
NinjaTrader.Client), file ``NinjaTrader.Client/Server/AtiSocket.cs``. The class sits in
namespace ``NinjaTrader.Server`` and takes a handler per message type; the DLL's client
passes only the value handler (``Client.SetUpNow``), so the command, data, confirm and
subscribe handlers are, we infer, the server's: one framing for both ends. Facts:

* A *field* is its text in ASCII followed by one NUL byte (``AtiSocket.Send(string)``:
  ``ASCIIEncoding.GetBytes`` then ``array[bytes] = 0``). Characters outside ASCII are
  written as ``?`` (the .NET ``ASCIIEncoding`` replacement fallback); bytes above 0x7F
  read back as ``?`` (``ASCIIEncoding.GetString``).
* Numbers are fields too: ``Send(int)``/``Send(double)`` write ``ToString(Invariant
  Culture)``; ``ReadInteger``/``ReadDouble`` parse with ``Convert.ToInt32``/``ToDouble``.
* A *message* is an integer field (``AtiSocket.Message``: Command=0, Data=1, Value=2,
  ConfirmOrders=3, Subscribe=4) followed by a fixed number of fields per type
  (``AtiSocket.Loop``). A type the loop does not know: it reads ONE string field, prints
  it, and carries on (``default: Console.WriteLine(this.ReadString())``).
* There is no length prefix and no field length cap: ``ReadString`` appends 1024-byte
  reads until it sees a NUL (``readBuffer = new byte[1024]``). This module's only cap is
  a memory bound far above any real account (``MAX_FIELD_BYTES``), which is ours.
* A field that does not parse as the number the loop expects raises inside ``Loop``;
  its ``catch`` disposes the socket: the connection is dropped (:class:`WireError`).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "MAX_FIELD_BYTES",
    "CommandMessage",
    "ConfirmOrdersMessage",
    "DataMessage",
    "FieldReader",
    "Message",
    "MessageReader",
    "MessageType",
    "SubscribeMessage",
    "UnknownMessage",
    "ValueMessage",
    "WireError",
    "decode_ascii",
    "encode_ascii",
    "encode_field",
    "encode_message",
    "format_double",
    "format_int",
    "parse_double",
    "parse_int",
    "value_message",
]

MAX_FIELD_BYTES = 64 * 1024 * 1024
"""Our bound against memory exhaustion (the DLL has none): 64 MiB for one field."""


class WireError(ValueError):
    """A field the DLL's read loop cannot parse; the DLL drops the connection on it."""


class MessageType(enum.IntEnum):
    """``AtiSocket.Message``: the integer that opens every message."""

    COMMAND = 0
    DATA = 1
    VALUE = 2
    CONFIRM_ORDERS = 3
    SUBSCRIBE = 4


def encode_ascii(text: str) -> bytes:
    """Encode like .NET ``ASCIIEncoding.GetBytes``: non-ASCII characters become ``?``."""
    return text.encode("ascii", errors="replace")


def decode_ascii(data: bytes) -> str:
    """Decode like .NET ``ASCIIEncoding.GetString``: bytes above 0x7F become ``?``."""
    return bytes(b if b < 0x80 else 0x3F for b in data).decode("ascii")


def encode_field(text: str) -> bytes:
    """One field as ``AtiSocket.Send(string)`` writes it: ASCII bytes then a NUL.

    A NUL inside ``text`` is written as is, as the DLL does: the reader then sees two
    fields. Callers that want a well-formed stream must not put NUL in values.
    """
    return encode_ascii(text) + b"\x00"


def encode_message(*fields: str | int) -> bytes:
    """Several fields back to back (ints written as ``Send(int)`` does)."""
    return b"".join(encode_field(f if isinstance(f, str) else format_int(f)) for f in fields)


def value_message(key: str, value: str) -> bytes:
    """A Value message (type 2): key and value, as the client's value handler reads them.

    ``AtiSocket.Loop`` case 2 reads two strings and calls ``valueHandler(key, value)``,
    which in the DLL is ``Client.AddValue``: it overwrites the cached value of ``key``.
    """
    return encode_message(int(MessageType.VALUE), key, value)


def format_int(value: int) -> str:
    """``int.ToString(CultureInfo.InvariantCulture)``: plain digits, leading ``-``."""
    return str(int(value))


def format_double(value: Decimal | float | int) -> str:
    """``double.ToString(CultureInfo.InvariantCulture)`` of .NET Framework 4.x (NT8).

    The general format with 15 significant digits: ``4500.25``, ``0``, ``1E-05``,
    ``1E+20``. Python's ``{:.15G}`` produces exactly these strings for finite values.
    """
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    return f"{number:.15G}"


# Convert.ToInt32(string, InvariantCulture) = Int32.Parse with NumberStyles.Integer:
# optional surrounding white space, an optional sign, decimal digits.
_INT = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*")
# Convert.ToDouble(string, InvariantCulture) = Double.Parse with Float | AllowThousands.
_DOUBLE = re.compile(
    r"[ \t\n\v\f\r]*[+-]?([0-9][0-9,]*(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\v\f\r]*"
)


def parse_int(text: str) -> int:
    """Parse like ``Convert.ToInt32(text, InvariantCulture)``; raises :class:`WireError`."""
    if not _INT.fullmatch(text):
        raise WireError(f"not an Int32: {text[:40]!r}")
    number = int(text.strip())
    if not -(2**31) <= number < 2**31:
        raise WireError(f"Int32 overflow: {text[:40]!r}")
    return number


def parse_double(text: str) -> float:
    """Parse like ``Convert.ToDouble(text, InvariantCulture)``; raises :class:`WireError`."""
    if not _DOUBLE.fullmatch(text):
        raise WireError(f"not a Double: {text[:40]!r}")
    return float(text.strip().replace(",", ""))


class FieldReader:
    """Splits a byte stream into NUL-terminated fields, across any read boundaries."""

    def __init__(self, max_field_bytes: int = MAX_FIELD_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_field_bytes

    def feed(self, data: bytes) -> Iterator[str]:
        """Add received bytes; yield every field now complete, in order.

        Raises :class:`WireError` when one unfinished field passes the memory bound
        (fields completed before it have been yielded already).
        """
        self._buffer += data
        start = 0
        while True:
            end = self._buffer.find(0, start)
            if end < 0:
                break
            yield decode_ascii(bytes(self._buffer[start:end]))
            start = end + 1
        del self._buffer[:start]
        if len(self._buffer) > self._max:
            raise WireError(f"field longer than {self._max} bytes")


@dataclass(frozen=True)
class CommandMessage:
    """Message 0: one string, the ``;``-joined command (``Client.Command``)."""

    text: str


@dataclass(frozen=True)
class DataMessage:
    """Message 1: market data type, instrument, price, size, ``yyyyMMddHHmmss`` or ''."""

    data_type: int
    instrument: str
    price: float
    size: int
    timestamp: str


@dataclass(frozen=True)
class ValueMessage:
    """Message 2: a key and its value."""

    key: str
    value: str


@dataclass(frozen=True)
class ConfirmOrdersMessage:
    """Message 3: one integer (``Client.ConfirmOrders``)."""

    confirm: int


@dataclass(frozen=True)
class SubscribeMessage:
    """Message 4: instrument and 1 (subscribe) or 0 (unsubscribe)."""

    instrument: str
    subscribe: bool


@dataclass(frozen=True)
class UnknownMessage:
    """A type the loop does not know, and the one string it reads and prints."""

    message_type: int
    text: str


Message = (
    CommandMessage
    | DataMessage
    | ValueMessage
    | ConfirmOrdersMessage
    | SubscribeMessage
    | UnknownMessage
)

# Field count after the type field, per type (AtiSocket.Loop); unknown types read one.
_ARITY = {0: 1, 1: 5, 2: 2, 3: 1, 4: 2}


class MessageReader:
    """Turns fields into messages exactly as ``AtiSocket.Loop`` reads them."""

    def __init__(self, max_field_bytes: int = MAX_FIELD_BYTES) -> None:
        self._fields = FieldReader(max_field_bytes)
        self._pending: list[str] = []
        self._type: int | None = None

    def feed(self, data: bytes) -> Iterator[Message]:
        """Yield every message completed by ``data``.

        Raises :class:`WireError` where the DLL's loop would throw (a type or number
        field that does not parse); messages completed before it were yielded.
        """
        for field in self._fields.feed(data):
            if self._type is None:
                self._type = parse_int(field)
                continue
            self._pending.append(field)
            if len(self._pending) == _ARITY.get(self._type, 1):
                message = _build(self._type, self._pending)
                self._type, self._pending = None, []
                yield message


def _build(message_type: int, fields: list[str]) -> Message:
    if message_type == MessageType.COMMAND:
        return CommandMessage(fields[0])
    if message_type == MessageType.DATA:
        kind, instrument, price, size, stamp = fields
        return DataMessage(parse_int(kind), instrument, parse_double(price), parse_int(size), stamp)
    if message_type == MessageType.VALUE:
        return ValueMessage(fields[0], fields[1])
    if message_type == MessageType.CONFIRM_ORDERS:
        return ConfirmOrdersMessage(parse_int(fields[0]))
    if message_type == MessageType.SUBSCRIBE:
        return SubscribeMessage(fields[0], parse_int(fields[1]) != 0)
    return UnknownMessage(message_type, fields[0])
