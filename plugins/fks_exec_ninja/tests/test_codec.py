"""The ATI codec: round trips, any segmentation, and arbitrary bytes never crash it."""

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
    Malformed,
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


@given(batch=st.lists(messages, max_size=20), cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_round_trip_whatever_the_segmentation(
    batch: list[tuple[str, list[str]]], cuts: list[int]
) -> None:
    data = b"".join(encode(kind, *fields) for kind, fields in batch)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder = Decoder()
    decoded = []
    for start, end in itertools.pairwise(points):
        decoded += decoder.feed(data[start:end])
    assert decoded == [Message(kind, tuple(fields)) for kind, fields in batch]


def test_one_byte_at_a_time() -> None:
    data = encode(VALUE, "OrderStatus|abc", "Filled") * 3
    decoder = Decoder()
    out = [m for i in range(len(data)) for m in decoder.feed(data[i : i + 1])]
    assert out == [Message(VALUE, ("OrderStatus|abc", "Filled"))] * 3


# Byte strings made of whole messages and arbitrary bytes, so that decoding succeeds,
# skips a malformed message or fails, in proportions test_the_arbitrary_bytes_... checks.
non_ascii_value = st.binary(max_size=8).map(
    lambda b: b"2\x00" + b.replace(b"\x00", b"") + b"\xff\x00v\x00"
)
arbitrary_streams = st.lists(
    messages.map(lambda m: encode(m[0], *m[1])) | non_ascii_value | st.binary(max_size=30),
    max_size=8,
).map(b"".join)


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[Message | Malformed] | str:
    """What a fresh decoder makes of `data` fed cut at `cuts`; "corrupt" if it raised."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder = Decoder(max_field=64)
    try:
        return [m for a, b in itertools.pairwise(points) for m in decoder.feed(data[a:b])]
    except StreamCorrupt:
        return "corrupt"


@given(arbitrary_streams, st.lists(st.integers(0, 10_000), max_size=10))
def test_arbitrary_bytes_decode_alike_however_cut_or_raise_stream_corrupt(
    data: bytes, cuts: list[int]
) -> None:
    """Any bytes decode to the same messages however the reads cut them, or raise
    StreamCorrupt either way; messages decoded without a skip are exactly the input's
    leading bytes, none invented, dropped or reordered."""
    whole = decode_in_pieces(data, [])
    assert decode_in_pieces(data, cuts) == whole
    if whole != "corrupt" and all(isinstance(m, Message) for m in whole):
        assert data.startswith(b"".join(encode(m.type, *m.fields) for m in whole))


def test_the_arbitrary_bytes_reach_every_outcome() -> None:
    """The property above sees decoded messages, skipped ones and corrupt streams."""

    def has(kind: type) -> object:
        return lambda data: any(isinstance(m, kind) for m in decode_in_pieces(data, []))

    assert decode_in_pieces(find(arbitrary_streams, has(Message)), []) != "corrupt"
    assert find(arbitrary_streams, has(Malformed))
    assert find(arbitrary_streams, lambda d: decode_in_pieces(d, []) == "corrupt")


def test_non_ascii_fields_are_skipped_and_the_stream_stays_in_step() -> None:
    bad = b"2\x00K\xc3\xa9y\x00v\x00"
    good = encode(VALUE, "ATI", "True")
    out = Decoder().feed(bad + good)
    assert isinstance(out[0], Malformed)
    assert out[1] == Message(VALUE, ("ATI", "True"))


def test_unknown_types_and_huge_fields_are_fatal() -> None:
    with pytest.raises(StreamCorrupt, match="unknown message type '9'"):
        Decoder().feed(b"9\x00x\x00")
    with pytest.raises(StreamCorrupt, match="longer than"):
        Decoder().feed(b"2\x00" + b"k" * (MAX_FIELD_BYTES + 1))


def test_encode_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        encode(VALUE, "k", "é")
    with pytest.raises(ValueError, match="takes 2 fields"):
        encode(VALUE, "k")
