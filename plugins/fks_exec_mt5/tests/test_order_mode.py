"""SYMBOL_ORDER_MODE is checked before the first leg (outside review, 2026-12-04): on a
symbol that takes no stop loss, a hedging sell that closes a long and opens a short with
SL sent the close, then had the opening leg refused (10016): flat, not short, reported
``partially_filled``. MQL5 Symbol Properties, SYMBOL_ORDER_MODE "Flags of allowed order
types" (https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants):
SYMBOL_ORDER_MARKET 1, _LIMIT 2, _STOP 4, _STOP_LIMIT 8, _SL 16, _TP 32, _CLOSEBY 64."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted, opened

D = Decimal
ALL = 127


async def _refused(terminal: FakeMetaTrader5, order: Order, flags: int, said: str) -> None:
    plugin = await started(terminal)
    try:
        terminal.update_symbol("EURUSD", order_flags=flags)
        plugin.session.forget_symbols()
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        before = terminal.net_volume("EURUSD", MAGIC)
        result = await plugin.execute_order(order)
        assert result.status is OrderStatus.REJECTED and result.sent is False, result
        assert result.error_code is ErrorCode.NOT_SUPPORTED
        assert said in (result.error or ""), result.error
        assert scripted.sent == [] and terminal.net_volume("EURUSD", MAGIC) == before
    finally:
        await plugin.close()


async def test_a_hedging_close_then_open_with_a_stop_loss_the_symbol_refuses_sends_nothing() -> (
    None
):
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    opened(terminal, c.ORDER_TYPE_BUY, 0.5)
    await plugin.close()
    order = Order.market("EURUSD", "sell", "0.8", stop_loss=D("1.2"))
    await _refused(terminal, order, ALL & ~c.SYMBOL_ORDER_SL, "EURUSD takes no stop losses")


async def test_a_split_netting_reversal_with_a_take_profit_the_symbol_refuses_sends_nothing() -> (
    None
):
    terminal = FakeMetaTrader5.netting()
    terminal.update_symbol("EURUSD", volume_max=1.0)
    plugin = await started(terminal)
    assert (
        await plugin.execute_order(Order.market("EURUSD", "buy", "1.0"))
    ).status is OrderStatus.FILLED
    await plugin.close()
    order = Order.market("EURUSD", "sell", "1.5", take_profit=D("1.0"))
    await _refused(terminal, order, ALL & ~c.SYMBOL_ORDER_TP, "takes no take profits")


@pytest.mark.parametrize(
    ("order", "flag", "said"),
    [
        (Order.market("EURUSD", "buy", "0.1"), c.SYMBOL_ORDER_MARKET, "takes no market orders"),
        (
            Order.limit("EURUSD", "buy", "0.1", D("1.09")),
            c.SYMBOL_ORDER_LIMIT,
            "takes no limit orders",
        ),
        (Order.stop("EURUSD", "buy", "0.1", D("1.2")), c.SYMBOL_ORDER_STOP, "takes no stop orders"),
        (
            Order.stop_limit("EURUSD", "buy", "0.1", stop_price=D("1.2"), price=D("1.199")),
            c.SYMBOL_ORDER_STOP_LIMIT,
            "takes no stop-limit orders",
        ),
        (
            Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.0"), take_profit=D("1.2")),
            c.SYMBOL_ORDER_SL | c.SYMBOL_ORDER_TP,
            "takes no stop losses and no take profits",
        ),
    ],
)
async def test_what_the_symbol_does_not_allow_is_refused_before_sending(
    order: Order, flag: int, said: str
) -> None:
    await _refused(FakeMetaTrader5.netting(), order, ALL & ~flag, said)


async def test_a_symbol_reporting_no_flag_at_all_is_not_checked() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    try:
        terminal.update_symbol("EURUSD", order_flags=ALL)
        rules = plugin.session.rules("EURUSD")
        assert rules.allows(c.SYMBOL_ORDER_SL)
        object.__setattr__(rules, "order_flags", 0)  # a terminal that leaves it 0
        assert rules.allows(c.SYMBOL_ORDER_CLOSEBY)
        result = await plugin.execute_order(
            Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.0"))
        )
        assert result.status is OrderStatus.FILLED, result
    finally:
        await plugin.close()


async def test_hedged_pairs_on_a_symbol_without_close_by_are_left_with_a_refusal() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        opened(terminal, c.ORDER_TYPE_BUY, 0.3)
        opened(terminal, c.ORDER_TYPE_SELL, 0.1)
        terminal.update_symbol("EURUSD", order_flags=ALL & ~c.SYMBOL_ORDER_CLOSEBY)
        plugin.session.forget_symbols()
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        net, pair = await plugin.close_position("EURUSD")
    finally:
        await plugin.close()
    assert net.status is OrderStatus.FILLED
    assert pair.status is OrderStatus.REJECTED and pair.sent is False, pair
    assert "takes no close-by" in (pair.error or "")
    assert [r["action"] for r in scripted.sent] == [c.TRADE_ACTION_DEAL]
