from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    ConfigurationError,
    DuplicateClientOrderId,
    ErrorCode,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginNotFound,
    PluginRegistry,
    RoutingError,
    SyncExecutor,
)
from fks_exec.mock import MockPlugin


@pytest.fixture
def plugins(registry: PluginRegistry, make_plugin: Any) -> dict[str, Any]:
    made = {name: make_plugin(name) for name in ("alpha", "beta", "gamma")}
    for name, plugin in made.items():
        registry.register(name, plugin)
    return made


def executor(registry: PluginRegistry, **kwargs: Any) -> Executor:
    kwargs.setdefault("reconcile_delay_s", 0)
    return Executor(registry, **kwargs)


async def test_routing_explicit_then_rules_then_default(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    ex = executor(registry, default="gamma", routes={"*/USDT": "alpha", "EURUSD": "beta"})
    async with ex:
        assert (await ex.execute(Order.market("BTC/USDT", "buy", 1))).plugin == "alpha"
        assert (await ex.execute(Order.market("EURUSD", "buy", 1))).plugin == "beta"
        assert (await ex.execute(Order.market("ES 12-25", "buy", 1))).plugin == "gamma"
        assert (
            await ex.execute(Order.market("BTC/USDT", "buy", 1), plugin="beta")
        ).plugin == "beta"
    assert [len(p.sent) for p in plugins.values()] == [1, 2, 1]


async def test_no_route_is_a_routing_error_and_nothing_sent(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    async with executor(registry, routes={"*/USDT": "alpha"}) as ex:
        with pytest.raises(RoutingError, match="FKS_EXEC_DEFAULT"):
            await ex.execute(Order.market("EURUSD", "buy", 1))
    assert all(not p.sent for p in plugins.values())


async def test_unknown_plugin_in_config_fails_fast() -> None:
    only_mock = PluginRegistry(discover=False)
    only_mock.register("mock", MockPlugin)
    with pytest.raises(PluginNotFound, match="pip install fks-exec-ccxt"):
        await executor(only_mock, default="ccxt").start()


async def test_fallback_only_when_nothing_was_sent(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha, beta = plugins["alpha"], plugins["beta"]
    ex = executor(registry, default="alpha", fallbacks={"alpha": ["beta"]})
    async with ex:
        alpha.on_order = lambda order: BrokerUnavailable("connection refused")
        result = await ex.execute(Order.market("X", "buy", 1))
        assert result.plugin == "beta"
        assert result.status is OrderStatus.FILLED
        # A rejection is an answer: no fallback.
        alpha.on_order = lambda order: ExecutionResult.for_order(
            order, plugin="alpha", status="rejected", error_code="insufficient_funds"
        )
        result = await ex.execute(Order.market("X", "buy", 1))
        assert result.plugin == "alpha"
        assert result.error_code is ErrorCode.INSUFFICIENT_FUNDS
        # An unknown fate is never retried elsewhere.
        alpha.on_order = lambda order: TimeoutError("no answer")
        result = await ex.execute(Order.market("X", "buy", 1))
        assert result.plugin == "alpha"
    assert len(beta.sent) == 1


async def test_all_unavailable_raises_and_allows_retry_with_same_id(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: BrokerUnavailable("down")
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha", fallbacks={"alpha": ["beta"]}) as ex:
        plugins["beta"].on_order = lambda o: BrokerUnavailable("also down")
        with pytest.raises(BrokerUnavailable, match=r"alpha: .*down.*beta: .*also down"):
            await ex.execute(order)
        alpha.on_order = None
        result = await ex.execute(order)  # the broker confirmed it never got it
        assert result.status is OrderStatus.FILLED
    assert len(alpha.sent) == 1


async def test_plugin_failing_init_falls_back(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    ex = executor(
        registry,
        default="alpha",
        fallbacks={"alpha": ["beta"]},
        configs={"alpha": {"fail_connect": True}},
    )
    async with ex:
        failures = await ex.start()
        assert "alpha" in failures
        result = await ex.execute(Order.market("X", "buy", 1))
    assert result.plugin == "beta"


async def test_same_client_order_id_is_sent_once(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    order = Order.market("X", "buy", 1, client_order_id="strategy-42")
    async with executor(registry, default="alpha") as ex:
        first = await ex.execute(order)
        again = await ex.execute(order.model_copy())
        assert again == first
        concurrent = Order.market("X", "buy", 2, client_order_id="strategy-43")
        results = await asyncio.gather(*(ex.execute(concurrent) for _ in range(5)))
        assert len({r.order_id for r in results}) == 1
        with pytest.raises(DuplicateClientOrderId, match="strategy-42"):
            await ex.execute(Order.market("X", "sell", 1, client_order_id="strategy-42"))
    assert len(plugins["alpha"].sent) == 2


async def test_unknown_is_reconciled_through_get_order(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha") as ex:
        result = await ex.execute(order)
        assert result.status is OrderStatus.ACCEPTED  # found at the broker
        assert result.order_id == "S1"
        alpha.on_order = None
        assert await ex.execute(order) == result
    assert len(alpha.sent) == 1


async def test_unknown_that_cannot_be_found_stays_unknown_and_is_never_resent(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha", reconcile_attempts=2) as ex:
        alpha.known.clear()
        alpha._get_order = _always_none  # type: ignore[method-assign]
        result = await ex.execute(order)
        assert result.status is OrderStatus.UNKNOWN
        assert result.success is False
        alpha.on_order = None
        assert (await ex.execute(order)).status is OrderStatus.UNKNOWN
    assert len(alpha.sent) == 1


async def _always_none(client_order_id: str) -> None:
    return None


async def test_cancelled_call_leaves_an_unknown_entry_not_a_resend(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    gate = asyncio.Event()

    async def slow(order: Order) -> ExecutionResult:
        alpha.sent.append(order)
        await gate.wait()
        raise AssertionError("unreachable")

    alpha._execute_order = slow  # type: ignore[method-assign]
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha", reconcile_attempts=0) as ex:
        task = asyncio.create_task(ex.execute(order))
        for _ in range(1000):  # until the order is in the plugin's hands (bounded)
            if alpha.sent:
                break
            await asyncio.sleep(0.005)
        assert alpha.sent, "the order never reached the plugin"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await ex.execute(order)).status is OrderStatus.UNKNOWN
    assert len(alpha.sent) == 1


async def test_lifecycle_closes_every_plugin_even_if_one_close_fails(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    plugins["alpha"].close_error = OSError("already closed")
    async with executor(registry, routes={"A*": "alpha", "B*": "beta", "C*": "gamma"}):
        pass
    assert [p.closed for p in plugins.values()] == [1, 1, 1]


async def test_lazy_start_and_cancel_and_reads(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    ex = executor(registry, default="alpha")
    result = await ex.execute(Order.limit("X", "buy", 1, 10))  # no `async with`: started lazily
    canceled = await ex.cancel(result.order_id or "")
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.symbol == "X"
    assert (await ex.fetch_data("X")).ask == 2
    assert (await ex.get_order(result.client_order_id or "")) is not None
    assert (await ex.health())["alpha"].healthy
    await ex.close()
    assert plugins["alpha"].closed == 1


async def test_from_env(monkeypatch: pytest.MonkeyPatch, registry: PluginRegistry) -> None:
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    monkeypatch.setenv("FKS_EXEC_ROUTES", "EUR*=mock")
    monkeypatch.setenv("FKS_EXEC_MOCK_PRICES", '{"EURUSD": "1.1"}')
    monkeypatch.setenv("FKS_EXEC_MOCK_CASH", "5000")
    async with Executor.from_env(reconcile_delay_s=0) as ex:
        result = await ex.execute(Order.market("EURUSD", "buy", 1000))
        assert result.status is OrderStatus.FILLED
        assert result.average_price == Decimal("1.1")
        mock = ex.registry.get("mock")
        assert isinstance(mock, MockPlugin)
        assert mock.broker.cash == 5000 - 1100


async def test_bad_plugin_config_is_a_configuration_error_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch, registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_CASH", "lots")
    ex = executor(registry, default="mock", fallbacks={"mock": ["alpha"]})
    with pytest.raises(ConfigurationError, match="FKS_EXEC_MOCK_CASH"):
        await ex.execute(Order.market("X", "buy", 1))
    assert not plugins["alpha"].sent


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ConfigurationError):
        Executor(PluginRegistry(discover=False), routes={"": "x"})
    with pytest.raises(ConfigurationError):
        Executor(PluginRegistry(discover=False), fallbacks={"a": "b"})
    with pytest.raises(ConfigurationError):
        Executor(PluginRegistry(discover=False), history_size=0)


async def test_execute_rejects_non_orders(registry: PluginRegistry) -> None:
    with pytest.raises(TypeError, match=r"Order\.market"):
        await executor(registry, default="mock").execute({"symbol": "X"})  # type: ignore[arg-type]


def test_sync_executor_matches_async(registry: PluginRegistry) -> None:
    with SyncExecutor(registry, default="mock", configs={"mock": {"prices": {"X": "10"}}}) as ex:
        result = ex.execute(Order.market("X", "buy", 3))
        assert result.status is OrderStatus.FILLED
        assert ex.positions()[0].quantity == 3
        assert ex.fetch_data("X").last == 10
        assert ex.health()["mock"].healthy
        assert ex.get_order(result.client_order_id or "") == result
    with pytest.raises(RuntimeError, match="closed"):
        ex.execute(Order.market("X", "buy", 1))
    ex.close()


async def test_unavailable_without_fallback_raises_and_the_same_order_can_be_resent(
    registry: PluginRegistry,
) -> None:
    async with executor(registry, default="mock", configs={"mock": {"prices": {"X": "5"}}}) as ex:
        mock = ex.registry.get("mock")
        assert isinstance(mock, MockPlugin)
        order = Order.market("X", "buy", 1)
        mock.broker.disconnect()
        with pytest.raises(BrokerUnavailable, match="was not sent"):
            await ex.execute(order)
        assert mock.broker.orders == []
        mock.broker.reconnect()
        assert (await ex.execute(order)).status is OrderStatus.FILLED
        assert len(mock.broker.orders) == 1
