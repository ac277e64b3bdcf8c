"""The plugin against the reference fake OKX (written from OKX's docs, not from the plugin).

Stops found and cancelled behind OKX's algo endpoints, one quantity unit in positions and
closes, Order.params passed through, refused keys, auth failures, paper from sandbox,
and the fake's inferred behaviours (``Rules``) switched to check nothing depends on them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.plugin import Capability
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.okx import Credentials, FakeOkx, Rules

LINEAR, INVERSE, SPOT = "BTC/USDT:USDT", "BTC/USD:BTC", "BTC/USDT"

RULE_SETTINGS = [
    Rules(),
    Rules(trigger_direction="by_side"),
    Rules(client_id_unique_among="all"),
    Rules(cancel_market_remainder=False),
    Rules(reduce_only_overflow="clip"),
    Rules(algo_child_reduce_only=False),
]


def quote(venue: FakeOkx, price: str = "60000") -> None:
    """Quote every default instrument around ``price`` with unlimited depth."""
    p = Decimal(price)
    for inst_id in ("BTC-USDT", "BTC-USDT-SWAP", "BTC-USD-SWAP"):
        venue.set_price(inst_id, p, p + Decimal("0.1"), p)


async def started(venue: FakeOkx, **config: Any) -> CcxtPlugin:
    """The plugin on a ccxt okx object served by ``venue``."""
    plugin = CcxtPlugin(exchange=venue.exchange())
    plugin.use_env = False
    await plugin.init(config)
    return plugin


@pytest.fixture(params=RULE_SETTINGS, ids=lambda r: repr(r)[6:60])
def venue(request: pytest.FixtureRequest) -> FakeOkx:
    fake = FakeOkx(balances={"USDT": "100000", "BTC": "10"}, rules=request.param)
    quote(fake)
    return fake


@pytest.fixture
def plain_venue() -> FakeOkx:
    """The fake with its documented defaults, for what no inferred rule can change."""
    fake = FakeOkx(balances={"USDT": "100000", "BTC": "10"})
    quote(fake)
    return fake


@pytest.fixture
async def okx(venue: FakeOkx) -> AsyncIterator[CcxtPlugin]:
    plugin = await started(venue)
    yield plugin
    await plugin.close()


async def test_okx_instance_declares_what_ccxt_says(okx: CcxtPlugin) -> None:
    assert okx.supports(Capability.STOP_ORDERS) and okx.supports(Capability.CLOSE_POSITION)
    assert okx.is_paper is False  # production URLs: live


async def test_a_stop_is_found_and_cancelled_behind_the_algo_endpoints(
    okx: CcxtPlugin, venue: FakeOkx
) -> None:
    order = Order.stop(LINEAR, "buy", "2", "61000")
    placed = await okx.execute_order(order)
    assert placed.status is OrderStatus.ACCEPTED, placed.error
    assert len(venue.algo_orders()) == 1 and venue.orders() == []
    found = await okx.get_order(order.client_order_id)
    assert found is not None and found.order_id == placed.order_id
    assert placed.order_id is not None
    canceled = await okx.cancel_order(placed.order_id)
    assert canceled.status is OrderStatus.CANCELED, canceled.error
    # A new process (no memory) finds it with the journal's hints.
    other = await started(venue)
    try:
        again = await other.find_order(order.client_order_id, okx.lookup_hints(order, placed))
    finally:
        await other.close()
    assert again is not None and again.order_id == placed.order_id


async def test_positions_and_close_use_contracts(okx: CcxtPlugin, venue: FakeOkx) -> None:
    opened = await okx.execute_order(Order.market(INVERSE, "buy", "1"))
    assert opened.status is OrderStatus.FILLED, opened.error
    (position,) = [p for p in await okx.positions() if p.symbol == INVERSE]
    assert (position.quantity, position.unit) == (Decimal(1), "contracts")
    assert position.contract_size == Decimal(100)  # USD per BTC-USD-SWAP contract
    results = await okx.close_position(INVERSE)
    assert [r.quantity for r in results] == [Decimal(1)]  # 1 contract, not 100
    assert venue.position("BTC-USD-SWAP") == 0


async def test_partial_close_never_sends_more_than_held(okx: CcxtPlugin, venue: FakeOkx) -> None:
    await okx.execute_order(Order.market(LINEAR, "sell", "50"))
    assert venue.position("BTC-USDT-SWAP") == Decimal(-50)
    results = await okx.close_position(LINEAR, Decimal(80))
    assert [(r.side, r.quantity) for r in results] == [("buy", Decimal(50))]
    assert venue.position("BTC-USDT-SWAP") == 0
    assert await okx.close_position(LINEAR) == []


async def test_order_params_pass_through_and_controlled_keys_are_refused(
    okx: CcxtPlugin, venue: FakeOkx
) -> None:
    post_only = Order.limit(LINEAR, "buy", "1", "59000", params={"postOnly": True})
    result = await okx.execute_order(post_only)
    assert result.status is OrderStatus.ACCEPTED, result.error
    (resting,) = venue.orders()
    assert resting.ord_type == "post_only"
    refused = await okx.execute_order(
        Order.limit(LINEAR, "buy", "1", "59000", params={"clOrdId": "mine", "reduceOnly": True})
    )
    assert refused.sent is False and refused.error_code is ErrorCode.INVALID_ORDER
    assert "clOrdId, reduceOnly" in (refused.error or "")
    assert len(venue.orders()) == 1


async def test_a_revoked_key_is_unhealthy_and_its_orders_rejected_unsent(
    plain_venue: FakeOkx,
) -> None:
    plugin = CcxtPlugin(exchange=plain_venue.exchange(apiKey="revoked-key"))
    plugin.use_env = False
    await plugin.init()
    try:
        health = await plugin.health_check()
        assert not health.healthy and health.detail.startswith("auth:"), health.detail
        result = await plugin.execute_order(Order.market(SPOT, "buy", "0.01"))
    finally:
        await plugin.close()
    assert (result.status, result.error_code, result.sent) == (
        OrderStatus.REJECTED,
        ErrorCode.AUTH,
        False,
    )
    assert plain_venue.order_arrivals() == {}


async def test_health_without_a_key_says_so(plain_venue: FakeOkx) -> None:
    plugin = CcxtPlugin(exchange=plain_venue.exchange(apiKey="", secret="", password=""))
    plugin.use_env = False
    await plugin.init()
    try:
        health = await plugin.health_check()
    finally:
        await plugin.close()
    assert not health.healthy and "no API key" in health.detail


async def test_health_is_cached(plain_venue: FakeOkx) -> None:
    plugin = await started(plain_venue, health_cache_ms=60_000)
    try:
        first = await plugin.health_check()
        before = len(plugin.exchange.session.requests)
        second = await plugin.health_check()
        assert len(plugin.exchange.session.requests) == before
    finally:
        await plugin.close()
    assert first.healthy and second == first


async def test_sandbox_is_paper_and_a_contradicting_setting_fails(plain_venue: FakeOkx) -> None:
    from fks_exec.errors import ConfigurationError

    exchange = plain_venue.exchange()
    exchange.set_sandbox_mode(True)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init()
    assert plugin.is_paper
    await plugin.close()
    live = CcxtPlugin(exchange=plain_venue.exchange())
    live.use_env = False
    with pytest.raises(ConfigurationError):
        await live.init({"paper": True})


async def test_an_order_for_another_account_is_refused(plain_venue: FakeOkx) -> None:
    plugin = await started(plain_venue, account="main")
    try:
        other = await plugin.execute_order(Order.market(SPOT, "buy", "0.01", account="sub-1"))
        same = await plugin.execute_order(Order.market(SPOT, "buy", "0.01", account="main"))
    finally:
        await plugin.close()
    assert other.sent is False and "sub-1" in (other.error or "")
    assert same.status is OrderStatus.FILLED


async def test_credentials_never_reach_results(plain_venue: FakeOkx) -> None:
    secret = Credentials().secret
    plugin = await started(plain_venue)
    try:
        result = await plugin.execute_order(Order.market(SPOT, "buy", "1000"))  # too much
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED
    assert secret not in repr(result)


async def test_a_revoked_key_never_falls_back_to_paper(plain_venue: FakeOkx) -> None:
    """Issue 13's case end to end: the documented fallback pattern, and a revoked key."""
    from fks_exec import Executor, PluginRegistry
    from fks_exec.mock import MockPlugin

    registry = PluginRegistry(discover=False)
    live = CcxtPlugin(exchange=plain_venue.exchange(apiKey="revoked-key"))
    live.use_env = False
    registry.register("ccxt", live)
    mock = MockPlugin()
    mock.use_env = False
    registry.register("mock", mock)
    executor = Executor(
        registry,
        routes={"BTC/*": "ccxt"},
        fallbacks={"ccxt": ["mock"]},
        allow_paper_fallback={"ccxt": ["mock"]},
        reconcile_delay_s=0,
    )
    async with executor:
        result = await executor.execute(Order.market(SPOT, "buy", "0.01"))
    assert (result.plugin, result.error_code, result.sent) == ("ccxt", ErrorCode.AUTH, False)
    assert plain_venue.order_arrivals() == {}


async def test_a_new_process_finds_an_open_order_without_hints(
    okx: CcxtPlugin, venue: FakeOkx
) -> None:
    order = Order.limit(LINEAR, "buy", "1", "59000")
    placed = await okx.execute_order(order)
    other = await started(venue)
    try:
        found = await other.get_order(order.client_order_id)
        missing = await other.get_order("neverplaced000000000000000000000")
    finally:
        await other.close()
    assert found is not None and found.order_id == placed.order_id
    assert missing is None


async def test_close_position_in_hedge_mode_closes_each_side(
    okx: CcxtPlugin, venue: FakeOkx
) -> None:
    venue.pos_mode = "long_short_mode"
    await okx.execute_order(Order.market(LINEAR, "buy", "3", params={"posSide": "long"}))
    await okx.execute_order(Order.market(LINEAR, "sell", "2", params={"posSide": "short"}))
    assert (venue.position("BTC-USDT-SWAP", "long"), venue.position("BTC-USDT-SWAP", "short")) == (
        Decimal(3),
        Decimal(2),
    )
    results = await okx.close_position(LINEAR)
    assert sorted((r.side.value if r.side else "", r.quantity) for r in results) == [
        ("buy", Decimal(2)),
        ("sell", Decimal(3)),
    ], [r.error for r in results]
    assert venue.position("BTC-USDT-SWAP", "long") == venue.position("BTC-USDT-SWAP", "short") == 0
