"""The plugin base class itself (issue 12): what a subclass must write, its state before
``init``, how many ids it remembers, the fill bound it applies by default, and the
secrets it registers for every log."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from fks_exec import (
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
)
from fks_exec.config import PluginConfig
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec.redaction import MaskingFilter, known_secrets

HOOKS = ("_connect", "_execute_order", "_fetch_data", "_health_check")


class KeyConfig(PluginConfig):
    """A config with one secret."""

    api_key: SecretStr = SecretStr("")


class Counting(ExecutionPlugin[KeyConfig]):
    """Fills every order at 100 (or with ``fill``), counting what reached it."""

    name: ClassVar[str] = "counting"
    config_model: ClassVar[type[PluginConfig]] = KeyConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.CANCEL_ORDER})

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.fill: Decimal | None = None

    async def _connect(self, config: Any) -> None:
        return None

    async def _execute_order(self, order: Order) -> ExecutionResult:
        self.sent.append(order.client_order_id)
        filled = order.quantity if self.fill is None else self.fill
        # No quantity of its own (as some brokers answer): only the order bounds the fill.
        return self.result_for(
            order, OrderStatus.FILLED, filled_quantity=filled, average_price=100, quantity=None
        )

    async def _fetch_data(self, symbol: str) -> MarketData:
        raise AssertionError("no quotes here")

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)


async def _started(**config: Any) -> Counting:
    plugin = Counting()
    plugin.use_env = False
    await plugin.init(config)
    return plugin


@pytest.mark.parametrize("missing", HOOKS)
def test_a_plugin_without_a_required_hook_cannot_be_made(missing: str) -> None:
    body = {hook: getattr(Counting, hook) for hook in HOOKS if hook != missing}
    partial = type("Partial", (ExecutionPlugin,), {"name": "partial", **body})
    with pytest.raises(TypeError, match=missing):
        partial()
    complete = type(
        "Complete",
        (ExecutionPlugin,),
        {"name": "complete", **body, missing: getattr(Counting, missing)},
    )
    assert complete().name == "complete"


async def test_before_init_a_plugin_says_so_and_is_not_paper() -> None:
    plugin = Counting()
    assert (plugin.is_initialized, plugin.is_paper) == (False, False)
    assert repr(plugin) == "<Counting name='counting' not initialized>"
    assert plugin.instance_capabilities == frozenset({Capability.CANCEL_ORDER})
    plugin.use_env = False
    await plugin.init({"paper": False})
    assert repr(plugin) == "<Counting name='counting' initialized>"
    assert plugin.is_paper is False
    await plugin.close()


async def test_a_plugin_remembers_exactly_its_ten_thousand_newest_ids() -> None:
    plugin = await _started()
    orders = [Order.market("X", "buy", 1) for _ in range(10_001)]
    for order in orders:
        await plugin.execute_order(order)
    assert len(plugin.sent) == 10_001
    await plugin.execute_order(orders[1])  # the oldest still remembered: not sent again
    assert len(plugin.sent) == 10_001
    await plugin.execute_order(orders[0])  # forgotten: sent again
    assert plugin.sent[-1] == orders[0].client_order_id and len(plugin.sent) == 10_002
    await plugin.close()


async def test_by_default_a_fill_above_the_order_is_impossible_and_unknown() -> None:
    plugin = await _started()
    plugin.fill = Decimal(2)
    result = await plugin.execute_order(Order.market("X", "buy", 1))
    assert result.status is OrderStatus.UNKNOWN and result.filled_quantity == 0
    assert "above the order's quantity" in (result.error or "")
    plugin.fill = Decimal("0.5")
    partial = await plugin.execute_order(Order.market("X", "buy", 1))
    assert partial.status is OrderStatus.FILLED and partial.filled_quantity == Decimal("0.5")
    await plugin.close()


async def test_init_registers_its_secrets_for_every_log() -> None:
    secret = "k3y-registered-for-logs-81a7"
    plugin = await _started(api_key=secret)
    assert secret not in known_secrets().text(f"key={secret}")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"sent with {secret}", None, None)
    MaskingFilter().filter(record)
    assert secret not in record.getMessage()
    await plugin.close()


class CostBought(Counting):
    """Sends this order in another unit, so it bounds the fill itself."""

    name: ClassVar[str] = "cost-bought"

    def _fill_bounded_by_quantity(self, order: Order) -> bool:
        return order.symbol != "COST"


async def test_a_plugin_that_bounds_a_fill_itself_gets_it_passed_on() -> None:
    plugin = CostBought()
    plugin.use_env = False
    await plugin.init({})
    plugin.fill = Decimal("1.02")  # the price dipped: more base bought for the cost sent
    bought = await plugin.execute_order(Order.market("COST", "buy", 1))
    assert bought.status is OrderStatus.FILLED and bought.filled_quantity == Decimal("1.02")
    other = await plugin.execute_order(Order.market("X", "buy", 1))  # bounded as usual
    assert other.status is OrderStatus.UNKNOWN and other.filled_quantity == 0
    plugin.fill = Decimal(-1)  # impossible whoever bounds it
    broken = await plugin.execute_order(Order.market("COST", "buy", 1))
    assert broken.status is OrderStatus.UNKNOWN
    await plugin.close()
