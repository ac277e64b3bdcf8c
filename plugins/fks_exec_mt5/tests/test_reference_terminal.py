"""The reference fake of the MetaTrader5 package, driven through its module-level API.

Each test uses the fake as a script using ``import MetaTrader5 as mt5`` would, and
checks one documented rule (sources: docs/plugins/mt5-reference-fake.md).
"""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fks_exec_mt5.testing.reference import CONSTANTS, FakeMetaTrader5, records

WHEEL = json.loads((Path(__file__).parent / "data" / "metatrader5-5.0.6231.json").read_text())
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, 11:00 server time


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
    request = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": volume,
        "type": side,
        "type_filling": mt5.ORDER_FILLING_IOC,
        "magic": 424242,
        **extra,
    }
    return mt5.order_send(request)


def stops(position: Any) -> tuple[float, float]:
    return (position.sl, position.tp)


def pending(mt5: FakeMetaTrader5, kind: int, price: float, **extra: Any) -> Any:
    request = {
        "action": mt5.TRADE_ACTION_PENDING,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": kind,
        "price": price,
        "type_filling": mt5.ORDER_FILLING_RETURN,
        "type_time": mt5.ORDER_TIME_GTC,
        **extra,
    }
    return mt5.order_send(request)


# -- the package's surface -------------------------------------------------------------


def test_every_constant_of_the_real_wheel_with_its_value() -> None:
    assert dict(CONSTANTS) == WHEEL["constants"]
    mt5 = FakeMetaTrader5()
    for name, value in WHEEL["constants"].items():
        assert getattr(mt5, name) == value, name


def test_functions_and_record_fields_exist_in_the_real_wheel() -> None:
    known = set(WHEEL["core_identifiers"])
    api = [
        "initialize", "login", "shutdown", "last_error", "account_info", "terminal_info",
        "symbol_info", "symbol_info_tick", "symbol_select", "symbols_get", "order_check",
        "order_send", "orders_get", "positions_get", "history_orders_get",
        "history_deals_get", "orders_total", "positions_total", "order_calc_margin",
    ]  # fmt: skip
    assert set(api) <= known
    for kind in (
        records.TradeRequest, records.OrderSendResult, records.OrderCheckResult,
        records.TradePosition, records.TradeOrder, records.TradeDeal, records.Tick,
        records.AccountInfo, records.TerminalInfo, records.SymbolInfo,
    ):  # fmt: skip
        missing = set(kind._names) - known
        assert not missing, (kind.__name__, missing)


def test_results_do_not_pickle_like_the_real_struct_sequences(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    result = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    everything = [
        result,
        result.request,
        mt5.positions_get()[0],
        mt5.history_deals_get(ticket=result.order)[0],
        mt5.history_orders_get(ticket=result.order)[0],
        mt5.account_info(),
        mt5.terminal_info(),
        mt5.symbol_info("EURUSD"),
        mt5.symbol_info_tick("EURUSD"),
        mt5.order_check({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD"}),
    ]
    for item in everything:
        with pytest.raises(pickle.PicklingError, match="attribute lookup"):
            pickle.dumps(item)
        assert copy.copy(item) == item
        assert isinstance(item, tuple)
        assert not hasattr(item, "_fields")
        assert list(item._asdict().values()) == list(item)
    assert isinstance(result._asdict()["request"], records.TradeRequest)


def test_calls_before_initialize_and_after_shutdown_fail_with_no_ipc() -> None:
    mt5 = FakeMetaTrader5()
    assert mt5.account_info() is None
    assert mt5.last_error() == (mt5.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
    assert mt5.initialize(login=1, password="wrong") is False
    assert mt5.last_error()[0] == mt5.RES_E_AUTH_FAILED
    connected(mt5)
    assert mt5.last_error() == (mt5.RES_S_OK, "Success")
    mt5.shutdown()
    assert mt5.positions_get() is None
    assert mt5.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT


# -- market and pending orders ---------------------------------------------------------------


def test_market_orders_fill_against_the_tick(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    bought = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    sold = deal(mt5, mt5.ORDER_TYPE_SELL, 0.1)
    tick = mt5.symbol_info_tick("EURUSD")
    assert (bought.retcode, bought.price, sold.price) == (10009, tick.ask, tick.bid)
    assert bought.deal and bought.order and bought.volume == 0.1


def test_pending_order_is_answered_10009_with_no_deal_then_fills_when_the_tick_moves(
    netting: FakeMetaTrader5,
) -> None:
    mt5 = netting
    placed = pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.095, comment="limit order")
    assert placed.retcode == mt5.TRADE_RETCODE_DONE
    assert (placed.deal, placed.price, placed.volume) == (0, 0.0, 0.1)
    assert [o.ticket for o in mt5.orders_get()] == [placed.order]
    assert mt5.orders_get()[0].state == mt5.ORDER_STATE_PLACED
    mt5.set_tick("EURUSD", "1.0960", "1.0961")
    assert mt5.positions_get() == ()
    mt5.set_tick("EURUSD", "1.0940", "1.0949")
    assert mt5.orders_get() == ()
    (history,) = mt5.history_orders_get(ticket=placed.order)
    assert history.state == mt5.ORDER_STATE_FILLED
    (fill,) = mt5.history_deals_get(ticket=placed.order)
    assert fill.entry == mt5.DEAL_ENTRY_IN and fill.volume == 0.1
    assert mt5.net_volume("EURUSD") == Decimal("0.1")


def test_stop_limit_becomes_a_limit_at_its_stop_price(netting: FakeMetaTrader5) -> None:
    mt5 = netting
    placed = pending(mt5, mt5.ORDER_TYPE_BUY_STOP_LIMIT, 1.1020, stoplimit=1.1010)
    assert placed.retcode == 10009
    mt5.set_tick("EURUSD", "1.1025", "1.1026")
    (order,) = mt5.orders_get()
    assert (order.type, order.price_open) == (mt5.ORDER_TYPE_BUY_LIMIT, 1.1010)
    mt5.set_tick("EURUSD", "1.1005", "1.1008")
    assert mt5.orders_get() == ()
    assert mt5.positions_get()[0].price_open == 1.1008


# -- netting and hedging ---------------------------------------------------------------------


def test_netting_sl_tp_are_replaced_by_each_later_order_and_deleted_by_zeros(
    netting: FakeMetaTrader5,
) -> None:
    mt5 = netting
    deal(mt5, mt5.ORDER_TYPE_BUY, 0.2, sl=1.09, tp=1.12)
    assert stops(mt5.positions_get()[0]) == (1.09, 1.12)
    deal(mt5, mt5.ORDER_TYPE_BUY, 0.1, sl=1.08, tp=1.13)
    assert stops(mt5.positions_get()[0]) == (1.08, 1.13)
    deal(mt5, mt5.ORDER_TYPE_SELL, 0.1)  # partial close: unchanged
    assert stops(mt5.positions_get()[0]) == (1.08, 1.13)
    deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)  # an increase without SL/TP deletes them
    (position,) = mt5.positions_get()
    assert (position.sl, position.tp, position.volume) == (0.0, 0.0, 0.3)


def test_netting_reversal_keeps_the_identifier_and_takes_the_new_stops(
    netting: FakeMetaTrader5,
) -> None:
    mt5 = netting
    opened = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    reversed_ = deal(mt5, mt5.ORDER_TYPE_SELL, 0.3, sl=1.12)
    (position,) = mt5.positions_get()
    assert position.identifier == opened.order
    assert (position.type, position.volume, position.sl) == (mt5.POSITION_TYPE_SELL, 0.2, 1.12)
    (inout,) = mt5.history_deals_get(ticket=reversed_.order)
    assert inout.entry == mt5.DEAL_ENTRY_INOUT


def test_hedging_keeps_tickets_apart_and_closes_only_the_named_one(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging
    first = deal(mt5, mt5.ORDER_TYPE_BUY, 0.5, tp=1.2)
    hedge = deal(mt5, mt5.ORDER_TYPE_SELL, 0.5)  # no position: a second ticket
    assert {p.ticket for p in mt5.positions_get()} == {first.order, hedge.order}
    assert mt5.net_volume("EURUSD") == 0
    closed = deal(mt5, mt5.ORDER_TYPE_SELL, 0.2, position=first.order)
    assert closed.retcode == 10009
    (out,) = mt5.history_deals_get(ticket=closed.order)
    assert (out.entry, out.position_id) == (mt5.DEAL_ENTRY_OUT, first.order)
    assert mt5.positions_get(ticket=first.order)[0][9:13] == (0.3, 1.1001, 0.0, 1.2)
    too_much = deal(mt5, mt5.ORDER_TYPE_SELL, 0.4, position=first.order)
    assert too_much.retcode == mt5.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    gone = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1, position=999)
    assert gone.retcode == mt5.TRADE_RETCODE_POSITION_CLOSED


@pytest.mark.parametrize("mode", ["hedging", "netting"])
def test_same_strategy_same_exposure_on_both_modes(mode: str) -> None:
    mt5 = connected(getattr(FakeMetaTrader5, mode)(start_utc=START))
    steps = [(mt5.ORDER_TYPE_BUY, 0.5), (mt5.ORDER_TYPE_BUY, 0.3), (mt5.ORDER_TYPE_SELL, 0.6)]
    expected = [Decimal("0.5"), Decimal("0.8"), Decimal("0.2")]
    for (side, volume), exposure in zip(steps, expected, strict=True):
        extra: dict[str, Any] = {}
        if mode == "hedging" and side == mt5.ORDER_TYPE_SELL:
            # An exit on hedging names tickets, oldest first; else it would open a hedge.
            left = Decimal(str(volume))
            for position in mt5.positions_get(symbol="EURUSD"):
                part = min(left, Decimal(str(position.volume)))
                deal(mt5, side, float(part), position=position.ticket)
                left -= part
            assert mt5.net_volume("EURUSD") == exposure
            continue
        deal(mt5, side, volume, **extra)
        assert mt5.net_volume("EURUSD") == exposure


def test_other_programs_and_manual_trades_carry_their_magic(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    mine = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    manual = mt5.add_position("EURUSD", mt5.ORDER_TYPE_SELL, "0.2")
    robot = mt5.add_position("EURUSD", mt5.ORDER_TYPE_BUY, "0.3", magic=77, reason=3)
    magics = {p.ticket: (p.magic, p.reason) for p in mt5.positions_get()}
    assert magics == {
        mine.order: (424242, mt5.POSITION_REASON_EXPERT),
        manual: (0, mt5.POSITION_REASON_CLIENT),
        robot: (77, mt5.POSITION_REASON_EXPERT),
    }
    assert mt5.net_volume("EURUSD", magic=424242) == Decimal("0.1")
    assert mt5.net_volume("EURUSD") == Decimal("0.2")


def test_netting_position_is_shared_with_other_programs(netting: FakeMetaTrader5) -> None:
    mt5 = netting
    deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    mt5.add_position("EURUSD", mt5.ORDER_TYPE_BUY, "0.4", magic=77, reason=3)
    (position,) = mt5.positions_get()
    assert (position.volume, position.magic) == (0.5, 424242)


# -- SL/TP, levels, expiration, fill policy -------------------------------------------------


def test_stop_loss_fires_when_the_bid_falls_to_it(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    opened = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1, sl=1.0950)
    mt5.set_tick("EURUSD", "1.0960", "1.0961")
    assert mt5.positions_total() == 1
    mt5.set_tick("EURUSD", "1.0949", "1.0950")
    assert mt5.positions_get() == ()
    closing = [d for d in mt5.history_deals_get(position=opened.order) if d.entry == 1]
    assert [(d.reason, d.comment, d.magic) for d in closing] == [
        (mt5.DEAL_REASON_SL, "[sl 1.09500]", 424242)
    ]


def test_stops_level_refuses_close_stops_and_close_pending_prices(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging  # USDJPY: 50 points stops level, instant execution, FOK only
    base = {"symbol": "USDJPY", "volume": 0.1, "type_filling": mt5.ORDER_FILLING_FOK}
    near = {**base, "action": 1, "type": 0, "price": 150.010, "sl": 149.960, "deviation": 5}
    assert mt5.order_send(near).retcode == mt5.TRADE_RETCODE_INVALID_STOPS
    far = {**near, "sl": 149.950}
    assert mt5.order_send(far).retcode == 10009
    limit = {**base, "action": 5, "type": mt5.ORDER_TYPE_BUY_LIMIT, "price": 149.970}
    assert mt5.order_send(limit).retcode == mt5.TRADE_RETCODE_INVALID_PRICE


def test_instant_execution_requotes_beyond_the_deviation(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    request = {"action": 1, "symbol": "USDJPY", "volume": 0.1, "type": 0, "price": 149.9,
               "deviation": 10, "type_filling": mt5.ORDER_FILLING_FOK}  # fmt: skip
    answer = mt5.order_send(request)
    assert (answer.retcode, answer.bid, answer.ask) == (10004, 150.0, 150.01)
    assert mt5.positions_get() == ()


def test_freeze_level_blocks_modifying_and_deleting_near_the_market(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging  # USDJPY: 20 points freeze level
    base = {"symbol": "USDJPY", "volume": 0.1, "type_filling": mt5.ORDER_FILLING_FOK}
    placed = mt5.order_send({**base, "action": 5, "type": 2, "price": 149.900})
    assert placed.retcode == 10009
    mt5.set_tick("USDJPY", "149.905", "149.915")  # ask 15 points above the limit
    remove = {"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order}
    assert mt5.order_send(remove).retcode == mt5.TRADE_RETCODE_FROZEN
    modify = {"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order, "price": 149.8}
    assert mt5.order_send(modify).retcode == mt5.TRADE_RETCODE_FROZEN
    mt5.set_tick("USDJPY", "149.990", "150.000")
    assert mt5.order_send(remove).retcode == 10009
    assert mt5.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_CANCELED


@pytest.mark.parametrize(
    ("symbol", "kind", "filling", "allowed"),
    [
        ("EURUSD", "market", "FOK", True),  # market execution
        ("EURUSD", "market", "IOC", True),
        ("EURUSD", "market", "RETURN", False),
        ("EURUSD", "limit", "RETURN", True),
        ("EURUSD", "stop", "RETURN", False),
        ("EURUSD", "limit", "BOC", False),
        ("USDJPY", "limit", "RETURN", False),  # instant execution: FOK only
        ("USDJPY", "stop", "FOK", True),
        ("USDJPY", "market", "IOC", False),
        ("GER40", "market", "RETURN", True),  # exchange execution
        ("GER40", "limit", "BOC", True),
        ("GER40", "stop", "BOC", False),
        ("GER40", "stop", "RETURN", False),
    ],
)
def test_fill_policy_per_execution_mode_and_order_kind(
    hedging: FakeMetaTrader5, symbol: str, kind: str, filling: str, allowed: bool
) -> None:
    mt5 = hedging
    tick = mt5.symbol_info_tick(symbol)
    point = mt5.symbol_info(symbol).point
    order_type, action, price = {
        "market": (mt5.ORDER_TYPE_BUY, 1, tick.ask),
        "limit": (mt5.ORDER_TYPE_BUY_LIMIT, 5, round(tick.ask - 2000 * point, 5)),
        "stop": (mt5.ORDER_TYPE_BUY_STOP, 5, round(tick.ask + 2000 * point, 5)),
    }[kind]
    volume = mt5.symbol_info(symbol).volume_min
    request = {"action": action, "symbol": symbol, "volume": volume, "type": order_type,
               "price": price, "deviation": 5,
               "type_filling": getattr(mt5, f"ORDER_FILLING_{filling}")}  # fmt: skip
    assert mt5.order_check(request).retcode == (0 if allowed else mt5.TRADE_RETCODE_INVALID_FILL)


def test_expiration_mode_and_day_orders_expiring_at_server_midnight(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging
    day = {"type_time": mt5.ORDER_TIME_DAY}
    gold = {"action": 5, "symbol": "XAUUSD", "volume": 0.1, "type": 2, "price": 2300.0,
            "type_filling": mt5.ORDER_FILLING_RETURN, **day}  # fmt: skip
    assert mt5.order_send(gold).retcode == mt5.TRADE_RETCODE_INVALID_EXPIRATION
    placed = pending(mt5, mt5.ORDER_TYPE_BUY_LIMIT, 1.09, **day)
    assert placed.retcode == 10009
    mt5.advance_time(12 * 3600)  # 23:00 server time
    assert mt5.orders_total() == 1
    mt5.advance_time(3600)  # past midnight server time
    assert mt5.orders_total() == 0
    assert mt5.history_orders_get(ticket=placed.order)[0].state == mt5.ORDER_STATE_EXPIRED


def test_volume_limit_counts_position_and_pending_orders_per_direction(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging  # XAUUSD: volume_limit 5
    base = {"symbol": "XAUUSD", "type_filling": mt5.ORDER_FILLING_IOC}
    assert mt5.order_send({**base, "action": 1, "type": 0, "volume": 3.0}).retcode == 10009
    limit = {**base, "action": 5, "type": 2, "price": 2300.0, "type_filling": 2}
    assert mt5.order_send({**limit, "volume": 2.0}).retcode == 10009
    assert mt5.order_send({**limit, "volume": 0.01}).retcode == mt5.TRADE_RETCODE_LIMIT_VOLUME
    sell_limit = {**limit, "type": 3, "price": 2500.0, "volume": 5.0}
    assert mt5.order_send(sell_limit).retcode == 10009


def test_fifo_close_requires_closing_the_oldest_position_first() -> None:
    mt5 = connected(FakeMetaTrader5.hedging(fifo_close=True, start_utc=START))
    older = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    mt5.advance_time(1)
    newer = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    assert mt5.account_info().fifo_close is True
    refused = deal(mt5, mt5.ORDER_TYPE_SELL, 0.1, position=newer.order)
    assert refused.retcode == mt5.TRADE_RETCODE_FIFO_CLOSE
    assert deal(mt5, mt5.ORDER_TYPE_SELL, 0.1, position=older.order).retcode == 10009
    assert deal(mt5, mt5.ORDER_TYPE_SELL, 0.1, position=newer.order).retcode == 10009
    with pytest.raises(ValueError, match="fifo_close"):
        FakeMetaTrader5.netting(account_options={"fifo_close": True})
