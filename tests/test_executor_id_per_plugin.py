"""A client order id is spent on the plugin that took it.

An order sent on one plugin (say the mock, as a dry run) and then given, under the same
id, to another plugin (the live one) was answered with the first plugin's result and
sent nowhere: the caller read ``filled`` for an order no live broker ever saw. Now the
repeat is :class:`DuplicateClientOrderId` (nothing sent), in memory and from the
journal after a restart; a repeat meant for the plugin that took the id, or for a
plugin whose fallback took it, is answered as before, and an id whose first call sent
nothing may still go anywhere (tests/test_executor_retry_route.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    DuplicateClientOrderId,
    ExecutionResult,
    Executor,
    Order,
    PluginRegistry,
)

BOUND_S = 10.0  # a hang fails the test instead of stalling the suite; never a timing check


def _registry(make_plugin: Any) -> tuple[PluginRegistry, Any, Any]:
    registry = PluginRegistry(discover=False)
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    return registry, alpha, beta


def _journal(kind: str, tmp_path: Path) -> str:
    return "memory" if kind == "memory" else str(tmp_path / "journal.sqlite")


def _run(play: Any) -> Any:
    return asyncio.run(asyncio.wait_for(play(), BOUND_S))


@pytest.mark.parametrize("journal", ["memory", "sqlite"])
def test_an_id_taken_by_one_plugin_is_refused_for_another_and_nothing_is_sent(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    registry, alpha, beta = _registry(make_plugin)
    order = Order.market("X", "buy", 1, client_order_id="dry-run-1")

    async def play() -> str:
        async with Executor(registry, default="alpha", journal=_journal(journal, tmp_path)) as ex:
            assert (await ex.execute(order)).plugin == "alpha"
            with pytest.raises(DuplicateClientOrderId) as refused:
                await ex.execute(order, plugin="beta")
            again = await ex.execute(order, plugin="alpha")  # the plugin that took it
            assert again.plugin == "alpha" and again.status == "filled"
            return str(refused.value)

    message = _run(play)
    assert "'alpha'" in message and "'beta'" in message and "nothing was sent" in message
    assert [o.client_order_id for o in alpha.sent] == ["dry-run-1"] and beta.sent == []


@pytest.mark.parametrize("named", ["beta", None])
def test_after_a_restart_the_journal_refuses_the_id_for_another_plugin(
    make_plugin: Any, tmp_path: Path, named: str | None
) -> None:
    path = str(tmp_path / "journal.sqlite")
    order = Order.market("X", "buy", 1, client_order_id="dry-run-2")
    first, _, _ = _registry(make_plugin)

    async def before() -> None:
        async with Executor(first, default="alpha", journal=path) as ex:
            await ex.execute(order)

    _run(before)
    second, alpha_again, beta = _registry(make_plugin)

    async def after() -> ExecutionResult:
        # a new process whose default is now the other plugin (or that names it)
        async with Executor(second, default="beta", journal=path) as ex:
            with pytest.raises(DuplicateClientOrderId, match="already used on plugin 'alpha'"):
                await ex.execute(order, plugin=named)
            answered: ExecutionResult = await ex.execute(order, plugin="alpha")
            return answered

    answered = _run(after)
    assert answered.plugin == "alpha" and answered.status == "filled"
    assert beta.sent == [] and alpha_again.sent == []  # answered from the journal


@pytest.mark.parametrize("journal", ["memory", "sqlite"])
def test_an_id_a_fallback_took_is_answered_for_its_primary(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    registry, alpha, beta = _registry(make_plugin)
    alpha.on_order = lambda order: BrokerUnavailable("not connected")
    order = Order.market("X", "buy", 1, client_order_id="fb-1")

    async def play() -> list[ExecutionResult]:
        async with Executor(
            registry,
            default="alpha",
            fallbacks={"alpha": ["beta"]},
            journal=_journal(journal, tmp_path),
        ) as ex:
            return [await ex.execute(order), await ex.execute(order, plugin="alpha")]

    results = _run(play)
    assert [r.plugin for r in results] == ["beta", "beta"]
    assert [o.client_order_id for o in beta.sent] == ["fb-1"] and alpha.sent == []


def test_a_repeat_without_a_plugin_for_a_symbol_routed_nowhere_is_answered(
    make_plugin: Any,
) -> None:
    # No default and no route: only the first call's plugin= chose a plugin. A repeat
    # that names none cannot be meant for another plugin; it gets the first result.
    registry, alpha, beta = _registry(make_plugin)
    order = Order.market("X", "buy", 1, client_order_id="named-1")

    async def play() -> list[ExecutionResult]:
        async with Executor(registry, journal="memory") as ex:
            return [await ex.execute(order, plugin="alpha"), await ex.execute(order)]

    first, again = _run(play)
    assert again == first and again.plugin == "alpha"
    assert [o.client_order_id for o in alpha.sent] == ["named-1"] and beta.sent == []
