"""A reconnect that finds the terminal in another account (fks_exec_mt5.connection).

Without a configured login ``initialize`` keeps the account the terminal is in
(MetaQuotes, ``initialize``), so after the user logs the terminal in elsewhere a
reconnect lands there. The plugin's magic, account mode and paper/live setting are the
first account's: every call is refused until the plugin is started again.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Recording

LOGIN = 5_000_001  # the reference fake's account

CHANGES: dict[str, dict[str, Any]] = {
    "login": {"login": 7_000_007},
    "server": {"server": "Other-Live"},
    "real": {"trade_mode": c.ACCOUNT_TRADE_MODE_REAL},
    "netting": {"margin_mode": c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING},
}


async def _reconnected(terminal: FakeMetaTrader5, **changes: Any) -> Any:
    """A plugin on ``terminal`` whose terminal then changes account and loses its link."""
    plugin = await started(terminal)
    terminal.update_account(**changes)
    terminal.disconnect()
    with pytest.raises(BrokerUnavailable, match="nothing was sent"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    terminal.reconnect()
    return plugin


@pytest.mark.parametrize("change", sorted(CHANGES))
async def test_a_reconnect_into_another_account_refuses_every_order(
    change: str, caplog: pytest.LogCaptureFixture
) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _reconnected(terminal, **CHANGES[change])
    order = Order.market("EURUSD", "buy", "0.1", account=str(LOGIN))
    with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.mt5"):
        for _ in range(2):  # the first call finds it out, later ones are refused at once
            with pytest.raises(BrokerUnavailable, match="another account") as info:
                await plugin.execute_order(order)
            message = str(info.value)
            assert f"started on account {LOGIN}@" in message
            assert "nothing was sent" in message and "init it again" in message
    assert terminal.net_volume("EURUSD") == 0
    assert [r.levelno for r in caplog.records if "another account" in r.getMessage()] == [
        logging.ERROR
    ]
    with pytest.raises(BrokerUnavailable, match="another account"):
        await plugin.close_position("EURUSD")
    with pytest.raises(BrokerUnavailable, match="another account"):
        await plugin.tickets("EURUSD")
    assert terminal.net_volume("EURUSD") == 0
    await plugin.close()


async def test_the_same_account_after_a_reconnect_trades_on() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _reconnected(terminal, balance=12345)  # not what identifies it
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.FILLED, result
    await plugin.close()


async def test_starting_again_takes_the_new_account() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _reconnected(terminal, **CHANGES["netting"])
    with pytest.raises(BrokerUnavailable, match="another account"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    await plugin.close()
    await plugin.init({"magic": MAGIC})
    assert plugin.hedging is False
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.FILLED, result
    await plugin.close()


async def test_no_account_record_after_reconnecting_leaves_the_link_to_retry() -> None:
    terminal = FakeMetaTrader5.hedging()
    recording = Recording(terminal)
    plugin = await _reconnected(recording.fake)
    plugin.session.mt5 = recording
    recording.fake.fail_next("account_info", c.RES_E_INTERNAL_FAIL_TIMEOUT)
    with pytest.raises(BrokerUnavailable, match="account_info after reconnecting failed"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.FILLED, result
    assert recording.count("initialize") == 2  # it tried again
    await plugin.close()


async def test_the_refusal_names_both_accounts_as_they_are() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _reconnected(
        terminal,
        login=7_000_007,
        trade_mode=c.ACCOUNT_TRADE_MODE_REAL,
        margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
    )
    with pytest.raises(BrokerUnavailable) as info:
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert str(info.value) == (
        "MetaTrader 5 reconnected into another account: the terminal is now in account "
        "7000007@MetaQuotes-Demo (REAL, netting), but this plugin was started on account "
        f"{LOGIN}@MetaQuotes-Demo (demo, hedging) (its magic, account mode and paper/live "
        f"setting are that account's). Every order is refused: log the terminal back in to "
        f"account {LOGIN}, or close the plugin and init it again on the account it should "
        "trade; nothing was sent"
    )
    await plugin.close()


@pytest.mark.parametrize("fifo", [True, False])
async def test_a_reconnect_that_finds_the_fifo_rule_changed_refuses_every_call(
    fifo: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """``fifo_close`` decides which closes the plugin sends (oldest first, refused when an
    older position is open): a reconnect that finds it turned on (or off) is not the
    account the plugin planned for, so every call is refused until it is started again,
    which then closes by the rule as it is."""
    terminal = FakeMetaTrader5.hedging(fifo_close=not fifo)
    plugin = await started(terminal)
    assert plugin.session.fifo is (not fifo)
    older = terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.1", magic=MAGIC + 1)
    opened = await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
    assert opened.status is OrderStatus.FILLED
    terminal.update_account(fifo_close=fifo)
    terminal.disconnect()
    with pytest.raises(BrokerUnavailable, match="nothing was sent"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    terminal.reconnect()
    with caplog.at_level(logging.ERROR, logger="fks_exec.plugins.mt5"):
        for _ in range(2):
            with pytest.raises(BrokerUnavailable, match="FIFO close rule") as info:
                await plugin.close_position("EURUSD")
            message = str(info.value)
            assert f"ACCOUNT_FIFO_CLOSE) is now {'on' if fifo else 'off'}" in message
            assert "init it again" in message and "nothing was sent" in message
    assert any("FIFO close rule" in r.getMessage() for r in caplog.records)
    with pytest.raises(BrokerUnavailable, match="FIFO close rule"):
        await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
    assert terminal.net_volume("EURUSD", MAGIC) == Decimal("0.2")
    await plugin.close()
    await plugin.init({"magic": MAGIC})  # started again: the rule as it is now
    assert plugin.session.fifo is fifo
    (closed,) = await plugin.close_position("EURUSD")
    if fifo:  # the other program's older position must close first
        assert closed.status is OrderStatus.REJECTED and closed.sent is False, closed
        assert f"position {older}" in (closed.error or "")
        assert terminal.net_volume("EURUSD", MAGIC) == Decimal("0.2")
    else:
        assert closed.status is OrderStatus.FILLED, closed
        assert terminal.net_volume("EURUSD", MAGIC) == 0
    await plugin.close()


def test_an_account_with_fifo_names_it() -> None:
    from fks_exec_mt5.connection import Account

    plain = Account(LOGIN, "MetaQuotes-Demo", paper=True, hedging=True)
    assert str(plain) == f"account {LOGIN}@MetaQuotes-Demo (demo, hedging)"
    assert (
        str(plain._replace(fifo=True)) == f"account {LOGIN}@MetaQuotes-Demo (demo, hedging, FIFO)"
    )
