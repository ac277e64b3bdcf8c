"""FIFO accounts (ACCOUNT_FIFO_CLOSE: "positions can only be closed by FIFO rule ... each
symbol positions will be closed in the same order, in which they are opened, starting
with the oldest one", https://www.mql5.com/en/docs/constants/environment_state/accountinformation):
every close the plugin makes keeps that order or is refused before sending, naming the
position that must close first. That covers partial closes and close-by
(TRADE_ACTION_CLOSE_BY closes two positions at once: each must be the oldest left open,
the pair aside). Before, ``close_position`` sent a close-by whatever older position was
open, and the reference fake took it; both now follow the rule (the fake answers 10045)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fks_exec import Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted

D = Decimal
OTHER = MAGIC + 1
SCOPES = {
    "symbol": {},
    "symbol_and_direction": {"account_options": {"fifo_scope": "symbol_and_direction"}},
}


def _actions(scripted: Scripted) -> list[tuple[Any, ...]]:
    return [(r["action"], r.get("position"), r.get("position_by")) for r in scripted.sent]


def test_the_reference_fake_refuses_a_close_by_out_of_fifo_order() -> None:
    terminal = FakeMetaTrader5.hedging(fifo_close=True)
    terminal.initialize()
    older = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.1", magic=OTHER)
    short = terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
    long = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
    request = {"action": c.TRADE_ACTION_CLOSE_BY, "position": long, "position_by": short}
    refused = terminal.order_send(request)
    assert refused.retcode == c.TRADE_RETCODE_FIFO_CLOSE, refused
    assert len(terminal.positions_get(symbol="EURUSD")) == 3
    # the two oldest are in order (the pair closes together)
    done = terminal.order_send({**request, "position": older, "position_by": short})
    assert done.retcode == c.TRADE_RETCODE_DONE, done
    without_fifo = FakeMetaTrader5.hedging()
    without_fifo.initialize()
    without_fifo.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.1", magic=OTHER)
    a = without_fifo.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
    b = without_fifo.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
    free = without_fifo.order_send({**request, "position": a, "position_by": b})
    assert free.retcode == c.TRADE_RETCODE_DONE, free


@pytest.mark.parametrize("scope", sorted(SCOPES))
async def test_close_position_refuses_a_close_by_an_older_position_blocks(scope: str) -> None:
    terminal = FakeMetaTrader5.hedging(fifo_close=True, **SCOPES[scope])
    plugin = await started(terminal)
    try:
        older = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.1", magic=OTHER)
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
        terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        (pair,) = await plugin.close_position("EURUSD")
        assert pair.status is OrderStatus.REJECTED and pair.sent is False, pair
        assert f"position {older} (magic {OTHER}) is older" in (pair.error or ""), pair
        assert "nothing was sent" in (pair.error or "")
        assert scripted.sent == []
        assert len(terminal.positions_get(symbol="EURUSD")) == 3
    finally:
        await plugin.close()


async def test_a_close_by_in_fifo_order_goes() -> None:
    terminal = FakeMetaTrader5.hedging(fifo_close=True)
    plugin = await started(terminal)
    try:
        long = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
        short = terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.1", magic=OTHER)  # newer
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        (pair,) = await plugin.close_position("EURUSD")
        assert pair.status is OrderStatus.FILLED, pair
        assert _actions(scripted) == [(c.TRADE_ACTION_CLOSE_BY, long, short)]
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    finally:
        await plugin.close()


async def test_a_second_pair_waits_for_an_older_position_left_open() -> None:
    """Two pairs of this program with another program's position opened between them:
    the first pair closes, the second is refused (that position is older) and says so."""
    terminal = FakeMetaTrader5.hedging(fifo_close=True)
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
        terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
        between = terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.1", magic=OTHER)
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.3", magic=MAGIC)
        terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.3", magic=MAGIC)
        first, second = await plugin.close_position("EURUSD")
        assert first.status is OrderStatus.FILLED, first
        assert second.status is OrderStatus.REJECTED and second.sent is False, second
        assert f"position {between}" in (second.error or "")
        assert [p.volume for p in terminal.positions_get(symbol="EURUSD")] == [0.1, 0.3, 0.3]
    finally:
        await plugin.close()


@pytest.mark.parametrize("scope", sorted(SCOPES))
async def test_partial_closes_take_the_oldest_ticket_first(scope: str) -> None:
    terminal = FakeMetaTrader5.hedging(fifo_close=True, **SCOPES[scope])
    plugin = await started(terminal)
    try:
        old = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.5", magic=MAGIC)
        new = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.3", magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        part = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
        assert part.status is OrderStatus.FILLED, part
        (rest,) = await plugin.close_position("EURUSD", D("0.4"))  # 0.3 of old, 0.1 of new
        assert rest.status is OrderStatus.FILLED, rest
        closes = [(r.get("position"), r["volume"]) for r in scripted.sent]
        assert closes == [(old, 0.2), (old, 0.3), (new, 0.1)], closes
        assert [p.volume for p in terminal.positions_get(symbol="EURUSD")] == [0.2]
    finally:
        await plugin.close()


@pytest.mark.parametrize("scope", sorted(SCOPES))
async def test_a_partial_close_behind_an_older_position_is_refused_before_sending(
    scope: str,
) -> None:
    """The plugin reads the rule the strictest way (any direction, any program): a
    position opened earlier, even the other way, must close first."""
    terminal = FakeMetaTrader5.hedging(fifo_close=True, **SCOPES[scope])
    plugin = await started(terminal)
    try:
        older = terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.1", magic=OTHER)
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.5", magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        refused = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
        assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        assert f"position {older}" in (refused.error or "") and "FIFO" in (refused.error or "")
        assert scripted.sent == []
    finally:
        await plugin.close()
