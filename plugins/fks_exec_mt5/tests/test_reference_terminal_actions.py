"""The reference fake's management actions, symbol states and scripted last_error codes.

Driven through the module-level API, as a user of the MetaTrader5 package would;
sources of each rule: docs/plugins/mt5-reference-fake.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from fks_exec_mt5.testing.reference import AccountSpec, FakeMetaTrader5

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def connected(mt5: FakeMetaTrader5) -> FakeMetaTrader5:
    assert mt5.initialize() is True
    return mt5


@pytest.fixture
def hedging() -> FakeMetaTrader5:
    return connected(FakeMetaTrader5.hedging(start_utc=START))


@pytest.fixture
def netting() -> FakeMetaTrader5:
    return connected(FakeMetaTrader5.netting(start_utc=START))


def deal(mt5: FakeMetaTrader5, side: int, volume: float, **extra: Any) -> Any:
    request = {"action": 1, "symbol": "EURUSD", "volume": volume, "type": side,
               "type_filling": mt5.ORDER_FILLING_IOC, **extra}  # fmt: skip
    return mt5.order_send(request)


def test_sltp_on_hedging_names_the_ticket_and_answers_without_deal_or_order(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging
    first = deal(mt5, 0, 0.1)
    second = deal(mt5, 0, 0.1)
    change = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": first.order,
              "sl": 1.09, "tp": 1.12}  # fmt: skip
    answer = mt5.order_send(change)
    assert (answer.retcode, answer.deal, answer.order) == (10009, 0, 0)
    assert answer.comment == "Request executed"
    assert (
        mt5.positions_get(ticket=first.order)[0].sl,
        mt5.positions_get(ticket=second.order)[0].sl,
    ) == (1.09, 0.0)
    assert mt5.order_send(change).retcode == mt5.TRADE_RETCODE_NO_CHANGES
    wrong_side = {**change, "sl": 1.11}
    assert mt5.order_send(wrong_side).retcode == mt5.TRADE_RETCODE_INVALID_STOPS


def test_sltp_on_netting_finds_the_position_by_symbol(netting: FakeMetaTrader5) -> None:
    mt5 = netting
    assert mt5.order_send({"action": 6, "symbol": "EURUSD", "sl": 1.09}).retcode == 10036
    deal(mt5, 1, 0.1)
    assert mt5.order_send({"action": 6, "symbol": "EURUSD", "sl": 1.11}).retcode == 10009
    assert mt5.positions_get()[0].sl == 1.11


def test_modify_moves_a_pending_order(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    placed = mt5.order_send({"action": 5, "symbol": "EURUSD", "volume": 0.1, "type": 2,
                             "price": 1.09, "type_filling": 2})  # fmt: skip
    moved = mt5.order_send({"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order,
                            "price": 1.08, "tp": 1.1})  # fmt: skip
    assert (moved.retcode, moved.order) == (10009, placed.order)
    assert (mt5.orders_get()[0].price_open, mt5.orders_get()[0].tp) == (1.08, 1.1)
    missing = {"action": mt5.TRADE_ACTION_MODIFY, "order": 1, "price": 1.08}
    assert mt5.order_send(missing).retcode == mt5.TRADE_RETCODE_INVALID


def test_close_by_closes_two_opposite_tickets(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    long = deal(mt5, 0, 0.3)
    short = deal(mt5, 1, 0.1)
    answer = mt5.order_send({"action": mt5.TRADE_ACTION_CLOSE_BY, "position": long.order,
                             "position_by": short.order})  # fmt: skip
    assert answer.retcode == 10009
    (left,) = mt5.positions_get()
    assert (left.ticket, left.volume) == (long.order, 0.2)
    entries = {d.entry for d in mt5.history_deals_get(ticket=answer.order)}
    assert entries == {mt5.DEAL_ENTRY_OUT_BY}


def test_freeze_level_blocks_closing_a_position_whose_stop_is_near(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging  # USDJPY: freeze 20 points, stops 50
    base = {"action": 1, "symbol": "USDJPY", "volume": 0.1, "deviation": 5,
            "type_filling": mt5.ORDER_FILLING_FOK}  # fmt: skip
    opened = mt5.order_send({**base, "type": 0, "price": 150.010, "sl": 149.900})
    mt5.set_tick("USDJPY", "149.910", "149.920")  # bid 10 points above the SL
    close = {**base, "type": 1, "price": 149.910, "position": opened.order}
    assert mt5.order_send(close).retcode == mt5.TRADE_RETCODE_FROZEN
    lenient = connected(FakeMetaTrader5(AccountSpec(freeze_blocks_close=False)))
    again = lenient.order_send({**base, "type": 0, "price": 150.010, "sl": 149.900})
    lenient.set_tick("USDJPY", "149.910", "149.920")
    assert lenient.order_send({**close, "position": again.order}).retcode == 10009


def test_ioc_fills_what_liquidity_allows_and_fok_refuses(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    mt5.update_symbol("EURUSD", liquidity=Decimal("0.3"))
    partial = deal(mt5, 0, 0.5)
    assert (partial.retcode, partial.volume) == (mt5.TRADE_RETCODE_DONE_PARTIAL, 0.3)
    assert mt5.history_orders_get(ticket=partial.order)[0].volume_current == 0.2
    refused = deal(mt5, 0, 0.5, type_filling=mt5.ORDER_FILLING_FOK)
    assert refused.retcode == mt5.TRADE_RETCODE_REJECT
    assert mt5.net_volume("EURUSD") == Decimal("0.3")


def test_symbol_states(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    assert mt5.symbol_select("EURUSD", False) is True
    assert mt5.symbol_info_tick("EURUSD") is None
    assert deal(mt5, 0, 0.1).retcode == mt5.TRADE_RETCODE_PRICE_OFF
    mt5.symbol_select("EURUSD", True)
    mt5.set_market_open("EURUSD", False)
    assert deal(mt5, 0, 0.1).retcode == mt5.TRADE_RETCODE_MARKET_CLOSED
    mt5.set_market_open("EURUSD", True)
    opened = deal(mt5, 0, 0.1)
    mt5.update_symbol("EURUSD", trade_mode=mt5.SYMBOL_TRADE_MODE_CLOSEONLY)
    assert deal(mt5, 0, 0.1).retcode == mt5.TRADE_RETCODE_CLOSE_ONLY
    assert deal(mt5, 1, 0.1, position=opened.order).retcode == 10009
    mt5.update_symbol("EURUSD", trade_mode=mt5.SYMBOL_TRADE_MODE_LONGONLY)
    assert deal(mt5, 1, 0.1).retcode == mt5.TRADE_RETCODE_LONG_ONLY
    assert deal(mt5, 0, 0.001).retcode == mt5.TRADE_RETCODE_INVALID_VOLUME
    assert mt5.order_send({"action": 1, "symbol": "NOPE", "volume": 1.0}).retcode == 10013
    assert mt5.symbol_info("NOPE") is None


def test_pending_orders_limit_and_specified_expiration() -> None:
    mt5 = connected(FakeMetaTrader5.hedging(start_utc=START, account_options={"limit_orders": 1}))
    now = mt5.symbol_info_tick("EURUSD").time
    base = {"action": 5, "symbol": "EURUSD", "volume": 0.1, "type": 2, "price": 1.09,
            "type_filling": 2, "type_time": mt5.ORDER_TIME_SPECIFIED}  # fmt: skip
    assert mt5.order_send({**base, "expiration": now - 1}).retcode == 10022
    placed = mt5.order_send({**base, "expiration": now + 60})
    assert placed.retcode == 10009
    assert mt5.order_send({**base, "expiration": now + 60}).retcode == 10033
    mt5.advance_time(61)
    assert mt5.orders_get() == ()
    assert mt5.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_EXPIRED


def test_netting_magic_can_follow_the_latest_order() -> None:
    options = {"netting_magic_follows_last_order": True}
    mt5 = connected(FakeMetaTrader5.netting(account_options=options))
    deal(mt5, 0, 0.1, magic=1)
    deal(mt5, 0, 0.1, magic=2)
    assert mt5.positions_get()[0].magic == 2


def test_long_comments_can_be_truncated_by_setting() -> None:
    mt5 = connected(FakeMetaTrader5(truncate_long_comments=True))
    answer = deal(mt5, 0, 0.1, comment="c" * 40)
    assert answer.request.comment == "c" * 31
    assert mt5.order_arrivals() == {"c" * 31: 1}


@pytest.mark.parametrize("code", [-1, -2, -3, -4, -5, -6, -7, -8, -10000, -10001, -10002])
def test_any_documented_last_error_code_can_be_scripted(
    hedging: FakeMetaTrader5, code: int
) -> None:
    mt5 = hedging
    mt5.fail_next("order_send", code)
    assert deal(mt5, 0, 0.1) is None
    assert mt5.last_error()[0] == code
    assert mt5.positions_get() == ()
    assert deal(mt5, 0, 0.1).retcode == 10009
    mt5.fail_next("positions_get", code)
    assert mt5.positions_get() is None
    with pytest.raises(ValueError, match="failure code"):
        mt5.fail_next("order_send", 1)


def test_a_pending_fill_on_hedging_opens_its_own_ticket(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    short = deal(mt5, 1, 0.2)
    placed = mt5.order_send({"action": 5, "symbol": "EURUSD", "volume": 0.2, "type": 2,
                             "price": 1.095, "type_filling": 2, "magic": 5})  # fmt: skip
    mt5.set_tick("EURUSD", "1.0940", "1.0945")
    tickets = {p.ticket: (p.type, p.magic) for p in mt5.positions_get()}
    assert tickets == {short.order: (1, 0), placed.order: (0, 5)}
    assert mt5.net_volume("EURUSD") == 0


def test_a_daylight_saving_switch_moves_later_times_only() -> None:
    mt5 = connected(FakeMetaTrader5.netting(start_utc=START))
    before = deal(mt5, 0, 0.1)
    mt5.set_server_utc_offset(timedelta(hours=3))
    after = deal(mt5, 0, 0.1)
    (first,) = mt5.history_deals_get(ticket=before.order)
    (second,) = mt5.history_deals_get(ticket=after.order)
    assert second.time - first.time == 3600


def test_closing_a_named_position_needs_no_symbol(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    opened = deal(mt5, 0, 0.1)
    close = {"action": 1, "position": opened.order, "volume": 0.1, "type": 1,
             "type_filling": mt5.ORDER_FILLING_IOC}  # fmt: skip
    answer = mt5.order_send(close)
    assert answer.retcode == 10009 and answer.request.symbol == ""
    assert mt5.positions_get() == ()


def test_return_for_market_orders_follows_the_chosen_reading(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    request = {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0,
               "type_filling": mt5.ORDER_FILLING_RETURN}  # fmt: skip
    assert mt5.order_check(request).retcode == mt5.TRADE_RETCODE_INVALID_FILL
    mt5.update_symbol("EURUSD", return_for_market_orders=True)
    assert mt5.order_check(request).retcode == 0


def test_history_starts_with_the_deposit_deal(netting: FakeMetaTrader5) -> None:
    mt5 = netting
    (deposit,) = mt5.history_deals_get(0, 2**40)
    assert (deposit.type, deposit.symbol, deposit.order, deposit.profit) == (
        mt5.DEAL_TYPE_BALANCE,
        "",
        0,
        10000.0,
    )


def test_pending_answer_can_be_10008_by_setting() -> None:
    options = {"pending_answer_retcode": 10008}
    mt5 = connected(FakeMetaTrader5.hedging(account_options=options))
    placed = mt5.order_send({"action": 5, "symbol": "EURUSD", "volume": 0.1, "type": 2,
                             "price": 1.09, "type_filling": 2})  # fmt: skip
    assert (placed.retcode, placed.deal, placed.price) == (mt5.TRADE_RETCODE_PLACED, 0, 0.0)
    with pytest.raises(ValueError, match="pending_answer_retcode"):
        AccountSpec(pending_answer_retcode=10010)
