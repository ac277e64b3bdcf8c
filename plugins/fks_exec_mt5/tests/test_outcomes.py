"""What the caller learns: pending orders, retcodes, last_error codes, health, time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec.errors import ConfigurationError
from fks_exec_mt5 import constants as c
from fks_exec_mt5.mapping import comment_for
from fks_exec_mt5.plugin import derived_magic
from fks_exec_mt5.retcodes import LAST_ERRORS, RETCODES, Fate
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started

D = Decimal
REAL = json.loads((Path(__file__).parent / "data" / "metatrader5-5.0.6231.json").read_text())
CONSTANTS = REAL["constants"]


def test_every_retcode_and_last_error_of_the_package_has_a_meaning() -> None:
    retcodes = {v for k, v in CONSTANTS.items() if k.startswith("TRADE_RETCODE_")}
    assert retcodes <= set(RETCODES)
    failures = {v for k, v in CONSTANTS.items() if k.startswith("RES_E_")}
    assert failures == set(LAST_ERRORS)


async def test_a_placed_pending_order_is_accepted_and_its_fill_comes_from_the_deal() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    order = Order.limit("EURUSD", "buy", "0.2", D("1.09"))
    placed = await plugin.execute_order(order)
    assert placed.status is OrderStatus.ACCEPTED and placed.filled_quantity == 0
    assert placed.raw is not None and placed.raw["retcode"] == c.TRADE_RETCODE_DONE
    assert placed.raw["deal"] == 0
    terminal.set_tick("EURUSD", "1.0890", "1.0891")
    found = await plugin.get_order(order.client_order_id)
    assert found is not None and found.status is OrderStatus.FILLED
    (deal,) = terminal.history_deals_get(ticket=int(placed.order_id or 0))
    assert found.filled_quantity == D("0.2") and found.average_price == D(repr(deal.price))
    await plugin.close()


@pytest.mark.parametrize(
    ("code", "fate"), sorted((code, meaning.fate) for code, meaning in LAST_ERRORS.items())
)
async def test_every_last_error_says_whether_anything_was_sent(code: int, fate: Fate) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    terminal.fail_next("order_send", code)
    order = Order.market("EURUSD", "buy", "0.1")
    if fate is Fate.UNAVAILABLE:
        with pytest.raises(BrokerUnavailable):
            await plugin.execute_order(order)
    else:
        result = await plugin.execute_order(order)
        if fate is Fate.DENIED:
            assert result.status is OrderStatus.REJECTED and result.sent is False, result
        else:
            assert result.status is OrderStatus.UNKNOWN and result.sent is None, result
    if fate is not Fate.MAYBE_SENT:  # nothing was sent: the same id may go again, and does
        again = await plugin.execute_order(order)
        assert again.status is OrderStatus.FILLED, again
    await plugin.close()


async def test_auto_trading_through_the_api_disabled_is_denied_with_the_fix() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    terminal.update_terminal(tradeapi_disabled=True)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.sent is False and result.error_code is ErrorCode.AUTH
    assert "Python API" in (result.error or "")
    health = await plugin.health_check()
    assert not health.healthy and "Python API" in health.detail
    await plugin.close()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"trade_allowed": False}, "Algo Trading"),
        ({"tradeapi_disabled": True}, "Python API"),
        ({"connected": False}, "not connected"),
    ],
)
async def test_health_says_what_it_checked(change: dict[str, bool], words: str) -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    healthy = await plugin.health_check()
    assert healthy.healthy and "tradeapi_disabled" in healthy.detail
    terminal.update_terminal(**change)
    sick = await plugin.health_check()
    assert not sick.healthy and words in sick.detail
    await plugin.close()


async def test_account_that_may_not_trade_is_unhealthy() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    terminal.update_account(trade_expert=False)
    assert not (await plugin.health_check()).healthy
    await plugin.close()


async def test_paper_comes_from_the_accounts_trade_mode() -> None:
    demo = await started(FakeMetaTrader5.hedging())
    assert demo.is_paper
    await demo.close()
    real = FakeMetaTrader5(
        account=FakeMetaTrader5.hedging()._server.account.with_changes(
            trade_mode=c.ACCOUNT_TRADE_MODE_REAL
        )
    )
    live = await started(real)
    assert not live.is_paper
    await live.close()
    with pytest.raises(ConfigurationError):
        await started(FakeMetaTrader5.hedging(), paper=False)


async def test_an_order_for_another_account_is_refused_unsent() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    other = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1", account="999"))
    assert other.sent is False and "999" in (other.error or "")
    mine = await plugin.execute_order(
        Order.market("EURUSD", "buy", "0.1", account=str(plugin.login))
    )
    assert mine.status is OrderStatus.FILLED
    await plugin.close()


async def test_magic_defaults_to_a_stable_nonzero_value() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal, magic=None)
    account = terminal.account_info()
    assert plugin.magic == derived_magic("mt5", account.login, account.server) != 0
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    (position,) = terminal.positions_get()
    assert position.magic == plugin.magic and result.success
    await plugin.close()


async def test_cancel_never_hits_another_order_and_not_another_programs() -> None:
    terminal = FakeMetaTrader5.hedging()
    foreign = terminal.add_pending_order("EURUSD", terminal.ORDER_TYPE_BUY_LIMIT, "0.1", "1.05")
    plugin = await started(terminal)
    mine = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", D("1.04")))
    refused = await plugin.cancel_order(str(foreign))
    assert refused.sent is False and "magic" in (refused.error or "")
    assert mine.order_id is not None
    canceled = await plugin.cancel_order(mine.order_id)
    assert canceled.status is OrderStatus.CANCELED and canceled.order_id == mine.order_id
    assert [o.ticket for o in terminal.orders_get()] == [foreign]
    missing = await plugin.cancel_order(mine.order_id)
    assert missing.status is OrderStatus.REJECTED and missing.sent is False
    await plugin.close()


async def test_a_lost_answer_is_unknown_and_reconciled_from_the_history() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    terminal.lose_next_answer(after_broker_acted=True)
    order = Order.market("EURUSD", "buy", "0.1")
    lost = await plugin.execute_order(order)
    assert lost.status is OrderStatus.UNKNOWN
    again = await plugin.execute_order(order)  # reconciled, never resent
    assert again.status is OrderStatus.FILLED
    assert terminal.order_arrivals() == {comment_for(order.client_order_id): 1}
    hints = plugin.lookup_hints(order, again)
    assert hints["magic"] == str(MAGIC)
    found = await plugin.find_order(order.client_order_id, hints)
    assert found is not None and found.status is OrderStatus.FILLED
    await plugin.close()


async def test_a_default_32_character_id_is_found_again_by_a_restarted_plugin() -> None:
    # MqlTradeRequest's comment holds 31 characters (the fake refuses 32); the core's
    # default ids have 32. After a restart (a new plugin, the same terminal and magic)
    # the order is found from the journal's hints and from the id alone.
    terminal = FakeMetaTrader5.hedging()
    first = await started(terminal)
    order = Order.market("EURUSD", "buy", "0.1")
    assert len(order.client_order_id) == 32
    terminal.lose_next_answer(after_broker_acted=True)
    lost = await first.execute_order(order)
    assert lost.status is OrderStatus.UNKNOWN
    hints = dict(first.lookup_hints(order, None))
    await first.close()
    (comment,) = terminal.order_arrivals()
    assert comment == hints["comment"] and len(comment) <= 31 and comment.isascii()
    restarted = await started(terminal)
    for found in (
        await restarted.find_order(order.client_order_id, hints),
        await restarted.get_order(order.client_order_id),
    ):
        assert found is not None and found.status is OrderStatus.FILLED
        assert found.client_order_id == order.client_order_id
    await restarted.close()


@pytest.mark.parametrize("hours", [-5, 0, 2, 3])
async def test_server_time_is_converted_to_utc(hours: int) -> None:
    terminal = FakeMetaTrader5.hedging(server_utc_offset=timedelta(hours=hours))
    plugin = await started(terminal)
    quote = await plugin.fetch_data("EURUSD")
    assert abs(quote.timestamp - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert plugin.session.clock.offset == timedelta(hours=hours)
    order = Order.market("EURUSD", "buy", "0.1")
    await plugin.execute_order(order)
    found = await plugin.get_order(order.client_order_id)
    assert found is not None
    assert abs(found.timestamp - datetime.now(timezone.utc)) < timedelta(minutes=5)
    await plugin.close()


async def test_a_configured_server_offset_wins() -> None:
    terminal = FakeMetaTrader5.hedging(server_utc_offset=timedelta(hours=3))
    plugin = await started(terminal, server_utc_offset_minutes=180)
    assert plugin.session.clock.offset == timedelta(hours=3)
    await plugin.close()
