"""``Executor.get_order`` asks the plugin that took an order with its lookup hints.

A plugin may need what it said when the order was sent to find it again: MT5's history
cannot tell an order that closed a whole position from the first leg of a split one
without the order's lots, so a bare ``get_order`` of such a close answered ``unknown``.
The executor knows the order (in memory, or in the journal after a restart) and now asks
``find_order`` with the hints, as its reconciliation does; another plugin, or an id it
does not know, is asked plainly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from fks_exec import ExecutionResult, Executor, Order, PluginRegistry

BOUND_S = 10.0  # a hang fails the test instead of stalling the suite; never a timing check


def _hinting(make_plugin: Any, name: str) -> Any:
    base = make_plugin(name).__class__

    class _Hinting(base):  # type: ignore[misc,valid-type]  # the ScriptedPlugin class
        def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
            return {"lots": str(order.quantity), "had_result": str(result is not None)}

        async def _find_order(
            self, client_order_id: str, hints: Mapping[str, str]
        ) -> ExecutionResult | None:
            self.asked.append(("find", client_order_id, dict(hints)))
            found: ExecutionResult | None = await base._get_order(self, client_order_id)
            return found

        async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
            self.asked.append(("get", client_order_id, {}))
            return await super()._get_order(client_order_id)

    plugin = _Hinting(name)
    plugin.asked = []
    return plugin


def _registry(make_plugin: Any) -> tuple[PluginRegistry, Any, Any]:
    registry = PluginRegistry(discover=False)
    alpha, beta = _hinting(make_plugin, "alpha"), _hinting(make_plugin, "beta")
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    return registry, alpha, beta


@pytest.mark.parametrize("journal", ["memory", "sqlite"])
def test_the_plugin_that_took_an_order_is_asked_with_its_hints(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    registry, alpha, beta = _registry(make_plugin)
    spec = "memory" if journal == "memory" else str(tmp_path / "journal.sqlite")
    order = Order.market("X", "buy", 3, client_order_id="hinted-1")

    async def play() -> None:
        async with Executor(registry, default="alpha", journal=spec) as ex:
            await ex.execute(order)
            assert (await ex.get_order("hinted-1")) is not None
            await ex.get_order("hinted-1", plugin="beta")  # another plugin: asked plainly
            await ex.get_order("never-sent")  # an id nobody knows: asked plainly

    asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert alpha.asked[0] == ("find", "hinted-1", {"lots": "3", "had_result": "True"})
    assert alpha.asked[1:] == [("get", "never-sent", {})]
    assert beta.asked == [("get", "hinted-1", {})]


def test_after_a_restart_the_journals_hints_go_with_the_lookup(
    make_plugin: Any, tmp_path: Path
) -> None:
    path = str(tmp_path / "journal.sqlite")
    order = Order.market("X", "buy", 2, client_order_id="hinted-2")
    first, _, _ = _registry(make_plugin)

    async def before() -> None:
        async with Executor(first, default="alpha", journal=path) as ex:
            await ex.execute(order)

    asyncio.run(asyncio.wait_for(before(), BOUND_S))
    second, alpha, _ = _registry(make_plugin)

    async def after() -> None:
        async with Executor(second, default="alpha", journal=path) as ex:
            await ex.get_order("hinted-2")

    asyncio.run(asyncio.wait_for(after(), BOUND_S))
    assert alpha.asked == [("find", "hinted-2", {"lots": "2", "had_result": "True"})]
