"""The reference fake's permissions, server time, faults and ordering properties.

Driven through the module-level API, as a user of the MetaTrader5 package would;
sources of each rule: docs/plugins/mt5-reference-fake.md.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec.testing.faults import FaultInjection
from fks_exec_mt5.testing.reference import FakeMetaTrader5

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


# -- permissions, time, faults -------------------------------------------------------------


def test_trading_switches_of_terminal_and_account(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    mt5.update_terminal(tradeapi_disabled=True)
    assert mt5.terminal_info().tradeapi_disabled is True
    assert deal(mt5, mt5.ORDER_TYPE_BUY, 0.1) is None
    assert mt5.last_error()[0] == mt5.RES_E_AUTO_TRADING_DISABLED == -8
    mt5.update_terminal(tradeapi_disabled=False, trade_allowed=False)
    assert deal(mt5, 0, 0.1).retcode == mt5.TRADE_RETCODE_CLIENT_DISABLES_AT
    mt5.update_terminal(trade_allowed=True)
    mt5.update_account(trade_allowed=False)
    assert deal(mt5, 0, 0.1).retcode == mt5.TRADE_RETCODE_TRADE_DISABLED
    assert mt5.positions_get() == ()


def test_times_are_trade_server_time_not_utc() -> None:
    mt5 = connected(FakeMetaTrader5.netting(start_utc=START, server_utc_offset=timedelta(hours=3)))
    done = deal(mt5, mt5.ORDER_TYPE_BUY, 0.1)
    (fill,) = mt5.history_deals_get(ticket=done.order)
    server_digits = START.replace(tzinfo=None) + timedelta(hours=3)
    assert fill.time == int((START + timedelta(hours=3)).timestamp())
    assert mt5.symbol_info_tick("EURUSD").time <= fill.time
    utc_window = mt5.history_deals_get(START - timedelta(hours=1), START + timedelta(hours=1))
    assert utc_window == ()
    server_window = (server_digits - timedelta(minutes=1), server_digits + timedelta(minutes=1))
    assert mt5.history_deals_get(*server_window) == (fill,)


def test_faults_follow_the_shared_protocol(hedging: FakeMetaTrader5) -> None:
    mt5 = hedging
    assert isinstance(mt5, FaultInjection)
    mt5.refuse_next()
    assert deal(mt5, 0, 0.1, comment="a") is None
    assert mt5.last_error() == (-10004, "No IPC connection")
    mt5.lose_next_answer(after_broker_acted=False)
    assert deal(mt5, 0, 0.1, comment="b") is None
    assert mt5.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_TIMEOUT
    assert mt5.positions_get() == () and mt5.order_arrivals() == {}
    mt5.lose_next_answer(after_broker_acted=True)
    assert deal(mt5, 0, 0.1, comment="c") is None
    assert mt5.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_TIMEOUT
    assert [p.comment for p in mt5.positions_get()] == ["c"]
    assert mt5.order_arrivals() == {"c": 1}
    mt5.disconnect()
    assert mt5.account_info() is None and mt5.initialize() is False
    mt5.reconnect()
    assert mt5.account_info() is None  # a restarted terminal needs initialize()
    assert connected(mt5).account_info() is not None
    with pytest.raises(ValueError, match="negative"):
        mt5.set_latency(-1)


def test_requests_the_terminal_cannot_read_never_reach_the_server(
    hedging: FakeMetaTrader5,
) -> None:
    mt5 = hedging
    assert deal(mt5, 0, 0.1, comment="x" * 32) is None
    assert mt5.last_error() == (mt5.RES_E_INVALID_PARAMS, 'Invalid "comment" argument')
    assert deal(mt5, 0, 0.1, colour="red") is None
    assert mt5.order_send("buy") is None
    check = mt5.order_check({"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0,
                             "type_filling": mt5.ORDER_FILLING_FOK})  # fmt: skip
    assert (check.retcode, check.comment) == (0, "Done")
    assert mt5.positions_get() == () and mt5.order_arrivals() == {}


def test_concurrent_calls_from_threads_are_serialized(netting: FakeMetaTrader5) -> None:
    mt5 = netting
    answers: list[Any] = []

    def trade() -> None:
        for _ in range(20):
            answers.append(deal(mt5, mt5.ORDER_TYPE_BUY, 0.01))

    threads = [threading.Thread(target=trade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.retcode == 10009 for a in answers)
    assert len({a.deal for a in answers}) == 80
    assert mt5.net_volume("EURUSD") == Decimal("0.80")


# -- ordering properties -------------------------------------------------------------------

volumes = st.sampled_from(["0.01", "0.05", "0.1", "0.3"])
prices = st.integers(min_value=10900, max_value=11100).map(lambda p: Decimal(p) / 10000)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), volumes, st.booleans()),
        st.tuples(st.just("sell"), volumes, st.booleans()),
        st.tuples(st.just("close"), volumes, st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("limit"), volumes, prices),
        st.tuples(st.just("tick"), prices, st.just(None)),
    ),
    max_size=25,
)


def play(mt5: FakeMetaTrader5, step: tuple[str, Any, Any]) -> None:
    kind, first, second = step
    tick = mt5.symbol_info_tick("EURUSD")
    if kind in ("buy", "sell"):
        side = mt5.ORDER_TYPE_BUY if kind == "buy" else mt5.ORDER_TYPE_SELL
        stops: dict[str, float] = {}
        if second:  # with a protective stop 20 pips away
            away = -0.002 if kind == "buy" else 0.002
            stops = {"sl": round((tick.bid if kind == "buy" else tick.ask) + away, 5)}
        deal(mt5, side, float(first), **stops)
    elif kind == "close":
        positions = mt5.positions_get()
        if positions:
            target = positions[second % len(positions)]
            side = mt5.ORDER_TYPE_SELL if target.type == mt5.POSITION_TYPE_BUY else 0
            volume = min(float(first), target.volume)
            deal(mt5, side, volume, position=target.ticket)
    elif kind == "limit" and second < Decimal(str(tick.ask)):
        mt5.order_send({"action": 5, "symbol": "EURUSD", "volume": float(first), "type": 2,
                        "price": float(second), "type_filling": 2})  # fmt: skip
    elif kind == "tick":
        mt5.set_tick("EURUSD", first, first + Decimal("0.0001"))


def signed_deal_volume(mt5: FakeMetaTrader5) -> Decimal:
    total = Decimal(0)
    for item in mt5.history_deals_get(0, 2**40):
        sign = 1 if item.type == mt5.DEAL_TYPE_BUY else -1
        total += sign * Decimal(str(item.volume))
    return total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["hedging", "netting"]), sequence=steps)
def test_exposure_is_always_the_sum_of_the_deals(mode: str, sequence: list[Any]) -> None:
    mt5 = connected(getattr(FakeMetaTrader5, mode)(start_utc=START))
    for step in sequence:
        play(mt5, step)
        assert mt5.net_volume("EURUSD") == signed_deal_volume(mt5)
        if mode == "netting":
            assert mt5.positions_total() <= 1


@settings(max_examples=60, deadline=None)
@given(sequence=steps, pick=st.integers(min_value=0, max_value=5), volume=volumes)
def test_naming_a_position_only_ever_shrinks_that_ticket(
    sequence: list[Any], pick: int, volume: str
) -> None:
    mt5 = connected(FakeMetaTrader5.hedging(start_utc=START))
    for step in sequence:
        play(mt5, step)
    before = {p.ticket: p.volume for p in mt5.positions_get()}
    if not before:
        return
    ticket = sorted(before)[pick % len(before)]
    (target,) = mt5.positions_get(ticket=ticket)
    side = mt5.ORDER_TYPE_SELL if target.type == mt5.POSITION_TYPE_BUY else mt5.ORDER_TYPE_BUY
    answer = deal(mt5, side, float(volume), position=ticket)
    after = {p.ticket: p.volume for p in mt5.positions_get()}
    others = {t: v for t, v in before.items() if t != ticket}
    assert {t: v for t, v in after.items() if t != ticket} == others
    expected = before[ticket] - float(volume) if answer.retcode == 10009 else before[ticket]
    assert after.get(ticket, 0.0) == pytest.approx(max(expected, 0.0))
    if answer.retcode != 10009:
        assert answer.retcode == mt5.TRADE_RETCODE_INVALID_CLOSE_VOLUME
