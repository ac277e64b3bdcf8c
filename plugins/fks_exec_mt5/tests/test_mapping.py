"""Requests built from orders, field by field (no terminal)."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Order
from fks_exec.errors import OrderDenied
from fks_exec.kit import BadBrokerNumber
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Leg
from fks_exec_mt5.mapping import COMMENT_LIMIT, build_request, comment_for, rounded_volume, to_tick
from fks_exec_mt5.prechecks import SymbolRules

D = Decimal


def info(**changes: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "name": "EURUSD",
        "point": 0.00001,
        "trade_tick_size": 0.00001,
        "digits": 5,
        "volume_step": 0.01,
        "volume_min": 0.01,
        "volume_max": 50.0,
        "volume_limit": 0.0,
        "trade_stops_level": 0,
        "trade_freeze_level": 0,
        "filling_mode": 3,
        "trade_exemode": c.SYMBOL_TRADE_EXECUTION_MARKET,
        "expiration_mode": 15,
        "trade_mode": c.SYMBOL_TRADE_MODE_FULL,
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


RULES = SymbolRules.of(info())
TICK = SimpleNamespace(bid=1.1, ask=1.1002)


def request(order: Order, leg: Leg | None = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("stops", (order.stop_loss, order.take_profit))
    rules = kw.pop("rules", RULES)
    return build_request(
        order, rules, TICK, leg or Leg(order.quantity), deviation=7, magic=99, **kw
    )


def test_comments_carry_the_client_order_id() -> None:
    assert COMMENT_LIMIT == 31  # the terminal's limit
    fits = "a" * 31
    assert comment_for(fits) == fits
    longer = comment_for("a" * 32)
    assert len(longer) == 31 and longer.startswith("h") and longer != fits
    assert comment_for("é") != "é" and comment_for("é").isascii()
    assert comment_for("x" * 40) == comment_for("x" * 40) != comment_for("y" * 40)


@pytest.mark.parametrize("client_order_id", ["a" * 32, "é", "0f" * 16, "x" * 300])
def test_a_long_ids_comment_is_h_and_its_sha256_on_every_call(client_order_id: str) -> None:
    """The documented form, the same whatever was hashed before (orders placed by any
    version are found again after a restart)."""
    expected = "h" + hashlib.sha256(client_order_id.encode()).hexdigest()[:30]
    assert [comment_for(client_order_id) for _ in range(3)] == [expected] * 3
    comment_for("y" * 40)
    assert comment_for(client_order_id) == expected


def test_volume_is_rounded_down_and_bounded() -> None:
    assert rounded_volume(D("0.019"), RULES) == D("0.01")
    assert rounded_volume(D("0.01"), RULES) == D("0.01")
    assert rounded_volume(D("50"), RULES) == D(50)
    with pytest.raises(OrderDenied, match="below the minimum"):
        rounded_volume(D("0.009"), RULES)
    # volume_max bounds one deal, not an order: checked per request (test_volume_max.py)
    assert rounded_volume(D("50.01"), RULES) == D("50.01")
    unbounded = SymbolRules.of(info(volume_max=0.0))
    assert rounded_volume(D(1000), unbounded) == D(1000)
    no_minimum = SymbolRules.of(info(volume_min=0.0))
    with pytest.raises(OrderDenied, match="below the minimum"):
        rounded_volume(D("0.001"), no_minimum)  # rounds down to nothing
    assert rounded_volume(D("0.01"), no_minimum) == D("0.01")


@given(st.decimals(min_value=D("0.5"), max_value=D(2), places=7))
def test_prices_land_on_the_tick_grid(price: Decimal) -> None:
    rules = SymbolRules.of(info(trade_tick_size=0.00005))
    rounded = to_tick(price, rules)
    assert rounded % D("0.00005") == 0
    assert abs(rounded - price) <= D("0.000025")


def test_market_request_fields() -> None:
    buy = request(Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.09"), take_profit=D("1.2")))
    assert buy == {
        "symbol": "EURUSD",
        "volume": 0.1,
        "magic": 99,
        "comment": buy["comment"],
        "type_filling": c.ORDER_FILLING_FOK,
        "action": c.TRADE_ACTION_DEAL,
        "type": c.ORDER_TYPE_BUY,
        "price": 1.1002,
        "deviation": 7,
        "type_time": c.ORDER_TIME_GTC,
        "sl": 1.09,
        "tp": 1.2,
    }
    sell = request(Order.market("EURUSD", "sell", "0.1"))
    assert (sell["type"], sell["price"]) == (c.ORDER_TYPE_SELL, 1.1)
    assert "sl" not in sell and "tp" not in sell and "position" not in sell


def test_a_closing_leg_names_its_position_and_sends_no_stops() -> None:
    order = Order.market("EURUSD", "sell", "0.3", stop_loss=D("1.2"))
    closing = request(order, Leg(D("0.2"), 777), stops=(D("1.2"), None))
    assert closing["position"] == 777 and closing["volume"] == 0.2
    assert "sl" not in closing and "tp" not in closing


def test_pending_request_fields() -> None:
    limit = request(Order.limit("EURUSD", "buy", "0.1", D("1.05"), time_in_force="day"))
    assert (limit["action"], limit["type"], limit["price"]) == (
        c.TRADE_ACTION_PENDING,
        c.ORDER_TYPE_BUY_LIMIT,
        1.05,
    )
    assert limit["type_time"] == c.ORDER_TIME_DAY
    assert limit["type_filling"] == c.ORDER_FILLING_RETURN
    assert "deviation" not in limit and "position" not in limit
    stop = request(Order.stop("EURUSD", "sell", "0.1", D("1.05")))
    assert (stop["type"], stop["type_filling"]) == (c.ORDER_TYPE_SELL_STOP, c.ORDER_FILLING_FOK)
    assert stop["type_time"] == c.ORDER_TIME_GTC
    both = request(Order.stop_limit("EURUSD", "buy", "0.1", D("1.15"), D("1.14")))
    assert (both["type"], both["price"], both["stoplimit"]) == (
        c.ORDER_TYPE_BUY_STOP_LIMIT,
        1.15,
        1.14,
    )
    sell_limit = request(Order.limit("EURUSD", "sell", "0.1", D("1.15")))
    assert sell_limit["type"] == c.ORDER_TYPE_SELL_LIMIT
    assert request(Order.stop("EURUSD", "buy", "0.1", D("1.2")))["type"] == c.ORDER_TYPE_BUY_STOP
    sell_both = request(Order.stop_limit("EURUSD", "sell", "0.1", D("1.05"), D("1.06")))
    assert sell_both["type"] == c.ORDER_TYPE_SELL_STOP_LIMIT


@pytest.mark.parametrize(
    "order",
    [
        Order.limit("EURUSD", "buy", "0.1", D("1.1003")),  # above Ask
        Order.limit("EURUSD", "sell", "0.1", D("1.0999")),  # below Bid
        Order.stop("EURUSD", "buy", "0.1", D("1.1001")),  # below Ask
        Order.stop("EURUSD", "sell", "0.1", D("1.1001")),  # above Bid
        Order.market("EURUSD", "buy", "0.1", take_profit=D("1.09")),
        Order.limit("EURUSD", "buy", "0.1", D("1.05"), time_in_force="ioc"),
    ],
)
def test_orders_on_the_wrong_side_are_refused(order: Order) -> None:
    with pytest.raises(OrderDenied):
        request(order)


def test_market_stops_are_measured_from_the_closing_side() -> None:
    # a buy closes at Bid (1.1000): a stop loss at 1.1001 is above it, however near Ask
    with pytest.raises(OrderDenied, match="stop_loss"):
        request(Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.1001")))
    # a sell closes at Ask (1.1002): a stop loss at 1.1001 is below it
    with pytest.raises(OrderDenied, match="stop_loss"):
        request(Order.market("EURUSD", "sell", "0.1", stop_loss=D("1.1001")))
    assert request(Order.market("EURUSD", "sell", "0.1", stop_loss=D("1.1003")))["sl"] == 1.1003


def test_stops_are_checked_against_the_stops_level() -> None:
    rules = SymbolRules.of(info(trade_stops_level=100))  # 0.001
    near = Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.0995"))
    with pytest.raises(OrderDenied, match="stops level"):
        request(near, rules=rules)
    exactly = Order.market("EURUSD", "buy", "0.1", stop_loss=D("1.099"))
    assert request(exactly, rules=rules)["sl"] == 1.099
    pending = Order.limit("EURUSD", "buy", "0.1", D("1.0995"))
    with pytest.raises(OrderDenied, match="SYMBOL_TRADE_STOPS_LEVEL"):
        request(pending, rules=rules)
    assert request(Order.limit("EURUSD", "buy", "0.1", D("1.0992")), rules=rules)


def test_symbol_rules_read_every_field_as_a_decimal_or_an_int() -> None:
    rules = SymbolRules.of(
        info(trade_stops_level=30, trade_freeze_level=20, volume_limit=5.0, digits=3)
    )
    assert (rules.point, rules.tick, rules.step) == (D("0.00001"), D("0.00001"), D("0.01"))
    assert (rules.volume_min, rules.volume_max, rules.volume_limit) == (D("0.01"), D(50), D(5))
    assert rules.stops_level == D("0.00030") and rules.freeze_level == D("0.00020")
    assert (rules.digits, rules.filling_flags, rules.expiration_flags) == (3, 3, 15)
    assert rules.execution == c.SYMBOL_TRADE_EXECUTION_MARKET
    assert rules.trade_mode == c.SYMBOL_TRADE_MODE_FULL and rules.name == "EURUSD"


def test_symbol_rules_default_what_older_terminals_do_not_report() -> None:
    bare = info()
    for name in (
        "volume_limit",
        "trade_stops_level",
        "trade_freeze_level",
        "expiration_mode",
        "trade_mode",
    ):
        delattr(bare, name)
    rules = SymbolRules.of(bare)
    assert rules.volume_limit == 0 and rules.stops_level == 0 and rules.freeze_level == 0
    assert rules.expiration_flags == 15 and rules.trade_mode == c.SYMBOL_TRADE_MODE_FULL
    assert SymbolRules.of(info(trade_tick_size=0.0)).tick == D("0.00001")  # the point


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"point": 0.0}, "symbol_info('EURUSD').point is 0"),
        ({"volume_step": 0.0}, "symbol_info('EURUSD').volume_step is 0"),
        ({"digits": 21}, "symbol_info('EURUSD').digits is out of range (21)"),
        ({"volume_min": -0.01}, "symbol_info('EURUSD').volume_min is negative"),
        ({"trade_stops_level": 2.5}, "symbol_info('EURUSD').trade_stops_level is not an integer"),
        ({"filling_mode": None}, "symbol_info('EURUSD').filling_mode is not an integer"),
    ],
)
def test_symbol_rules_refuse_numbers_no_symbol_has(changes: dict[str, Any], named: str) -> None:
    from fks_exec.kit import BadBrokerNumber

    with pytest.raises(BadBrokerNumber, match=named.replace("(", r"\(").replace(")", r"\)")):
        SymbolRules.of(info(**changes))
    assert SymbolRules.of(info(digits=20)).digits == 20  # the most there is


def test_a_market_order_needs_a_price_on_its_side() -> None:
    closed = SimpleNamespace(bid=1.1, ask=0.0)
    buy, sell = Order.market("EURUSD", "buy", "0.1"), Order.market("EURUSD", "sell", "0.1")
    with pytest.raises(OrderDenied, match="EURUSD has no ask price now") as refused:
        build_request(buy, RULES, closed, Leg(D("0.1")), deviation=7, magic=99)
    assert refused.value.error_code == "market_closed"
    assert build_request(sell, RULES, closed, Leg(D("0.1")), deviation=7, magic=99)["price"] == 1.1
    no_bid = SimpleNamespace(bid=0.0, ask=1.1)
    with pytest.raises(OrderDenied, match="EURUSD has no bid price now"):
        build_request(sell, RULES, no_bid, Leg(D("0.1")), deviation=7, magic=99)


@pytest.mark.parametrize(
    ("price", "refusal"),
    [
        (1e30, "tick ask is out of range"),
        (float("inf"), "tick ask is not finite"),
        (float("nan"), "tick ask is not finite"),
        (-1.1, "tick ask is negative"),
        (True, "tick ask"),
    ],
    ids=["1e30", "inf", "nan", "negative", "a-boolean"],
)
def test_a_market_orders_side_price_that_is_no_price_is_refused_by_name(
    price: Any, refusal: str
) -> None:
    """The plain positive float passes at once; anything else is read by decimal_of,
    which refuses it (1e30 is the first magnitude refused; a boolean is no number)."""
    tick = SimpleNamespace(bid=1.1, ask=price)
    with pytest.raises(BadBrokerNumber, match=refusal):
        build_request(
            Order.market("EURUSD", "buy", "0.1"), RULES, tick, Leg(D("0.1")), deviation=7, magic=99
        )
    almost = SimpleNamespace(bid=1.1, ask=9.99e29)
    sent = build_request(
        Order.market("EURUSD", "buy", "0.1"), RULES, almost, Leg(D("0.1")), deviation=7, magic=99
    )
    assert sent["price"] == 9.99e29


@pytest.mark.parametrize(("side", "broken"), [("buy", "bid"), ("sell", "ask")])
def test_a_broken_closing_side_price_is_named_when_stops_are_checked(
    side: str, broken: str
) -> None:
    # SL/TP are measured from the side the position closes at: a buy's bid, a sell's ask.
    tick = SimpleNamespace(**{"bid": 1.1, "ask": 1.1002, broken: float("nan")})
    stop = D("1.09") if side == "buy" else D("1.12")
    order = Order.market("EURUSD", side, "0.1", stop_loss=stop)
    with pytest.raises(BadBrokerNumber, match=f"tick {broken} is not finite"):
        build_request(order, RULES, tick, Leg(D("0.1")), deviation=7, magic=99, stops=(stop, None))


def test_rules_are_values() -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES.step = D(1)  # type: ignore[misc]


def test_the_freeze_level_is_measured_from_the_side_each_pending_kind_triggers_on() -> None:
    from fks_exec_mt5.prechecks import check_freeze

    rules = SymbolRules.of(info(trade_freeze_level=10))  # 0.0001
    bid, ask = D("1.1000"), D("1.1002")
    near = {
        c.ORDER_TYPE_SELL_LIMIT: 1.10005,  # price - bid
        c.ORDER_TYPE_BUY_LIMIT: 1.10015,  # ask - price
        c.ORDER_TYPE_BUY_STOP: 1.10025,  # price - ask
        c.ORDER_TYPE_SELL_STOP: 1.09995,  # bid - price
    }
    for kind, price in near.items():
        record = SimpleNamespace(ticket=7, type=kind, price_open=price)
        with pytest.raises(OrderDenied, match="within the freeze level"):
            check_freeze(rules, record, bid, ask)
        far = (
            price + 0.001
            if kind in (c.ORDER_TYPE_SELL_LIMIT, c.ORDER_TYPE_BUY_STOP)
            else (price - 0.001)
        )
        check_freeze(rules, SimpleNamespace(ticket=7, type=kind, price_open=far), bid, ask)


def test_no_freeze_level_never_blocks_a_cancel() -> None:
    from fks_exec_mt5.prechecks import check_freeze

    at_market = SimpleNamespace(ticket=7, type=c.ORDER_TYPE_BUY_LIMIT, price_open=1.1002)
    check_freeze(RULES, at_market, D("1.1000"), D("1.1002"))  # freeze level 0: no rule


def test_volume_limit_zero_means_none_and_only_opening_lots_count() -> None:
    from fks_exec_mt5.prechecks import check_volume_limit

    check_volume_limit(SymbolRules.of(info(volume_limit=0.0)), True, D(100), D(100), [])
    limited = SymbolRules.of(info(volume_limit=1.0))
    check_volume_limit(limited, True, D(0), D(5), [])  # nothing added: never refused
    with pytest.raises(OrderDenied, match="pass its volume_limit 1"):
        check_volume_limit(limited, True, D("0.5"), D("0.6"), [])


@pytest.mark.parametrize(("flags", "tif", "expected"), [(1, "fok", 0), (2, "ioc", 1)])
def test_fok_and_ioc_need_their_own_flag(flags: int, tif: str, expected: int) -> None:
    from fks_exec_mt5.prechecks import choose_filling

    rules = SymbolRules.of(info(filling_mode=flags))
    assert choose_filling(rules, Order.market("EURUSD", "buy", "0.1", time_in_force=tif)) == (
        expected
    )
    other = "ioc" if tif == "fok" else "fok"
    allows = "FOK" if tif == "fok" else "IOC"
    # a market order may also go with Return (Market execution: the MQL5 reference)
    with pytest.raises(OrderDenied, match=f"takes no {other} market order.*allow {allows}, Return"):
        choose_filling(rules, Order.market("EURUSD", "buy", "0.1", time_in_force=other))


def test_long_only_and_short_only_refuse_the_other_direction_only() -> None:
    from fks_exec_mt5.prechecks import check_trade_mode

    long_only = SymbolRules.of(info(trade_mode=c.SYMBOL_TRADE_MODE_LONGONLY))
    check_trade_mode(long_only, True, True)
    with pytest.raises(OrderDenied, match="long-only"):
        check_trade_mode(long_only, False, True)
    short_only = SymbolRules.of(info(trade_mode=c.SYMBOL_TRADE_MODE_SHORTONLY))
    check_trade_mode(short_only, False, True)
    with pytest.raises(OrderDenied, match="short-only"):
        check_trade_mode(short_only, True, True)


@pytest.mark.parametrize(
    ("side", "kind", "where"),
    [
        ("buy", "limit", "below Ask"),
        ("sell", "limit", "above Bid"),
        ("buy", "stop", "above Ask"),
        ("sell", "stop", "below Bid"),
    ],
)
def test_a_pending_price_on_the_wrong_side_says_which_side(
    side: str, kind: str, where: str
) -> None:
    from fks_exec_mt5.prechecks import check_pending_price

    wrong = D("1.2") if (side == "buy") == (kind == "limit") else D("1.0")
    order = (
        Order.limit("EURUSD", side, "0.1", wrong)
        if kind == "limit"
        else Order.stop("EURUSD", side, "0.1", wrong)
    )
    with pytest.raises(OrderDenied, match=f"must be {where}"):
        check_pending_price(RULES, order, wrong, D("1.1"), D("1.1002"))


def test_every_distance_rule_is_exact_at_its_boundary() -> None:
    from fks_exec_mt5.prechecks import (
        check_freeze,
        check_pending_price,
        check_stops,
        check_volume_limit,
    )

    bid, ask = D("1.1000"), D("1.1002")
    at_ask = Order.limit("EURUSD", "buy", "0.1", ask)
    with pytest.raises(OrderDenied, match="must be below Ask"):  # at the market: no
        check_pending_price(RULES, at_ask, ask, bid, ask)
    with pytest.raises(OrderDenied, match=r"stop_loss 1\.1000 must be below 1\.1000"):
        check_stops(RULES, True, bid, bid, None)
    with pytest.raises(OrderDenied, match=r"take_profit 1\.0990 must be above 1\.1000"):
        check_stops(RULES, True, bid, None, D("1.0990"))
    with pytest.raises(OrderDenied, match=r"stop_loss 1\.0990 must be above 1\.1000"):
        check_stops(RULES, False, bid, D("1.0990"), None)
    frozen = SymbolRules.of(info(trade_freeze_level=10))  # 0.0001
    exactly = SimpleNamespace(ticket=7, type=c.ORDER_TYPE_BUY_LIMIT, price_open=1.1001)
    with pytest.raises(OrderDenied, match="within the freeze level"):  # exactly at it: no
        check_freeze(frozen, exactly, bid, ask)
    limited = SymbolRules.of(info(volume_limit=1.0))
    check_volume_limit(limited, True, D("0.4"), D("0.6"), [])  # exactly the limit: yes
    with pytest.raises(OrderDenied, match=r"0\.5 more lots short in EURUSD pass"):
        check_volume_limit(limited, False, D("0.5"), D("0.6"), [])


def test_no_lots_are_below_even_a_zero_minimum_not_off_its_grid() -> None:
    no_minimum = SymbolRules.of(info(volume_min=0.0))
    with pytest.raises(OrderDenied) as denied:
        rounded_volume(D(0), no_minimum)
    assert (
        str(denied.value)
        == f"0 lots of EURUSD is below the minimum {no_minimum.volume_min} (step 0.01)"
    )
    with pytest.raises(OrderDenied) as grid:
        rounded_volume(D("0.001"), no_minimum)
    assert "0.001 lots of EURUSD rounds down to 0 on its volume step 0.01" in str(grid.value)
