"""A retry of an order that was not sent goes where the retrying call asks.

An id whose first call sent nothing (refused with ``sent=False``, or the plugin could not
be reached) may be sent again under the same id. That second send must go through the
plugin the retrying call names, exactly as a first call would, never through the
executor's default route: an order meant for one broker must not reach another.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, ExecutionResult, Executor, Order, PluginRegistry
from fks_exec.journal import SqliteJournal
from fks_exec.journal.memory import MemoryJournal

BOUND_S = 10.0  # a hang fails the test instead of stalling the suite; never a timing check


class _TwoRecords(MemoryJournal):
    """The memory journal, but not the class itself: the executor keeps its own entry."""


def _journal(kind: str, tmp_path: Path) -> Any:
    if kind == "memory":
        return "memory"
    if kind == "two-records":
        return _TwoRecords()
    return str(tmp_path / "journal.sqlite")


def _refuse_first(plugin: Any, how: str) -> None:
    calls = {"n": 0}

    def act(order: Order) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            return None  # filled
        if how == "down":
            return BrokerUnavailable("not connected")
        return ExecutionResult.for_order(
            order, plugin=plugin.name, status="rejected", sent=False, error="refused here"
        )

    plugin.on_order = act


async def _executor(alpha: Any, beta: Any, journal: Any) -> Executor:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    ex = Executor(
        registry, default="alpha", journal=journal, reconcile_attempts=1, reconcile_delay_s=0
    )
    await ex.start()
    return ex


@pytest.mark.parametrize("journal", ["memory", "two-records", "sqlite"])
@pytest.mark.parametrize("how", ["refused", "down"])
def test_a_retry_of_an_order_not_sent_goes_through_the_plugin_it_names(
    make_plugin: Any, tmp_path: Path, journal: str, how: str
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    _refuse_first(beta, how)
    order = Order.market("X", "buy", 1, client_order_id="r-1")

    async def play() -> ExecutionResult:
        ex = await _executor(alpha, beta, _journal(journal, tmp_path))
        try:
            if how == "down":
                with pytest.raises(BrokerUnavailable):
                    await ex.execute(order, plugin="beta")
            else:
                assert (await ex.execute(order, plugin="beta")).sent is False
            return await ex.execute(order, plugin="beta")
        finally:
            await ex.close()

    again = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert again.plugin == "beta" and again.status == "filled"
    # the scripted plugin lists what reached it, the refused first call included
    reached = ["r-1"] if how == "down" else ["r-1", "r-1"]
    assert alpha.sent == [] and [o.client_order_id for o in beta.sent] == reached


@pytest.mark.parametrize("journal", ["memory", "two-records", "sqlite"])
def test_a_retry_without_a_plugin_is_routed_as_a_first_call_would_be(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    _refuse_first(beta, "refused")
    order = Order.market("X", "buy", 1, client_order_id="r-2")

    async def play() -> ExecutionResult:
        ex = await _executor(alpha, beta, _journal(journal, tmp_path))
        try:
            assert (await ex.execute(order, plugin="beta")).sent is False
            return await ex.execute(order)  # no plugin named: the default route
        finally:
            await ex.close()

    again = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert again.plugin == "alpha" and [o.client_order_id for o in alpha.sent] == ["r-2"]
    assert [o.client_order_id for o in beta.sent] == ["r-2"]  # the refused first call


@pytest.mark.parametrize("journal", ["memory", "two-records", "sqlite"])
def test_a_call_waiting_on_a_first_call_that_sent_nothing_sends_where_it_asks(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    release, entered = asyncio.Event(), asyncio.Event()
    send = beta._execute_order
    calls = {"n": 0}

    async def held(order: Order) -> ExecutionResult:
        calls["n"] += 1
        if calls["n"] == 1:
            entered.set()
            await release.wait()  # the second call comes in while this one is in flight
            raise BrokerUnavailable("not connected")
        result: ExecutionResult = await send(order)
        return result

    beta._execute_order = held
    order = Order.market("X", "buy", 1, client_order_id="r-3")

    async def play() -> ExecutionResult:
        ex = await _executor(alpha, beta, _journal(journal, tmp_path))
        try:
            first = asyncio.create_task(ex.execute(order, plugin="beta"))
            await entered.wait()
            second = asyncio.create_task(ex.execute(order, plugin="beta"))
            await asyncio.sleep(0.01)
            release.set()
            with pytest.raises(BrokerUnavailable):
                await first
            return await second
        finally:
            await ex.close()

    again = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    assert again.plugin == "beta" and [o.client_order_id for o in beta.sent] == ["r-3"]
    assert alpha.sent == []


@pytest.mark.parametrize("named", [None, "beta"])
def test_an_intent_another_handle_left_that_the_plugin_proves_absent_is_sent_where_asked(
    make_plugin: Any, tmp_path: Path, named: str | None
) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    order = Order.market("X", "buy", 1, client_order_id="r-4")
    path = tmp_path / "journal.sqlite"
    # alpha's look-up proves the order never reached it (its answer says sent=False)
    alpha.known["r-4"] = ExecutionResult.for_order(
        order, plugin="alpha", status="rejected", sent=False, error="never received"
    )

    async def play() -> ExecutionResult:
        ex = await _executor(alpha, beta, str(path))
        other = SqliteJournal(path)  # another handle claims it for alpha after start()
        await other.open()
        try:
            await other.claim(order, "alpha", {})
            return await ex.execute(order, plugin=named)
        finally:
            await other.close()
            await ex.close()

    again = asyncio.run(asyncio.wait_for(play(), BOUND_S))
    expected = named or "alpha"  # no plugin named: the one the intent was for
    assert again.plugin == expected and again.status == "filled"
    sent_to = {"alpha": alpha.sent, "beta": beta.sent}
    assert [o.client_order_id for o in sent_to[expected]] == ["r-4"]
    assert all(not sent for name, sent in sent_to.items() if name != expected)
