"""The trade server's offset from UTC: a fresh plugin reads a tick before it converts
history, and the estimate follows the server's clock down (end of daylight saving)
as well as up, while a stale tick can never pull it down."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec_mt5.servertime import ServerClock
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started

_NOW = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("hours", [-5, 2, 3])
async def test_a_fresh_plugin_converts_history_with_a_known_offset(hours: int) -> None:
    terminal = FakeMetaTrader5.hedging(server_utc_offset=timedelta(hours=hours))
    first = await started(terminal)
    order = Order.market("EURUSD", "buy", "0.1", client_order_id="ts-1")
    await first.execute_order(order)
    await first.close()
    fresh = await started(terminal)
    try:
        assert not fresh.session.clock.known
        found = await fresh.get_order("ts-1")
        assert found is not None
        assert abs(found.timestamp - terminal.now_utc()) < timedelta(minutes=5), found.timestamp
        assert fresh.session.clock.offset == timedelta(hours=hours)
    finally:
        await fresh.close()


async def test_without_a_tick_a_lookup_leaves_the_server_stamp_out() -> None:
    terminal = FakeMetaTrader5.hedging(server_utc_offset=timedelta(hours=3))
    first = await started(terminal)
    await first.execute_order(Order.market("EURUSD", "buy", "0.1", client_order_id="ts-2"))
    await first.close()
    fresh = await started(terminal)
    try:
        terminal.fail_next("symbol_info_tick", -10004)
        found = await fresh.get_order("ts-2")
        assert found is not None and not fresh.session.clock.known
        assert abs(found.timestamp - terminal.now_utc()) < timedelta(minutes=5), found.timestamp
    finally:
        await fresh.close()


@pytest.mark.parametrize(("before", "after"), [(3, 2), (2, 3), (1, -4)])
async def test_the_estimate_follows_a_change_of_the_server_offset(before: int, after: int) -> None:
    terminal = FakeMetaTrader5.hedging(server_utc_offset=timedelta(hours=before))
    plugin = await started(terminal)
    try:
        await plugin.fetch_data("EURUSD")
        assert plugin.session.clock.offset == timedelta(hours=before)
        terminal.set_server_utc_offset(timedelta(hours=after))
        await plugin.fetch_data("EURUSD")  # the same tick again: proves nothing
        assert plugin.session.clock.offset == timedelta(hours=before)
        await asyncio.sleep(0.01)
        terminal.set_tick("EURUSD", "1.1000", "1.1001")
        quote = await plugin.fetch_data("EURUSD")
        assert plugin.session.clock.offset == timedelta(hours=after)
        assert abs(quote.timestamp - terminal.now_utc()) < timedelta(minutes=1)
        order = Order.market("EURUSD", "buy", "0.1", client_order_id="after")
        await plugin.execute_order(order)
        found = await plugin.get_order("after")
        assert found is not None
        assert abs(found.timestamp - terminal.now_utc()) < timedelta(minutes=1)
    finally:
        await plugin.close()


_EVENT = st.one_of(
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=600)),
    st.tuples(st.just("offset"), st.integers(min_value=-8, max_value=12)),
    st.tuples(st.just("fresh"), st.integers(min_value=0, max_value=30)),  # age in seconds
    st.tuples(st.just("again"), st.just(0)),
    st.tuples(st.just("stale"), st.integers(min_value=900, max_value=3 * 86_400)),
)


@given(start=st.integers(min_value=-8, max_value=12), events=st.lists(_EVENT, max_size=25))
@example(start=12, events=[("fresh", 0), ("offset", 8), ("fresh", 0), ("wait", 5), ("fresh", 0)])
@example(start=8, events=[("fresh", 0), ("stale", 7200), ("again", 0), ("fresh", 1)])
def test_the_estimate_is_exact_after_a_new_tick_and_a_stale_tick_never_lowers_it(
    start: int, events: list[tuple[str, int]]
) -> None:
    """Offsets are whole quarter hours (``offset`` events, in quarters). A fresh new tick
    of EURUSD, after a look at it less than nine minutes before, makes the estimate the
    server's offset, up or down; a tick seen again, or a stale tick of a symbol seen
    for the first time, never lowers it."""
    clock = ServerClock()
    true = timedelta(minutes=15 * start)
    now = _NOW
    last_look: datetime | None = None
    last_stamp = 0
    stale_symbols = 0
    for kind, value in events:
        if kind == "wait":
            now += timedelta(seconds=value)
            continue
        if kind == "offset":
            true = timedelta(minutes=15 * value)
            continue
        before = clock.offset if clock.known else None
        if kind == "stale":  # a quiet symbol's old tick, first seen now
            stale_symbols += 1
            stamp = int((now - timedelta(seconds=value) + true).timestamp() * 1000)
            clock.observe(stamp, now, symbol=f"QUIET{stale_symbols}")
            if before is not None:
                assert clock.offset >= before
            now += timedelta(milliseconds=5)
            continue
        if kind == "again":
            if not last_stamp:
                continue
            stamp = last_stamp
        else:  # a new tick: made after the last look at the symbol
            age = timedelta(seconds=value)
            if last_look is not None:
                age = min(age, now - last_look - timedelta(milliseconds=1))
            stamp = int((now - age + true).timestamp() * 1000)
        clock.observe(stamp, now, symbol="EURUSD")
        recent = last_look is not None and now - last_look <= timedelta(minutes=9)
        if kind == "fresh" and stamp != last_stamp and recent:
            assert clock.offset == true, (clock.offset, true)
        if kind == "again" and before is not None:
            assert clock.offset == before
        last_look, last_stamp = now, stamp
        now += timedelta(milliseconds=5)


def test_a_configured_offset_is_never_changed_by_ticks() -> None:
    clock = ServerClock(120)
    clock.observe(int((_NOW + timedelta(hours=5)).timestamp() * 1000), _NOW, symbol="EURUSD")
    clock.observe(int((_NOW - timedelta(hours=1)).timestamp() * 1000), _NOW, symbol="EURUSD")
    assert clock.offset == timedelta(hours=2) and clock.known
