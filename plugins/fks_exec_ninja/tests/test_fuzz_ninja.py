"""Hypothesis fuzzing of everything the ninja plugin reads from NinjaTrader (issue 20).

The codec (random bytes, cut into reads anywhere), the order values (random texts for
``OrderStatus``/``Filled``/``AvgFillPrice`` in any order and cut), positions, quotes and
the account's order list: nothing raises but the documented errors, and no impossible
value becomes a definite answer. ``make test`` runs ``FKS_EXEC_FUZZ_EXAMPLES`` (default 60)
examples of each; ``make soak`` sets it much higher.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec_ninja import account
from fks_exec_ninja.codec import Decoder, Message, StreamCorrupt, encode
from fks_exec_ninja.states import STATES, Observed, observe, result_for
from fks_exec_ninja.tracking import AGREED, DISAGREED, TIMED_OUT, Waiters

from .ninja_helpers import ES, running

EXAMPLES = int(os.environ.get("FKS_EXEC_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_number_texts = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from(
        ["", "0", "-0", "1E+999999999", "1e-999999999", "NaN", "sNaN", "-Infinity", " 5 "]
    ),
    st.sampled_from(["1_000", "0x10", "1" * 65, "6000.25", "2", "1", "3"]),
    st.text(alphabet="0123456789.eE+- ", max_size=70),
    st.text(max_size=12),
)
_states = st.one_of(
    st.sampled_from(
        ["Submitted", "Accepted", "Working", "PartFilled", "Filled", "Cancelled", "Rejected"]
    ),
    st.sampled_from(["Unknown", "CancelPending", "Part Filled", " filled ", ""]),
    st.text(max_size=12),
)
_ORDER_KINDS = ("OrderStatus", "Filled", "AvgFillPrice")


def _pushes() -> st.SearchStrategy[list[tuple[str, str]]]:
    value = st.sampled_from(_ORDER_KINDS).flatmap(
        lambda kind: st.tuples(
            st.just(f"{kind}|X"), _states if kind == "OrderStatus" else _number_texts
        )
    )
    return st.lists(value, min_size=1, max_size=12)


def _parsed(text: str | None) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text else None
    except InvalidOperation:
        return None


def check_definite(result: Any, quantity: int, seen: Observed) -> None:
    """A definite answer says exactly what the values said, and only what an order can."""
    if result.status is OrderStatus.UNKNOWN:
        return
    assert seen.bad is None and seen.state in STATES
    filled, average = result.filled_quantity, result.average_price
    assert filled == seen.filled and 0 <= filled <= quantity
    if filled:
        assert average == seen.average
        assert average is not None and average.is_finite() and 0 < average < Decimal("1e30")


# ---------------------------------------------------------------------- the codec


@FUZZ
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=12))
def test_random_bytes_decode_or_fault_cleanly_however_cut(data: bytes, cuts: list[int]) -> None:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    decoder = Decoder(max_field=64)
    out: list[Message] = []
    try:
        for a, b in itertools.pairwise(points):
            out += decoder.feed(data[a:b])
    except StreamCorrupt as exc:
        out += exc.messages
    for message in out:
        assert isinstance(message, Message) and message.type in "01234"
        assert all(isinstance(f, str) and f.isascii() and "\x00" not in f for f in message.fields)


@FUZZ
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20)), max_size=10))
def test_any_text_encodes_or_is_refused(pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        try:
            data = encode("2", key, value)
        except ValueError:
            assert not (key + value).isascii() or "\x00" in key + value
            continue
        assert Decoder().feed(data) == [Message("2", (key, value))]


# ---------------------------------------------------------------------- order values


@FUZZ
@given(_pushes(), st.integers(1, 5))
def test_random_order_values_never_give_an_impossible_answer(
    pushes: list[tuple[str, str]], quantity: int
) -> None:
    values: dict[str, str] = {"OrderStatus|X": "Submitted"}
    order = Order.market("ES", "buy", quantity)
    for key, value in pushes:
        values[key] = value
        seen = observe(values, "X")
        assert isinstance(seen, Observed)
        result = result_for(values, "X", plugin="ninja", order=order, seen=seen)
        if seen.state is None:
            assert result is None
            continue
        assert result is not None
        check_definite(result, quantity, seen)
        if seen.bad is None:  # what was pushed, read as it was written
            assert seen.filled == (_parsed(values.get("Filled|X")) or 0)
            assert seen.average == _parsed(values.get("AvgFillPrice|X"))


@FUZZ
@given(st.lists(_pushes(), min_size=1, max_size=4), st.integers(1, 5), st.booleans())
def test_a_waiting_order_fed_random_values_ends_cleanly(
    reads: list[list[tuple[str, str]]], quantity: int, market: bool
) -> None:
    order = Order.market("ES", "buy", quantity)

    async def run() -> None:
        values: dict[str, str] = {}
        waiters = Waiters(values)

        async def feed() -> None:
            for read in reads:
                await asyncio.sleep(0)
                for key, value in read:
                    values[key] = value
                    waiters.on_value(key, value)
                waiters.on_batch()

        feeder = asyncio.ensure_future(feed())
        how, seen = await waiters.order(
            "X",
            lambda s: s.settled(Decimal(quantity), market=market),
            quantity=Decimal(quantity),
            timeout_s=0.05,
            agree_s=0.01,
        )
        await feeder
        assert how in (AGREED, DISAGREED, TIMED_OUT)
        assert (seen is not None) is (how == AGREED)
        result = result_for(values, "X", plugin="ninja", order=order, seen=seen)
        if result is not None:
            check_definite(result, quantity, seen or observe(values, "X"))
        assert len(waiters) == 0

    asyncio.run(run())


# ---------------------------------------------------------------------- account values


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(["MarketPosition", "AvgEntryPrice"]), _number_texts),
        max_size=6,
    ),
    st.text(max_size=60),
)
def test_positions_and_order_lists_from_random_values(
    pushes: list[tuple[str, str]], listing: str
) -> None:
    values = {f"{kind}|{ES}|Sim101": text for kind, text in pushes}
    plugin: Any = SimpleNamespace(
        config=SimpleNamespace(account="Sim101", symbols={"ES": ES}),
        ati=SimpleNamespace(values=values),
    )
    try:
        found = account.positions(plugin)
    except BadBrokerNumber as exc:
        refused: str | None = str(exc)
    else:
        refused = None
        held = _parsed(values.get(f"MarketPosition|{ES}|Sim101"))
        assert [p.quantity for p in found] == ([held] if held else [])
        for position in found:
            assert position.average_price is None or position.average_price > 0
    assert refused is None or refused.startswith("NinjaTrader: ")
    ids = account.order_ids(listing)
    assert all(i and "|" not in i for i in ids)


async def test_hostile_bytes_after_ati_never_break_the_plugin() -> None:
    """Random bytes from a peer: the connection may drop and come back, an order after
    it is answered, and nothing raises out of the reader."""
    rng = random.Random(20)
    async with running() as (nt, plugin):
        for _ in range(20):
            nt.send_raw(rng.randbytes(rng.randint(1, 200)))
        await asyncio.sleep(0.2)
        assert await plugin.ati.wait_connected(5)
        await nt.wait_until(lambda: plugin.ati.ati_up and "Orders|Sim101" in plugin.ati.values)
        result = await plugin.execute_order(Order.market("ES", "buy", 1))
        assert result.status in (OrderStatus.FILLED, OrderStatus.UNKNOWN)
