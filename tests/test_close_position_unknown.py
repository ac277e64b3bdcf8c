"""``Executor.close_position`` when a closing order's answer is lost.

The docs promise ``OutcomeUnknown`` when a close may have sent orders without an
answer; the executor returned the ``unknown`` result instead, without looking it up,
so code written to the docs took it as done (or, seeing no ``filled``, closed again: a
second exit). Now an ``unknown`` closing order is looked up as ``execute`` looks one
up: found, its result is returned; still unknown, ``OutcomeUnknown`` carries every
result and nothing more is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import (
    Capability,
    ExecutionResult,
    Executor,
    Order,
    OutcomeUnknown,
    PluginRegistry,
)
from fks_exec.mock import MockPlugin
from fks_exec.testing import isolated_registry


def _mock() -> tuple[MockPlugin, Executor]:
    plugin = MockPlugin()
    plugin.broker.set_price("X", last=100)
    executor = Executor(
        isolated_registry(mock=plugin),
        default="mock",
        journal="memory",
        reconcile_delay_s=0,
    )
    return plugin, executor


async def _open(executor: Executor, quantity: int) -> None:
    await executor.start()
    assert (await executor.execute(Order.market("X", "buy", quantity))).status == "filled"


@pytest.mark.parametrize("fault", ["answer lost", "timeout after send"])
async def test_a_closing_order_whose_answer_is_lost_is_looked_up_and_reported_filled(
    fault: str,
) -> None:
    plugin, executor = _mock()
    async with executor:
        await _open(executor, 2)
        if fault == "answer lost":
            plugin.broker.lose_next_answer(after_broker_acted=True)
        else:
            plugin.broker.fail_next_with(TimeoutError, after_send=True)
        results = await executor.close_position("X")
        assert [(r.status.value, r.filled_quantity) for r in results] == [("filled", 2)]
        assert executor.stats["reconciled"] == 1
        assert await executor.positions() == []


async def test_a_closing_order_still_unknown_raises_outcome_unknown_with_the_results() -> None:
    plugin, executor = _mock()
    async with executor:
        await _open(executor, 1)
        plugin.broker.lose_next_answer(after_broker_acted=False)  # the broker never saw it
        with pytest.raises(OutcomeUnknown, match="check positions") as raised:
            await executor.close_position("X")
        assert [r.status.value for r in raised.value.results] == ["unknown"]
        assert "closing 'X' on 'mock': 1 of 1 closing orders" in str(raised.value)
        positions = await executor.positions()
        assert [p.quantity for p in positions] == [1]  # nothing more was sent


def _closer(make_plugin: Any, answers: list[ExecutionResult]) -> Any:
    """A scripted plugin whose close answers ``answers`` and whose look-ups are counted."""
    base = make_plugin("closer").__class__

    class _Closer(base):  # type: ignore[misc,valid-type]  # the ScriptedPlugin class
        capabilities = base.capabilities | {Capability.CLOSE_POSITION}

        async def _close_position(
            self, symbol: str, quantity: Decimal | None
        ) -> list[ExecutionResult]:
            return answers

        async def _find_order(
            self, client_order_id: str, hints: Mapping[str, str]
        ) -> ExecutionResult | None:
            self.looked_up.append(client_order_id)
            return None

    plugin = _Closer("closer")
    plugin.looked_up = []
    return plugin


@pytest.mark.parametrize("what", ["no side or quantity", "an id the model refuses"])
async def test_a_closing_result_that_cannot_be_looked_up_is_unknown_without_a_lookup(
    make_plugin: Any, what: str
) -> None:
    fields: dict[str, Any] = {"side": "sell", "quantity": 1}
    if what == "no side or quantity":
        fields = {"side": None, "quantity": None}  # as a cancel's result has
    cid = "has space" if what == "an id the model refuses" else "close-1"
    unknown = ExecutionResult(
        plugin="closer", status="unknown", symbol="X", client_order_id=cid, **fields
    )
    plugin = _closer(make_plugin, [unknown])
    registry = PluginRegistry(discover=False)
    registry.register("closer", plugin)
    async with Executor(registry, default="closer", journal="memory") as ex:
        with pytest.raises(OutcomeUnknown) as raised:
            await ex.close_position("X")
    assert raised.value.results == [unknown] and plugin.looked_up == []


async def test_only_the_unknown_closing_orders_are_looked_up(make_plugin: Any) -> None:
    filled = ExecutionResult(
        plugin="closer", status="filled", symbol="X", client_order_id="close-a", side="sell",
        quantity=1, filled_quantity=1, average_price=100,
    )  # fmt: skip
    unknown = ExecutionResult(
        plugin="closer", status="unknown", symbol="X", client_order_id="close-b",
        side="sell", quantity=2,
    )  # fmt: skip
    plugin = _closer(make_plugin, [filled, unknown])
    registry = PluginRegistry(discover=False)
    registry.register("closer", plugin)
    async with Executor(
        registry, default="closer", journal="memory", reconcile_attempts=2, reconcile_delay_s=0
    ) as ex:
        with pytest.raises(OutcomeUnknown, match=r"1 of 2 closing orders .*\['close-b'\]"):
            await ex.close_position("X")
    assert plugin.looked_up == ["close-b", "close-b"]
