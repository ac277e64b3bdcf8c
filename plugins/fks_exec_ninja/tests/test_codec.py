"""The ATI codec: round trips, any segmentation, and arbitrary bytes never crash it."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
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


@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_stream_corrupt(data: bytes) -> None:
    decoder = Decoder(max_field=64)
    try:
        out = decoder.feed(data)
    except StreamCorrupt:
        return
    assert all(isinstance(m, (Message, Malformed)) for m in out)


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
