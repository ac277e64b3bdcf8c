"""The per-venue table (:mod:`fks_exec_ccxt.venues`): rows no caller can change, and the
trigger-book search params each row gives ccxt."""

from __future__ import annotations

import dataclasses

import pytest
from fake_venues import quoted_okx, started
from markets import ccxt_market, exchange_with

from fks_exec import Order, OrderStatus
from fks_exec_ccxt.lookup import trigger_flags
from fks_exec_ccxt.venues import VENUES, venue


@pytest.mark.parametrize(
    "row",
    [venue("okx"), venue("okx").client_id, venue("kucoin").trigger, venue("nowhere")],
    ids=["Venue", "ClientIdRule", "TriggerSpelling", "default"],
)
def test_a_row_is_frozen_for_every_plugin_instance_sharing_it(row: object) -> None:
    field = dataclasses.fields(row)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(row, field, getattr(row, field))


def test_a_venue_with_trigger_books_is_searched_with_ccxt_s_trigger_flag() -> None:
    exchange = exchange_with("kucoin", ccxt_market("BTC/USDT", id="BTC-USDT"))
    assert "kucoin" in VENUES  # a row of its own, with the default trigger search
    flags = trigger_flags(exchange, exchange.markets["BTC/USDT"], "fetchOpenOrders")
    assert flags == [{}, {"trigger": True}]


async def test_an_okx_stop_is_found_by_client_id_in_its_algo_book() -> None:
    venue_ = quoted_okx()
    placing = await started(venue_.exchange())
    other = await started(venue_.exchange())  # no memory of the order
    try:
        stop = await placing.execute_order(
            Order.stop("BTC/USDT:USDT", "sell", "1", "59000", client_order_id="stop1")
        )
        start = len(other.exchange.session.requests)
        found = await other.find_order("stop1", {"symbol": "BTC/USDT:USDT"})
        paths = [r.path for r in other.exchange.session.requests[start:]]
    finally:
        await placing.close()
        await other.close()
    assert found is not None and found.order_id == stop.order_id
    assert found.status is OrderStatus.ACCEPTED
    assert "/api/v5/trade/orders-algo-pending" in paths


async def test_an_okx_stop_that_fired_is_found_by_client_id_in_its_algo_history() -> None:
    venue_ = quoted_okx()
    placing = await started(venue_.exchange())
    other = await started(venue_.exchange())  # no memory of the order
    try:
        stop = await placing.execute_order(
            Order.stop("BTC/USDT:USDT", "sell", "1", "59000", client_order_id="fired1")
        )
        venue_.set_price("BTC-USDT-SWAP", "58900", "58900.1", "58900")  # it fires and fills
        start = len(other.exchange.session.requests)
        found = await other.find_order("fired1", {"symbol": "BTC/USDT:USDT"})
        queries = [
            r.raw_query
            for r in other.exchange.session.requests[start:]
            if r.path == "/api/v5/trade/orders-algo-history"
        ]
    finally:
        await placing.close()
        await other.close()
    assert found is not None and found.order_id == stop.order_id
    assert found.status is OrderStatus.FILLED and found.filled_quantity == 1
    assert any("state=effective" in q for q in queries), queries
