"""The ATI codec as the DLL reads the wire: any segmentation, no small field cap,
unknown types skipped, nothing lost before a fault, arbitrary bytes never crash it."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from fks_exec_ninja.codec import (
    FIELD_COUNTS,
    MAX_FIELD_BYTES,
    VALUE,
    Decoder,
    Message,
    StreamCorrupt,
    encode,
)

ascii_field = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=40)
messages = st.sampled_from(sorted(FIELD_COUNTS)).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.lists(ascii_field, min_size=FIELD_COUNTS[kind], max_size=FIELD_COUNTS[kind]),
    )
)
# AtiSocket.Loop's default case: a type it does not know is followed by one string.
unknown = st.tuples(st.integers(5, 99), ascii_field).map(
    lambda t: f"{t[0]}\x00{t[1]}\x00".encode("ascii")
)


def feed_in_pieces(decoder: Decoder, data: bytes, cuts: list[int]) -> list[Message]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [m for a, b in itertools.pairwise(points) for m in decoder.feed(data[a:b])]


@given(
    batch=st.lists(st.tuples(messages, st.lists(unknown, max_size=2)), max_size=20),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_round_trip_whatever_the_segmentation_with_unknown_types_between(
    batch: list[tuple[tuple[str, list[str]], list[bytes]]], cuts: list[int]
) -> None:
    data = b"".join(encode(kind, *fields) + b"".join(noise) for (kind, fields), noise in batch)
    decoded = feed_in_pieces(Decoder(), data, cuts)
    assert decoded == [Message(kind, tuple(fields)) for (kind, fields), _ in batch]


def test_one_byte_at_a_time() -> None:
    data = encode(VALUE, "OrderStatus|abc", "Filled") * 3
    decoder = Decoder()
    out = [m for i in range(len(data)) for m in decoder.feed(data[i : i + 1])]
    assert out == [Message(VALUE, ("OrderStatus|abc", "Filled"))] * 3


def test_an_account_order_list_far_over_4096_bytes_is_one_value() -> None:
    ids = "|".join(f"{i:032x}" for i in range(3_000))  # ~100 KB: 3,000 orders
    data = encode(VALUE, "ATI", "True") + encode(VALUE, "Orders|Sim101", ids)
    out = feed_in_pieces(Decoder(), data, list(range(0, len(data), 1024)))
    assert out == [Message(VALUE, ("ATI", "True")), Message(VALUE, ("Orders|Sim101", ids))]


def test_an_oversized_field_keeps_the_messages_decoded_before_it() -> None:
    good = encode(VALUE, "ATI", "True")
    decoder = Decoder(max_field=64)
    with pytest.raises(StreamCorrupt, match="longer than 64") as caught:
        decoder.feed(good + b"2\x00" + b"k" * 65 + b"\x00")
    assert caught.value.messages == [Message(VALUE, ("ATI", "True"))]
    decoder = Decoder(max_field=64)
    with pytest.raises(StreamCorrupt) as caught:  # the field has no end yet
        decoder.feed(good + b"2\x00" + b"k" * 65)
    assert caught.value.messages == [Message(VALUE, ("ATI", "True"))]


def test_a_field_of_exactly_the_bound_is_read() -> None:
    field = "k" * 64
    data = encode(VALUE, field, "v") + encode(VALUE, "a", field)
    assert Decoder(max_field=64).feed(data) == [
        Message(VALUE, (field, "v")),
        Message(VALUE, ("a", field)),
    ]
    decoder = Decoder(max_field=64)
    assert decoder.feed(b"2\x00" + field.encode()) == []  # an exact-size field, not ended yet
    assert decoder.feed(b"\x00v\x00") == [Message(VALUE, (field, "v"))]


def test_the_default_bound_is_16_mib() -> None:
    assert MAX_FIELD_BYTES == 16 * 1024 * 1024  # documented in ninja-protocol.md
    with pytest.raises(StreamCorrupt, match="longer than"):
        Decoder().feed(b"2\x00" + b"k" * (MAX_FIELD_BYTES + 1))


def test_a_type_that_is_not_a_number_cannot_be_followed() -> None:
    good = encode(VALUE, "a", "b")
    with pytest.raises(StreamCorrupt, match="not an integer") as caught:
        Decoder().feed(good + b"x\x00y\x00")
    assert caught.value.messages == [Message(VALUE, ("a", "b"))]


def test_non_ascii_bytes_read_as_question_marks_like_the_dll() -> None:
    out = Decoder().feed(b"2\x00K\xc3\xa9y\x00v\x00" + encode(VALUE, "ATI", "True"))
    assert out == [Message(VALUE, ("K??y", "v")), Message(VALUE, ("ATI", "True"))]


def decode(data: bytes, cuts: list[int]) -> tuple[list[Message], bool]:
    """Messages a fresh decoder yields from `data` cut at `cuts`, and whether it raised."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder, out = Decoder(max_field=64), []
    try:
        for a, b in itertools.pairwise(points):
            out += decoder.feed(data[a:b])
    except StreamCorrupt as exc:
        return out + exc.messages, True
    return out, False


arbitrary_streams = st.lists(
    messages.map(lambda m: encode(m[0], *m[1])) | unknown | st.binary(max_size=30), max_size=8
).map(b"".join)


@given(arbitrary_streams, st.lists(st.integers(0, 10_000), max_size=10))
def test_arbitrary_bytes_decode_alike_however_cut(data: bytes, cuts: list[int]) -> None:
    """Any bytes give the same messages (and the same fault, if any) however the reads
    cut them: a fault never takes away messages decoded before it."""
    assert decode(data, cuts) == decode(data, [])


def test_the_arbitrary_streams_reach_every_outcome() -> None:
    assert find(arbitrary_streams, lambda d: bool(decode(d, [])[0]) and not decode(d, [])[1])
    assert find(arbitrary_streams, lambda d: bool(decode(d, [])[0]) and decode(d, [])[1])


def test_encode_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="ASCII") as non_ascii:
        encode(VALUE, "k", "é")
    assert str(non_ascii.value).endswith("ASCII without NUL bytes: 'é'")  # the field named
    with pytest.raises(ValueError, match="ASCII") as nul:
        encode(VALUE, "k", "a\x00b")
    assert str(nul.value).endswith(f"ASCII without NUL bytes: {'a' + chr(0) + 'b'!r}")
    with pytest.raises(ValueError, match="takes 2 fields"):
        encode(VALUE, "k")
    with pytest.raises(ValueError, match="at least 1"):
        Decoder(max_field=0)


def test_wire_bytes_of_each_message_type_as_the_dll_writes_them() -> None:
    from fks_exec_ninja.codec import COMMAND, CONFIRM_ORDERS, SUBSCRIBE

    assert encode(COMMAND, "PLACE;A") == b"0\x00PLACE;A\x00"
    assert encode(CONFIRM_ORDERS, "0") == b"3\x000\x00"
    assert encode(SUBSCRIBE, "ES 03-27", "1") == b"4\x00ES 03-27\x001\x00"
    assert encode(VALUE, "ATI", "True") == b"2\x00ATI\x00True\x00"
    with pytest.raises(ValueError, match="takes 1 fields"):
        encode(COMMAND, "a", "b")
    with pytest.raises(ValueError, match="takes 2 fields"):
        encode(SUBSCRIBE, "ES")
    with pytest.raises(ValueError, match="takes 1 fields"):
        encode(CONFIRM_ORDERS)


def test_field_counts_read_from_the_wire() -> None:
    data = (
        b"1\x002\x00ES 03-27\x006000.25\x001\x00t\x00"  # Data: five fields, ignored
        b"3\x001\x00"  # ConfirmOrders: one field
        b"4\x00ES 03-27\x001\x00"  # Subscribe: two
        b"0\x00PLACE;X\x00"  # Command: one
        b"2\x00ATI\x00True\x00"
    )
    assert Decoder().feed(data) == [
        Message("1", ("2", "ES 03-27", "6000.25", "1", "t")),
        Message("3", ("1",)),
        Message("4", ("ES 03-27", "1")),
        Message("0", ("PLACE;X",)),
        Message(VALUE, ("ATI", "True")),
    ]
    assert Decoder().feed(b"02\x00k\x00v\x00") == [Message(VALUE, ("k", "v"))]


def test_a_field_exactly_at_the_bound_is_read() -> None:
    field = b"k" * 64
    decoder = Decoder(max_field=64)
    assert decoder.feed(b"2\x00" + field) == []  # the partial field is at the bound
    assert decoder.feed(b"\x00v\x00") == [Message(VALUE, ("k" * 64, "v"))]
    assert Decoder(max_field=64).feed(b"2\x00" + field + b"\x00v\x00") == [
        Message(VALUE, ("k" * 64, "v"))
    ]
    assert Decoder(max_field=1).feed(b"2\x00k\x00v\x00") == [Message(VALUE, ("k", "v"))]


def test_a_bad_type_is_quoted_in_part() -> None:
    with pytest.raises(StreamCorrupt) as caught:
        Decoder().feed(b"x" * 100 + b"\x00")
    assert repr("x" * 40) in str(caught.value) and "x" * 41 not in str(caught.value)


def fast_decode(data: bytes, cuts: list[int]) -> tuple[list[Message], bool, int]:
    """As :func:`decode`, reading each piece as the connection does (``feed_values``,
    else ``feed``); also how many pieces the fast path took."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder, out, fast = Decoder(max_field=64), [], 0
    try:
        for a, b in itertools.pairwise(points):
            fields = decoder.feed_values(data[a:b])
            if fields is None:
                out += decoder.feed(data[a:b])
                continue
            fast += 1
            assert fields[::3] == [VALUE] * (len(fields) // 3) and len(fields) % 3 == 0
            out += [Message(VALUE, (k, v)) for k, v in zip(fields[1::3], fields[2::3], strict=True)]
    except StreamCorrupt as exc:
        return out + exc.messages, True, fast
    return out, False, fast


@given(arbitrary_streams, st.lists(st.integers(0, 10_000), max_size=10))
def test_the_fast_value_path_reads_any_bytes_as_feed_does(data: bytes, cuts: list[int]) -> None:
    """Whatever the bytes and the cuts, taking whole Value messages the fast way where
    it applies gives the same messages and the same fault as decoding them all."""
    assert fast_decode(data, cuts)[:2] == decode(data, [])


values_only = st.lists(
    st.tuples(ascii_field.filter(lambda f: "\x00" not in f), ascii_field), min_size=1, max_size=12
)


@given(values_only, st.lists(st.integers(0, 10_000), max_size=6))
def test_reads_of_values_only_take_the_fast_path_however_cut(
    pairs: list[tuple[str, str]], cuts: list[int]
) -> None:
    data = b"".join(encode(VALUE, k, v.replace("\x00", "")) for k, v in pairs)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder, out = Decoder(), []
    for a, b in itertools.pairwise(points):
        fields = decoder.feed_values(data[a:b])
        assert fields is not None  # only Values: never the slow way
        out += list(zip(fields[1::3], fields[2::3], strict=True))
    assert out == [(k, v.replace("\x00", "")) for k, v in pairs]


def test_the_fast_path_keeps_a_started_message_for_the_next_read() -> None:
    decoder = Decoder()
    assert decoder.feed_values(b"2\x00A\x00x\x002\x00B\x00") == ["2", "A", "x"]
    assert decoder.feed_values(b"y\x002\x00C") == ["2", "B", "y"]
    assert decoder.feed_values(b"\x00z\x00") == ["2", "C", "z"]
    assert decoder.feed_values(b"2") == []  # no whole field: kept
    assert decoder.feed_values(b"\x00D\x00w\x00") == ["2", "D", "w"]
    assert decoder.feed_values(b"2\x00E\x00v\x003\x00") is None  # another type begun
    assert decoder.feed(b"2\x00E\x00v\x003\x00") == [Message(VALUE, ("E", "v"))]
    assert decoder.feed_values(b"1\x00") is None  # its field: not a Value
    assert decoder.feed(b"1\x00") == [Message("3", ("1",))]


def test_the_fast_path_leaves_other_reads_to_feed_untouched() -> None:
    decoder = Decoder(max_field=16)
    for chunk in (
        encode(VALUE, "A", "x") + encode("3", "1"),  # a ConfirmOrders echo among them
        b"2\x00K\xc3\xa9y\x00v\x00",  # not ASCII: read as the DLL reads it, by feed
        b"2\x00" + b"k" * 20 + b"\x00",  # over the field bound: feed raises
    ):
        assert decoder.feed_values(chunk) is None
    partial = Decoder()
    partial.feed(b"1\x00ES\x00")  # a Data message under way: its fields are not Values
    assert partial.feed_values(b"1\x002\x003\x00t\x00") is None
    assert partial.feed(b"1\x002\x003\x00t\x00") == [Message("1", ("ES", "1", "2", "3", "t"))]


def test_the_fast_path_takes_reads_up_to_the_field_bound() -> None:
    data = encode(VALUE, "A", "x")
    assert Decoder(max_field=len(data)).feed_values(data) == ["2", "A", "x"]
    assert Decoder(max_field=len(data) - 1).feed_values(data) is None  # feed: the bound
