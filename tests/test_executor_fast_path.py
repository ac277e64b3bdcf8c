"""The executor's fast path (the memory journal, a started plugin without fallbacks)
does in one frame what ``JournaledMemory.claim`` / ``.answered`` and the shutdown
gate's ``send`` do, and finds the running loop without asking asyncio on every order
(issue 21). These tests pin each of those inlined parts: the hints taken at the claim
and at the answer, a refused id claimed again, the route without any symbol read, and
the task a close cuts off, whichever loop and thread the executor was used from
before.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry
from fks_exec._routing import Routes
from fks_exec.mock import MockBroker, MockPlugin


def _executor(plugin: Any, **kwargs: Any) -> Executor:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    return Executor(registry, default="alpha", journal="memory", **kwargs)


def _slow_mock(latency_s: float) -> MockPlugin:
    plugin = MockPlugin(broker=MockBroker())
    plugin.use_env = False
    plugin.broker.set_price("X", bid=100, ask=100.5)
    plugin.broker.set_latency(latency_s)
    return plugin


def test_only_an_executor_without_routes_has_a_sole_plugin() -> None:
    assert Routes("a", None, None).sole == "a"
    assert Routes("a", {"X*": "b"}, None).sole is None  # symbols decide then
    assert Routes(None, None, None).sole is None


async def test_without_routes_no_symbol_is_routed_and_with_routes_each_is_once(
    make_plugin: Any,
) -> None:
    async with _executor(make_plugin("alpha")) as ex:
        await ex.execute(Order.market("X", "buy", 1))
        assert dict(ex._routes.resolved) == {}  # the default, without reading the symbol
    registry = PluginRegistry(discover=False)
    registry.register("alpha", make_plugin("alpha"))
    routed = Executor(registry, default="alpha", routes={"Y*": "alpha"}, journal="memory")
    async with routed:
        await routed.execute(Order.market("X", "buy", 1))
        assert dict(routed._routes.resolved) == {"X": "alpha"}


async def test_plugin_given_wins_over_the_sole_default(make_plugin: Any) -> None:
    alpha, beta = make_plugin("alpha"), make_plugin("beta")
    registry = PluginRegistry(discover=False)
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    async with Executor(registry, default="alpha", journal="memory") as ex:
        await ex.execute(Order.market("X", "buy", 1, client_order_id="s-1"), plugin="beta")
        await ex.execute(Order.market("X", "buy", 1, client_order_id="s-2"))
    assert [o.client_order_id for o in beta.sent] == ["s-1"]
    assert [o.client_order_id for o in alpha.sent] == ["s-2"]


async def test_a_hinting_plugin_on_the_fast_path_gives_hints_at_the_claim_and_the_answer(
    make_plugin: Any,
) -> None:
    asked: list[tuple[str, str | None]] = []

    class Hinting(make_plugin):  # type: ignore[misc]
        def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> dict[str, str]:
            asked.append((order.client_order_id, None if result is None else result.order_id))
            return {"claim": "yes"} if result is None else {"answer": result.order_id or ""}

    async with _executor(Hinting("alpha")) as ex:
        result = await ex.execute(Order.market("X", "buy", 1, client_order_id="fh-1"))
        entry = await ex.journal.get("fh-1")
    assert result.order_id == "S1"
    assert asked == [("fh-1", None), ("fh-1", "S1")]
    assert entry is not None and entry.hints == {"claim": "yes", "answer": "S1"}


async def test_a_plugin_without_hints_is_never_asked_for_them(make_plugin: Any) -> None:
    asked: list[str] = []

    class Plain(make_plugin):  # type: ignore[misc]
        def lookup_hints(self, order: Order, result: ExecutionResult | None = None) -> Any:
            asked.append(order.client_order_id)
            return {"never": "asked"}

    async with _executor(Plain("alpha")) as ex:
        await ex.execute(Order.market("X", "buy", 1, client_order_id="fp-1"))
        entry = await ex.journal.get("fp-1")
    assert asked == [] and entry is not None and entry.hints == {}


async def test_a_refused_id_retried_on_the_fast_path_is_remembered_again(
    make_plugin: Any,
) -> None:
    plugin = make_plugin("alpha")
    order = Order.market("X", "buy", 1, client_order_id="fr-1")
    plugin.on_order = lambda o: ExecutionResult.for_order(
        o, plugin="alpha", status=OrderStatus.REJECTED, sent=False, error="no"
    )
    async with _executor(plugin) as ex:
        refused = await ex.execute(order)
        plugin.on_order = None
        filled = await ex.execute(order)  # certainly not sent before: sent now
        memory = ex._journaled
        assert memory is not None
        record = memory.entries["fr-1"]
        assert memory._released == set() and memory.holds(record)
        again = await ex.execute(order)  # remembered: answered, not sent a third time
    assert (refused.sent, filled.status, again.status) == (False, "filled", "filled")
    assert len(plugin.sent) == 2 and again is filled


async def test_an_answer_wakes_a_repeat_waiting_for_it(make_plugin: Any) -> None:
    plugin = make_plugin("alpha")
    gate = asyncio.Event()
    original = plugin._execute_order

    async def slow(order: Order) -> ExecutionResult:
        await gate.wait()
        answer: ExecutionResult = await original(order)
        return answer

    plugin._execute_order = slow
    order = Order.market("X", "buy", 1, client_order_id="fw-1")
    async with _executor(plugin) as ex:
        first = asyncio.ensure_future(ex.execute(order))
        await asyncio.sleep(0.01)
        repeat = asyncio.ensure_future(ex.execute(order))  # waits for the first send
        await asyncio.sleep(0.01)
        assert not repeat.done()
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(first, repeat), 5)
    assert results[0] is results[1] and len(plugin.sent) == 1


async def test_the_running_loop_is_kept_for_the_next_order(make_plugin: Any) -> None:
    async with _executor(make_plugin("alpha")) as ex:
        await ex.execute(Order.market("X", "buy", 1))
        assert ex._loop is asyncio.get_running_loop()


def _cut_off_at_close(ex: Executor, plugin: MockPlugin) -> list[ExecutionResult]:
    async def sends() -> list[ExecutionResult]:
        await ex.start()
        plugin.broker.set_latency(5.0)
        calls = [asyncio.ensure_future(ex.execute(Order.market("X", "buy", 1))) for _ in range(3)]
        await asyncio.sleep(0.05)  # all three are inside the plugin
        await ex.close()
        return [c.result() for c in calls]

    return asyncio.run(sends())


def _one_order(ex: Executor) -> None:
    async def one() -> None:
        async with ex:
            result = await ex.execute(Order.market("X", "buy", 1))
            assert result.status is OrderStatus.FILLED

    asyncio.run(one())


def test_a_close_in_a_second_loop_cuts_off_that_loops_sends() -> None:
    # The loop kept from the first asyncio.run() has stopped: the second one's sends
    # must be tracked under the second loop's tasks, or close() could not cut them off.
    plugin = _slow_mock(0.0)
    ex = _executor(plugin, close_timeout_s=0.1)
    _one_order(ex)
    results = _cut_off_at_close(ex, plugin)
    assert [r.status for r in results] == [OrderStatus.UNKNOWN] * 3
    assert all("closed" in (r.error or "") for r in results)


def test_a_close_on_another_thread_cuts_off_that_threads_sends() -> None:
    plugin = _slow_mock(0.0)
    ex = _executor(plugin, close_timeout_s=0.1)
    _one_order(ex)
    results: list[ExecutionResult] = []
    thread = threading.Thread(target=lambda: results.extend(_cut_off_at_close(ex, plugin)))
    thread.start()
    thread.join(10)
    assert [r.status for r in results] == [OrderStatus.UNKNOWN] * 3


def test_a_loop_that_does_not_say_its_thread_is_asked_for_on_every_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugin = _slow_mock(0.0)
    ex = _executor(plugin, close_timeout_s=0.1)
    asked: list[int] = []

    def counting() -> asyncio.AbstractEventLoop:
        asked.append(1)
        return asyncio.get_running_loop()

    async def run() -> int:
        loop: Any = asyncio.get_running_loop()
        loop._thread_id = None  # as a loop that does not keep it would read
        try:
            async with ex:
                await ex.execute(Order.market("X", "buy", 1))
                monkeypatch.setattr("fks_exec._loops.get_running_loop", counting)
                for _ in range(3):
                    await ex.execute(Order.market("X", "buy", 1))
                return len(asked)
        finally:
            loop._thread_id = threading.get_ident()

    assert asyncio.run(run()) == 3


def test_a_kept_loop_is_not_asked_for_again(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = _slow_mock(0.0)
    ex = _executor(plugin, close_timeout_s=0.1)

    def refused() -> asyncio.AbstractEventLoop:
        raise AssertionError("asyncio was asked although the kept loop runs here")

    async def run() -> OrderStatus:
        async with ex:
            await ex.execute(Order.market("X", "buy", 1))
            monkeypatch.setattr("fks_exec._loops.get_running_loop", refused)
            result = await ex.execute(Order.market("X", "buy", 1))
            monkeypatch.undo()
            return result.status

    assert asyncio.run(run()) is OrderStatus.FILLED
