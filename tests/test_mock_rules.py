"""Mock broker rules a mutation run found unpinned (issue 12): fill-or-kill against the
side it takes, a fill-or-kill stop, a bracket with only a stop loss, a client id
reused once its first order is forgotten, and an exit that fills on arrival."""

from __future__ import annotations

from decimal import Decimal

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.mock import MockBroker

SYM = "ES"


def _broker(**kwargs: object) -> MockBroker:
    broker = MockBroker(cash=1_000_000, **kwargs)  # type: ignore[arg-type]
    broker.set_price(SYM, bid=100, ask=101, size=5)
    return broker


def test_fill_or_kill_is_checked_against_the_side_it_takes() -> None:
    broker = _broker()
    assert broker.submit(Order.market(SYM, "buy", 3)).status is OrderStatus.FILLED
    # 2 left at the ask, 5 still at the bid: a sell of 4 can fill whole, a buy of 4 cannot
    sell = broker.submit(Order.market(SYM, "sell", 4, time_in_force="fok"))
    assert sell.status is OrderStatus.FILLED
    buy = broker.submit(Order.market(SYM, "buy", 4, time_in_force="fok"))
    assert (buy.status, buy.error_code) == (OrderStatus.REJECTED, ErrorCode.REJECTED)


def test_a_fill_or_kill_stop_passes_admission_and_then_does_not_wait() -> None:
    # Admission leaves a stop's fill-or-kill to its trigger; on arrival, like every
    # fok/ioc order that did not fill at once, it is canceled (never rejected).
    broker = _broker()
    stop = broker.submit(Order.stop(SYM, "buy", 1, 150, time_in_force="fok"))
    assert (stop.status, stop.error_code, stop.filled_quantity) == (
        OrderStatus.CANCELED,
        None,
        Decimal(0),
    )


def test_a_bracket_with_only_a_stop_loss_gets_its_exit() -> None:
    broker = _broker()
    entry = broker.submit(Order.market(SYM, "buy", 2, stop_loss=90))
    assert entry.status is OrderStatus.FILLED
    exits = [r for r in broker.open_orders if r.parent_id == entry.order_id]
    assert [(r.order.type.value, r.order.stop_price, r.quantity) for r in exits] == [
        ("stop", Decimal(90), Decimal(2))
    ]


def test_a_client_id_is_free_again_once_its_first_order_is_forgotten() -> None:
    broker = _broker(history_limit=1)
    first = broker.submit(Order.market(SYM, "buy", 1, client_order_id="reused-1"))
    broker.submit(Order.market(SYM, "buy", 1, client_order_id="other-2"))  # forgets the first
    assert broker.find("reused-1") is None
    again = broker.submit(Order.market(SYM, "buy", 1, client_order_id="reused-1"))
    assert again.status is OrderStatus.FILLED and again.order_id != first.order_id


def test_an_exit_marketable_on_arrival_fills_at_the_touch_without_slippage() -> None:
    # A stop entry the market gaps through: it fills, and its take profit arrives
    # marketable. (A market entry whose exit would fire at once is refused instead.)
    broker = _broker(slippage_bps=10)
    entry = broker.submit(Order.stop(SYM, "buy", 1, 105, take_profit=106))
    assert entry.status is OrderStatus.ACCEPTED
    broker.set_price(SYM, bid=110, ask=111, size=5)
    exit_fill = next(f for f in broker.fills if f.client_order_id.endswith("-tp"))
    assert exit_fill.price == Decimal(110)  # the bid, the better of the limit and the touch
    assert broker.position(SYM) == 0


def test_exits_a_market_entry_would_set_off_at_once_are_refused_with_nothing_placed() -> None:
    broker = _broker()  # bid 100, ask 101
    wrong = [
        Order.market(SYM, "buy", 1, stop_loss=100),  # a sell stop reached at the bid
        Order.market(SYM, "buy", 1, take_profit=100),  # a sell limit marketable at the bid
        Order.market(SYM, "sell", 1, stop_loss=101),  # a buy stop reached at the ask
        Order.market(SYM, "sell", 1, take_profit=101),  # a buy limit marketable at the ask
        Order.limit(SYM, "buy", 1, 102, stop_loss=100.5, take_profit=103),  # fills at 101
    ]
    for order in wrong:
        result = broker.submit(order)
        assert (result.status, result.error_code) == (
            OrderStatus.REJECTED,
            ErrorCode.INVALID_ORDER,
        ), order
        assert "would fire at once" in (result.error or "")
    assert broker.submit(Order.market(SYM, "buy", 1, stop_loss=100)).error == (
        "this buy fills now and its stop_loss 100 would fire at once (bid 100): a buy's "
        "stop loss goes below the market, its take profit above; nothing was placed"
    )
    assert broker.submit(Order.market(SYM, "sell", 1, take_profit=101)).error == (
        "this sell fills now and its take_profit 101 would fire at once (ask 101): a sell's "
        "stop loss goes above the market, its take profit below; nothing was placed"
    )
    assert broker.position(SYM) == 0 and list(broker.fills) == []
    right = [
        Order.market(SYM, "buy", 1, stop_loss=99.5, take_profit=100.5),
        Order.market(SYM, "sell", 1, stop_loss=101.5, take_profit=100.5),
        Order.limit(SYM, "buy", 1, 99, stop_loss=98, take_profit=99.5),  # rests: not now
    ]
    assert [broker.submit(o).status for o in right] == [
        OrderStatus.FILLED,
        OrderStatus.FILLED,
        OrderStatus.ACCEPTED,
    ]


def test_a_stop_already_reached_is_refused_naming_the_touch_it_met() -> None:
    broker = _broker()
    buy = broker.submit(Order.stop(SYM, "buy", 1, 101))
    assert "buy stop at 101 is already reached (touch 101)" in (buy.error or "")
    sell = broker.submit(Order.stop(SYM, "sell", 1, 100))
    assert "sell stop at 100 is already reached (touch 100)" in (sell.error or "")


def test_what_a_sell_takes_leaves_the_bid_smaller() -> None:
    broker = _broker()
    assert broker.submit(Order.market(SYM, "sell", 3)).status is OrderStatus.FILLED
    # 2 left at the bid (5 - 3): a fill-or-kill sell of 3 can no longer fill whole
    refused = broker.submit(Order.market(SYM, "sell", 3, time_in_force="fok"))
    assert refused.status is OrderStatus.REJECTED


def test_a_triggered_stop_limit_takes_at_the_touch_without_slippage() -> None:
    broker = _broker(slippage_bps=10)
    placed = broker.submit(Order.stop_limit(SYM, "buy", 1, 105, 110))
    assert placed.status is OrderStatus.ACCEPTED
    fills = broker.set_price(SYM, bid=105, ask=106)
    assert [(f.price, f.liquidity) for f in fills] == [(Decimal(106), "taker")]
