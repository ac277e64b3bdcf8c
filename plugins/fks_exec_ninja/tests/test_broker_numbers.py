"""Impossible numbers from NinjaTrader (issue 20): a price of ``1E+999999999``, NaN, a
negative or absurd fill. They go through ``fks_exec.kit.broker_decimal``'s bounds where
they are read; the order becomes ``unknown`` with a warning naming NinjaTrader and the
value's key, never a definite answer."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec_ninja.states import number, observe, parse_state, result_for
from fks_exec_ninja.testing.reference import InvalidCommand, ServerSettings

from .ninja_helpers import ES, placing, running

IMPOSSIBLE = [
    ("AvgFillPrice", "1E+999999999"),
    ("AvgFillPrice", "NaN"),
    ("AvgFillPrice", "-6000.25"),
    ("AvgFillPrice", "Infinity"),
    ("AvgFillPrice", "1" * 65),
    ("Filled", "1e40"),
    ("Filled", "-1"),
    ("Filled", "sNaN"),
    ("Filled", "one"),
]


@pytest.mark.parametrize(("kind", "text"), IMPOSSIBLE)
def test_an_impossible_number_gives_unknown_naming_broker_and_key(
    kind: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    values = {"OrderStatus|X": "Filled", "Filled|X": "1", "AvgFillPrice|X": "6000.25"}
    values[f"{kind}|X"] = text
    order = Order.market("ES", "buy", 1)
    seen = observe(values, "X")
    assert seen.bad is not None and seen.settled(Decimal(1), market=True)
    assert not seen.agrees(Decimal(1))
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
        result = result_for(values, "X", plugin="ninja", order=order)
    assert result is not None
    assert (result.status, result.error_code, result.sent) == (
        OrderStatus.UNKNOWN,
        ErrorCode.UNKNOWN,
        True,
    )
    assert f"NinjaTrader: {kind}|X" in (result.error or "")
    assert any(f"NinjaTrader: {kind}|X" in r.getMessage() for r in caplog.records)


def test_numbers_are_parsed_once_and_bounded() -> None:
    assert number("6000.25", "AvgFillPrice|X") == Decimal("6000.25")
    assert number("6000.25", "AvgFillPrice|Y") is number("6000.25", "AvgFillPrice|Y")
    assert number("", "Filled|X") is None and number(None, "Filled|X") is None
    for _ in range(2):  # a refused text is refused again, not remembered as good
        with pytest.raises(BadBrokerNumber, match=r"NinjaTrader: Filled\|Z"):
            number("-3", "Filled|Z")
    from fks_exec_ninja import states

    sizes = set()
    for i in range(5_000):  # the table of parsed texts stays bounded
        assert number(f"{i}.5", "AvgFillPrice|X") == Decimal(f"{i}.5")
        sizes.add(len(states._NUMBERS))
    assert max(sizes) == 4_096


def test_state_names_are_remembered_within_a_bound() -> None:
    from fks_exec_ninja import states

    for i in range(300):
        assert parse_state(f" Odd State {i} ") == f"oddstate{i}"
        assert parse_state(f" Odd State {i} ") == f"oddstate{i}"  # cached or not: alike
    assert len(states._PARSED) == 256
    assert parse_state("") is None and parse_state(None) is None


async def test_an_order_answered_with_an_impossible_price_is_unknown_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server ignores the PLACE (an instrument it does not know); hostile values
    answer it: the answer is ``unknown`` without waiting for the order timeout."""
    server = ServerSettings(invalid_command=InvalidCommand.IGNORE)
    async with running(server, order_timeout_s=30) as (nt, plugin):
        order = Order.market("CL 01-27", "buy", 1)
        order_id, pending = await placing(nt, plugin, order)
        nt.push_value(f"OrderStatus|{order_id}", "Filled")
        nt.push_value(f"Filled|{order_id}", "1")
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.push_value(f"AvgFillPrice|{order_id}", "1E+999999999")
            result = await asyncio.wait_for(pending, 2)
        assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
        assert f"AvgFillPrice|{order_id}" in (result.error or "")
        assert any("NinjaTrader" in r.getMessage() for r in caplog.records)
        found = await plugin.get_order(order.client_order_id)
        assert found is not None and found.status is OrderStatus.UNKNOWN


async def test_impossible_positions_and_quotes_are_never_read_as_numbers() -> None:
    async with running() as (nt, plugin):
        nt.push_value(f"MarketPosition|{ES}|Sim101", "1E+999999999")
        await nt.flushed()
        await asyncio.sleep(0.05)
        with pytest.raises(BadBrokerNumber, match=rf"MarketPosition\|{ES}\|Sim101"):
            await plugin.positions()
        with pytest.raises(BrokerUnavailable, match=r"out of range.*nothing was sent"):
            await plugin.close_position("ES")
        assert not any(c.text.startswith("CLOSEPOSITION") for c in nt.commands)
        nt.push_value(f"MarketPosition|{ES}|Sim101", "2")
        nt.push_value(f"AvgEntryPrice|{ES}|Sim101", "NaN")
        await nt.flushed()
        await asyncio.sleep(0.05)
        with pytest.raises(BadBrokerNumber, match="AvgEntryPrice"):
            await plugin.positions()
        quote = await plugin.fetch_data("ES")
        nt.push_value(f"MarketData|{ES}|1", "-5")
        await nt.flushed()
        await asyncio.sleep(0.05)
        bad = await plugin.fetch_data("ES")
        assert quote.bid is not None and bad.bid is None


async def test_an_impossible_number_before_any_state_is_unknown_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server ignores the PLACE; only ``Filled|<id>`` = NaN is pushed, no state: the
    answer is ``unknown`` at once, naming the value, not a timeout that never happened."""
    server = ServerSettings(invalid_command=InvalidCommand.IGNORE)
    async with running(server, order_timeout_s=30) as (nt, plugin):
        order_id, pending = await placing(nt, plugin, Order.market("CL 01-27", "buy", 1))
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.push_value(f"Filled|{order_id}", "NaN")
            result = await asyncio.wait_for(pending, 2)
        assert result.status is OrderStatus.UNKNOWN and result.sent is not False
        assert result.error_code is ErrorCode.UNKNOWN, result
        error = result.error or ""
        assert f"Filled|{order_id}" in error and "before any order state" in error
        assert "pushed no order state in" not in error
        assert any(f"Filled|{order_id}" in r.getMessage() for r in caplog.records)
