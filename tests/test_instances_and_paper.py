"""Named instances of one plugin, and paper and live never mixed by accident."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fks_exec import (
    Capability,
    ConfigurationError,
    ExecutionPlugin,
    ExecutionResult,
    Executor,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec._names import split_instance
from fks_exec.config import env_prefix
from fks_exec.errors import BrokerUnavailable
from fks_exec.mock import MockPlugin
from fks_exec.testing import isolated_registry


class LiveVenue(ExecutionPlugin):
    """A stand-in for a real-money broker whose orders can be refused at will."""

    name = "venue"
    capabilities = frozenset({Capability.GET_ORDER})

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.says_paper: bool | None = False
        self.sent: list[Order] = []

    async def _connect(self, config: Any) -> None:
        if self.down:
            raise ConnectionRefusedError("venue is down")

    def _broker_says_paper(self) -> bool | None:
        return self.says_paper

    async def _execute_order(self, order: Order) -> ExecutionResult:
        if self.down:
            raise BrokerUnavailable("venue is down")
        self.sent.append(order)
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.FILLED,
            filled_quantity=order.quantity,
            average_price=Decimal(100),
        )

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, last=Decimal(100))

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return None


# ------------------------------------------------------------------ names


def test_instance_names_and_their_variables() -> None:
    assert split_instance("ccxt") == ("ccxt", None)
    assert split_instance("ccxt:okx-testnet") == ("ccxt", "okx-testnet")
    assert env_prefix("ccxt") == "FKS_EXEC_CCXT_"
    assert env_prefix("ccxt:okx-testnet") == "FKS_EXEC_CCXT__OKX_TESTNET_"
    for bad in ("ccxt:", ":x", "ccxt:a b", "ccxt:a:b"):
        with pytest.raises(ValueError, match="INSTANCE"):
            split_instance(bad)


async def test_two_instances_of_one_plugin_have_their_own_config_and_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK__SMALL_CASH", "100")
    monkeypatch.setenv("FKS_EXEC_MOCK_CASH", "1000000")  # the plain instance's, not theirs
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    executor = Executor(
        registry,
        routes={"BTC/*": "mock:small", "ETH/*": "mock:big"},
        configs={
            "mock:small": {"prices": {"BTC/USDT": "50"}},
            "mock:big": {"prices": {"ETH/USDT": "50"}, "cash": "100000"},
        },
        journal="memory",
    )
    async with executor as ex:
        small = await ex.execute(Order.market("BTC/USDT", "buy", 1))
        big = await ex.execute(Order.market("ETH/USDT", "buy", 1))
        too_much = await ex.execute(Order.market("BTC/USDT", "buy", 3))  # 150 > 100 cash
        assert (small.plugin, big.plugin) == ("mock:small", "mock:big")
        assert small.status is OrderStatus.FILLED and big.status is OrderStatus.FILLED
        assert too_much.status is OrderStatus.REJECTED
        assert too_much.error_code == "insufficient_funds"
        assert registry.get("mock:small") is not registry.get("mock:big")
        health = await ex.health()
        assert set(health) == {"mock:small", "mock:big"}
        assert all(h.healthy for h in health.values())


def test_a_misspelt_instance_variable_is_still_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from fks_exec.config import load_plugin_config
    from fks_exec.mock.plugin import MockConfig

    monkeypatch.setenv("FKS_EXEC_MOCK__SMALL_CASHH", "100")
    with pytest.raises(ConfigurationError, match="FKS_EXEC_MOCK__SMALL_CASH"):
        load_plugin_config("mock:small", MockConfig)
    assert load_plugin_config("mock", MockConfig).cash == Decimal(1_000_000)


async def test_bind_instance_name_refuses_another_plugins_name() -> None:
    plugin = MockPlugin()
    with pytest.raises(ValueError, match="not an instance name"):
        plugin.bind_instance_name("ccxt:x")
    plugin.bind_instance_name("mock:x")
    assert plugin.name == "mock:x" and type(plugin).name == "mock"


# ------------------------------------------------------------------ paper and live


async def test_the_mock_is_paper_and_says_so_on_every_result() -> None:
    plugin = MockPlugin()
    plugin.use_env = False
    await plugin.init({"prices": {"X": "10"}})
    assert plugin.is_paper
    assert (await plugin.execute_order(Order.market("X", "buy", 1))).paper is True
    assert (await plugin.execute_order(Order.market("X", "buy", 10**9))).paper is True


async def test_a_paper_setting_the_broker_contradicts_stops_the_start() -> None:
    venue = LiveVenue()
    venue.use_env = False
    with pytest.raises(ConfigurationError, match="configured paper=True"):
        await venue.init({"paper": True})
    assert not venue.is_initialized
    mock = MockPlugin()
    mock.use_env = False
    with pytest.raises(ConfigurationError, match="paper=False"):
        await mock.init({"paper": False})


async def test_unknown_account_kind_counts_as_live_and_the_setting_decides() -> None:
    venue = LiveVenue()
    venue.use_env = False
    venue.says_paper = None
    await venue.init()
    assert venue.is_paper is False
    await venue.close()
    await venue.init({"paper": True})
    assert venue.is_paper is True


def _venue_and_mock(*, venue_down: bool) -> tuple[LiveVenue, MockPlugin, PluginRegistry]:
    """A live venue (down or up) and the mock quoting X at 10, in a registry of their own."""
    venue, mock = LiveVenue(), MockPlugin()
    venue.down = venue_down
    mock.broker.set_price("X", last=10)
    return venue, mock, isolated_registry(venue=venue, mock=mock)


async def test_a_live_to_paper_fallback_is_refused_at_start() -> None:
    _, _, registry = _venue_and_mock(venue_down=False)
    executor = Executor(registry, default="venue", fallbacks={"venue": ["mock"]}, journal="memory")
    with pytest.raises(ConfigurationError, match="allow_paper_fallback"):
        await executor.start()
    assert not registry.is_initialized("venue") and not registry.is_initialized("mock")


class Desk(LiveVenue):
    """A second real-money stand-in, under its own name."""

    name = "desk"


async def test_a_pair_the_started_plugins_refuse_stops_the_start_and_closes_them() -> None:
    """Before connecting both count as live (allowed); once started, the primary's broker
    says its account is paper: a paper-to-live fallback, refused after connecting, and
    what was started is closed again."""
    primary, backup = LiveVenue(), Desk()
    primary.says_paper = True
    registry = isolated_registry(venue=primary, desk=backup)
    executor = Executor(registry, default="venue", fallbacks={"venue": ["desk"]}, journal="memory")
    with pytest.raises(ConfigurationError, match="allow_paper_fallback"):
        await executor.start()
    assert not registry.is_initialized("venue") and not registry.is_initialized("desk")
    assert primary.sent == [] and backup.sent == []


async def test_the_revoked_venue_case_never_reaches_the_mock() -> None:
    """The venue cannot start (a revoked key, an outage): at start it counts as live, so
    the documented fallback to the mock is refused and the order reaches no one."""
    _, mock, registry = _venue_and_mock(venue_down=True)
    executor = Executor(registry, default="venue", fallbacks={"venue": ["mock"]}, journal="memory")
    with pytest.raises(ConfigurationError):
        await executor.start()
    assert mock.broker.orders == []


async def test_a_lazily_started_plugin_is_checked_when_it_connects() -> None:
    """Declared paper at start (so allowed), but the broker says live on connect."""
    venue, mock, registry = _venue_and_mock(venue_down=True)
    executor = Executor(
        registry,
        default="venue",
        fallbacks={"venue": ["mock"]},
        configs={"venue": {"paper": True}},
        retry_init_after_s=0,
        journal="memory",
    )
    async with executor as ex:
        assert not registry.is_initialized("venue")
        filled = await ex.execute(Order.market("X", "buy", 1))  # paper -> paper: fine
        assert filled.plugin == "mock" and filled.paper is True
        venue.down = False
        with pytest.raises(ConfigurationError, match="configured paper=True"):
            await ex.execute(Order.market("X", "buy", 1))
    assert venue.sent == [] and len(mock.broker.orders) == 1


async def test_a_pair_allowed_by_name_may_cross() -> None:
    _, _, registry = _venue_and_mock(venue_down=True)
    executor = Executor(
        registry,
        default="venue",
        fallbacks={"venue": ["mock"]},
        allow_paper_fallback={"venue": ["mock"]},
        journal="memory",
    )
    async with executor as ex:
        result = await ex.execute(Order.market("X", "buy", 1))
    assert result.plugin == "mock" and result.paper is True
    assert ex.stats["fallback"] == 1


def test_an_allowed_pair_without_a_fallback_is_a_mistake() -> None:
    with pytest.raises(ConfigurationError, match="have no fallbacks"):
        Executor(PluginRegistry(discover=False), allow_paper_fallback={"venue": ["mock"]})


def test_allow_paper_fallback_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from fks_exec.config import ExecutorSettings

    monkeypatch.setenv("FKS_EXEC_FALLBACKS", "venue=mock")
    monkeypatch.setenv("FKS_EXEC_ALLOW_PAPER_FALLBACK", "venue=mock")
    assert ExecutorSettings.from_env().allow_paper_fallback == {"venue": ["mock"]}


def test_configs_of_the_wrong_shape_are_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="must be a dict"):
        Executor(PluginRegistry(discover=False), configs={"mock": 5})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="must map"):
        Executor(PluginRegistry(discover=False), configs=[("mock", {})])  # type: ignore[arg-type]
    assert Executor(PluginRegistry(discover=False), configs={"mock": None}).planned_plugins() == [
        "mock"
    ]


# ------------------------------------------------------------------ close_position


async def test_close_position_through_the_executor() -> None:
    mock = MockPlugin()
    mock.broker.set_price("X", last=10)
    async with Executor(isolated_registry(mock=mock), default="mock", journal="memory") as ex:
        await ex.execute(Order.market("X", "buy", 5))
        part = await ex.close_position("X", Decimal(2))
        assert [(r.side, r.quantity) for r in part] == [("sell", 2)]
        rest = await ex.close_position("X", Decimal(10))  # never more than is held
        assert [r.quantity for r in rest] == [3]
        assert await ex.close_position("X") == []
        assert await ex.positions() == [] or all(p.quantity == 0 for p in await ex.positions())
        with pytest.raises(ValueError, match="positive"):
            await ex.close_position("X", Decimal(0))
