"""The same strategy on hedging and netting accounts: net exposure after every step.

Exposure is read from the fake's books (``net_volume`` of this plugin's magic), not
from the plugin, and compared with what the strategy meant.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import ACCOUNTS, MAGIC, started

D = Decimal


def exposure(terminal: FakeMetaTrader5) -> Decimal:
    return terminal.net_volume("EURUSD", MAGIC)


async def test_one_strategy_gives_the_same_exposure_on_every_account(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    steps = [
        (Order.market("EURUSD", "buy", "0.5"), D("0.5")),
        (Order.market("EURUSD", "buy", "0.3"), D("0.8")),
        (Order.market("EURUSD", "sell", "0.6"), D("0.2")),  # an exit spanning tickets
        (Order.market("EURUSD", "sell", "0.5"), D("-0.3")),  # through flat to short
        (Order.market("EURUSD", "buy", "0.3", reduce_only=True), D("0")),
    ]
    for order, expected in steps:
        result = await mt5.execute_order(order)
        assert result.status is OrderStatus.FILLED, result
        assert exposure(terminal) == expected
        held = {p.symbol: p.quantity for p in await mt5.positions()}
        assert held.get("EURUSD", D(0)) == expected
    assert terminal.positions_get(symbol="EURUSD") == ()


async def test_an_exit_on_hedging_closes_named_tickets_and_opens_none(
    hedging: FakeMetaTrader5,
) -> None:
    plugin = await started(hedging)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.3"))
    first, second = (t.ticket for t in await plugin.tickets("EURUSD"))
    result = await plugin.execute_order(Order.market("EURUSD", "sell", "0.6"))
    assert result.status is OrderStatus.FILLED
    left = await plugin.tickets("EURUSD")
    assert [(t.ticket, t.volume, t.buy) for t in left] == [(second, D("0.2"), True)]
    assert first not in {t.ticket for t in left}
    await plugin.close()


async def test_reduce_only_beyond_the_net_position_is_refused_unsent(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    await mt5.execute_order(Order.market("EURUSD", "buy", "0.5"))
    arrivals = sum(terminal.order_arrivals().values())
    result = await mt5.execute_order(Order.market("EURUSD", "sell", "0.8", reduce_only=True))
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert sum(terminal.order_arrivals().values()) == arrivals
    assert exposure(terminal) == D("0.5")


async def test_close_position_closes_exactly_what_it_is_asked(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    await mt5.execute_order(Order.market("EURUSD", "sell", "0.4"))
    await mt5.execute_order(Order.market("EURUSD", "sell", "0.4"))
    results = await mt5.close_position("EURUSD", D("0.5"))
    assert [r.status for r in results] == [OrderStatus.FILLED]
    assert exposure(terminal) == D("-0.3")
    too_much = await mt5.close_position("EURUSD", D("0.5"))
    assert too_much[0].sent is False and exposure(terminal) == D("-0.3")
    off_grid = await mt5.close_position("EURUSD", D("0.105"))
    assert off_grid[0].sent is False and exposure(terminal) == D("-0.3")
    await mt5.close_position("EURUSD")
    assert exposure(terminal) == 0
    assert await mt5.close_position("EURUSD") == []


async def test_positions_of_other_programs_are_not_touched(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    terminal.add_position("GER40", terminal.ORDER_TYPE_BUY, 2, magic=0)  # a manual trade
    terminal.add_position("EURUSD", terminal.ORDER_TYPE_SELL, "0.7", magic=777)
    assert await mt5.close_position("EURUSD") == []
    assert await mt5.close_position("GER40") == []
    refused = await mt5.execute_order(Order.market("EURUSD", "buy", "0.7", reduce_only=True))
    assert refused.sent is False
    assert terminal.net_volume("EURUSD", 777) == D("-0.7")
    assert terminal.net_volume("GER40", 0) == D(2)
    assert await mt5.positions() == []


async def test_netting_orders_carry_the_positions_stops(netting: FakeMetaTrader5) -> None:
    plugin = await started(netting)
    sl, tp = D("1.09"), D("1.12")
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1", stop_loss=sl, take_profit=tp))
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))  # no SL/TP given
    (position,) = netting.positions_get(symbol="EURUSD")
    assert (D(repr(position.sl)), D(repr(position.tp))) == (sl, tp)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1", take_profit=D("1.13")))
    (position,) = netting.positions_get(symbol="EURUSD")
    assert (D(repr(position.sl)), D(repr(position.tp))) == (sl, D("1.13"))
    await plugin.close()


async def test_netting_refuses_to_change_another_programs_position(
    netting: FakeMetaTrader5,
) -> None:
    netting.add_position("EURUSD", netting.ORDER_TYPE_BUY, "0.3", magic=0)
    plugin = await started(netting)
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.sent is False and "magic 0" in (result.error or "")
    await plugin.close()
    allowed = await started(netting, manage_other_positions=True)
    assert (await allowed.execute_order(Order.market("EURUSD", "sell", "0.1"))).success
    assert netting.net_volume("EURUSD") == D("0.2")
    await allowed.close()


async def test_fifo_accounts_refuse_closing_before_an_older_position() -> None:
    terminal = FakeMetaTrader5.hedging(fifo_close=True)
    terminal.add_position("EURUSD", terminal.ORDER_TYPE_BUY, "0.1", magic=0)
    plugin = await started(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
    result = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2", reduce_only=True))
    assert result.sent is False and "FIFO" in (result.error or ""), result
    assert exposure(terminal) == D("0.2")
    await plugin.close()


_STEP = st.one_of(
    st.tuples(
        st.just("reduce"),
        st.sampled_from(["buy", "sell"]),
        st.integers(min_value=1, max_value=80).map(lambda n: D(n) / 100),
    ),
    st.tuples(
        st.just("close"),
        st.just(""),
        st.one_of(st.none(), st.integers(min_value=1, max_value=80).map(lambda n: D(n) / 100)),
    ),
)
_OPEN = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        st.integers(min_value=1, max_value=50).map(lambda n: D(n) / 100),
        st.sampled_from([MAGIC, MAGIC, 0, 777]),
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.parametrize("account", sorted(ACCOUNTS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(opens=_OPEN, steps=st.lists(_STEP, max_size=6))
async def test_reducing_never_increases_absolute_exposure(
    account: str,
    opens: list[tuple[str, Decimal, int]],
    steps: list[tuple[str, str, Decimal | None]],
) -> None:
    terminal = ACCOUNTS[account]()
    for side, volume, magic in opens:
        kind = terminal.ORDER_TYPE_BUY if side == "buy" else terminal.ORDER_TYPE_SELL
        terminal.add_position("EURUSD", kind, volume, magic=magic)
    others = {m: terminal.net_volume("EURUSD", m) for m in (0, 777)}
    plugin = await started(terminal)
    try:
        for kind, side, quantity in steps:
            before = abs(exposure(terminal))
            if kind == "reduce":
                assert quantity is not None
                await plugin.execute_order(Order.market("EURUSD", side, quantity, reduce_only=True))
            else:
                await plugin.close_position("EURUSD", quantity)
            assert abs(exposure(terminal)) <= before
            if terminal.account_info().margin_mode == terminal.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING:
                assert {m: terminal.net_volume("EURUSD", m) for m in (0, 777)} == others
    finally:
        await plugin.close()


async def test_pending_orders_are_accepted_then_filled_by_their_deal(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    order = Order.limit("EURUSD", "sell", "0.2", D("1.1050"))
    placed = await mt5.execute_order(order)
    assert placed.status is OrderStatus.ACCEPTED and placed.filled_quantity == 0, placed
    terminal.set_tick("EURUSD", "1.1060", "1.1061")
    found = await mt5.get_order(order.client_order_id)
    assert found is not None and found.status is OrderStatus.FILLED
    assert exposure(terminal) == D("-0.2")


async def test_the_plugin_recovers_after_the_terminal_comes_back(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    terminal.disconnect()
    assert not (await mt5.health_check()).healthy
    terminal.reconnect()
    assert (await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))).success
    assert exposure(terminal) == D("0.1")


async def test_a_partial_fill_reports_what_filled() -> None:
    terminal = FakeMetaTrader5.netting()
    terminal.update_symbol("EURUSD", liquidity=D("0.3"))
    plugin = await started(terminal)
    order = Order.market("EURUSD", "buy", "0.5", time_in_force="ioc", client_order_id="ioc-1")
    result = await plugin.execute_order(order)
    # IOC: the server canceled the rest (10010), so the order is final with what filled
    assert result.status is OrderStatus.CANCELED and result.status.is_final, result
    assert result.filled_quantity == D("0.3") == exposure(terminal)
    assert result.average_price == D("1.1001") and result.quantity == D("0.5")
    assert "the server canceled the rest" in (result.error or "")
    found = await plugin.get_order("ioc-1")  # the history says the same
    assert found is not None and found.status is OrderStatus.CANCELED, found
    assert found.filled_quantity == D("0.3") and found.average_price == D("1.1001")
    fok = await plugin.execute_order(Order.market("EURUSD", "buy", "0.5", time_in_force="fok"))
    assert fok.status is OrderStatus.REJECTED and exposure(terminal) == D("0.3")
    await plugin.close()


async def test_close_position_flattens_hedged_pairs_without_growing_exposure(
    hedging: FakeMetaTrader5,
) -> None:
    plugin = await started(hedging)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
    placed = await plugin.execute_order(Order.limit("EURUSD", "sell", "0.2", D("1.1050")))
    hedging.set_tick("EURUSD", "1.1060", "1.1061")  # the sell limit opens its own ticket
    assert placed.status is OrderStatus.ACCEPTED
    assert len(await plugin.tickets("EURUSD")) == 2 and exposure(hedging) == D("0.3")
    results = await plugin.close_position("EURUSD")
    assert [r.status for r in results] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert await plugin.tickets("EURUSD") == [] and exposure(hedging) == 0
    await plugin.close()
