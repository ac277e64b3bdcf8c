"""The mock as a paper broker: liquidity, time in force, brackets, fees, faults, clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Executor, Order, OrderStatus
from fks_exec.mock import MockBroker, MockClock, MockPlugin

D = Decimal
SYM = "ES 12-25"


@pytest.fixture
def broker() -> MockBroker:
    b = MockBroker(cash=1_000_000)
    b.set_price(SYM, bid=5000, ask=5001)
    return b


def test_size_limits_each_quote_and_the_rest_keeps_working(broker: MockBroker) -> None:
    broker.set_price(SYM, bid=5000, ask=5001, size=2)
    result = broker.submit(Order.market(SYM, "buy", 5))
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert (result.filled_quantity, result.average_price) == (2, 5001)
    broker.set_price(SYM, bid=5002, ask=5004, size=2)
    broker.set_price(SYM, bid=5005, ask=5007, size=10)
    record = broker.order(result.order_id or "")
    assert record.status is OrderStatus.FILLED
    assert [(f.quantity, f.price) for f in broker.fills] == [(2, 5001), (2, 5004), (1, 5007)]
    assert record.average_price == (2 * D(5001) + 2 * D(5004) + 5007) / 5


def test_ioc_cancels_the_rest_and_fok_is_all_or_nothing(broker: MockBroker) -> None:
    broker.set_price(SYM, bid=5000, ask=5001, size=2)
    ioc = broker.submit(Order.market(SYM, "buy", 5, time_in_force="ioc"))
    assert (ioc.status, ioc.filled_quantity) == (OrderStatus.CANCELED, 2)
    fok = broker.submit(Order.market(SYM, "buy", 5, time_in_force="fok"))
    assert fok.status is OrderStatus.REJECTED and fok.filled_quantity == 0
    broker.set_price(SYM, bid=5000, ask=5001, size=5)
    assert broker.submit(Order.market(SYM, "buy", 5, time_in_force="fok")).status is (
        OrderStatus.FILLED
    )
    passive_ioc = broker.submit(Order.limit(SYM, "buy", 1, 4000, time_in_force="ioc"))
    assert (passive_ioc.status, passive_ioc.filled_quantity) == (OrderStatus.CANCELED, 0)


def test_day_orders_expire_at_end_of_day(broker: MockBroker) -> None:
    day = broker.submit(Order.limit(SYM, "buy", 1, 4900, time_in_force="day"))
    gtc = broker.submit(Order.limit(SYM, "buy", 1, 4900))
    expired = broker.end_of_day()
    assert [r.order_id for r in expired] == [day.order_id]
    assert broker.order(day.order_id or "").status is OrderStatus.EXPIRED
    assert broker.order(gtc.order_id or "").status is OrderStatus.ACCEPTED


def test_stop_limit_becomes_a_resting_limit(broker: MockBroker) -> None:
    order = Order.stop_limit(SYM, "sell", 1, stop_price=4990, price=4985)
    result = broker.submit(order)
    broker.set_price(SYM, bid=4980, ask=4981)  # triggers; limit 4985 is not marketable
    record = broker.order(result.order_id or "")
    assert record.triggered and record.status is OrderStatus.ACCEPTED
    broker.set_price(SYM, bid=4986, ask=4987)
    assert record.status is OrderStatus.FILLED and record.average_price == 4985


def test_bracket_exits_follow_partial_entry_fills_and_cancel_each_other(broker: MockBroker) -> None:
    broker.set_price(SYM, bid=5000, ask=5001, size=1)
    entry = broker.submit(Order.market(SYM, "buy", 3, stop_loss=4950, take_profit=5050))
    sl, tp = broker.order(f"{entry.order_id}-SL"), broker.order(f"{entry.order_id}-TP")
    assert (sl.quantity, tp.quantity) == (1, 1)
    broker.set_price(SYM, bid=5001, ask=5002, size=2)
    assert (sl.quantity, tp.quantity) == (3, 3)
    assert sl.order.reduce_only and tp.order.reduce_only
    broker.set_price(SYM, bid=5060, ask=5061, size=None)
    assert tp.status is OrderStatus.FILLED and tp.average_price == 5050
    assert sl.status is OrderStatus.CANCELED
    assert broker.position(SYM) == 0
    assert broker.realized_pnl(SYM) == 3 * D(5050) - (D(5001) + 2 * D(5002))


def test_stop_loss_exit_on_a_gap_fills_at_the_market(broker: MockBroker) -> None:
    entry = broker.submit(Order.market(SYM, "sell", 2, stop_loss=5050, take_profit=4900))
    broker.set_price(SYM, bid=5099, ask=5100)
    sl = broker.order(f"{entry.order_id}-SL")
    assert sl.status is OrderStatus.FILLED and sl.average_price == 5100
    assert broker.order(f"{entry.order_id}-TP").status is OrderStatus.CANCELED
    assert broker.position(SYM) == 0


def test_fees_maker_and_taker(broker: MockBroker) -> None:
    broker.maker_fee_bps, broker.taker_fee_bps = D(1), D(5)
    broker.submit(Order.market(SYM, "buy", 2))  # taker at 5001
    broker.submit(Order.limit(SYM, "sell", 2, 5010))  # rests
    broker.set_price(SYM, bid=5011, ask=5012)  # maker fill at 5010
    taker, maker = broker.fills
    assert taker.fee == 2 * D(5001) * 5 / 10_000 and taker.liquidity == "taker"
    assert maker.fee == 2 * D(5010) * 1 / 10_000 and maker.liquidity == "maker"
    assert broker.cash == D(1_000_000) - 2 * D(5001) + 2 * D(5010) - taker.fee - maker.fee
    assert broker.fees_paid == taker.fee + maker.fee


def test_slippage_moves_market_fills_against_the_order(broker: MockBroker) -> None:
    broker.slippage_bps = D(10)
    buy = broker.submit(Order.market(SYM, "buy", 1))
    sell = broker.submit(Order.market(SYM, "sell", 1))
    assert buy.average_price == D(5001) * D("1.001")
    assert sell.average_price == D(5000) * D("0.999")


def test_reduce_only_never_grows_or_flips(broker: MockBroker) -> None:
    flat = broker.submit(Order.market(SYM, "sell", 1, reduce_only=True))
    assert flat.error_code is ErrorCode.INVALID_ORDER
    broker.submit(Order.market(SYM, "buy", 2))
    grow = broker.submit(Order.market(SYM, "buy", 1, reduce_only=True))
    assert grow.error_code is ErrorCode.INVALID_ORDER
    too_big = broker.submit(Order.market(SYM, "sell", 5, reduce_only=True))
    assert too_big.filled_quantity == 2 and too_big.status is OrderStatus.CANCELED
    assert broker.position(SYM) == 0


def test_margin_and_leverage(broker: MockBroker) -> None:
    small = MockBroker(cash=10_000)
    small.set_price(SYM, bid=5000, ask=5001)
    assert small.submit(Order.market(SYM, "buy", 2)).error_code is ErrorCode.INSUFFICIENT_FUNDS
    small.leverage = D(2)
    assert small.submit(Order.market(SYM, "buy", 1)).status is OrderStatus.FILLED
    resting = small.submit(Order.limit(SYM, "buy", 2, 4000))  # reserves 8,000
    assert resting.status is OrderStatus.ACCEPTED
    more = small.submit(Order.limit(SYM, "buy", 2, 4000))
    assert more.error_code is ErrorCode.INSUFFICIENT_FUNDS
    assert small.submit(Order.market(SYM, "sell", 1)).status is OrderStatus.FILLED  # reduces


def test_clock_is_deterministic_and_settable() -> None:
    clock = MockClock()
    broker = MockBroker(clock=clock)
    broker.set_price(SYM, last=100)
    first = broker.submit(Order.market(SYM, "buy", 1))
    clock.advance(timedelta(minutes=5))
    second = broker.submit(Order.market(SYM, "buy", 1))
    assert second.timestamp - first.timestamp == timedelta(minutes=5)
    assert broker.fills[1].time == clock.now()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2030, 1, 1))
    clock.set(datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert clock.now().year == 2030


def test_same_calls_give_the_same_records() -> None:
    """Two brokers fed the same calls record the same fills, ids and times (no hidden
    randomness), and those fills are the ones the quotes dictate."""

    def session() -> list[tuple[object, ...]]:
        b = MockBroker()
        b.set_latency(0.001, 0.004, seed=3)
        b.set_price(SYM, bid=100, ask=101, size=3)
        b.submit(Order.market(SYM, "buy", 5, client_order_id="a"))
        b.submit(Order.limit(SYM, "sell", 1, 105, client_order_id="b"))
        b.set_price(SYM, bid=106, ask=107, size=1)
        return [(*tuple(f), b.next_delay()) for f in b.fills]

    first, second = session(), session()
    assert first == second
    assert [(f[1], f[3], f[4], f[5], f[7]) for f in first] == [
        ("a", "buy", 3, 101, "taker"),
        ("a", "buy", 1, 107, "taker"),
        ("b", "sell", 1, 105, "maker"),
    ]
    assert [f[0] for f in first] == ["M1", "M1", "M2"]


def test_latency_is_seeded(broker: MockBroker) -> None:
    broker.set_latency(0.001, 0.004, seed=7)
    first = [broker.next_delay() for _ in range(5)]
    broker.set_latency(0.001, 0.004, seed=7)
    assert [broker.next_delay() for _ in range(5)] == first
    assert all(0.001 <= d <= 0.005 for d in first)
    with pytest.raises(ValueError, match="negative"):
        broker.set_latency(-1)


async def test_timeout_after_acceptance_is_unknown_then_reconciled(broker: MockBroker) -> None:
    from fks_exec import PluginRegistry

    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin(broker=broker))
    async with Executor(registry, default="mock", reconcile_delay_s=0) as ex:
        broker.fail_next_with(asyncio.TimeoutError("answer lost"), after_send=True)
        order = Order.limit(SYM, "buy", 1, 4900)
        result = await ex.execute(order)
        assert result.status is OrderStatus.ACCEPTED  # found by client order id
        assert result.order_id == broker.find(order.client_order_id).order_id  # type: ignore[union-attr]
        broker.fail_next_with(BrokerUnavailable("link down"))
        with pytest.raises(BrokerUnavailable):
            await ex.execute(Order.market(SYM, "buy", 1))
        assert len(broker.orders) == 1


async def test_config_does_not_override_a_broker_built_by_the_test() -> None:
    broker = MockBroker(cash=1234, taker_fee_bps=3)
    plugin = MockPlugin(broker=broker)
    await plugin.init({"currency": "EUR"})
    assert (broker.cash, broker.taker_fee_bps, broker.currency) == (1234, 3, "EUR")


async def test_plugin_latency_from_config_delays_calls() -> None:
    plugin = MockPlugin()
    await plugin.init({"latency_ms": 20, "prices": {SYM: "10"}})
    loop = asyncio.get_running_loop()
    started = loop.time()
    await plugin.fetch_data(SYM)
    assert loop.time() - started >= 0.015


def test_oco_partner_is_canceled_even_when_the_position_could_take_it(broker: MockBroker) -> None:
    broker.submit(Order.market(SYM, "buy", 5))  # a position larger than the bracket
    entry = broker.submit(Order.market(SYM, "buy", 1, stop_loss=4950, take_profit=5050))
    broker.set_price(SYM, bid=5055, ask=5056)  # take profit fills
    broker.set_price(SYM, bid=4940, ask=4941)  # the stop loss must not fill too
    assert broker.order(f"{entry.order_id}-TP").status is OrderStatus.FILLED
    assert broker.order(f"{entry.order_id}-SL").status is OrderStatus.CANCELED
    assert broker.position(SYM) == 5
