"""Executor: the money paths mutation testing found unchecked (issue 12).

A cancel goes to the plugin that took the order; a second execute() of an id in flight
waits for the first and never hangs or sends twice; a repeated ``unknown`` is reconciled,
not returned stale; a plugin that failed to start is left alone for a while; a fallback
is counted and journaled as the plugin that got the order.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from fks_exec import (
    BrokerUnavailable,
    ConfigurationError,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
    RoutingError,
)
from fks_exec.journal.memory import MemoryJournal

sys.path.insert(0, str(Path(__file__).parent))
from broker_gates import gated

BOUND_S = 5.0  # a hang fails the test instead of stalling the suite; never a timing check


@pytest.fixture
def plugins(registry: PluginRegistry, make_plugin: Any) -> dict[str, Any]:
    made = {name: make_plugin(name) for name in ("alpha", "beta", "gamma")}
    for name, plugin in made.items():
        registry.register(name, plugin)
    return made


class _TwoRecords(MemoryJournal):
    """The memory journal, not the class itself: the executor keeps its own entry of each
    id beside the journal's record (the path the SQL journals take)."""


_JOURNAL = ["memory"]


@pytest.fixture(autouse=True, params=["one record", "two records"])
def _journal_kind(request: pytest.FixtureRequest) -> Any:
    """Every test here runs with the memory journal's record as the executor's memory and
    with the executor's own entry beside it, so both paths of the memory stay tested."""
    _JOURNAL[0] = request.param
    yield
    _JOURNAL[0] = "one record"


def executor(registry: PluginRegistry, **kwargs: Any) -> Executor:
    kwargs.setdefault("reconcile_delay_s", 0)
    if _JOURNAL[0] == "two records":
        kwargs.setdefault("journal", _TwoRecords(max_closed=kwargs.get("history_size", 10_000)))
    kwargs.setdefault("journal", "memory")
    return Executor(registry, **kwargs)


# ------------------------------------------------------------------ cancel routing


async def test_a_cancel_goes_to_the_plugin_that_took_the_order(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    async with executor(registry, default="alpha", routes={"X*": "beta"}) as ex:
        taken = await ex.execute(Order.limit("XYZ", "buy", 1, 50), plugin="gamma")
        assert taken.plugin == "gamma" and taken.order_id
        canceled = await ex.cancel(taken.order_id)
        assert (canceled.plugin, canceled.symbol) == ("gamma", "XYZ")
        again = await ex.cancel(taken.order_id, symbol="XYZ")  # the route would say beta
        assert again.plugin == "gamma"


async def test_a_cancel_of_an_order_not_seen_goes_by_plugin_then_symbol_then_default(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    async with executor(registry, default="alpha", routes={"X*": "beta"}) as ex:
        assert (await ex.cancel("B-1", symbol="XYZ")).plugin == "beta"
        assert (await ex.cancel("B-2")).plugin == "alpha"
        assert (await ex.cancel("B-3", symbol="XYZ", plugin="gamma")).plugin == "gamma"
    no_default = executor(registry)
    with pytest.raises(RoutingError, match="pass plugin="):
        await no_default.cancel("B-4")
    await no_default.close()


async def test_get_order_asks_the_plugin_that_took_the_order(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    async with executor(registry, default="alpha") as ex:
        order = Order.market("X", "buy", 1)
        await ex.execute(order, plugin="beta")
        found = await ex.get_order(order.client_order_id)
        assert found is not None and found.plugin == "beta"


# ------------------------------------------------------------------ an id in flight


async def test_a_second_execute_of_an_id_in_flight_waits_and_gets_the_same_result(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    gate = gated(alpha)
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha") as ex:
        first = asyncio.create_task(ex.execute(order))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(ex.execute(order))
        third = asyncio.create_task(ex.execute(order))
        await asyncio.sleep(0.01)
        assert not second.done() and not third.done()  # waiting, not answered stale
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(first, second, third), BOUND_S)
        assert ex.stats["repeat"] == 2
    assert results[0].status is OrderStatus.FILLED
    assert results[1] == results[0] and results[2] == results[0]
    assert len(alpha.sent) == 1


async def test_a_waiting_execute_sends_the_order_when_the_first_sent_nothing(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    gate = asyncio.Event()
    calls = 0

    def first_unreachable(order: Order) -> Any:
        nonlocal calls
        calls += 1
        return BrokerUnavailable("connection refused") if calls == 1 else None

    alpha.on_order = first_unreachable
    send = alpha._execute_order

    async def held(order: Order) -> ExecutionResult:
        await gate.wait()
        return await send(order)

    alpha._execute_order = held
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha") as ex:
        first = asyncio.create_task(ex.execute(order))
        await asyncio.sleep(0.01)
        second = asyncio.create_task(ex.execute(order))
        await asyncio.sleep(0.01)
        gate.set()
        with pytest.raises(BrokerUnavailable, match="was not sent"):
            await asyncio.wait_for(first, BOUND_S)
        retried = await asyncio.wait_for(second, BOUND_S)
    assert retried.status is OrderStatus.FILLED and len(alpha.sent) == 1


# ------------------------------------------------------------------ unknown outcomes


async def test_repeating_an_unknown_result_reconciles_it_instead_of_returning_it_stale(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")
    visible = False  # the broker has the order but does not show it yet
    lookup = alpha._get_order

    async def late(client_order_id: str) -> ExecutionResult | None:
        return await lookup(client_order_id) if visible else None

    alpha._get_order = late
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha", reconcile_attempts=1) as ex:
        first = await ex.execute(order)
        assert first.status is OrderStatus.UNKNOWN
        visible = True
        alpha.on_order = None
        again = await ex.execute(order)
        assert again.status is OrderStatus.ACCEPTED and again.order_id == "S1"
        assert (await ex.execute(order)) == again  # and that is what is remembered
    assert len(alpha.sent) == 1


# ------------------------------------------------------------------ failed starts


async def test_a_plugin_that_failed_to_start_is_not_retried_until_the_pause_is_over(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    attempts = 0
    connect = alpha._connect

    async def counted(config: Any) -> None:
        nonlocal attempts
        attempts += 1
        await connect(config)

    alpha._connect = counted
    configs = {"alpha": {"fail_connect": True}}
    ex = executor(registry, default="alpha", configs=configs, retry_init_after_s=3600)
    for _ in range(2):
        with pytest.raises(BrokerUnavailable, match="'alpha' is unavailable"):
            await ex.execute(Order.market("X", "buy", 1))
    assert attempts == 1 and not alpha.sent
    assert ex.stats["not_sent"] == 2
    eager = executor(registry, default="alpha", configs=configs, retry_init_after_s=0)
    for _ in range(2):
        with pytest.raises(BrokerUnavailable, match="'alpha' is unavailable"):
            await eager.execute(Order.market("X", "buy", 1))
    assert attempts == 3
    await ex.close()
    await eager.close()


async def test_a_plugin_with_bad_settings_keeps_saying_so(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    ex = executor(registry, default="alpha", configs={"alpha": {"no_such_field": 1}})
    for _ in range(2):
        with pytest.raises(ConfigurationError):
            await ex.execute(Order.market("X", "buy", 1))
    assert not plugins["alpha"].sent
    await ex.close()


# ------------------------------------------------------------------ fallbacks


async def test_only_a_real_fallback_is_counted_and_journaled_under_its_plugin(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha, beta = plugins["alpha"], plugins["beta"]
    async with executor(registry, default="alpha", fallbacks={"alpha": ["beta"]}) as ex:
        direct = Order.market("X", "buy", 1)
        assert (await ex.execute(direct)).plugin == "alpha"
        assert ex.stats["fallback"] == 0
        assert (await ex.journal.get(direct.client_order_id)).plugin == "alpha"
        alpha.on_order = lambda order: BrokerUnavailable("connection refused")
        diverted = Order.market("X", "buy", 1)
        assert (await ex.execute(diverted)).plugin == "beta"
        assert ex.stats["fallback"] == 1
        recorded = await ex.journal.get(diverted.client_order_id)
        assert recorded is not None and recorded.plugin == "beta"
    assert len(beta.sent) == 1


async def test_an_unknown_result_is_looked_up_again_until_the_broker_shows_it(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    lookups = 0
    lookup = alpha._get_order

    async def slow_to_show(client_order_id: str) -> ExecutionResult | None:
        nonlocal lookups
        lookups += 1
        return await lookup(client_order_id) if lookups >= 3 else None

    alpha._get_order = slow_to_show
    async with executor(registry, default="alpha", reconcile_attempts=3) as ex:
        for nth in range(2):  # the second goes the started fast path
            lookups = 0
            alpha.on_order = lambda order: TimeoutError("read timed out")
            result = await ex.execute(Order.market("X", "buy", 1))
            assert result.status is OrderStatus.ACCEPTED, nth
            assert result.order_id == f"S{nth + 1}"
        assert (ex.stats["reconciled"], ex.stats["still_unknown"]) == (2, 0)
    assert len(alpha.sent) == 2


async def test_an_unknown_the_broker_never_shows_is_counted_as_still_unknown(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")

    async def never(client_order_id: str) -> None:
        return None

    alpha._get_order = never
    async with executor(registry, default="alpha", reconcile_attempts=2) as ex:
        result = await ex.execute(Order.market("X", "buy", 1))
        assert result.status is OrderStatus.UNKNOWN
        assert (ex.stats["reconciled"], ex.stats["still_unknown"]) == (0, 1)


async def test_the_last_history_size_orders_are_remembered_for_their_cancel(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    async with executor(registry, default="alpha", routes={"X*": "beta"}, history_size=2) as ex:
        taken = [
            await ex.execute(Order.limit("XYZ", "buy", 1, 50), plugin="gamma") for _ in range(3)
        ]
        assert [(await ex.cancel(t.order_id or "")).plugin for t in taken[1:]] == ["gamma"] * 2


# ------------------------------------------------------------------ memory and journal


async def test_get_order_updates_what_a_repeat_returns(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    order = Order.limit("X", "buy", 1, 50)
    resting = ExecutionResult.for_order(order, plugin="alpha", status="accepted", order_id="S1")
    alpha.on_order = lambda o: resting
    async with executor(registry, default="alpha") as ex:
        assert (await ex.execute(order)).status is OrderStatus.ACCEPTED
        filled = ExecutionResult.for_order(
            order,
            plugin="alpha",
            status="filled",
            order_id="S1",
            filled_quantity=1,
            average_price=50,
        )
        alpha.known[order.client_order_id] = filled
        assert (await ex.get_order(order.client_order_id)) == filled
        assert (await ex.execute(order)).status is OrderStatus.FILLED
    assert len(alpha.sent) == 1


async def test_a_lookup_that_fails_once_is_tried_again(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")
    failures = 2  # the plugin's own look-up and the executor's first one
    lookup = alpha._get_order

    async def flaky(client_order_id: str) -> ExecutionResult | None:
        nonlocal failures
        if failures:
            failures -= 1
            raise OSError("connection reset")
        return await lookup(client_order_id)

    alpha._get_order = flaky
    async with executor(registry, default="alpha", reconcile_attempts=3) as ex:
        result = await ex.execute(Order.market("X", "buy", 1))
    assert result.status is OrderStatus.ACCEPTED and failures == 0


async def test_an_id_in_the_journal_is_answered_from_it_by_another_executor(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    journal = _TwoRecords() if _JOURNAL[0] == "two records" else MemoryJournal()
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha", journal=journal) as first:
        sent = await first.execute(order)
    assert sent.status is OrderStatus.FILLED
    plugins["alpha"].known.clear()  # the broker forgot it: only the journal can answer
    later = executor(registry, default="alpha", journal=journal)
    assert await later.spent_result(order.client_order_id) == sent
    assert await later.spent_result("never-used") is None
    assert await later.execute(order) == sent
    assert later.stats["repeat"] == 1
    await later.close()
    assert len(plugins["alpha"].sent) == 1


async def test_spent_result_waits_for_a_call_in_flight(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    gate = gated(plugins["alpha"])
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha") as ex:
        sending = asyncio.create_task(ex.execute(order))
        await asyncio.sleep(0.01)
        spent = asyncio.create_task(ex.spent_result(order.client_order_id))
        await asyncio.sleep(0.01)
        assert not spent.done()
        gate.set()
        assert await asyncio.wait_for(spent, BOUND_S) == await sending


def test_a_health_timeout_must_be_positive_and_attempts_not_negative(
    registry: PluginRegistry,
) -> None:
    with pytest.raises(ConfigurationError, match=r"health_timeout_s must be more than 0 s, got 0$"):
        Executor(registry, health_timeout_s=0)
    with pytest.raises(ConfigurationError, match="reconcile_attempts"):
        Executor(registry, reconcile_attempts=-1)
    Executor(registry, health_timeout_s=0.5, reconcile_attempts=0, journal="memory")


async def test_a_live_order_never_falls_back_to_an_already_started_paper_plugin(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    """Both plugins were started outside the executor, so only the check at sending time
    stands between a live order and the paper mock."""
    alpha = plugins["alpha"]  # says nothing about its account: counts as live
    await registry.init("alpha")
    await registry.init("mock")
    alpha.on_order = lambda order: BrokerUnavailable("connection refused")
    ex = executor(registry, default="alpha", fallbacks={"alpha": ["mock"]})
    with pytest.raises(BrokerUnavailable, match=r"mixes live .* with paper"):
        await ex.execute(Order.market("X", "buy", 1))
    assert ex.stats["fallback"] == 0 and registry.get("mock").broker.orders == []
    await ex.close()


async def test_a_repeat_of_an_order_refused_before_sending_is_sent(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    from fks_exec import OrderDenied

    alpha = plugins["alpha"]

    def refuse(order: Order) -> Any:
        raise OrderDenied("market closed", "market_closed")

    alpha.on_order = refuse
    order = Order.market("X", "buy", 1)
    async with executor(registry, default="alpha") as ex:
        refused = await ex.execute(order)
        assert (refused.status, refused.sent) == (OrderStatus.REJECTED, False)
        alpha.on_order = None
        assert (await ex.execute(order)).status is OrderStatus.FILLED


async def test_fallbacks_are_tried_in_order_past_every_unavailable_one(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    down = lambda order: BrokerUnavailable("connection refused")  # noqa: E731
    plugins["alpha"].on_order = plugins["beta"].on_order = down
    fallbacks = {"alpha": ["beta", "gamma"]}
    async with executor(registry, default="alpha", fallbacks=fallbacks) as ex:
        assert (await ex.execute(Order.market("X", "buy", 1))).plugin == "gamma"


def test_plugin_configs_must_be_mappings_by_name(registry: PluginRegistry) -> None:
    with pytest.raises(ConfigurationError):
        Executor(registry, configs={"alpha": "fail_connect=true"})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError):
        Executor(registry, configs={1: {"fail_connect": True}})  # type: ignore[dict-item]


async def test_reconcile_lookups_back_off_doubling_three_times_by_default(
    registry: PluginRegistry, plugins: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import fks_exec._dispatch as dispatch_module

    alpha = plugins["alpha"]
    alpha.on_order = lambda order: TimeoutError("read timed out")

    async def never(client_order_id: str) -> None:
        return None

    alpha._get_order = never
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    async with Executor(registry, default="alpha", reconcile_delay_s=0.25, journal="memory") as ex:
        monkeypatch.setattr(dispatch_module.asyncio, "sleep", recorded_sleep)
        result = await ex.execute(Order.market("X", "buy", 1))
        monkeypatch.undo()
    assert result.status is OrderStatus.UNKNOWN
    assert pauses == [0.25, 0.5]  # three lookups, two pauses


async def test_signals_are_taken_parsed_or_raw(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:
    from fks_exec.signals import parse_signal

    body = '{"ticker": "X", "action": "buy", "quantity": 1, "id": "s-1"}'
    async with executor(registry, default="alpha") as ex:
        first = await ex.execute_signal(parse_signal(body))
        assert first.status is OrderStatus.FILLED
        assert await ex.execute_signal(body) == first
    assert len(plugins["alpha"].sent) == 1


async def test_get_order_of_an_id_nobody_has_is_none(
    registry: PluginRegistry, plugins: dict[str, Any]
) -> None:

    async with executor(registry, default="alpha") as ex:
        assert await ex.get_order("never-sent") is None


def test_fallback_names_must_be_non_empty_text(registry: PluginRegistry) -> None:
    for names in ([""], [3]):
        with pytest.raises(ConfigurationError):
            Executor(registry, fallbacks={"alpha": names})  # type: ignore[dict-item]


async def test_a_plugin_started_by_its_first_order_logs_no_empty_reconciliation(
    registry: PluginRegistry, plugins: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # start() says what start-up reconciliation found for the plugins it starts, even
    # nothing; a plugin started later by an order logs a line only when something was
    # left open for it (a line per lazily started plugin would be noise).
    with caplog.at_level(logging.INFO, logger="fks_exec.journal"):
        async with executor(registry, default="alpha") as ex:
            said = [r for r in caplog.records if "start-up reconciliation" in r.getMessage()]
            assert len(said) == 1 and "alpha: nothing open" in said[0].getMessage()
            caplog.clear()
            taken = await ex.execute(Order.market("XYZ", "buy", 1), plugin="gamma")
            assert taken.plugin == "gamma"
            assert ex.registry.is_initialized("gamma")
            assert not [r for r in caplog.records if "reconciliation" in r.getMessage()]


async def test_a_plugin_whose_init_left_it_unstarted_is_not_counted_reconciled(
    registry: PluginRegistry, make_plugin: Any
) -> None:
    # A third-party init() that returns without starting the plugin is no start: its
    # open entries are reconciled when it does start (before its first order), so it
    # must not be marked reconciled now, with nothing looked up.
    class _Unstarted(make_plugin):  # type: ignore[misc,valid-type]  # the ScriptedPlugin class
        async def init(self, config: Any = None) -> None:
            return None

    registry.register("alpha", make_plugin("alpha"))
    registry.register("lazy", _Unstarted("lazy"))
    async with executor(registry, default="alpha", routes={"L*": "lazy"}) as ex:
        assert "lazy" in ex.planned_plugins() and not ex.registry.is_initialized("lazy")
        assert ex._keeper.is_recovered("alpha")
        assert not ex._keeper.is_recovered("lazy")


async def test_a_plugin_that_cannot_take_an_order_is_logged_only_when_a_fallback_follows(
    registry: PluginRegistry, plugins: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # The last candidate's failure is in the BrokerUnavailable raised; logging it too
    # printed every such error twice on the command line.
    for name in ("alpha", "beta"):
        plugins[name].on_order = lambda order: BrokerUnavailable("not connected")
    async with executor(registry, default="alpha", fallbacks={"alpha": ["beta"]}) as ex:
        with (
            caplog.at_level(logging.WARNING, logger="fks_exec.executor"),
            pytest.raises(BrokerUnavailable) as refused,
        ):
            await ex.execute(Order.market("XYZ", "buy", 1, client_order_id="down-1"))
    said = [r.getMessage() for r in caplog.records]
    assert said == ["order down-1 not sent to 'alpha': not connected"]
    assert "alpha: not connected; beta: not connected" in str(refused.value)
