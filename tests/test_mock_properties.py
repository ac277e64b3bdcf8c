"""Properties of the simulator's accounting, over random sequences of quotes and orders."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.mock import MockBroker
from fks_exec.testing import orders

SYMBOLS = ("AAA", "BBB")
START_CASH = Decimal(10_000_000)
TOLERANCE = Decimal("1e-12")


class Account(RuleBasedStateMachine):
    @initialize(maker=st.integers(0, 5), taker=st.integers(0, 10), slippage=st.integers(0, 20))
    def open_account(self, maker: int, taker: int, slippage: int) -> None:
        self.broker = MockBroker(
            cash=START_CASH, maker_fee_bps=maker, taker_fee_bps=taker, slippage_bps=slippage
        )
        for symbol in SYMBOLS:
            self.broker.set_price(symbol, bid=99, ask=101)

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        mid=st.decimals(min_value=60, max_value=140, places=1),
        spread=st.decimals(min_value=0, max_value=2, places=1),
        size=st.one_of(st.none(), st.decimals(min_value="0.5", max_value=20, places=1)),
    )
    def move_quote(self, symbol: str, mid: Decimal, spread: Decimal, size: Decimal | None) -> None:
        self.broker.set_price(symbol, bid=mid - spread / 2, ask=mid + spread / 2, size=size)

    @rule(
        order=orders(
            SYMBOLS,
            min_price=50,
            max_price=150,
            min_quantity="0.1",
            max_quantity=25,
            quantity_places=1,
        )
    )
    def submit(self, order: object) -> None:
        result = self.broker.submit(order)  # type: ignore[arg-type]
        ExecutionResult.model_validate(result.model_dump())

    @rule(
        order=orders(
            SYMBOLS,
            min_price=50,
            max_price=150,
            min_quantity="0.1",
            max_quantity=25,
            quantity_places=1,
            brackets=False,
            reduce_only=True,
        )
    )
    def submit_reduce_only(self, order: object) -> None:
        self.broker.submit(order)  # type: ignore[arg-type]

    @rule(
        symbol=st.sampled_from(SYMBOLS),
        side=st.sampled_from(["buy", "sell"]),
        quantity=st.decimals(min_value="0.1", max_value=10, places=1),
        distance=st.decimals(min_value="0.5", max_value=8, places=1),
    )
    def bracket_near_the_market(
        self, symbol: str, side: str, quantity: Decimal, distance: Decimal
    ) -> None:
        mid = self.broker.mark(symbol)
        low, high = mid - distance, mid + distance
        sl, tp = (low, high) if side == "buy" else (high, low)
        self.broker.submit(Order.market(symbol, side, quantity, stop_loss=sl, take_profit=tp))

    @rule(data=st.data())
    def cancel_one(self, data: st.DataObject) -> None:
        working = self.broker.open_orders
        if working:
            record = data.draw(st.sampled_from(working))
            assert self.broker.cancel(record.order_id).status is OrderStatus.CANCELED

    @rule()
    def end_of_day(self) -> None:
        self.broker.end_of_day()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def cash_moves_only_by_fills_and_fees(self) -> None:
        spent = sum(
            (f.side.sign * f.quantity * f.price + f.fee for f in self.broker.fills), Decimal(0)
        )
        assert self.broker.cash == START_CASH - spent

    @invariant()
    def positions_are_the_sum_of_fills(self) -> None:
        held: dict[str, Decimal] = defaultdict(Decimal)
        for fill in self.broker.fills:
            held[fill.symbol] += fill.side.sign * fill.quantity
        for symbol in SYMBOLS:
            assert self.broker.position(symbol) == held[symbol]

    @invariant()
    def equity_changes_only_by_price_moves_and_fees(self) -> None:
        # cash + marked positions - start == realized + unrealized - fees
        realized = self.broker.realized_pnl()
        unrealized = sum((p.unrealized_pnl or 0 for p in self.broker.positions()), Decimal(0))
        change = self.broker.equity() - START_CASH
        assert abs(change - (realized + unrealized - self.broker.fees_paid)) <= TOLERANCE

    @invariant()
    def filled_never_exceeds_quantity(self) -> None:
        for record in self.broker.orders:
            assert 0 <= record.filled <= record.quantity
            if record.status is OrderStatus.FILLED:
                assert record.filled == record.quantity
            self.broker.result(record)  # validates

    @invariant()
    def reduce_only_never_grows_or_flips(self) -> None:
        reduce_only = {r.order_id for r in self.broker.orders if r.order.reduce_only}
        held: dict[str, Decimal] = defaultdict(Decimal)
        for fill in self.broker.fills:
            before = held[fill.symbol]
            held[fill.symbol] += fill.side.sign * fill.quantity
            if fill.order_id in reduce_only:
                after = held[fill.symbol]
                assert abs(after) < abs(before), (before, after)
                assert after == 0 or (after > 0) == (before > 0)

    @invariant()
    def oco_exits_never_both_fill(self) -> None:
        for record in self.broker.orders:
            if record.order_id.endswith("-SL"):
                partner = record.order_id[:-3] + "-TP"
                try:
                    other = self.broker.order(partner)
                except KeyError:
                    continue
                assert not (record.filled > 0 and other.filled > 0), record.order_id


Account.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestAccount = Account.TestCase
