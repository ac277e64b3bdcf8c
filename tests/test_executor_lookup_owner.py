"""Only the plugin that took an order speaks for it in the executor's memory and journal.

``Executor.get_order(cid, plugin="beta")`` asks beta and returns beta's answer, as asked.
When the executor (or its journal) holds ``cid`` as an order alpha took, beta's answer is
about some other order: it is returned, never recorded over alpha's. A cancel by that
client id naming beta is refused before anything is sent: alpha's broker id means
nothing at beta.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry, RoutingError

BOUND_S = 10.0  # a hang fails the test instead of stalling the suite; never a timing check


def _executor(alpha: Any, beta: Any, journal: str) -> Executor:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    return Executor(registry, default="alpha", journal=journal)


def _canceled(order: Order, plugin: str) -> ExecutionResult:
    return ExecutionResult.for_order(
        order, plugin=plugin, status=OrderStatus.CANCELED, order_id="B-1"
    )


@pytest.mark.parametrize("journal", ["memory", "sqlite"])
def test_another_plugins_answer_is_returned_but_not_recorded(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    order = Order.market("X", "buy", 1, client_order_id="o-1")
    beta.known["o-1"] = _canceled(order, "beta")
    where = "memory" if journal == "memory" else str(tmp_path / "j.sqlite")

    async def play() -> tuple[Any, ...]:
        ex = _executor(alpha, beta, where)
        await ex.start()
        try:
            sent = await ex.execute(order)
            theirs = await ex.get_order("o-1", plugin="beta")
            ours = await ex.get_order("o-1")
            await ex.journal.flush()
            entry = await ex.journal.get("o-1")
            kinds = [e.kind for e in await ex.journal.events("o-1")]
            again = await ex.execute(order)  # a repeat answers from memory
            return sent, theirs, ours, entry, kinds, again
        finally:
            await ex.close()

    sent, theirs, ours, entry, kinds, again = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert sent.status is OrderStatus.FILLED and sent.plugin == "alpha"
    assert theirs is not None and theirs.status is OrderStatus.CANCELED  # what beta said
    assert ours is not None and ours.status is OrderStatus.FILLED
    assert entry is not None and entry.result is not None
    assert entry.result.status is OrderStatus.FILLED and "status" not in kinds
    assert again.status is OrderStatus.FILLED and again.plugin == "alpha"


def test_after_a_restart_another_plugins_answer_is_not_journaled(
    make_plugin: Any, tmp_path: Path
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    order = Order.market("X", "buy", 1, client_order_id="o-2")
    beta.known["o-2"] = _canceled(order, "beta")
    path = str(tmp_path / "j.sqlite")

    async def play() -> tuple[Any, ...]:
        first = _executor(alpha, beta, path)
        await first.start()
        await first.execute(order)
        await first.close()
        ex = _executor(alpha, beta, path)  # a new process: the id is in the journal only
        await ex.start()
        try:
            theirs = await ex.get_order("o-2", plugin="beta")
            await ex.journal.flush()
            before = [e.kind for e in await ex.journal.events("o-2")]
            alpha.known["o-2"] = _canceled(order, "alpha")  # now alpha's order changed
            mine = await ex.get_order("o-2")
            await ex.journal.flush()
            entry = await ex.journal.get("o-2")
            after = [e.kind for e in await ex.journal.events("o-2")]
            return theirs, before, mine, entry, after
        finally:
            await ex.close()

    theirs, before, mine, entry, after = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert theirs is not None and theirs.plugin == "beta"
    assert "status" not in before  # beta's answer was not recorded as alpha's order's
    assert mine is not None and mine.status is OrderStatus.CANCELED
    assert entry is not None and entry.result is not None
    assert entry.result.status is OrderStatus.CANCELED and after[-1] == "status"


def _counting_cancels(plugin: Any) -> list[str]:
    seen: list[str] = []
    cancel = plugin._cancel_order

    async def counted(order_id: str, symbol: str | None) -> ExecutionResult:
        seen.append(order_id)
        result: ExecutionResult = await cancel(order_id, symbol)
        return result

    plugin._cancel_order = counted
    return seen


@pytest.mark.parametrize("restarted", [False, True])
def test_a_cancel_by_client_id_naming_another_plugin_is_refused_and_sends_nothing(
    make_plugin: Any, tmp_path: Path, restarted: bool
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    alpha_cancels, beta_cancels = _counting_cancels(alpha), _counting_cancels(beta)
    order = Order.limit("X", "buy", 1, 90, client_order_id="o-3")
    alpha.on_order = lambda o: ExecutionResult.for_order(
        o, plugin="alpha", status=OrderStatus.ACCEPTED, order_id="A-7"
    )
    path = str(tmp_path / "j.sqlite")

    async def play() -> tuple[Any, str]:
        ex = _executor(alpha, beta, path)
        await ex.start()
        await ex.execute(order)
        if restarted:  # the id is then known from the journal only
            await ex.close()
            ex = _executor(alpha, beta, path)
            await ex.start()
        try:
            with pytest.raises(RoutingError) as refused:
                await ex.cancel(client_order_id="o-3", plugin="beta")
            return await ex.cancel(client_order_id="o-3", plugin="alpha"), str(refused.value)
        finally:
            await ex.close()

    canceled, message = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert beta_cancels == [] and alpha_cancels == ["A-7"]
    assert "sent through 'alpha', not 'beta'" in message and "nothing was cancelled" in message
    assert canceled.status is OrderStatus.CANCELED
