"""The short path for a market order that fills whole on arrival changes nothing.

:class:`MockBroker` sends a plain market order (no bracket, not reduce-only, unlimited
quote size on its side, no test rejection queued) through ``_fill_on_arrival`` instead
of the general admission and arrival steps, and skips the matching pass after it when
nothing of the symbol is working. Fed the same random stream, a broker with the short path and one
without must leave the same records (status history included), fills, cash, positions,
arrivals and results. The streams mix in everything that must send an order back to
the general path: quote sizes, resting and bracket orders, reduce-only orders, queued
rejections, too little cash, fees and slippage.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.mock import MockBroker, MockOrder
from fks_exec.mock.records import Quote
from fks_exec.mock.results import result_of, validated_result_of

sys.path.insert(0, str(Path(__file__).parent))
from mock_state import assert_same_result, broker_state

SYMBOLS = ("AAA", "BBB")


class GeneralPathBroker(MockBroker):
    """Every order through admission, arrival and a matching pass."""

    immediate_fills = False


class CountingBroker(MockBroker):
    """Counts the orders that took the short path."""

    short_paths = 0

    def _fill_on_arrival(self, record: MockOrder, quote: Quote) -> None:
        self.short_paths += 1
        super()._fill_on_arrival(record, quote)


def _outcome(call: Any) -> ExecutionResult | BaseException:
    try:
        return call()  # type: ignore[no-any-return]
    except Exception as exc:  # compared between the two brokers
        return exc


quantities = st.integers(1, 6).map(Decimal) | st.sampled_from([Decimal("0.5"), Decimal("2.25")])
market_orders = st.builds(
    lambda symbol, side, quantity, tif, reduce: Order.market(
        symbol, side, quantity, time_in_force=tif, reduce_only=reduce
    ),
    st.sampled_from(SYMBOLS),
    st.sampled_from(["buy", "sell"]),
    quantities,
    st.sampled_from(["gtc", "day", "ioc", "fok"]),
    st.booleans(),
)
steps = st.one_of(
    st.tuples(st.just("market"), market_orders),
    st.tuples(st.just("market"), market_orders),
    st.tuples(st.just("market"), market_orders),
    st.tuples(
        st.just("quote"),
        st.tuples(
            st.sampled_from(SYMBOLS),
            st.integers(95, 105),
            st.integers(0, 2),
            st.none() | st.integers(1, 4),
        ),
    ),
    st.tuples(
        st.just("limit"),
        st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]), st.integers(90, 110)),
    ),
    st.tuples(
        st.just("bracket"), st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["buy", "sell"]))
    ),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("reject"), st.none()),
    st.tuples(st.just("clock"), st.integers(1, 60)),
)


def _order_of(broker: MockBroker, step: tuple[str, Any]) -> tuple[str, Any]:
    """The step with its order built once, so both brokers get the same client id."""
    kind, arg = step
    if kind == "limit":
        symbol, side, price = arg
        return "market", Order.limit(symbol, side, 1, price)
    if kind == "bracket":
        symbol, side = arg
        mid = broker.mark(symbol)
        sl, tp = (mid - 3, mid + 3) if side == "buy" else (mid + 3, mid - 3)
        return "market", Order.market(symbol, side, 1, stop_loss=sl, take_profit=tp)
    return step


def _apply(broker: MockBroker, step: tuple[str, Any]) -> object:
    kind, arg = step
    if kind == "market":
        return _outcome(lambda: broker.submit(arg))
    if kind == "quote":
        symbol, bid, spread, size = arg
        return repr(broker.set_price(symbol, bid=bid, ask=bid + spread, size=size))
    if kind == "cancel":
        working = broker.open_orders
        if not working:
            return None
        return _outcome(lambda: broker.cancel(working[arg % len(working)].order_id))
    if kind == "reject":
        broker.reject_next()
        return None
    broker.clock.advance(arg)
    return None


@settings(max_examples=150, deadline=None)
@given(
    cash=st.sampled_from([300, 2_000, 1_000_000]),
    taker=st.integers(0, 5),
    slippage=st.integers(0, 10),
    leverage=st.sampled_from([1, 3]),
    stream=st.lists(steps, min_size=1, max_size=40),
)
def test_the_short_path_leaves_the_state_the_general_path_leaves(
    cash: int, taker: int, slippage: int, leverage: int, stream: list[tuple[str, Any]]
) -> None:
    def open_account(kind: type[MockBroker]) -> MockBroker:
        broker = kind(cash=cash, taker_fee_bps=taker, slippage_bps=slippage, leverage=leverage)
        for symbol in SYMBOLS:
            broker.set_price(symbol, bid=99, ask=101)
        return broker

    fast, slow = open_account(CountingBroker), open_account(GeneralPathBroker)
    for drawn in stream:
        step = _order_of(fast, drawn)
        a, b = _apply(fast, step), _apply(slow, step)
        if isinstance(a, ExecutionResult | BaseException):
            assert_same_result(a, b)  # type: ignore[arg-type]
        else:
            assert a == b
        assert broker_state(fast) == broker_state(slow)
    now = fast.clock.now()
    for record in fast.orders:
        assert_same_result(result_of("mock", record, now), validated_result_of("mock", record, now))


def test_the_streams_take_both_paths() -> None:
    """The property above means something only if its streams reach the short path, its
    refusal, and orders the short path must leave to the general one."""
    broker = CountingBroker(cash=300)
    broker.set_price("AAA", bid=99, ask=101)
    filled = broker.submit(Order.market("AAA", "buy", 1))
    refused = broker.submit(Order.market("AAA", "buy", 5))  # 505 > 300 - 101 of equity
    assert broker.short_paths == 2
    assert (filled.status.value, refused.status.value) == ("filled", "rejected")
    assert refused.error_code is not None and refused.error_code.value == "insufficient_funds"
    assert broker.order(refused.order_id or "").statuses == [
        OrderStatus.PENDING,
        OrderStatus.REJECTED,
    ]
    broker.set_price("AAA", bid=99, ask=101, size=1)
    broker.submit(Order.market("AAA", "sell", 1))  # a sized quote: the general path
    broker.submit(Order.market("AAA", "buy", 1, reduce_only=True))  # the general path
    assert broker.short_paths == 2
    broker.set_price("AAA", bid=99, ask=101)
    broker.submit(Order.limit("AAA", "buy", 1, 90))  # rests
    broker.submit(Order.market("AAA", "buy", 1))  # the short path, then a matching pass
    assert broker.short_paths == 3
    assert [r.client_order_id for r in broker.open_orders] == [broker.orders[-2].client_order_id]
