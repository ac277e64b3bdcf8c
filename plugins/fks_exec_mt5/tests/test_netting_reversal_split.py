"""A netting order that reverses the position and is larger than ``volume_max`` ("maximal
volume for a deal") cannot go in one deal. Before, it was refused before sending even
where closes then an opening deal would do; now it goes as closes of the position (each
at most ``volume_max``, the position named) then one opening deal, each leg only after
the one before filled whole, and a failure leaves the caller knowing exactly what was
done. An opening part a single deal cannot carry (above ``volume_max``, or below
``volume_min``) is refused before sending, saying what to do instead."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Leg, split_closes
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted
from .test_split_orders import FailingLeg

D = Decimal
RICH = {"account_options": {"balance": D(10**12)}}


def _netting(step: Decimal, most: Decimal, low: Decimal | None = None) -> FakeMetaTrader5:
    terminal = FakeMetaTrader5.netting(**RICH)
    terminal.update_symbol(
        "EURUSD", volume_step=step, volume_min=step if low is None else low, volume_max=most
    )
    return terminal


class Recording:
    """The terminal (or a :class:`FailingLeg` around it), with each request sent."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def order_send(self, request: dict[str, Any]) -> Any:
        self.sent.append(request)
        return self.inner.order_send(request)


async def test_a_reversal_above_the_maximum_closes_in_deals_then_opens() -> None:
    terminal = _netting(D("0.01"), D(100))
    plugin = await started(terminal)
    try:
        ticket = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "150", magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        result = await plugin.execute_order(
            Order.market("EURUSD", "sell", "160", stop_loss=D("1.2"))
        )
        assert result.status is OrderStatus.FILLED, result
        assert (result.quantity, result.filled_quantity) == (D(160), D(160))
        sent = [(r.get("position"), r["volume"], r.get("sl")) for r in scripted.sent]
        assert sent == [(ticket, 75.0, None), (ticket, 75.0, None), (None, 10.0, 1.2)]
        assert terminal.net_volume("EURUSD", MAGIC) == D(-10)
        (short,) = terminal.positions_get(symbol="EURUSD")
        assert short.sl == 1.2  # the new side has the order's stop loss
        assert result.raw is not None and len(result.raw["legs"]) == 3
    finally:
        await plugin.close()


async def test_an_opening_part_above_the_maximum_is_refused_saying_what_to_do() -> None:
    terminal = _netting(D("0.01"), D(100))
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "150", magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        refused = await plugin.execute_order(Order.market("EURUSD", "sell", "260"))
        assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        text = refused.error or ""
        assert "position (150 lots long) with 260 lots" in text, text
        assert "opens 110 lots" in text and "close_position" in text, text
        assert "at most 100" in text and "SYMBOL_VOLUME_MAX" in text, text
        assert scripted.sent == []
        assert terminal.net_volume("EURUSD", MAGIC) == D(150)
    finally:
        await plugin.close()


async def test_an_opening_part_below_the_minimum_is_refused_saying_what_to_do() -> None:
    terminal = _netting(D("0.01"), D(100), low=D("0.1"))
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "150", magic=MAGIC)
        refused = await plugin.execute_order(Order.market("EURUSD", "sell", "150.05"))
        assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        assert "0.05 lots is below the minimum volume 0.1" in (refused.error or "")
        assert terminal.net_volume("EURUSD", MAGIC) == D(150)
    finally:
        await plugin.close()


async def test_a_split_reversal_checks_what_opens_against_working_orders() -> None:
    """The opening leg sets a stop loss on the new side, where a working order of this
    program carries none: that fill would delete it (SL/TP inheritance), so refused."""
    terminal = _netting(D("0.01"), D(100))
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "150", magic=MAGIC)
        placed = await plugin.execute_order(Order.limit("EURUSD", "sell", "1", D("1.2")))
        assert placed.status is OrderStatus.ACCEPTED, placed
        refused = await plugin.execute_order(
            Order.market("EURUSD", "sell", "160", stop_loss=D("1.3"))
        )
        assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        assert f"pending order {placed.order_id}" in (refused.error or ""), refused
        assert terminal.net_volume("EURUSD", MAGIC) == D(150)
    finally:
        await plugin.close()


@pytest.mark.parametrize(("held", "asked"), [("150", "160"), ("50", "110")])  # 3 legs, 2 legs
async def test_a_close_only_symbol_refuses_a_split_reversal(held: str, asked: str) -> None:
    terminal = _netting(D("0.01"), D(100))
    terminal.update_symbol("EURUSD", trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, held, magic=MAGIC)
        refused = await plugin.execute_order(Order.market("EURUSD", "sell", asked))
        assert refused.sent is False and "close-only" in (refused.error or ""), refused
        closed = await plugin.execute_order(Order.market("EURUSD", "sell", held))
        assert closed.status is OrderStatus.FILLED, closed
    finally:
        await plugin.close()


@pytest.mark.parametrize(
    ("held", "asked", "sent"),
    [
        ("50", "100", [(True, 100.0)]),  # exactly the maximum: still one deal
        ("50", "150", [(False, 50.0), (True, 100.0)]),  # the rest exactly the maximum
        ("50", "100.01", [(False, 50.0), (True, 50.01)]),  # just above: split
        ("100", "100.01", [(False, 100.0), (True, 0.01)]),  # the rest exactly the minimum
    ],
)
async def test_the_maximum_itself_fits_one_deal(
    held: str, asked: str, sent: list[tuple[bool, float]]
) -> None:
    terminal = _netting(D("0.01"), D(100))
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, held, magic=MAGIC)
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        result = await plugin.execute_order(Order.market("EURUSD", "sell", asked))
        assert result.status is OrderStatus.FILLED, result
        assert [("position" not in r, r["volume"]) for r in scripted.sent] == sent
        assert terminal.net_volume("EURUSD", MAGIC) == D(held) - D(asked)
    finally:
        await plugin.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    step=st.sampled_from([D("0.01"), D("0.1"), D(1)]),
    per=st.integers(min_value=1, max_value=20),
    held=st.integers(min_value=1, max_value=80),
    beyond=st.integers(min_value=0, max_value=45),
    reverse=st.booleans(),
    leg=st.integers(min_value=1, max_value=6),
    how=st.sampled_from(["none", "lost-after", "lost-before", "refused"]),
)
@example(step=D(1), per=10, held=25, beyond=5, reverse=True, leg=1, how="none")
@example(step=D(1), per=10, held=25, beyond=5, reverse=True, leg=4, how="refused")
@example(step=D(1), per=10, held=25, beyond=5, reverse=True, leg=2, how="lost-after")
@example(step=D(1), per=10, held=25, beyond=5, reverse=True, leg=3, how="lost-before")
@example(step=D(1), per=10, held=25, beyond=15, reverse=True, leg=1, how="none")
async def test_a_netting_order_above_the_maximum_is_split_or_refused_never_misreported(
    step: Decimal, per: int, held: int, beyond: int, reverse: bool, leg: int, how: str
) -> None:
    """Over volumes, maximum and step: every deal sent is on the grid and at most the
    maximum; a reversal closes the whole position (named) before its one opening deal;
    a leg after one that did not fill whole is never sent; and the result says exactly
    what was done (``unknown`` only where an answer was lost)."""
    asked = held + beyond if reverse else max(1, held - beyond)
    most, position, volume = per * step, held * step, asked * step
    terminal = _netting(step, most)
    plugin = await started(terminal)
    try:
        ticket = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, position, magic=MAGIC)
        recording = Recording(FailingLeg(terminal, leg, how))
        plugin.session.mt5 = recording
        result = await plugin.execute_order(Order.market("EURUSD", "sell", volume))
        plugin.session.mt5 = terminal
        done = position - terminal.net_volume("EURUSD", MAGIC)
        rest = volume - position
        if volume > position and volume > most and rest > most:  # no deal may open it
            event("refused: the opening part is above the maximum")
            assert result.status is OrderStatus.REJECTED and result.sent is False, result
            assert "close_position" in (result.error or "")
            assert recording.sent == [] and done == 0
            return
        if volume <= position:  # closes only
            plan = split_closes([Leg(volume, ticket)], most, step)
        elif volume <= most:  # one deal reverses it
            plan = [Leg(volume)]
        else:  # closes of the whole position, then the rest opens
            plan = [*split_closes([Leg(position, ticket)], most, step), Leg(rest)]
            event("a split reversal")
        assert all(0 < p.volume <= most and p.volume % step == 0 for p in plan), plan
        fails = how != "none" and leg <= len(plan)
        event(f"{'several legs' if len(plan) > 1 else 'one leg'}, {how if fails else 'all sent'}")
        sent = [Leg(D(repr(r["volume"])), r.get("position")) for r in recording.sent]
        assert sent == (plan[:leg] if fails else plan), (sent, plan)
        before = sum((p.volume for p in plan[: leg - 1]), D(0))
        expected = (
            {
                "refused": before,
                "lost-before": before,
                "lost-after": before + plan[leg - 1].volume if fails else before,
            }.get(how, volume)
            if fails
            else volume
        )
        assert done == expected, (done, expected)
        if not fails:
            assert result.status is OrderStatus.FILLED, result
            assert result.filled_quantity == volume == result.quantity
            assert terminal.net_volume("EURUSD", MAGIC) == position - volume
        elif how.startswith("lost"):
            assert result.status is OrderStatus.UNKNOWN and result.sent is None, result
        else:  # refused by the server: what filled before it, and the legs never sent
            assert result.quantity == volume and result.filled_quantity == done, result
            if done:
                assert result.status is OrderStatus.PARTIALLY_FILLED, result
            else:
                assert result.status is OrderStatus.REJECTED and result.sent is True, result
            if leg < len(plan):
                assert "never sent" in (result.error or ""), result
    finally:
        await plugin.close()


class RefusedLeg:
    """The fake, with the ``leg``-th order_send refused by the server (a volume off the
    grid: 10014)."""

    def __init__(self, terminal: FakeMetaTrader5, leg: int) -> None:
        self.terminal, self.leg, self.sends = terminal, leg, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terminal, name)

    def order_send(self, request: dict[str, Any]) -> Any:
        self.sends += 1
        if self.sends == self.leg:
            request = {**request, "volume": 0.123456}
        return self.terminal.order_send(request)


async def _blind(terminal: FakeMetaTrader5, cid: str) -> Any:
    """``get_order`` in a new process, without the journal's hints."""
    restarted = await started(terminal)
    try:
        return await restarted.get_order(cid)
    finally:
        await restarted.close()


@pytest.mark.parametrize(
    ("account", "held", "asked", "leg", "done"),
    [
        ("netting", "150", "160", 3, D(150)),  # closes done, the opening leg refused
        ("netting", "150", "160", 2, D(75)),  # one split close done, then refused
        ("netting", "210", "210", 2, D(70)),  # a split close stopped after one deal
        ("hedging", "210", "210", 2, D(70)),  # the same on one hedging ticket
    ],
)
async def test_a_lookup_without_the_orders_lots_never_calls_a_stopped_split_filled(
    account: str, held: str, asked: str, leg: int, done: Decimal
) -> None:
    """Legs never sent leave no trace: from the history alone (a new process, no hints)
    a split order stopped after a close cannot be told from one that ended there, so the
    answer is ``unknown``, never ``filled`` for the lots found; with the hints it is
    ``partially_filled`` against the order's lots."""
    terminal = getattr(FakeMetaTrader5, account)(**RICH)
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, held, magic=MAGIC)
        plugin.session.mt5 = RefusedLeg(terminal, leg)
        order = Order.market("EURUSD", "sell", asked)
        result = await plugin.execute_order(order)
        plugin.session.mt5 = terminal
        assert result.status is OrderStatus.PARTIALLY_FILLED, result
        assert result.filled_quantity == done
        hints = plugin.lookup_hints(order, result)
    finally:
        await plugin.close()
    blind = await _blind(terminal, order.client_order_id)
    assert blind is not None and blind.status is OrderStatus.UNKNOWN, blind
    restarted = await started(terminal)
    try:
        found = await restarted.find_order(order.client_order_id, hints)
        assert found is not None and found.status is OrderStatus.PARTIALLY_FILLED, found
        assert (found.quantity, found.filled_quantity) == (D(asked), done)
    finally:
        await restarted.close()


@pytest.mark.parametrize(
    ("account", "held", "side", "asked"),
    [
        ("netting", "150", "sell", "160"),  # a split reversal: its last leg opened
        ("netting", "150", "buy", "40"),  # an add
        ("netting", "150", "sell", "20"),  # a small close: no split could be behind it
        ("netting", "50", "sell", "90"),  # a reversal in one deal
        ("hedging", "150", "sell", "20"),
    ],
)
async def test_a_lookup_without_the_lots_stays_definite_where_no_leg_can_follow(
    account: str, held: str, side: str, asked: str
) -> None:
    terminal = getattr(FakeMetaTrader5, account)(**RICH)
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, held, magic=MAGIC)
        order = Order.market("EURUSD", side, asked)
        result = await plugin.execute_order(order)
        assert result.status is OrderStatus.FILLED, result
    finally:
        await plugin.close()
    blind = await _blind(terminal, order.client_order_id)
    assert blind is not None and blind.status is OrderStatus.FILLED, blind
    assert blind.filled_quantity == D(asked)


async def test_a_filled_pending_order_that_closed_the_position_stays_definite() -> None:
    """A pending order is never split: its fill closing the whole netting position (or
    more than half of volume_max of it) is the whole order, even looked up blind."""
    terminal = _netting(D("0.01"), D(100))
    plugin = await started(terminal)
    try:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "80", magic=MAGIC)
        order = Order.limit("EURUSD", "sell", "80", D("1.2"))
        placed = await plugin.execute_order(order)
        assert placed.status is OrderStatus.ACCEPTED, placed
        terminal.set_tick("EURUSD", "1.2001", "1.2002")  # it fills
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    finally:
        await plugin.close()
    blind = await _blind(terminal, order.client_order_id)
    assert blind is not None and blind.status is OrderStatus.FILLED, blind
    assert blind.filled_quantity == D(80)
