"""The indexed book agrees with a linear walk, and fast results with validated ones.

``LinearBroker`` is the test oracle: the simulator as it was before its book was indexed.
Each matching pass walks every working order of the symbol, buying power and equity are
summed afresh over every position and working order, and bracket exits are found by a
walk. Fed the same random stream of quotes, orders, cancels and days, it and the indexed
:class:`MockBroker` must record the same orders, statuses, fills, cash and positions.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from pydantic import ValidationError

from fks_exec import Order, OrderStatus
from fks_exec.mock import MockBroker, MockClock, MockOrder
from fks_exec.mock.records import Quote
from fks_exec.mock.results import result_of, validated_result_of
from fks_exec.testing import orders

sys.path.insert(0, str(Path(__file__).parent))
from mock_state import assert_same_result, broker_state

SYMBOLS = ("AAA", "BBB")
ZERO = Decimal(0)


class LinearBroker(MockBroker):
    """The oracle: every pass, sum and bracket lookup walks the whole book, and every
    order takes the general path (no immediate fill on arrival)."""

    immediate_fills = False

    def _pass_candidates(self, symbol: str, quote: Quote) -> list[MockOrder]:
        return [r for r in self._working.values() if r.order.symbol == symbol]

    def _mark_rested(self, symbol: str) -> None:
        for record in self._working.values():
            if record.order.symbol == symbol:
                record.rested = True

    def _drop_exits(self, symbol: str) -> None:
        for record in list(self._working.values()):
            if record.parent_id is not None and record.order.symbol == symbol:
                self._set_status(record, OrderStatus.CANCELED)
                record.error = "canceled: the position it protected is closed"
                self._retire(record)

    def _equity(self) -> Decimal:
        quotes = self._quotes
        return self.cash + sum(
            (p.quantity * quotes[s].mid for s, p in self._ledger.positions.items() if p.quantity),
            ZERO,
        )

    def _buying_power(self) -> Decimal:
        quotes = self._quotes
        exposure = sum(
            (
                abs(p.quantity) * quotes[s].mid
                for s, p in self._ledger.positions.items()
                if p.quantity
            ),
            ZERO,
        )
        reserved = ZERO
        for record in self._working.values():
            if record.order.reduce_only:
                continue
            price = record.order.price or record.order.stop_price or self.mark(record.order.symbol)
            reserved += record.remaining * price
        return self._equity() * self.leverage - exposure - reserved


grid_prices = st.integers(90, 110).map(Decimal)


class IndexedAgreesWithLinear(RuleBasedStateMachine):
    @initialize(
        cash=st.sampled_from([2_000, 50_000, 10_000_000]),
        maker=st.integers(0, 3),
        taker=st.integers(0, 5),
        slippage=st.integers(0, 10),
    )
    def open_accounts(self, cash: int, maker: int, taker: int, slippage: int) -> None:
        def broker(kind: type[MockBroker]) -> MockBroker:
            return kind(cash=cash, maker_fee_bps=maker, taker_fee_bps=taker, slippage_bps=slippage)

        self.indexed, self.linear = broker(MockBroker), broker(LinearBroker)
        self.both = (self.indexed, self.linear)
        for b in self.both:
            for symbol in SYMBOLS:
                b.set_price(symbol, bid=99, ask=101)

    def _submit(self, order: Order) -> None:
        fast, slow = (b.submit(order) for b in self.both)
        assert_same_result(fast, slow)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        bid=grid_prices,
        spread=st.integers(0, 2),
        size=st.one_of(st.none(), st.integers(1, 6).map(Decimal)),
    )
    def move_quote(self, symbol: str, bid: Decimal, spread: int, size: Decimal | None) -> None:
        fills = [b.set_price(symbol, bid=bid, ask=bid + spread, size=size) for b in self.both]
        assert repr(fills[0]) == repr(fills[1])

    @rule(
        order=orders(
            SYMBOLS,
            min_price=88,
            max_price=112,
            price_places=0,
            min_quantity=1,
            max_quantity=8,
            quantity_places=0,
        )
    )
    def submit(self, order: Order) -> None:
        self._submit(order)

    @rule(
        order=orders(
            SYMBOLS,
            min_price=88,
            max_price=112,
            price_places=0,
            min_quantity=1,
            max_quantity=8,
            quantity_places=0,
            brackets=False,
            reduce_only=True,
        )
    )
    def submit_reduce_only(self, order: Order) -> None:
        self._submit(order)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        sides=st.lists(st.sampled_from(["buy", "sell"]), min_size=1, max_size=12),
        prices=st.lists(grid_prices, min_size=12, max_size=12),
        stops=st.booleans(),
    )
    def place_a_grid(
        self, symbol: str, sides: list[str], prices: list[Decimal], stops: bool
    ) -> None:
        """Many resting orders at once, several at one price: what the index orders."""
        for side, price in zip(sides, prices, strict=False):
            order = (
                Order.stop(symbol, side, 1, price) if stops else Order.limit(symbol, side, 1, price)
            )
            self._submit(order)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["buy", "sell"]),
        quantity=st.integers(1, 6),
        distance=st.integers(1, 5),
    )
    def bracket_near_the_market(self, symbol: str, side: str, quantity: int, distance: int) -> None:
        mid = self.indexed.mark(symbol)
        low, high = mid - distance, mid + distance
        sl, tp = (low, high) if side == "buy" else (high, low)
        self._submit(Order.market(symbol, side, quantity, stop_loss=sl, take_profit=tp))

    @precondition(lambda self: bool(self.indexed.open_orders))
    @rule(data=st.data())
    def cancel_one(self, data: st.DataObject) -> None:
        record = data.draw(st.sampled_from(self.indexed.open_orders))
        assert_same_result(*(b.cancel(record.order_id) for b in self.both))

    @rule()
    def end_of_day(self) -> None:
        expired = [[r.order_id for r in b.end_of_day()] for b in self.both]
        assert expired[0] == expired[1]

    @rule(seconds=st.integers(1, 3600))
    def time_passes(self, seconds: int) -> None:
        for b in self.both:
            b.clock.advance(seconds)

    @invariant()
    def records_agree(self) -> None:
        fast, slow = self.indexed, self.linear
        assert broker_state(fast) == broker_state(slow)
        assert [r.order_id for r in fast.open_orders] == [r.order_id for r in slow.open_orders]

    @invariant()
    def accounts_agree(self) -> None:
        fast, slow = self.indexed, self.linear
        assert (fast.cash, fast.fees_paid) == (slow.cash, slow.fees_paid)
        assert repr(fast.positions()) == repr(slow.positions())
        assert fast.realized_pnl() == slow.realized_pnl()
        assert fast.equity() == slow.equity()
        assert fast.buying_power() == slow.buying_power()

    @invariant()
    def fast_results_equal_validated_ones(self) -> None:
        broker = self.indexed
        now = broker.clock.now()
        for record in broker.orders:
            fast = result_of("mock", record, now)
            assert_same_result(fast, validated_result_of("mock", record, now))


# --------------------------------------------------------------------------- examples


def _broker(**kwargs: object) -> MockBroker:
    broker = MockBroker(**kwargs)  # type: ignore[arg-type]
    broker.set_price("X", bid=100, ask=101)
    return broker


def test_orders_at_one_price_fill_in_arrival_order_whatever_their_index_place() -> None:
    broker = _broker()
    late_high = broker.submit(Order.limit("X", "buy", 1, 99, client_order_id="first"))
    broker.submit(Order.limit("X", "buy", 1, 98, client_order_id="second"))
    broker.submit(Order.limit("X", "buy", 1, 99, client_order_id="third"))
    fills = broker.set_price("X", bid=96, ask=97, size=2)
    assert [f.client_order_id for f in fills] == ["first", "second"]
    assert late_high.order_id == fills[0].order_id
    assert [r.client_order_id for r in broker.open_orders] == ["third"]


def test_a_quote_reaches_limits_and_stops_exactly_at_the_touch() -> None:
    broker = _broker()
    buy_limit = broker.submit(Order.limit("X", "buy", 1, 99))
    sell_limit = broker.submit(Order.limit("X", "sell", 1, 102))
    buy_stop = broker.submit(Order.stop("X", "buy", 1, 103))
    sell_stop = broker.submit(Order.stop("X", "sell", 1, 97))
    ids = [r.order_id or "" for r in (buy_limit, sell_limit, buy_stop, sell_stop)]

    def statuses() -> list[str]:
        return [broker.order(i).status.value for i in ids]

    assert statuses() == ["accepted"] * 4
    broker.set_price("X", bid=98, ask=99)  # the ask at the buy limit
    assert statuses() == ["filled", "accepted", "accepted", "accepted"]
    broker.set_price("X", bid=97, ask=98)  # the bid at the sell stop
    assert statuses() == ["filled", "accepted", "accepted", "filled"]
    broker.set_price("X", bid=102, ask=103)  # the bid at the sell limit, the ask at the stop
    assert statuses() == ["filled"] * 4


def test_a_triggered_stop_limit_rests_among_the_limits() -> None:
    broker = _broker()
    stop_limit = broker.submit(Order.stop_limit("X", "sell", 1, stop_price=98, price=99))
    broker.set_price("X", bid=97, ask=98)  # triggers; 99 is above the bid: rests
    record = broker.order(stop_limit.order_id or "")
    assert record.triggered and record.status is OrderStatus.ACCEPTED
    broker.set_price("X", bid=97, ask=98)  # a limit now, still not reached
    assert record.status is OrderStatus.ACCEPTED
    broker.set_price("X", bid=99, ask=100)
    assert record.status is OrderStatus.FILLED and record.average_price == 99


def test_bracket_exits_work_after_their_entry_and_go_with_the_position() -> None:
    broker = _broker()
    broker.set_price("X", bid=100, ask=101, size=1)
    entry = broker.submit(Order.market("X", "buy", 3, stop_loss=90, take_profit=110))
    assert [r.order_id for r in broker.open_orders] == [
        entry.order_id,
        f"{entry.order_id}-SL",
        f"{entry.order_id}-TP",
    ]
    other = broker.submit(Order.limit("X", "buy", 1, 50))
    broker.set_price("X", bid=100, ask=101)  # entry fills; exits grow to 3
    assert broker.position("X") == 3
    broker.submit(Order.market("X", "sell", 3))  # flat: both exits go, the limit stays
    assert [r.order_id for r in broker.open_orders] == [other.order_id]
    assert broker.order(f"{entry.order_id}-SL").status is OrderStatus.CANCELED


def test_reserved_margin_follows_fills_and_cancels_exactly() -> None:
    broker = _broker(cash=1000)
    assert broker.buying_power() == 1000
    resting = broker.submit(Order.limit("X", "buy", 3, 90))  # reserves 270
    stop = broker.submit(Order.stop("X", "buy", 1, 120))  # reserves 120
    assert broker.buying_power() == 1000 - 270 - 120
    broker.set_price("X", bid=89, ask=90, size=2)  # 2 of the limit fill at 90
    assert broker.order(resting.order_id or "").filled == 2
    # equity 1000 (cash 820 + 2 x 89.5 marked... less the half spread), exposure 179
    assert broker.buying_power() == broker.equity() - 2 * Decimal("89.5") - 90 - 120
    broker.cancel(resting.order_id or "")
    broker.cancel(stop.order_id or "")
    assert broker.buying_power() == broker.equity() - 2 * Decimal("89.5")


def test_a_market_order_left_working_reserves_at_the_mid() -> None:
    broker = _broker(cash=10_000)
    broker.set_price("X", bid=100, ask=101, size=1)
    broker.submit(Order.market("X", "buy", 5))  # 1 fills, 4 keep working
    broker.set_price("X", bid=110, ask=112, size=0.5)  # half a unit more
    held = broker.position("X")
    assert held == Decimal("1.5")
    working = broker.open_orders[0].remaining
    expected = broker.equity() - held * 111 - working * 111
    assert broker.buying_power() == expected


def test_records_the_simulator_builds_never_need_the_validator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The point of mock/results.py: every record the simulator builds (working, part
    # filled, filled, canceled, rejected with and without a code) is answered without
    # the validator; only a time outside UTC (or a broken record, below) takes it.
    calls: list[str] = []

    def counting(plugin: str, record: MockOrder, now: datetime) -> object:
        calls.append(record.status.value)
        return validated_result_of(plugin, record, now)

    monkeypatch.setattr("fks_exec.mock.results.validated_result_of", counting)
    broker = _broker(cash=10_000)
    broker.set_price("X", bid=100, ask=101)
    broker.submit(Order.market("X", "buy", 1))  # filled whole
    broker.submit(Order.limit("X", "buy", 1, 90))  # accepted, rests
    broker.cancel(broker.open_orders[-1].order_id)  # canceled
    broker.submit(Order.market("X", "buy", 1_000))  # rejected: insufficient funds
    broker.reject_next()
    broker.submit(Order.market("X", "buy", 1))  # rejected by the test's rule
    broker.set_price("X", bid=100, ask=101, size=1)
    broker.submit(Order.market("X", "buy", 3))  # partially filled, keeps working
    now = broker.clock.now()
    statuses = {result_of("mock", r, now).status.value for r in broker.orders}
    assert statuses == {"partially_filled", "filled", "canceled", "rejected"}
    assert calls == []
    paris = now.astimezone(ZoneInfo("Europe/Paris"))
    result_of("mock", broker.orders[-1], paris)
    assert calls == ["partially_filled"]


def test_a_clock_outside_utc_still_gives_utc_results() -> None:
    clock = MockClock(datetime(2025, 1, 2, 14, 30, tzinfo=timezone.utc))
    broker = MockBroker(clock=clock)
    broker.set_price("X", last=100)
    record = broker.order(broker.submit(Order.market("X", "buy", 1)).order_id or "")
    paris = clock.now().astimezone(ZoneInfo("Europe/Paris"))
    fast, checked = result_of("mock", record, paris), validated_result_of("mock", record, paris)
    assert_same_result(fast, checked)
    assert fast.timestamp.tzinfo is timezone.utc
    assert fast.timestamp == clock.now() - timedelta(0)


@pytest.mark.parametrize("status", [OrderStatus.REJECTED, OrderStatus.UNKNOWN])
def test_a_failed_record_without_a_code_gets_the_validators_default(status: OrderStatus) -> None:
    record = MockOrder(
        order=Order.market("X", "buy", 1), order_id="M1", quantity=Decimal(1), status=status
    )
    now = MockClock().now()
    fast = result_of("mock", record, now)
    assert_same_result(fast, validated_result_of("mock", record, now))
    assert fast.error_code == ("rejected" if status is OrderStatus.REJECTED else "unknown")


@pytest.mark.parametrize(
    ("status", "filled"),
    [
        (OrderStatus.FILLED, ZERO),
        (OrderStatus.FILLED, Decimal(3)),  # more than the quantity of 2
        (OrderStatus.PARTIALLY_FILLED, Decimal(2)),
    ],
)
def test_a_record_that_contradicts_itself_is_refused_as_the_validator_refuses_it(
    status: OrderStatus, filled: Decimal
) -> None:
    record = MockOrder(
        order=Order.market("X", "buy", 2),
        order_id="M1",
        quantity=Decimal(2),
        status=status,
        filled=filled,
        notional=filled * 100,
    )
    now = MockClock().now()
    with pytest.raises(ValidationError) as fast:
        result_of("mock", record, now)
    with pytest.raises(ValidationError) as checked:
        validated_result_of("mock", record, now)
    assert str(fast.value) == str(checked.value)


# The state machine runs last: the examples above fail fast when something is wrong.
IndexedAgreesWithLinear.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestIndexedAgreesWithLinear = IndexedAgreesWithLinear.TestCase
