"""One memory of client order ids between an executor and its plugins (issue 21).

The executor sends through ``execute_claimed``, skipping the plugin's own once-per-id
memory, and hands its record of ids over; a direct ``execute_order`` looks there too.
Every test counts arrivals at the plugin's ``_execute_order`` (what reaches the broker):
an id is never sent twice between the two, whichever side comes first.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fks_exec import (
    BrokerUnavailable,
    DuplicateClientOrderId,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec._once import OncePerId

sys.path.insert(0, str(Path(__file__).parent))
from broker_gates import gated

BOUND_S = 5.0  # a hang fails the test instead of stalling the suite; never a timing check


def _setup(make_plugin: Any, journal: str = "memory") -> tuple[Any, Executor]:
    plugin = make_plugin("alpha")
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    return plugin, Executor(registry, default="alpha", journal=journal, reconcile_delay_s=0)


def _arrivals(plugin: Any, order: Order) -> int:
    return sum(1 for o in plugin.sent if o.client_order_id == order.client_order_id)


async def test_the_executor_skips_the_plugins_own_memory(make_plugin: Any) -> None:
    plugin, ex = _setup(make_plugin)
    async with ex:
        await ex.execute(Order.market("X", "buy", 1))
        assert len(plugin._once) == 0  # one record per id: the executor's
        direct = await plugin.execute_order(Order.market("X", "buy", 1))
        assert direct.status is OrderStatus.FILLED and len(plugin._once) == 1
        await ex.execute(Order.market("X", "buy", 1))  # a new id: still not kept there
        assert len(plugin._once) == 1


async def test_a_direct_call_of_an_id_the_executor_answered_gets_that_answer(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        first = await ex.execute(order)
        again = await plugin.execute_order(order)
        assert again is first and _arrivals(plugin, order) == 1


async def test_a_direct_call_of_an_id_the_executor_has_in_flight_waits_for_it(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        gate = gated(plugin)
        routed = asyncio.ensure_future(ex.execute(order))
        await asyncio.sleep(0)
        direct = asyncio.ensure_future(plugin.execute_order(order))
        await asyncio.sleep(0)
        assert not direct.done()  # waiting, not sending
        gate.set()
        first, second = await asyncio.wait_for(asyncio.gather(routed, direct), BOUND_S)
        assert second is first and _arrivals(plugin, order) == 1


async def test_with_an_sqlite_journal_a_direct_call_waits_for_the_executors_send_too(
    make_plugin: Any, tmp_path: Path
) -> None:
    # There the executor keeps its own entry of the id beside the journal's row.
    plugin, ex = _setup(make_plugin, str(tmp_path / "j.sqlite3"))
    order = Order.market("X", "buy", 1)
    async with ex:
        gate = gated(plugin)
        routed = asyncio.ensure_future(ex.execute(order))
        for _ in range(int(BOUND_S / 0.01)):  # until the executor's send is at the broker
            if ex._shutdown.sends:
                break
            await asyncio.sleep(0.01)
        direct = asyncio.ensure_future(plugin.execute_order(order))
        await asyncio.sleep(0.05)
        assert not direct.done()  # waiting, not sending
        gate.set()
        first, second = await asyncio.wait_for(asyncio.gather(routed, direct), BOUND_S)
        assert second is first and _arrivals(plugin, order) == 1


@pytest.mark.parametrize("journal", ["memory", "sqlite"])
async def test_after_a_restart_a_direct_call_of_an_id_the_executor_sent_is_not_sent_again(
    make_plugin: Any, tmp_path: Path, journal: str
) -> None:
    # Restarted, the executor sends nothing before the direct call: only the record it
    # handed over when it started the plugin again stands between the id and a resend.
    where = "memory" if journal == "memory" else str(tmp_path / "j.sqlite3")
    plugin, ex = _setup(make_plugin, where)
    order = Order.market("X", "buy", 1)
    async with ex:
        first = await ex.execute(order)
    async with ex:
        again = await plugin.execute_order(order)
        assert again == first and _arrivals(plugin, order) == 1


async def test_a_plugin_the_executor_starts_again_on_demand_consults_its_ids(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        first = await ex.execute(order)
        await plugin.close()  # stops consulting
        assert await ex.plugin("alpha") is plugin  # started again by the executor
        again = await plugin.execute_order(order)
        assert again is first and _arrivals(plugin, order) == 1


async def test_an_executor_call_of_an_id_sent_directly_gets_that_answer(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        direct = await plugin.execute_order(order)
        routed = await ex.execute(order)
        assert routed is direct and _arrivals(plugin, order) == 1


async def test_an_executor_call_joins_a_direct_call_in_flight(make_plugin: Any) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        gate = gated(plugin)
        direct = asyncio.ensure_future(plugin.execute_order(order))
        await asyncio.sleep(0)
        routed = asyncio.ensure_future(ex.execute(order))
        await asyncio.sleep(0)
        gate.set()
        first, second = await asyncio.wait_for(asyncio.gather(direct, routed), BOUND_S)
        assert second is first and _arrivals(plugin, order) == 1


async def test_a_direct_call_reusing_an_executor_id_for_another_order_is_refused(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        await ex.execute(order)
        other = Order.market("X", "sell", 1, client_order_id=order.client_order_id)
        with pytest.raises(DuplicateClientOrderId):
            await plugin.execute_order(other)
        assert len(plugin.sent) == 1


async def test_a_direct_call_of_an_id_the_executor_left_unknown_reconciles_it(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    plugin.on_order = lambda o: TimeoutError("no answer")
    async with ex:
        plugin._capabilities = frozenset()  # the executor cannot look it up
        first = await ex.execute(order)
        assert first.status is OrderStatus.UNKNOWN
        plugin._capabilities = type(plugin).capabilities
        again = await plugin.execute_order(order)  # looked up at the broker
        assert again.status is OrderStatus.ACCEPTED and _arrivals(plugin, order) == 1


async def test_a_direct_call_of_an_id_the_executor_could_not_send_sends_it(
    make_plugin: Any,
) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        gate = asyncio.Event()

        async def unavailable(o: Order) -> ExecutionResult:
            await gate.wait()
            raise BrokerUnavailable("down")

        send = plugin._execute_order
        plugin._execute_order = unavailable
        routed = asyncio.ensure_future(ex.execute(order))
        await asyncio.sleep(0)
        direct = asyncio.ensure_future(plugin.execute_order(order))
        await asyncio.sleep(0)
        plugin._execute_order = send  # the broker is back for the direct call
        gate.set()
        with pytest.raises(BrokerUnavailable):
            await asyncio.wait_for(routed, BOUND_S)
        result = await asyncio.wait_for(direct, BOUND_S)
        assert result.status is OrderStatus.FILLED and _arrivals(plugin, order) == 1


async def test_a_direct_call_of_an_id_the_executor_refused_sends_it(make_plugin: Any) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        plugin.on_order = lambda o: ExecutionResult.for_order(
            o, plugin="alpha", status=OrderStatus.REJECTED, sent=False
        )
        refused = await ex.execute(order)
        assert refused.sent is False and _arrivals(plugin, order) == 1
        plugin.on_order = None
        sent = await plugin.execute_order(order)
        assert sent.status is OrderStatus.FILLED
        assert await ex.execute(order) is sent  # not sent a third time
        assert _arrivals(plugin, order) == 2


async def test_a_plugin_that_overrides_execute_order_gets_it_called(make_plugin: Any) -> None:
    class Wrapped(type(make_plugin("x"))):  # type: ignore[misc]
        async def execute_order(self, order: Order) -> ExecutionResult:
            self.wrapped = getattr(self, "wrapped", 0) + 1
            return await super().execute_order(order)

    plugin = Wrapped("alpha")
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    async with Executor(registry, default="alpha", journal="memory") as ex:
        await ex.execute(Order.market("X", "buy", 1))
    assert plugin.wrapped == 1
    assert make_plugin("z")._plain_execute and not plugin._plain_execute


async def test_closing_the_plugin_stops_it_consulting_the_executor(make_plugin: Any) -> None:
    plugin, ex = _setup(make_plugin)
    order = Order.market("X", "buy", 1)
    async with ex:
        await ex.execute(order)
    await plugin.init({})  # started again, alone
    try:
        again = await plugin.execute_order(order)  # nothing remembers it now: sent
        assert again.status is OrderStatus.FILLED and _arrivals(plugin, order) == 2
    finally:
        await plugin.close()


def test_consult_keeps_each_mapping_once() -> None:
    once = OncePerId()
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}  # equal to the first, but another executor's
    for claims in (first, second, first, second, second):
        once.consult(claims)
    assert len(once._consulted) == 2
    assert once._consulted[0] is first and once._consulted[1] is second
    once.stop_consulting()
    assert once._consulted == () and once._latest is None
    once.consult(first)
    assert once._consulted == (first,)


_CALLS = st.lists(
    st.tuples(st.integers(0, 2), st.booleans(), st.integers(0, 3)), min_size=1, max_size=12
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking: a hang costs
)  # BOUND_S per replay, and the failing list of at most 12 calls reads as it is
@given(calls=_CALLS)
def test_any_interleaving_of_direct_and_routed_calls_sends_each_id_once(
    make_plugin: Any, calls: list[tuple[int, bool, int]]
) -> None:
    """Calls on three ids, each through the executor or directly, started at random
    points while the broker holds orders: each id reaches the broker once and every
    caller of an id gets the one answer."""

    async def scenario() -> None:
        plugin, ex = _setup(make_plugin)
        orders = [Order.market("X", "buy", 1) for _ in range(3)]
        async with ex:
            gate = gated(plugin)
            pending: list[tuple[int, asyncio.Future[ExecutionResult]]] = []
            for which, routed, pause in calls:
                call = ex.execute if routed else plugin.execute_order
                pending.append((which, asyncio.ensure_future(call(orders[which]))))
                for _ in range(pause):
                    await asyncio.sleep(0)
                if pause == 3:
                    gate.set()
            gate.set()
            answers = await asyncio.wait_for(asyncio.gather(*(f for _, f in pending)), BOUND_S)
        for which, order in enumerate(orders):
            got = {a.order_id for (w, _), a in zip(pending, answers, strict=True) if w == which}
            assert len(got) <= 1
            assert _arrivals(plugin, order) == (1 if got else 0)

    asyncio.run(scenario())


async def test_execute_claimed_refuses_before_init_and_after_close(make_plugin: Any) -> None:
    plugin = make_plugin("alpha")
    order = Order.market("X", "buy", 1)
    with pytest.raises(BrokerUnavailable, match="not initialized"):
        await plugin.execute_claimed(order, {})
    await plugin.init({})
    assert (await plugin.execute_claimed(order, {})).status is OrderStatus.FILLED
    await plugin.close()
    with pytest.raises(BrokerUnavailable, match="not initialized"):
        await plugin.execute_claimed(Order.market("X", "buy", 1), {})
    with pytest.raises(TypeError, match="takes an Order"):
        await plugin.execute_claimed("not an order", {})
    assert len(plugin.sent) == 1  # nothing reached the hook but the one order


class _Answered:
    """An id another memory answered (the Claimed protocol, as a caller of
    execute_claimed other than the executor could keep it)."""

    def __init__(self, order: Order, result: ExecutionResult) -> None:
        self.order, self.result = order, result

    @property
    def in_flight(self) -> bool:
        return False

    async def settled(self) -> None:
        return None


async def test_execute_claimed_hands_its_mapping_to_direct_calls(make_plugin: Any) -> None:
    # Not the executor: nothing was handed over before this first execute_claimed.
    plugin = make_plugin("alpha")
    await plugin.init({})
    try:
        kept = Order.market("X", "buy", 1)
        answer = ExecutionResult.for_order(kept, plugin="alpha", status="accepted", order_id="K")
        claims: dict[str, Any] = {}
        await plugin.execute_claimed(Order.market("X", "buy", 1), claims)
        claims[kept.client_order_id] = _Answered(kept, answer)
        assert await plugin.execute_order(kept) is answer and _arrivals(plugin, kept) == 0
    finally:
        await plugin.close()
