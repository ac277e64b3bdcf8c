"""The plugin base class's ``find_order`` and ``close_position``: input checked before
anything is sent, hooks given exactly what the caller meant, answers guarded (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from fks_exec import (
    BrokerUnavailable,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    OutcomeUnknown,
)
from fks_exec.config import PluginConfig
from fks_exec.plugin import Capability, ExecutionPlugin

SECRET = "sekret-close-7731"


class RecordingConfig(PluginConfig):
    """A config with a secret, so masking can be seen."""

    api_key: SecretStr = SecretStr("")


class Recording(ExecutionPlugin[RecordingConfig]):
    """Records what its hooks were given; answers with what a test set."""

    name: ClassVar[str] = "rec"
    config_model: ClassVar[type[PluginConfig]] = RecordingConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self) -> None:
        super().__init__()
        self.found: ExecutionResult | None = None
        self.closes: list[tuple[str, Decimal | None]] = []
        self.lookups: list[tuple[str, dict[str, str]]] = []
        self.close_error: Exception | None = None
        self.close_answer: list[ExecutionResult] = []

    async def _connect(self, config: Any) -> None:
        return None

    async def _execute_order(self, order: Order) -> ExecutionResult:
        raise AssertionError("no order is sent in these tests")

    async def _fetch_data(self, symbol: str) -> MarketData:
        raise AssertionError("no quote is read in these tests")

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        self.lookups.append((client_order_id, dict(hints)))
        return self.found

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        self.closes.append((symbol, quantity))
        if self.close_error is not None:
            raise self.close_error
        return self.close_answer


@pytest.fixture
async def plugin() -> Any:
    made = Recording()
    made.use_env = False
    await made.init({"paper": True})
    yield made
    await made.close()


def _filled(order: Order, **fields: Any) -> ExecutionResult:
    values: dict[str, Any] = {"filled_quantity": order.quantity, "average_price": 100}
    values.update(fields)
    return ExecutionResult.for_order(order, plugin="rec", status=OrderStatus.FILLED, **values)


async def test_find_order_passes_the_hints_on_and_returns_the_answer_stamped(plugin: Any) -> None:
    order = Order.market("X", "buy", 1, client_order_id="f-1")
    plugin.found = _filled(order)
    found = await plugin.find_order("f-1", {"venue_id": "77"})
    assert found is not None and found.client_order_id == "f-1"
    assert found.status is OrderStatus.FILLED and found.paper is True  # _finish stamped it
    assert plugin.lookups == [("f-1", {"venue_id": "77"})]


async def test_find_order_without_hints_gives_the_hook_none_and_none_found_is_none(
    plugin: Any,
) -> None:
    assert await plugin.find_order("f-2") is None
    assert await plugin.find_order("f-3", {}) is None
    assert plugin.lookups == [("f-2", {}), ("f-3", {})]


async def test_find_order_turns_an_impossible_answer_into_unknown(plugin: Any) -> None:
    order = Order.market("X", "buy", 1, client_order_id="f-4")
    plugin.found = ExecutionResult.model_construct(
        **{**_filled(order).__dict__, "filled_quantity": Decimal("NaN")}
    )
    found = await plugin.find_order("f-4", {"a": "b"})
    assert found is not None and found.status is OrderStatus.UNKNOWN


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (None, None),
        ("0.5", Decimal("0.5")),
        (0.25, Decimal("0.25")),
        (Decimal("2"), Decimal("2")),
        (Decimal("1"), Decimal("1")),
    ],
)
async def test_close_position_sends_the_stripped_symbol_and_the_quantity_meant(
    plugin: Any, given: Any, sent: Decimal | None
) -> None:
    assert await plugin.close_position("  BTC/USDT ", given) == []
    assert plugin.closes == [("BTC/USDT", sent)]
    if sent is not None:
        assert type(plugin.closes[0][1]) is Decimal


@pytest.mark.parametrize("quantity", [0, "0", "-1", -0.5, "NaN", "Infinity", "-Infinity"])
async def test_close_position_refuses_a_quantity_that_is_not_positive(
    plugin: Any, quantity: Any
) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        await plugin.close_position("BTC/USDT", quantity)
    assert plugin.closes == []  # nothing was sent


@pytest.mark.parametrize("symbol", ["", "   ", 5, None])
async def test_close_position_refuses_a_missing_symbol(plugin: Any, symbol: Any) -> None:
    with pytest.raises(ValueError, match="non-empty symbol"):
        await plugin.close_position(symbol)
    assert plugin.closes == []


async def test_close_position_results_are_guarded_and_stamped(plugin: Any) -> None:
    good = Order.market("BTC/USDT", "sell", 1, client_order_id="c-1")
    bad = Order.market("BTC/USDT", "sell", 1, client_order_id="c-2")
    plugin.close_answer = [
        _filled(good),
        ExecutionResult.model_construct(**{**_filled(bad).__dict__, "average_price": Decimal(-1)}),
    ]
    results = await plugin.close_position("BTC/USDT")
    assert [r.client_order_id for r in results] == ["c-1", "c-2"]
    assert [r.status for r in results] == [OrderStatus.FILLED, OrderStatus.UNKNOWN]
    assert all(r.paper is True for r in results)


async def test_close_position_passes_our_errors_on_masked() -> None:
    made = Recording()
    made.use_env = False
    await made.init({"paper": True, "api_key": SECRET})
    made.close_error = BrokerUnavailable(f"down, key {SECRET}")
    with pytest.raises(BrokerUnavailable) as raised:
        await made.close_position("BTC/USDT")
    assert SECRET not in str(raised.value) and "down" in str(raised.value)
    await made.close()


async def test_close_position_stray_error_is_outcome_unknown_with_its_cause(plugin: Any) -> None:
    plugin.close_error = RuntimeError("socket reset")
    with pytest.raises(OutcomeUnknown, match="check positions") as raised:
        await plugin.close_position("BTC/USDT")
    assert "RuntimeError: socket reset" in str(raised.value)
    assert isinstance(raised.value.__cause__, RuntimeError)
