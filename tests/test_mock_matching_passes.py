"""The mock's matching passes and arrivals: what the mutation run found unchecked.

A quote runs passes over the orders it reaches until one pass changes nothing. These
tests pin the cases that need a second pass (a bracket's exits, created by the entry's
fill in the first pass, reached by the same quote) and the mutation run found unchecked.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.mock import MockBroker

SYM = "X"


def test_an_exit_the_same_quote_reaches_fills_in_a_second_pass() -> None:
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101)
    entry = broker.submit(Order.limit(SYM, "buy", 2, 99, stop_loss=95, take_profit=110))
    assert entry.status is OrderStatus.ACCEPTED
    fills = broker.set_price(SYM, bid=94, ask=95)  # fills the entry and reaches its stop
    assert [(f.client_order_id[-3:], f.side.value, f.price) for f in fills] == [
        (entry.client_order_id[-3:], "buy", Decimal(99)),  # rested: at its limit
        ("-sl", "sell", Decimal(94)),  # the triggered stop, at the bid
    ]
    assert broker.position(SYM) == 0
    take_profit = broker.order(f"{entry.order_id}-TP")
    assert take_profit.status is OrderStatus.CANCELED  # its OCO partner filled
    assert broker.open_orders == []


def test_a_stop_limit_entry_that_fills_on_trigger_lets_its_exit_match_the_same_quote() -> None:
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101)
    entry = broker.submit(
        Order.stop_limit(SYM, "buy", 1, stop_price=105, price=106, stop_loss=Decimal("104.5"))
    )
    assert entry.status is OrderStatus.ACCEPTED
    fills = broker.set_price(SYM, bid=104, ask=105)  # triggers, fills at 105, reaches the stop
    assert [(f.side.value, f.price) for f in fills] == [("buy", 105), ("sell", 104)]
    assert broker.position(SYM) == 0
    assert broker.order(f"{entry.order_id}-SL").status is OrderStatus.FILLED


def test_exit_ids_keep_the_first_32_characters_of_a_long_client_id() -> None:
    """A client id may have 36 characters; its exits' ids (32 + "-sl") fit the same."""
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101)
    client_id = "strategy-7-" + "x" * 21 + "-end"
    assert len(client_id) == 36 and client_id[31] == "x"
    entry = broker.submit(
        Order.market(SYM, "buy", 1, stop_loss=90, take_profit=110, client_order_id=client_id)
    )
    stop_loss = broker.order(f"{entry.order_id}-SL")
    take_profit = broker.order(f"{entry.order_id}-TP")
    assert stop_loss.client_order_id == client_id[:32] + "-sl"
    assert take_profit.client_order_id == client_id[:32] + "-tp"
    assert broker.find(client_id[:32] + "-sl") is stop_loss


@pytest.mark.parametrize(
    ("exit_field", "price", "suffix"), [("take_profit", 110, "TP"), ("stop_loss", 90, "SL")]
)
def test_a_one_exit_entry_works_ahead_of_its_exit(exit_field: str, price: int, suffix: str) -> None:
    """An entry with a bracket joins the book before it trades, so the exits its first
    fill creates come after it in arrival order (and in every matching pass)."""
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101, size=1)
    entry = broker.submit(Order.market(SYM, "buy", 3, **{exit_field: price}))
    assert (entry.status, entry.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 1)
    exit_id = f"{entry.order_id}-{suffix}"
    assert [r.order_id for r in broker.open_orders] == [entry.order_id, exit_id]


def test_a_rested_limit_fills_at_its_limit_without_slippage() -> None:
    broker = MockBroker(cash=10_000, slippage_bps=50)
    broker.set_price(SYM, bid=100, ask=101)
    resting = broker.submit(Order.limit(SYM, "buy", 1, 99))
    fills = broker.set_price(SYM, bid=97, ask=98)
    assert [(f.order_id, f.price, f.liquidity) for f in fills] == [
        (resting.order_id, Decimal(99), "maker")
    ]
    market = broker.submit(Order.market(SYM, "sell", 1))  # a market order does slip
    assert market.average_price == Decimal(97) - Decimal(97) * 50 / 10_000


def test_a_market_order_left_working_slips_on_its_later_fills_too() -> None:
    broker = MockBroker(cash=10_000, slippage_bps=50)
    broker.set_price(SYM, bid=100, ask=101, size=1)
    first = broker.submit(Order.market(SYM, "buy", 2))
    assert first.filled_quantity == 1
    fills = broker.set_price(SYM, bid=101, ask=102, size=1)
    assert [f.price for f in fills] == [Decimal(102) + Decimal(102) * 50 / 10_000]


def test_dropping_an_old_duplicate_keeps_the_first_order_findable() -> None:
    """A refused duplicate has its own record; when history drops it, the client id
    must keep pointing at the order that owns it."""
    broker = MockBroker(cash=10_000, history_limit=2)
    broker.set_price(SYM, bid=100, ask=101)
    owner = broker.submit(Order.limit(SYM, "buy", 1, 90, client_order_id="grid-1"))
    duplicate = broker.submit(Order.limit(SYM, "buy", 1, 91, client_order_id="grid-1"))
    assert duplicate.status is OrderStatus.REJECTED
    for _ in range(2):  # two more finished orders push the duplicate out of history
        broker.submit(Order.market(SYM, "buy", 1))
    assert broker.orders[0].order_id == owner.order_id
    found = broker.find("grid-1")
    assert found is not None and found.order_id == owner.order_id


def test_the_documented_default_history() -> None:
    assert MockBroker().history_limit == 100_000


@pytest.mark.parametrize("leverage", [0, -1])
def test_a_leverage_that_is_not_positive_is_refused(leverage: int) -> None:
    with pytest.raises(ValueError, match="leverage must be positive"):
        MockBroker(leverage=leverage)


def test_history_keeps_exactly_history_limit_finished_orders() -> None:
    broker = MockBroker(cash=10_000, history_limit=2)
    broker.set_price(SYM, bid=100, ask=101)
    ids = [broker.submit(Order.market(SYM, "buy", 1)).order_id for _ in range(3)]
    assert [r.order_id for r in broker.orders] == ids[1:]


def test_bracket_exits_name_each_other_until_one_fills() -> None:
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101)
    entry = broker.submit(Order.market(SYM, "buy", 1, stop_loss=95, take_profit=110))
    stop_loss = broker.order(f"{entry.order_id}-SL")
    take_profit = broker.order(f"{entry.order_id}-TP")
    assert (stop_loss.oco_id, take_profit.oco_id) == (take_profit.order_id, stop_loss.order_id)
    broker.set_price(SYM, bid=94, ask=95)
    assert stop_loss.status is OrderStatus.FILLED
    assert take_profit.status is OrderStatus.CANCELED
    assert take_profit.error == f"canceled by its OCO partner {stop_loss.order_id}"
    assert (stop_loss.oco_id, take_profit.oco_id) == (None, None)


def test_a_triggered_stop_slips_and_a_marketable_limit_does_not() -> None:
    broker = MockBroker(cash=10_000, slippage_bps=50)
    broker.set_price(SYM, bid=100, ask=101)
    stop = broker.submit(Order.stop(SYM, "buy", 1, 103))
    fills = broker.set_price(SYM, bid=102, ask=103)
    assert [(f.order_id, f.price) for f in fills] == [
        (stop.order_id, Decimal(103) + Decimal(103) * 50 / 10_000)
    ]
    limit = broker.submit(Order.limit(SYM, "buy", 1, 105))  # marketable: the touch, unslipped
    assert (limit.status, limit.average_price) == (OrderStatus.FILLED, Decimal(103))


def test_an_order_that_needs_exactly_the_buying_power_is_filled() -> None:
    broker = MockBroker(cash=101)
    broker.set_price(SYM, bid=100, ask=101)
    assert broker.buying_power() == 101
    result = broker.submit(Order.market(SYM, "buy", 1))
    assert (result.status, broker.cash) == (OrderStatus.FILLED, 0)


def test_default_costs_are_zero_and_symbols_is_a_list() -> None:
    broker = MockBroker()
    assert (broker.maker_fee_bps, broker.taker_fee_bps, broker.slippage_bps) == (0, 0, 0)
    broker.set_price("B", last=1)
    broker.set_price("A", last=2)
    assert broker.symbols == ["A", "B"]


def test_a_quote_without_last_is_marked_at_its_midpoint() -> None:
    broker = MockBroker()
    assert broker.cash == 1_000_000  # the documented starting cash
    broker.set_price(SYM, bid=99, ask=101)
    assert broker.quote(SYM).last == 100
    broker.set_price(SYM, bid=99, ask=101, last="100.5")
    assert broker.quote(SYM).last == Decimal("100.5")
    assert broker.mark(SYM) == 100  # positions are valued at the mid, not the last


def test_a_flat_short_shows_zero_unrealized_pnl_not_minus_zero() -> None:
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, last=100)
    broker.submit(Order.market(SYM, "sell", 1))
    (position,) = broker.positions()
    assert position.quantity == -1
    assert str(position.unrealized_pnl) == "0"  # (100 - 100) * -1 is Decimal("-0")


@pytest.mark.parametrize("many", [0, 40])
def test_each_side_of_the_book_is_reached_at_its_best_price(many: int) -> None:
    """Limits and stops are found by price whatever their arrival number: with 40
    orders resting first, the numbers exceed the prices (2 to 9) they are keyed with."""
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=5, ask=6)
    for _ in range(many):
        broker.submit(Order.limit(SYM, "buy", 1, 1))  # far below: never reached
    buy_limit = broker.submit(Order.limit(SYM, "buy", 1, 4))
    sell_limit = broker.submit(Order.limit(SYM, "sell", 1, 8))
    buy_stop = broker.submit(Order.stop(SYM, "buy", 1, 9))
    sell_stop = broker.submit(Order.stop(SYM, "sell", 1, 2))

    def status(result: ExecutionResult) -> str:
        return broker.order(result.order_id or "").status.value

    broker.set_price(SYM, bid=3, ask=4)  # the ask at the buy limit
    assert [status(r) for r in (buy_limit, sell_limit, buy_stop, sell_stop)] == [
        "filled",
        "accepted",
        "accepted",
        "accepted",
    ]
    broker.set_price(SYM, bid=8, ask=9)  # the bid at the sell limit, the ask at the stop
    assert [status(r) for r in (sell_limit, buy_stop, sell_stop)] == [
        "filled",
        "filled",
        "accepted",
    ]
    broker.set_price(SYM, bid=2, ask=3)  # the bid at the sell stop
    assert status(sell_stop) == "filled"
    assert len(broker.open_orders) == many
