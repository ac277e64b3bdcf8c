"""Prices on the tick grid, each rounded the way its meaning allows (docs/plugins/mt5.md,
*What each order becomes*): a limit price never past the caller's limit (a buy's down,
a sell's up, a stop-limit's limit the same), a stop's trigger and SL/TP to the nearest
tick."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_mt5.exposure import Leg
from fks_exec_mt5.mapping import build_request, limit_to_tick, to_tick
from fks_exec_mt5.prechecks import SymbolRules
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started
from .scripted import Scripted
from .test_mapping import info

D = Decimal
TICK_SIZE = D("0.5")
RULES = SymbolRules.of(info(name="GER40", point=0.1, trade_tick_size=0.5, digits=1))
MARKET = SimpleNamespace(bid=18000.0, ask=18000.5)

below = st.decimals(min_value=D(17000), max_value=D("17999.5"), places=3)
above = st.decimals(min_value=D(18001), max_value=D(19000), places=3)


def _sent(order: Order) -> dict[str, float]:
    stops = (order.stop_loss, order.take_profit)
    return build_request(
        order, RULES, MARKET, Leg(order.quantity), deviation=7, magic=9, stops=stops
    )


def _on_grid(price: float) -> Decimal:
    value = D(str(price))
    assert value % TICK_SIZE == 0, value
    return value


@given(below)
def test_a_buy_limit_is_never_placed_above_its_limit(limit: Decimal) -> None:
    price = _on_grid(_sent(Order.limit("GER40", "buy", 1, limit))["price"])
    assert limit - TICK_SIZE < price <= limit


@given(above)
def test_a_sell_limit_is_never_placed_below_its_limit(limit: Decimal) -> None:
    price = _on_grid(_sent(Order.limit("GER40", "sell", 1, limit))["price"])
    assert limit <= price < limit + TICK_SIZE


@given(above, st.decimals(min_value=0, max_value=500, places=3), st.booleans())
def test_a_stop_limits_limit_is_rounded_the_cautious_way_and_its_stop_to_the_nearest(
    stop: Decimal, gap: Decimal, buy: bool
) -> None:
    if not buy:
        stop = D(36000) - stop  # a sell stop below the bid, its limit above the stop
    limit = stop - gap if buy else stop + gap
    order = Order.stop_limit("GER40", "buy" if buy else "sell", 1, stop, limit)
    sent = _sent(order)
    trigger, placed = _on_grid(sent["price"]), _on_grid(sent["stoplimit"])
    assert abs(trigger - stop) <= TICK_SIZE / 2
    if buy:
        assert limit - TICK_SIZE < placed <= limit
    else:
        assert limit <= placed < limit + TICK_SIZE


def test_stops_and_their_levels_go_to_the_nearest_tick() -> None:
    order = Order.stop("GER40", "sell", 1, D("17980.7"), stop_loss=D("18020.7"))
    sent = _sent(order)
    assert (sent["price"], sent["sl"]) == (17980.5, 18020.5)
    order = Order.stop("GER40", "sell", 1, D("17980.8"), take_profit=D("17900.3"))
    sent = _sent(order)
    assert (sent["price"], sent["tp"]) == (17981.0, 17900.5)
    assert to_tick(D("17990.25"), RULES) == D("17990.5")  # half up
    assert limit_to_tick(D("17990.0"), RULES, buy=True) == D("17990.0")  # on the grid
    assert limit_to_tick(D("17990.0"), RULES, buy=False) == D("17990.0")


async def test_a_buy_limit_does_not_fill_above_the_callers_limit() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        placed = await plugin.execute_order(Order.limit("GER40", "buy", "1", "17990.3"))
        assert placed.status is OrderStatus.ACCEPTED, placed
        assert scripted.sent[-1]["price"] == 17990.0
        terminal.set_tick("GER40", "17990.0", "17990.5")  # never down to 17990.3
        found = await plugin.get_order(placed.client_order_id)
        assert found is not None and found.status is OrderStatus.ACCEPTED, found
        sell = await plugin.execute_order(Order.limit("GER40", "sell", "1", "18010.2"))
        assert sell.status is OrderStatus.ACCEPTED, sell
        assert scripted.sent[-1]["price"] == 18010.5
    finally:
        await plugin.close()
