"""A split order's next leg goes only after the leg before it filled in full.

Hedging: a sell against long tickets closes them by number, one request each, then
opens the rest (docs/plugins/mt5.md, *Hedging and netting*). If a closing leg fills
only part of its lots, even when the server answers 10009 DONE (its volume says how
much), the ticket is still partly open and the next leg would open a hedge beside it.
A leg answered 10008 PLACED (queued, its fill not confirmed) or 10009 without a deal
stops the order too. The result says which legs were never sent, and why.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec.models import ExecutionResult
from fks_exec_mt5 import constants as c
from fks_exec_mt5.results import LegAnswer, from_send, leg_done
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .records import SendResult
from .scripted import Record, Scripted, changed

D = Decimal


def build(order: Order, status: OrderStatus, **fields: Any) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="mt5", status=status, **fields)


def _short_then_done(terminal: FakeMetaTrader5, scripted: Scripted, fill: Decimal) -> None:
    """The next order_send fills only ``fill`` lots (the book has no more) and the
    server answers it 10009 DONE with that volume."""

    def answer(real: Any, request: dict[str, Any]) -> Any:
        terminal.update_symbol("EURUSD", liquidity=fill)
        try:
            sent = real(request)  # the fake fills ``fill`` and answers 10010
        finally:
            terminal.update_symbol("EURUSD", liquidity=None)
        return Record({**sent._asdict(), "retcode": c.TRADE_RETCODE_DONE})

    scripted.then("order_send", answer)


def _mine(terminal: FakeMetaTrader5) -> list[Any]:
    return [p for p in terminal.positions_get(symbol="EURUSD") or () if p.magic == MAGIC]


_TENTHS = st.integers(min_value=1, max_value=9).map(lambda n: D(n) / 10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    held=st.lists(_TENTHS, min_size=1, max_size=3),
    extra=st.integers(min_value=0, max_value=4).map(lambda n: D(n) / 10),
    leg=st.integers(min_value=0, max_value=3),
    short=st.integers(min_value=1, max_value=8),
)
async def test_a_short_fill_stops_the_order_and_never_opens_a_hedge(
    held: list[Decimal], extra: Decimal, leg: int, short: int
) -> None:
    terminal = FakeMetaTrader5.hedging()
    for volume in held:
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, volume, magic=MAGIC)
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        asked = [*held, extra] if extra else list(held)  # the legs, oldest ticket first
        leg = min(leg, len(asked) - 1)
        fill = min(D(short) / 100, asked[leg] - D("0.01"))  # less than the leg asked
        if fill <= 0:
            return
        for _ in range(leg):
            scripted.then("order_send", lambda real, request: real(request))
        _short_then_done(terminal, scripted, fill)
        total = sum(asked, D(0))
        result = await plugin.execute_order(
            Order.market("EURUSD", "sell", total, time_in_force="ioc")
        )
        assert len(scripted.sent) == leg + 1, scripted.sent  # nothing after the short leg
        kinds = {p.type for p in _mine(terminal)}
        assert kinds != {c.POSITION_TYPE_BUY, c.POSITION_TYPE_SELL}, "a hedge was opened"
        assert result.status is OrderStatus.PARTIALLY_FILLED, result
        assert result.quantity == total
        assert result.filled_quantity == sum(asked[:leg], D(0)) + fill
        if leg + 1 < len(asked):
            assert f"leg {leg + 1} filled {fill} of its {asked[leg]} lots" in (result.error or "")
            assert "never sent" in (result.error or "")
    finally:
        await plugin.close()


async def test_a_first_leg_answered_10008_is_unknown_and_names_the_legs_not_sent() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.3"))
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        scripted.then(
            "order_send",
            changed(retcode=c.TRADE_RETCODE_PLACED, deal=0, price=0.0, comment="Order placed"),
        )
        order = Order.market("EURUSD", "sell", "0.8", client_order_id="queued-A")
        result = await plugin.execute_order(order)
        assert len(scripted.sent) == 1
        assert result.status is OrderStatus.UNKNOWN, result
        assert result.sent is None and result.filled_quantity == 0
        assert result.quantity == D("0.8")
        assert result.error == (
            "leg 1 (0.5 lots) was answered 10008 Order placed: its fill is not confirmed; "
            "so the last leg was never sent (0.3 lots); not a definite answer: reconcile "
            "with get_order, do not resend"
        )
        found = await plugin.get_order("queued-A")  # the queued close has filled since
        assert found is not None and found.status is OrderStatus.PARTIALLY_FILLED, found
        assert (found.quantity, found.filled_quantity) == (D("0.8"), D("0.5"))
    finally:
        await plugin.close()


async def test_a_leg_answered_done_without_a_deal_stops_the_order() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        scripted.then("order_send", changed(deal=0))
        result = await plugin.execute_order(Order.market("EURUSD", "sell", "0.8"))
        assert len(scripted.sent) == 1  # the 0.3 that would open a short is not sent
        assert result.status is OrderStatus.UNKNOWN, result
        assert "so the last leg was never sent (0.3 lots)" in (result.error or "")
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    finally:
        await plugin.close()


# --------------------------------------------------------------------------- units


def _sent(retcode: int, volume: float, deal: int = 7) -> SendResult:
    price = 1.1 if deal or retcode == c.TRADE_RETCODE_DONE_PARTIAL else 0.0
    return SendResult(retcode, deal, 9, volume, price, 1.1, 1.1001, "x", 1, 0)


def test_leg_done_needs_done_a_deal_and_every_lot() -> None:
    assert leg_done(_sent(c.TRADE_RETCODE_DONE, 0.5), D("0.5"))
    assert not leg_done(_sent(c.TRADE_RETCODE_DONE, 0.4), D("0.5"))
    assert not leg_done(_sent(c.TRADE_RETCODE_DONE, 0.0, deal=0), D("0.5"))
    assert not leg_done(_sent(c.TRADE_RETCODE_PLACED, 0.5, deal=0), D("0.5"))
    assert not leg_done(_sent(c.TRADE_RETCODE_DONE_PARTIAL, 0.4), D("0.5"))
    assert not leg_done(_sent(c.TRADE_RETCODE_DONE, 0.6), D("0.5"))  # above: no answer


def test_legs_never_sent_are_counted_with_their_lots() -> None:
    order = Order.market("EURUSD", "sell", "1.0")
    answers = [
        LegAnswer(sent=_sent(c.TRADE_RETCODE_DONE, 0.4), volume=D("0.4")),
        LegAnswer(sent=_sent(c.TRADE_RETCODE_DONE, 0.1), volume=D("0.3")),
    ]
    result = from_send(answers, order, D("1.0"), build=build, legs=4)
    assert result.status is OrderStatus.PARTIALLY_FILLED, result
    assert result.error == (
        "0.5 of 1.0 lots filled; then leg 2 filled 0.1 of its 0.3 lots; so the other 2 "
        "legs were never sent (0.3 lots)"
    )
    refused = [LegAnswer(sent=_sent(c.TRADE_RETCODE_NO_MONEY, 0.0, deal=0), volume=D("0.4"))]
    result = from_send(refused, order, D("1.0"), build=build, legs=2)
    assert result.status is OrderStatus.REJECTED and result.sent is True, result
    no_money = c.TRADE_RETCODE_NO_MONEY
    assert result.error == f"{no_money} x; so the last leg was never sent (0.6 lots)"


def test_a_split_order_whose_first_leg_filled_short_is_not_read_as_one_fill() -> None:
    order = Order.market("EURUSD", "sell", "0.8")
    answers = [LegAnswer(sent=_sent(c.TRADE_RETCODE_DONE, 0.2), volume=D("0.5"))]
    result = from_send(answers, order, D("0.8"), build=build, legs=2)
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert result.error is not None and "never sent (0.3 lots)" in result.error
    whole = from_send(answers, order, D("0.8"), build=build)  # one leg planned: no error
    assert whole.status is OrderStatus.PARTIALLY_FILLED and whole.error is None


def test_an_answer_without_its_lots_counts_none_toward_the_legs_never_sent() -> None:
    # LegAnswer.volume is optional (a caller that does not know a leg's lots): the lots
    # never sent are then the order's lots less those of the legs that gave theirs
    order = Order.market("EURUSD", "sell", "0.8")
    answers = [LegAnswer(sent=_sent(c.TRADE_RETCODE_PLACED, 0.0, deal=0))]
    result = from_send(answers, order, D("0.8"), build=build, legs=2)
    assert result.status is OrderStatus.UNKNOWN, result
    assert "so the last leg was never sent (0.8 lots)" in (result.error or "")
