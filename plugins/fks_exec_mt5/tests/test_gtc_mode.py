"""SYMBOL_ORDER_GTC_MODE (MQL5 book "Pending order expiration rules",
https://www.mql5.com/en/book/automation/symbols/symbols_expiration): on a symbol with
SYMBOL_ORDERS_DAILY a gtc pending order is deleted at the end of the trading day and
so is every SL/TP; with SYMBOL_ORDERS_DAILY_NO_STOPS the orders only. The
plugin refuses, before sending, what the symbol would silently drop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.prechecks import SymbolRules
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted
from .test_mapping import info

D = Decimal
GTC, DAILY, NO_STOPS = (
    c.SYMBOL_ORDERS_GTC,
    c.SYMBOL_ORDERS_DAILY,
    c.SYMBOL_ORDERS_DAILY_NO_STOPS,
)
ORDERS = {
    "gtc limit": Order.limit("EURUSD", "buy", "0.1", D("1.09"), time_in_force="gtc"),
    "day limit": Order.limit("EURUSD", "buy", "0.1", D("1.09"), time_in_force="day"),
    "day limit with tp": Order.limit(
        "EURUSD", "buy", "0.1", D("1.09"), time_in_force="day", take_profit=D("1.12")
    ),
    "market": Order.market("EURUSD", "buy", "0.1"),
    "market with sl": Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.09")),
}
REFUSED = {
    GTC: set(),
    DAILY: {"gtc limit", "day limit with tp", "market with sl"},
    NO_STOPS: {"gtc limit"},
}


def test_the_mode_is_read_and_an_older_terminal_without_it_is_gtc() -> None:
    assert SymbolRules.of(info(order_gtc_mode=DAILY)).gtc_mode == DAILY
    assert SymbolRules.of(info()).gtc_mode == GTC  # the field came with later builds
    assert (GTC, DAILY, NO_STOPS) == (0, 1, 2)  # ENUM_SYMBOL_ORDER_GTC_MODE


@pytest.mark.parametrize("mode", [GTC, DAILY, NO_STOPS])
@pytest.mark.parametrize("name", sorted(ORDERS))
async def test_what_the_symbol_would_drop_at_day_end_is_refused_before_sending(
    mode: int, name: str
) -> None:
    terminal = FakeMetaTrader5.hedging()
    terminal.update_symbol("EURUSD", order_gtc_mode=mode)
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        result = await plugin.execute_order(ORDERS[name])
    finally:
        await plugin.close()
    if name not in REFUSED[mode]:
        assert result.status in (OrderStatus.ACCEPTED, OrderStatus.FILLED), result
        return
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert scripted.sent == []
    error = result.error or ""
    assert "at the end of the trading day" in error and "nothing was sent" in error
    if name == "gtc limit":
        assert "time_in_force='day'" in error
        mode_name = "SYMBOL_ORDERS_DAILY" if mode == DAILY else "SYMBOL_ORDERS_DAILY_NO_STOPS"
        assert f"SYMBOL_ORDER_GTC_MODE {mode}: {mode_name}" in error
    else:
        assert "without stop_loss/take_profit" in error


async def test_a_day_order_on_a_daily_symbol_expires_as_it_says() -> None:
    terminal = FakeMetaTrader5.hedging()
    terminal.update_symbol("EURUSD", order_gtc_mode=DAILY)
    plugin = await started(terminal)
    try:
        placed = await plugin.execute_order(ORDERS["day limit"])
        assert placed.status is OrderStatus.ACCEPTED, placed
        terminal.advance_time(86400)
        terminal.set_tick("EURUSD", "1.10001", "1.10011")
        found = await plugin.get_order(placed.client_order_id)
        assert found is not None and found.status is OrderStatus.EXPIRED, found
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    finally:
        await plugin.close()
