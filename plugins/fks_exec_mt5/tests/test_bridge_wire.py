"""The bridge's wire format under garbage (issue 20): random bytes, truncated frames,
huge lengths, malformed records. Every failure is a ProtocolError (or the socket's
OSError), never a crash, a stall or an answer taken for a real one."""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fks_exec_mt5.bridge.client import BridgeModule
from fks_exec_mt5.bridge.protocol import (
    MAX_FRAME,
    MAX_HANDSHAKE_FRAME,
    ProtocolError,
    _record_type,
    decode,
    encode,
    loads,
    proof,
    read_frame,
    write_frame,
)

SECRET = "a-long-test-secret-1234"
FUZZ = settings(
    max_examples=int(os.environ.get("FKS_EXEC_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["__record__", "fields", "__datetime__", "_x", "class", "2026-12-01"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["__record__", "fields", "__datetime__", "a", "b", "_x", "def", "9"])
            | st.text(max_size=4),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(json_values)
@FUZZ
def test_decoding_any_json_gives_a_value_or_a_protocol_error(value: Any) -> None:
    try:
        decoded = decode(value)
    except ProtocolError:
        event("refused")
        return
    event("decoded")
    json.dumps(encode(decoded), allow_nan=True)  # what decodes can be carried again


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"__record__": "T", "fields": [1, 2]}, "type name and a map"),
        ({"__record__": 7, "fields": {}}, "type name and a map"),
        ({"__record__": "T", "fields": {"_x": 1}}, "not a record type"),
        ({"__record__": "class", "fields": {"a": 1}}, "not a record type"),
        ({"__record__": "T", "fields": {"def": 1}}, "not a record type"),
        ({"__datetime__": "yesterday"}, "not a datetime"),
        ({"__datetime__": 12}, "not a datetime"),
        (json.loads("[" * 40 + "]" * 40), "nested over 32 levels"),
    ],
)
def test_malformed_records_are_refused_by_name(value: Any, why: str) -> None:
    with pytest.raises(ProtocolError, match=why):
        decode(value)


@given(st.binary(max_size=64))
@FUZZ
def test_random_bytes_are_json_or_a_protocol_error(body: bytes) -> None:
    try:
        loads(body)
    except ProtocolError:
        event("refused")


def test_a_huge_integer_is_refused_before_it_is_parsed() -> None:
    started = time.perf_counter()
    with pytest.raises(ProtocolError, match="an integer of 1000001 digits"):
        loads(b"[" + b"9" * 1_000_001 + b"]")
    assert loads(b"[" + b"9" * 40 + b"]") == [int("9" * 40)]
    with pytest.raises(ProtocolError, match="not JSON"):
        loads(b"[" * 100_000 + b"]" * 100_000)
    assert time.perf_counter() - started < 5  # bounded work, not a stall (generous)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    right.settimeout(5)
    yield left, right
    left.close()
    right.close()


@given(st.binary(max_size=40), st.booleans())
@FUZZ
def test_random_and_truncated_frames_are_protocol_errors(body: bytes, truncate: bool) -> None:
    left, right = socket.socketpair()
    right.settimeout(5)
    try:
        size = len(body) + (7 if truncate else 0)
        left.sendall(struct.pack(">I", size) + body)
        left.close()
        try:
            read_frame(right)
        except ProtocolError:
            event("refused")
        else:
            assert not truncate
    finally:
        right.close()


def test_a_huge_length_is_refused_before_reading_the_body(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    left.sendall(struct.pack(">I", 2**32 - 1))  # and no body at all
    with pytest.raises(ProtocolError, match="over the limit"):
        read_frame(right)
    left.sendall(struct.pack(">I", MAX_HANDSHAKE_FRAME + 1))
    with pytest.raises(ProtocolError, match=f"over the limit of {MAX_HANDSHAKE_FRAME}"):
        read_frame(right, MAX_HANDSHAKE_FRAME)


def test_a_frame_cut_short_is_a_closed_connection(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    left.sendall(b"\x00\x00")
    left.shutdown(socket.SHUT_WR)
    with pytest.raises(ProtocolError, match="connection closed"):
        read_frame(right)


# --------------------------------------------------------------------------- client


class _Garbage:
    """A bridge server that passes the handshake, then answers each call with the
    next scripted reply (raw bytes or a JSON value); one connection per reply."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.replies: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with sock:
                sock.settimeout(5)
                try:
                    write_frame(sock, {"hello": "n"})
                    ok = read_frame(sock).get("auth") == proof(SECRET, "n")
                    write_frame(sock, {"ok": ok})
                    write_frame(sock, {"constants": {"TRADE_RETCODE_DONE": 10009}})
                    read_frame(sock)
                    sock.sendall(self.replies.pop(0))
                except (OSError, ProtocolError, IndexError):
                    continue

    def close(self) -> None:
        self.listener.close()


def _frame(value: Any) -> bytes:
    body = json.dumps(value, allow_nan=True).encode()
    return struct.pack(">I", len(body)) + body


replies = st.one_of(
    json_values.map(_frame),
    st.fixed_dictionaries({"value": json_values}).map(_frame),
    st.fixed_dictionaries({"value": json_values, "last_error": json_values}).map(_frame),
    st.binary(max_size=30),
    st.binary(min_size=4, max_size=30).map(lambda b: struct.pack(">I", 10**6) + b),
)


@pytest.fixture(scope="module")
def garbage() -> Iterator[_Garbage]:
    server = _Garbage()
    yield server
    server.close()


@given(replies)
@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 4))  # a connection each
def test_a_garbage_answer_to_order_send_is_no_answer_at_all(garbage: _Garbage, raw: bytes) -> None:
    client = BridgeModule("127.0.0.1", garbage.port, SECRET, timeout_s=2, connect_timeout_s=2)
    garbage.replies.append(raw)
    try:
        value = client.order_send({"action": 1})
    finally:
        client.close()
    code, _ = client.last_error()
    event(f"last_error {code}")
    parsed = _parsed(raw)
    if value is not None:  # only a well-formed answer gives a value, and exactly its value
        assert isinstance(parsed, dict) and "error" not in parsed
        assert _text(value) == _text(decode(parsed["value"]))
    elif not (isinstance(parsed, dict) and "value" in parsed and parsed["value"] is None):
        assert code in (-10002, -2)  # receive failed (fate unknown), or the server said why


def _text(value: Any) -> str:
    return json.dumps(encode(value), allow_nan=True)  # NaN equals NaN here


def _parsed(raw: bytes) -> Any:
    if len(raw) < 4 or struct.unpack(">I", raw[:4])[0] != len(raw) - 4:
        return None
    try:
        return loads(raw[4:])
    except ProtocolError:
        return None


# --------------------------------------------------------------------------- exact bounds


def _nested_lists(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _nested_records(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"__record__": "R", "fields": {"a": value}}
    return value


def _nested_dicts(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("nest", [_nested_lists, _nested_records, _nested_dicts])
def test_nesting_is_bounded_at_exactly_32_levels(nest: Any) -> None:
    decode(nest(32))
    with pytest.raises(ProtocolError, match="nested over 32 levels"):
        decode(nest(33))


def test_integers_are_bounded_at_exactly_40_digits_and_a_sign() -> None:
    assert loads(b"-" + b"9" * 40) == -int("9" * 40)
    with pytest.raises(ProtocolError, match="an integer of 42 digits"):
        loads(b"9" * 42)


def test_frames_are_bounded_at_exactly_their_documented_limits(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    write_frame(left, "abc")
    assert read_frame(right, len(b'"abc"')) == "abc"  # a frame of exactly the limit
    assert MAX_HANDSHAKE_FRAME == 64 * 1024  # the docs' 64 KiB
    for limit, size in ((MAX_FRAME, 64 * 2**20 + 1), (MAX_HANDSHAKE_FRAME, 64 * 1024 + 1)):
        left.sendall(struct.pack(">I", size))
        with pytest.raises(ProtocolError, match="over the limit"):
            read_frame(right, limit)
    left.sendall(struct.pack(">I", 64 * 2**20))  # the largest: read on (and cut short here)
    left.shutdown(socket.SHUT_WR)
    with pytest.raises(ProtocolError, match="connection closed"):
        read_frame(right)


def test_a_frame_read_in_pieces_takes_only_its_own_bytes(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    first = json.dumps(["x" * 3000]).encode()
    second = json.dumps({"value": 7}).encode()
    left.sendall(struct.pack(">I", len(first)) + first[:1000])

    def rest() -> None:
        time.sleep(0.05)  # the reader has taken the first piece by now
        left.sendall(first[1000:] + struct.pack(">I", len(second)) + second)

    writer = threading.Thread(target=rest)
    writer.start()
    assert read_frame(right) == ["x" * 3000]
    assert read_frame(right) == {"value": 7}
    writer.join()


def test_numpy_like_arrays_are_carried_and_other_objects_refused() -> None:
    from array import array

    assert encode(array("d", [1.5, 2.0])) == [1.5, 2.0]
    with pytest.raises(TypeError, match="cannot carry a object"):
        encode(object())


def test_at_most_256_record_types_are_remembered() -> None:
    for index in range(300):
        decode({"__record__": f"T{index}", "fields": {"a": 1}})
    assert _record_type.cache_info().currsize == 256
    assert decode({"__record__": "T1", "fields": {"a": 2}}).a == 2


def test_nan_and_infinities_cross_the_wire_as_the_package_gave_them(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    left, right = pair
    write_frame(left, [math.nan, math.inf, -math.inf])  # a tick's doubles may be any
    got = read_frame(right)
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf]
