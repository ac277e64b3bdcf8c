"""The executor's parts, each on its own: the bounded order memory, the memory journal's
fast paths, the registry as the one owner of plugin lifecycle, routing, and a cancel
by client order id that finds the order in memory or, beyond it, in the journal
(issues 14 point 5, 15, 21 point 3)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from fks_exec._order_memory import OrderMemory
from fks_exec._routing import Plan, Routes, check_limits
from fks_exec.journal import JournalState, JournalUpdate, MemoryJournal, state_for
from fks_exec.mock import MockBroker, MockPlugin


def _order(cid: str) -> Order:
    return Order.limit("BTC/USDT", "buy", "1", "100", client_order_id=cid)


def _result(order: Order, status: str = "accepted", **fields: Any) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="p", status=status, **fields)


@pytest.fixture
def alpha(registry: PluginRegistry, make_plugin: Any) -> Any:
    """A scripted plugin registered as ``alpha`` in the test's registry."""
    plugin = make_plugin("alpha")
    registry.register("alpha", plugin)
    return plugin


@pytest.fixture
def beta(registry: PluginRegistry, make_plugin: Any) -> Any:
    """A scripted plugin registered as ``beta`` in the test's registry."""
    plugin = make_plugin("beta")
    registry.register("beta", plugin)
    return plugin


# ---------------------------------------------------------------------- order memory

MEMORY_OPS = st.lists(
    st.tuples(st.sampled_from(["begin", "settle", "resettle", "forget"]), st.integers(0, 7)),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 4), ops=MEMORY_OPS)
def test_order_memory_keeps_every_id_in_flight_and_the_newest_settled(
    size: int, ops: list[tuple[str, int]]
) -> None:
    memory = OrderMemory(size)
    in_flight: dict[str, Any] = {}
    settles: list[Any] = []  # entries in the order of their first result
    forgotten: list[Any] = []  # kept alive, so no identity is reused
    for op, n in ops:
        cid = f"c{n}"
        entry = memory.get(cid)
        if op == "begin" and entry is None:
            in_flight[cid] = memory.begin(_order(cid))
        elif op == "settle" and cid in in_flight:
            memory.settle(in_flight.pop(cid), _result(_order(cid), order_id=f"B{n}"))
            settles.append(entry)
        elif op == "resettle" and entry is not None and entry.result is not None:
            memory.settle(entry, _result(_order(cid), "canceled", order_id=f"B{n}"))
        elif op == "forget" and entry is not None:
            in_flight.pop(cid, None)
            memory.forget(entry)
            forgotten.append(entry)
    newest = [e for e in settles[-size:] if not any(e is f for f in forgotten)]
    remembered = {cid: memory.get(cid) for cid in {f"c{n}" for _, n in ops}}
    expected = {e.order.client_order_id: e for e in newest} | in_flight
    assert {c: e for c, e in remembered.items() if e is not None} == expected
    assert len(memory) == len(expected)
    assert memory.results() == [e.result for e in newest]
    for entry in newest:  # the broker's id finds what is remembered, and nothing else
        assert entry.result is not None and entry.result.order_id is not None
        assert memory.by_order_id(entry.result.order_id) is entry
    for n in range(8):
        if f"c{n}" not in expected:
            assert memory.by_order_id(f"B{n}") is None


def _settled(memory: OrderMemory, cid: str, order_id: str | None) -> Any:
    entry = memory.begin(_order(cid))
    memory.settle(entry, _result(entry.order, order_id=order_id))
    return entry


def test_a_forgotten_settled_id_leaves_the_history_and_the_broker_id_index() -> None:
    memory = OrderMemory(3)
    kept, gone = _settled(memory, "a", "B1"), _settled(memory, "b", "B2")
    memory.forget(gone)
    assert memory.results() == [kept.result]
    assert memory.by_order_id("B2") is None and memory._by_order_id == {"B1": "a"}
    for n in range(5):  # "a" and the stale slot of "b" leave the window
        _settled(memory, f"n{n}", None)
    assert memory.get("a") is None and memory._by_order_id == {}  # bounded, no leak


def test_a_broker_id_reused_for_a_newer_order_stays_indexed_to_it() -> None:
    memory = OrderMemory(1)
    _settled(memory, "old", "B1")
    newer = _settled(memory, "new", "B1")  # "old" leaves the window: "new" keeps B1
    assert memory.by_order_id("B1") is newer


def test_forgetting_an_id_leaves_a_newer_orders_broker_id_indexed_to_it() -> None:
    memory = OrderMemory(3)
    refused = _settled(memory, "refused", "B1")  # e.g. a refusal that named an order id
    newer = _settled(memory, "newer", "B1")  # the broker id now belongs to "newer"
    memory.forget(refused)
    assert memory.by_order_id("B1") is newer and memory._by_order_id == {"B1": "newer"}


def test_a_later_result_keeps_or_moves_the_broker_id() -> None:
    memory = OrderMemory(2)
    entry = _settled(memory, "a", "B1")
    memory.settle(entry, _result(entry.order, "canceled", order_id="B1"))
    assert memory.by_order_id("B1") is entry
    memory.settle(entry, _result(entry.order, "canceled", order_id="B9"))
    assert memory.by_order_id("B9") is entry and memory.by_order_id("B1") is None
    assert memory._by_order_id == {"B9": "a"} and memory.results() == [entry.result]


def test_order_memory_refuses_a_second_begin_and_a_zero_size() -> None:
    memory = OrderMemory(1)
    memory.begin(_order("a"))
    with pytest.raises(ValueError, match="already remembered"):
        memory.begin(_order("a"))
    with pytest.raises(ValueError, match="at least 1"):
        OrderMemory(0)


async def test_a_waiter_wakes_when_the_first_call_settles_or_is_forgotten() -> None:
    memory = OrderMemory(2)
    first, second = memory.begin(_order("a")), memory.begin(_order("b"))
    waiting = [asyncio.create_task(first.settled()), asyncio.create_task(second.settled())]
    await asyncio.sleep(0)
    assert not any(t.done() for t in waiting)
    memory.settle(first, _result(first.order))
    memory.forget(second)
    await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert first.waiters is None and second.waiters is None
    await first.settled()  # settled already: returns at once


# ---------------------------------------------------------------------- memory journal


STATUSES = st.sampled_from(list(OrderStatus))


@settings(max_examples=60, deadline=None)
@given(status=STATUSES, sent=st.sampled_from([True, False, None]))
def test_the_memory_journal_fast_path_records_what_the_generic_path_records(
    status: OrderStatus, sent: bool | None
) -> None:
    order = _order("x-1")
    fields: dict[str, Any] = {"order_id": "B1"}
    if status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
        fields |= {"filled_quantity": "1" if status is OrderStatus.FILLED else "0.5"}
        fields |= {"average_price": "100"}
    try:
        result = _result(order, status.value, sent=sent, **fields)
    except ValueError:
        return  # a combination the result model refuses (sent=False with a fill, ...)

    async def both() -> tuple[Any, Any]:
        fast, slow = MemoryJournal(), MemoryJournal()
        for journal in (fast, slow):
            assert journal.claim_now(order, "p", {}) is None
        fast.note_result(result, {"ticket": "7"})
        slow.record_soon(JournalUpdate.from_result(result, hints={"ticket": "7"}))
        return await fast.get("x-1"), await slow.get("x-1")

    fast_entry, slow_entry = asyncio.run(both())
    assert fast_entry is not None and slow_entry is not None
    assert fast_entry.state is slow_entry.state is state_for(result)
    assert (fast_entry.result, fast_entry.hints) == (slow_entry.result, slow_entry.hints)


async def test_memory_journal_events_read_back_in_order_with_their_states() -> None:
    journal = MemoryJournal(max_closed=1)
    order = _order("e-1")
    assert journal.claim_now(order, "p", {}) is None
    journal.note_result(_result(order, "rejected", sent=False, error="no"), {})
    assert journal.claim_now(order, "p", {"venue": "v"}) is None  # not sent: claimed again
    journal.note_result(_result(order, "accepted", order_id="B1"), {"ticket": "1"})
    journal.note_result(_result(order, "canceled", order_id="B1"), {}, "status")
    events = await journal.events("e-1")
    assert [(e.kind, e.state, e.status) for e in events] == [
        ("intent", JournalState.SENDING, None),
        ("result", JournalState.NOT_SENT, OrderStatus.REJECTED),
        ("intent", JournalState.SENDING, None),
        ("result", JournalState.SENT, OrderStatus.ACCEPTED),
        ("status", JournalState.FINAL, OrderStatus.CANCELED),
    ]
    assert [e.detail for e in events[::2]] == [{"attempt": 1}, {"attempt": 2}, {}]
    entry = await journal.get("e-1")
    assert entry is not None
    assert (entry.attempt, entry.hints) == (2, {"venue": "v", "ticket": "1"})
    assert [e.at for e in events] == sorted(e.at for e in events)
    unclaimed = journal.claim_now(order, "p", {})
    assert unclaimed is not None and not unclaimed.claimed  # final: never claimed again
    other = _order("e-2")
    journal.claim_now(other, "p", {})
    journal.note_result(_result(other, "filled", filled_quantity="1", average_price="1"), {})
    assert await journal.get("e-1") is None  # max_closed=1: the older closed one is gone


async def test_prune_and_since_are_exact_at_the_boundary() -> None:
    from datetime import datetime, timedelta, timezone

    journal = MemoryJournal()
    order = _order("b-1")
    journal.claim_now(order, "p", {})
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    filled = _result(order, "filled", filled_quantity="1", average_price="1")
    journal.record_soon(JournalUpdate.from_result(filled, at=at))
    assert [e.client_order_id for e in await journal.entries(since=at)] == ["b-1"]
    assert await journal.entries(since=at + timedelta(microseconds=1)) == []
    assert await journal.prune(at) == 0  # changed at `at`, not before it
    assert await journal.prune(at + timedelta(microseconds=1)) == 1
    assert await journal.get("b-1") is None


def test_the_memory_journal_keeps_ten_thousand_closed_entries_by_default() -> None:
    journal = MemoryJournal()
    assert not MemoryJournal.durable  # forgotten when the process ends
    for n in range(10_001):
        order = _order(f"k-{n}")
        journal.claim_now(order, "p", {})
        journal.note_result(_result(order, "canceled"), {})
    assert journal.claim_now(_order("k-0"), "p", {}) is None  # forgotten: claimed anew
    unclaimed = journal.claim_now(_order("k-1"), "p", {})
    assert unclaimed is not None and not unclaimed.claimed  # still remembered
    for bad in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            MemoryJournal(max_closed=bad)


def test_a_result_without_client_id_or_entry_is_refused() -> None:
    journal = MemoryJournal()
    stray = ExecutionResult.for_cancel(plugin="p", status="canceled", order_id="B", symbol="X")
    with pytest.raises(ValueError, match="client order id"):
        journal.note_result(stray, {})
    with pytest.raises(Exception, match="no entry"):
        journal.note_result(_result(_order("never-claimed")), {})


# ---------------------------------------------------------------------- registry lifecycle


async def test_the_registry_alone_says_which_plugins_are_started(make_plugin: Any) -> None:
    registry = PluginRegistry(discover=False)
    alpha = make_plugin("alpha")
    registry.register("alpha", alpha)
    assert registry.started("alpha") is None and registry.started("nobody") is None
    plugin = await registry.ensure_started("alpha", None, retry_after_s=30)
    assert plugin is alpha and registry.started("alpha") is alpha
    await registry.close_all()
    assert registry.started("alpha") is None


async def test_a_failed_start_is_not_retried_until_its_pause_is_over(make_plugin: Any) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", make_plugin("alpha"))
    failing = {"fail_connect": True}
    with pytest.raises(BrokerUnavailable, match="unavailable"):
        await registry.ensure_started("alpha", failing, retry_after_s=30)
    assert "alpha" in registry.failures
    with pytest.raises(BrokerUnavailable, match="terminal not running"):
        await registry.ensure_started("alpha", None, retry_after_s=30)  # left alone
    assert await registry.ensure_started("alpha", None, retry_after_s=0)  # pause over
    assert "alpha" not in registry.failures


def test_discovery_reads_entry_points_once_and_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    import fks_exec._discovery as discovery

    calls: list[str] = []

    def entry_points(group: str) -> list[Any]:
        calls.append(group)
        return []

    monkeypatch.setattr(discovery, "entry_points", entry_points)
    registry = PluginRegistry()
    assert calls == []  # building a registry reads nothing
    assert registry.list_names() == [] and registry.list_names() == []
    assert calls == ["fks_exec.plugins"]


# ---------------------------------------------------------------------- routing


def test_routes_pick_plugin_then_first_matching_glob_then_default() -> None:
    routes = Routes("d", {"*/USDT": "a", "BTC/*": "b"}, {"a": ["b", "d"]})
    assert routes.route("BTC/USDT") == "a"  # first match wins
    assert routes.route("BTC/EUR") == "b"
    assert routes.route("EURUSD") == "d"
    assert routes.route("BTC/USDT", "x") == "x"
    assert routes.candidates("a") == ("a", "b", "d") and routes.candidates("b") == ("b",)
    assert routes.named() == {"a", "b", "d"}
    assert Routes(None, {}, {"p": ["q"]}).named() == {"p", "q"}  # fallbacks are named too
    with pytest.raises(RoutingError, match="no plugin for symbol"):
        Routes(None, {}, {}).route("X")


def test_the_route_cache_keeps_up_to_ten_thousand_symbols_then_starts_over() -> None:
    routes = Routes("d", {"X*": "x"}, None)
    for n in range(10_000):
        routes.route(f"S{n}")
    assert len(routes._cache) == 10_000 and routes._cache["S0"] == "d"
    assert routes.route("X1") == "x" and routes._cache == {"X1": "x"}  # full: cleared


@pytest.mark.parametrize("bad", [{"": "a"}, {"X": ""}, {"X": 3}, {3: "a"}])
def test_a_route_needs_a_glob_and_a_plugin_name(bad: dict[Any, Any]) -> None:
    with pytest.raises(ConfigurationError, match="is invalid"):
        Routes(None, bad, None)


def test_without_a_list_of_plugins_nothing_is_a_live_candidate() -> None:
    class Broken(PluginRegistry):
        def list_names(self) -> list[str]:
            raise ConfigurationError("FKS_EXEC_PLUGINS is malformed")

    assert Plan(None, None, None, None, None).live_candidates(Broken(discover=False)) == []


def test_the_plan_names_live_candidates_and_refuses_bad_limits(make_plugin: Any) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("listed", make_plugin("listed"))
    plan = Plan("a", {"X": "b"}, None, {"c": {"paper": True}, "d": {}}, None)
    assert plan.planned(registry) == ["a", "b", "c", "d"]
    assert plan.live_candidates(registry) == ["a", "b", "d"]
    assert Plan(None, None, None, None, None).planned(registry) == ["listed"]
    limits = dict(reconcile_delay_s=0.0, health_timeout_s=1.0, close_timeout_s=1.0)
    check_limits(reconcile_attempts=0, history_size=1, **limits)
    for bad, said in (
        (
            {"reconcile_attempts": -1, "history_size": 1},
            "reconcile_attempts must be 0 or more, got -1",
        ),
        ({"reconcile_attempts": 0, "history_size": 0}, "history_size must be at least 1, got 0"),
    ):
        with pytest.raises(ConfigurationError, match=f"^{said}$"):
            check_limits(**bad, **limits)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"health_timeout_s must be more than 0 s, got 0$"):
        check_limits(reconcile_attempts=0, history_size=1, **(limits | {"health_timeout_s": 0}))


# ---------------------------------------------------------------------- cancel by client id


def _quoted() -> MockBroker:
    broker = MockBroker()
    broker.set_price("BTC/USDT", last="50000")
    return broker


def _mock_registry(broker: MockBroker, *names: str) -> PluginRegistry:
    registry = PluginRegistry(discover=False)
    for name in names:
        plugin = MockPlugin(broker=broker)
        plugin.use_env = False
        registry.register(name, plugin)
    return registry


def _resting(cid: str) -> Order:
    return Order.limit("BTC/USDT", "buy", "0.01", "1000", client_order_id=cid)


async def test_a_cancel_by_client_id_beyond_the_memory_goes_to_the_plugin_that_took_it(
    tmp_path: Path,
) -> None:
    broker, other = _quoted(), _quoted()
    registry = _mock_registry(broker, "mock:a")
    registry.register("mock", MockPlugin(broker=other))
    journal = str(tmp_path / "j.sqlite3")  # the memory journal's records are the memory
    async with Executor(registry, default="mock", history_size=1, journal=journal) as ex:
        placed = await ex.execute(_resting("old-1"), plugin="mock:a")
        for i in range(3):  # push old-1 out of the in-memory window
            await ex.execute(_resting(f"new-{i}"), plugin="mock:a")
        assert ex._memory.get("old-1") is None
        canceled = await ex.cancel(client_order_id="old-1")
    assert (canceled.plugin, canceled.status, canceled.order_id) == (
        "mock:a",
        OrderStatus.CANCELED,
        placed.order_id,
    )
    assert broker.order(placed.order_id or "").status is OrderStatus.CANCELED


async def test_a_new_executor_cancels_by_client_id_through_the_journal(tmp_path: Path) -> None:
    broker = _quoted()
    path = tmp_path / "journal.sqlite3"
    async with Executor(
        _mock_registry(broker, "mock", "mock:b"), default="mock", journal=str(path)
    ) as first:
        placed = await first.execute(_resting("j-1"), plugin="mock:b")
    async with Executor(
        _mock_registry(broker, "mock", "mock:b"), default="mock", journal=str(path)
    ) as second:
        canceled = await second.cancel(client_order_id="j-1")
        with pytest.raises(RoutingError, match="no order was sent"):
            await second.cancel(client_order_id="never-used")
    assert (canceled.plugin, canceled.order_id) == ("mock:b", placed.order_id)
    assert broker.order(placed.order_id or "").status is OrderStatus.CANCELED


async def test_a_cancel_by_client_id_without_a_broker_id_looks_the_order_up_first(
    registry: PluginRegistry, beta: Any
) -> None:
    beta.on_order = lambda order: TimeoutError("answer lost")  # placed; result unknown
    async with Executor(registry, default="beta", reconcile_attempts=0, journal="memory") as ex:
        unknown = await ex.execute(Order.limit("X", "buy", 1, 50, client_order_id="u-1"))
        assert unknown.status is OrderStatus.UNKNOWN and unknown.order_id is None
        canceled = await ex.cancel(client_order_id="u-1")
        assert (canceled.plugin, canceled.order_id, canceled.symbol) == ("beta", "S1", "X")
        beta.known.clear()  # now the broker has nothing either
        await ex.execute(Order.limit("X", "buy", 1, 50, client_order_id="u-2"))
        beta.known.clear()
        with pytest.raises(RoutingError, match="not given order 'u-2' an order id"):
            await ex.cancel(client_order_id="u-2")


async def test_a_cancel_needs_exactly_one_id(registry: PluginRegistry) -> None:
    async with Executor(registry, default="mock", journal="memory") as ex:
        for kwargs in ({}, {"order_id": "B1", "client_order_id": "c"}):
            with pytest.raises(ValueError, match=r"order_id= .* or client_order_id="):
                await ex.cancel(**kwargs)


async def test_get_order_beyond_the_memory_asks_the_plugin_the_journal_names(
    registry: PluginRegistry, alpha: Any, beta: Any, tmp_path: Path
) -> None:

    def resting(order: Order) -> ExecutionResult:
        beta.known[order.client_order_id] = ExecutionResult.for_order(
            order, plugin="beta", status="accepted", order_id=f"S-{order.client_order_id}"
        )
        return beta.known[order.client_order_id]

    beta.on_order = resting
    journal = str(tmp_path / "j.sqlite3")  # the memory journal's records are the memory
    async with Executor(registry, default="alpha", history_size=1, journal=journal) as ex:
        for cid in ("g-1", "g-2", "g-3"):
            await ex.execute(Order.limit("X", "buy", 1, 50, client_order_id=cid), plugin="beta")
        assert ex._memory.get("g-1") is None
        found = await ex.get_order("g-1")
    assert found is not None and (found.plugin, found.order_id) == ("beta", "S-g-1")


# ---------------------------------------------------------------------- hot path rules

BOUND_S = 5.0  # a hang fails the test instead of stalling the suite; never a timing check


async def test_every_order_call_leaves_the_shutdown_count_as_it_found_it(
    registry: PluginRegistry, alpha: Any
) -> None:
    alpha.on_order = lambda order: BrokerUnavailable("down") if order.symbol == "N" else None
    async with Executor(registry, default="alpha", journal="memory") as ex:
        gate = ex._shutdown
        await ex.execute(Order.market("X", "buy", 1))
        with pytest.raises(BrokerUnavailable):
            await ex.execute(Order.market("N", "buy", 1))
        with pytest.raises(TypeError):
            await ex.execute("not an order")  # type: ignore[arg-type]
        assert gate.calls == 0


async def test_close_wakes_as_soon_as_the_last_order_in_flight_is_answered(
    registry: PluginRegistry, alpha: Any
) -> None:
    release = asyncio.Event()
    send = alpha._execute_order

    async def held(order: Order) -> ExecutionResult:
        await release.wait()
        return await send(order)

    alpha._execute_order = held
    ex = Executor(registry, default="alpha", journal="memory", close_timeout_s=600)
    await ex.start()
    call = asyncio.ensure_future(ex.execute(Order.market("X", "buy", 1)))
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(ex.close())
    await asyncio.sleep(0)
    release.set()
    await asyncio.wait_for(closing, BOUND_S)  # not the 600 s timeout: the last call woke it
    assert (await call).status is OrderStatus.FILLED


async def test_a_plugin_started_elsewhere_is_reconciled_before_its_first_order(
    make_plugin: Any,
) -> None:
    journal = MemoryJournal()
    alpha = make_plugin("alpha")
    left = Order.limit("X", "buy", 1, 50, client_order_id="left-1")
    alpha.known["left-1"] = ExecutionResult.for_order(
        left, plugin="alpha", status="accepted", order_id="S0"
    )
    assert journal.claim_now(left, "alpha", {}) is None  # an earlier handle's intent
    journal.owner = "elsewhere:1:gone"  # that handle is gone; this one is new
    registry = PluginRegistry(discover=False)
    registry.register("alpha", alpha)
    await registry.init("alpha")  # started, but not by the executor
    ex = Executor(registry, default="alpha", journal=journal)
    await ex.execute(Order.market("X", "buy", 1))
    entry = await journal.get("left-1")
    assert entry is not None and entry.state is JournalState.SENT  # found, recorded
    assert [o.client_order_id for o in alpha.sent][-1] != "left-1"  # never resent
    await ex.close()


# ---------------------------------------------------------------------- executor facade


def test_the_documented_defaults() -> None:
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(Executor).parameters.items()}
    assert defaults["history_size"] == 10_000
    assert defaults["reconcile_attempts"] == 3 and defaults["reconcile_delay_s"] == 0.2
    assert defaults["retry_init_after_s"] == 30.0 and defaults["close_timeout_s"] == 10.0


def test_importing_the_executor_does_not_import_signals() -> None:
    import subprocess
    import sys

    code = "import sys, fks_exec.executor; sys.exit('fks_exec.signals' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


async def test_a_quote_falls_back_and_a_failed_one_names_every_plugin(
    registry: PluginRegistry, alpha: Any, beta: Any
) -> None:

    async def down(symbol: str) -> Any:
        raise BrokerUnavailable(f"{symbol} feed down")

    alpha._fetch_data = down
    async with Executor(
        registry, default="alpha", fallbacks={"alpha": ["beta"]}, journal="memory"
    ) as ex:
        assert (await ex.fetch_data("X")).ask == 2  # from beta
        beta._fetch_data = down
        with pytest.raises(BrokerUnavailable) as caught:
            await ex.fetch_data("X")
    assert str(caught.value) == ("no quote for 'X' (alpha: X feed down; beta: X feed down)")


def test_from_env_uses_the_registry_it_is_given(registry: PluginRegistry) -> None:
    assert Executor.from_env(registry, journal="memory").registry is registry


class _HintingPlugin:
    """Mixed into the scripted plugin: hints that say which plugin gave them."""

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> dict[str, str]:
        return {"by": self.name}  # type: ignore[attr-defined]


async def test_the_journal_keeps_the_hints_of_the_plugin_that_got_the_order(
    registry: PluginRegistry, make_plugin: Any
) -> None:
    hinting = type("Hinting", (_HintingPlugin, make_plugin), {})
    alpha, beta = hinting("alpha"), hinting("beta")
    registry.register("alpha", alpha)
    registry.register("beta", beta)
    alpha.on_order = lambda order: BrokerUnavailable("down")
    async with Executor(
        registry, default="alpha", fallbacks={"alpha": ["beta"]}, journal="memory"
    ) as ex:
        await ex.execute(Order.market("X", "buy", 1, client_order_id="h-1"))
        entry = await ex.journal.get("h-1")
    assert entry is not None and (entry.plugin, entry.hints) == ("beta", {"by": "beta"})


async def test_the_first_order_to_a_plugin_started_on_demand_keeps_its_hints(
    registry: PluginRegistry, make_plugin: Any
) -> None:
    hinting = type("Hinting", (_HintingPlugin, make_plugin), {})
    registry.register("alpha", hinting("alpha"))
    ex = Executor(registry, default="alpha", journal="memory")  # never start()-ed
    await ex.execute(Order.market("X", "buy", 1, client_order_id="d-1"))
    entry = await ex.journal.get("d-1")
    assert entry is not None and entry.hints == {"by": "alpha"}
    await ex.close()


class _RecordingJournal(MemoryJournal):
    """Which write each update took; not the in-process fast path (its type differs)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, JournalState]] = []
        self.fail_close = False

    async def record(self, update: JournalUpdate) -> None:
        self.writes.append(("record", update.state))
        MemoryJournal.record_soon(self, update)  # applied at once, not counted twice

    def record_soon(self, update: JournalUpdate) -> None:
        self.writes.append(("record_soon", update.state))
        super().record_soon(update)

    async def close(self) -> None:
        if self.fail_close:
            from fks_exec.journal import JournalError

            raise JournalError("disk gone")


async def test_a_not_sent_answer_is_recorded_durably_and_a_sent_one_queued(
    registry: PluginRegistry, make_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fks_exec.journal.keeper as keeper_module

    monkeypatch.setattr(keeper_module, "MemoryJournal", type(None))  # no fast path here
    alpha = make_plugin("alpha")
    registry.register("alpha", alpha)
    journal = _RecordingJournal()
    async with Executor(registry, default="alpha", journal=journal) as ex:
        await ex.execute(Order.market("X", "buy", 1))
        alpha.on_order = lambda order: ExecutionResult.for_order(
            order, plugin="alpha", status="rejected", sent=False, error="refused"
        )
        await ex.execute(Order.market("X", "buy", 1))
    assert journal.writes == [
        ("record_soon", JournalState.FINAL),
        ("record", JournalState.NOT_SENT),
    ]


async def test_a_journal_that_fails_to_close_is_logged_not_raised(
    registry: PluginRegistry, make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    registry.register("alpha", make_plugin("alpha"))
    journal = _RecordingJournal()
    journal.fail_close = True
    async with Executor(registry, default="alpha", journal=journal):
        pass
    assert any("closing the journal failed: disk gone" in r.getMessage() for r in caplog.records)


async def test_a_plugin_that_failed_to_start_is_not_reconciled_at_start(
    registry: PluginRegistry, alpha: Any
) -> None:
    journal = MemoryJournal()
    journal.claim_now(Order.limit("X", "buy", 1, 50, client_order_id="o-1"), "alpha", {})
    journal.owner = "elsewhere:1:gone"
    ex = Executor(
        registry, default="alpha", journal=journal, configs={"alpha": {"fail_connect": True}}
    )
    failures = await ex.start()
    assert set(failures) == {"alpha"} and not ex._keeper.is_recovered("alpha")
    entry = await journal.get("o-1")
    assert entry is not None and entry.state is JournalState.SENDING  # left for later
    await ex.close()


# ---------------------------------------------------------------------- once per client id


def _counting_lookups(plugin: Any) -> list[str]:
    looked: list[str] = []
    get = plugin._get_order

    async def counted(client_order_id: str) -> ExecutionResult | None:
        looked.append(client_order_id)
        return await get(client_order_id)

    plugin._get_order = counted
    return looked


async def test_a_repeat_beyond_the_memory_is_answered_from_the_journal(
    registry: PluginRegistry, alpha: Any, tmp_path: Path
) -> None:
    looked = _counting_lookups(alpha)
    rest = Order.limit("X", "buy", 1, 50, client_order_id="r-rest")
    fill = Order.market("X", "buy", 1, client_order_id="r-fill")
    alpha.on_order = lambda order: (
        ExecutionResult.for_order(order, plugin="alpha", status="accepted", order_id="S-rest")
        if order is rest
        else None
    )
    journal = str(tmp_path / "j.sqlite3")  # the memory journal's records are the memory
    async with Executor(registry, default="alpha", history_size=1, journal=journal) as ex:
        await ex.execute(rest)
        filled = await ex.execute(fill)
        for n in range(2):  # both leave the in-memory window
            await ex.execute(Order.market("X", "buy", 1, client_order_id=f"r-{n}"))
        assert ex._memory.get("r-rest") is None and ex._memory.get("r-fill") is None
        alpha.known["r-rest"] = ExecutionResult.for_order(
            rest, plugin="alpha", status="canceled", order_id="S-rest"
        )
        assert (await ex.execute(fill)) == filled and looked == []  # final: no lookup
        again = await ex.execute(rest)  # open: the broker is asked, and it changed
        assert again.status is OrderStatus.CANCELED and looked == ["r-rest"]
    assert [o.client_order_id for o in alpha.sent].count("r-rest") == 1


async def test_a_repeat_in_memory_looks_up_only_an_unknown_and_journals_what_it_found(
    registry: PluginRegistry, alpha: Any
) -> None:
    lost = Order.market("X", "buy", 1, client_order_id="m-lost")
    alpha.on_order = lambda order: TimeoutError("answer lost") if order is lost else None
    visible: dict[str, ExecutionResult] = {}  # what the broker shows when asked
    looked: list[str] = []

    async def lookup(client_order_id: str) -> ExecutionResult | None:
        looked.append(client_order_id)
        return visible.get(client_order_id)

    alpha._get_order = lookup
    async with Executor(
        registry, default="alpha", reconcile_attempts=1, reconcile_delay_s=0, journal="memory"
    ) as ex:
        done = Order.market("X", "buy", 1, client_order_id="m-done")
        await ex.execute(done)
        await ex.execute(done)
        assert looked == []  # a filled result is returned as it is
        assert (await ex.execute(lost)).status is OrderStatus.UNKNOWN
        assert (await ex.execute(lost)).status is OrderStatus.UNKNOWN  # still not shown
        assert "reconciled" not in [e.kind for e in await ex.journal.events("m-lost")]
        visible["m-lost"] = ExecutionResult.for_order(
            lost, plugin="alpha", status="filled", filled_quantity=1, average_price=100
        )
        assert (await ex.execute(lost)).status is OrderStatus.FILLED
        assert looked == ["m-lost"] * 3
        kinds = [e.kind for e in await ex.journal.events("m-lost")]
    assert kinds[-1] == "reconciled" and kinds.count("reconciled") == 1
    assert [o.client_order_id for o in alpha.sent].count("m-lost") == 1


async def test_a_call_cancelled_in_flight_is_remembered_and_journaled_unknown(
    registry: PluginRegistry, alpha: Any
) -> None:
    held = asyncio.Event()
    send = alpha._execute_order

    async def hold(order: Order) -> ExecutionResult:
        await held.wait()
        return await send(order)

    alpha._execute_order = hold
    async with Executor(registry, default="alpha", journal="memory") as ex:
        call = asyncio.ensure_future(ex.execute(Order.market("X", "buy", 1, client_order_id="i-1")))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        remembered = ex._memory.get("i-1")
        assert remembered is not None and remembered.result is not None
        assert (remembered.result.status, remembered.result.plugin) == (
            OrderStatus.UNKNOWN,
            "alpha",
        )
        entry = await ex.journal.get("i-1")
        assert entry is not None and entry.state is JournalState.UNKNOWN
        assert [e.kind for e in await ex.journal.events("i-1")][-1] == "interrupted"


# ---------------------------------------------------------------------- registry details


async def test_a_health_check_that_raises_or_hangs_is_unhealthy_with_what_happened(
    make_plugin: Any,
) -> None:
    import fks_exec.registry as registry_module

    assert registry_module.DEFAULT_HEALTH_TIMEOUT_S == 5.0

    class Raising(make_plugin):  # type: ignore[misc, valid-type]
        async def health_check(self) -> Any:  # outside the guard, as a careless override
            raise RuntimeError("socket closed")

    registry = PluginRegistry(discover=False)
    raising, hanging = Raising("raising"), make_plugin("hanging")
    hanging.health_delay_s = 60
    for plugin in (raising, hanging):
        registry.register(plugin.name, plugin)
        await registry.init(plugin.name)
    report = await asyncio.wait_for(registry.health(timeout=0.25), BOUND_S)
    assert (report["raising"].healthy, report["raising"].detail) == (
        False,
        "RuntimeError: socket closed",
    )
    assert (report["hanging"].healthy, report["hanging"].latency_ms) == (False, 250.0)
    await registry.close_all()


async def test_close_all_closes_every_plugin_and_logs_each_failure(
    make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Stuck(make_plugin):  # type: ignore[misc, valid-type]
        async def close(self) -> None:  # outside the guard, as a careless override
            self.closed += 1
            raise RuntimeError(f"{self.name} stuck")

    registry = PluginRegistry(discover=False)
    plugins = [Stuck("a"), Stuck("b"), make_plugin("c")]
    for plugin in plugins:
        registry.register(plugin.name, plugin)
        await registry.init(plugin.name)
    await registry.close_all()
    assert [p.closed for p in plugins] == [1, 1, 1]
    failed = sorted(r.getMessage() for r in caplog.records if "closing plugin" in r.getMessage())
    assert len(failed) == 2 and "'a'" in failed[0] and "'b'" in failed[1]


async def test_a_start_that_breaks_the_contract_is_a_plugin_init_error(make_plugin: Any) -> None:
    from fks_exec import PluginInitError

    class Broken(make_plugin):  # type: ignore[misc, valid-type]
        async def init(self, config: Any = None) -> None:
            raise KeyError("no such setting")

    registry = PluginRegistry(discover=False)
    registry.register("broken", Broken("broken"))
    with pytest.raises(PluginInitError, match="failed to start"):
        await registry.init("broken")
    assert isinstance(registry.failures["broken"], PluginInitError)


def test_failed_within_holds_for_exactly_the_pause(
    make_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fks_exec.registry as registry_module

    now = [100.0]
    monkeypatch.setattr(registry_module.time, "monotonic", lambda: now[0])
    registry = PluginRegistry(discover=False)
    error = RuntimeError("down")
    registry._record_failure("alpha", error)
    now[0] = 129.5
    assert registry.failed_within("alpha", 30) is error
    now[0] = 130.0
    assert registry.failed_within("alpha", 30) is None  # the pause is over at 30 s
    assert registry.failed_within("nobody", 30) is None


def test_a_plugin_loaded_at_last_forgets_its_load_failure(
    make_plugin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", make_plugin("alpha"))
    registry._record_failure("alpha", RuntimeError("import failed"))
    assert registry.load("alpha") is registry.get("alpha")
    assert "alpha" not in registry.failures and registry.failed_within("alpha", 60) is None
    registry._record_failure("alpha", RuntimeError("start failed"))
    registry.load("alpha")  # loaded before: its start failure still holds
    assert "alpha" in registry.failures


async def test_get_order_journals_a_status_change_once(
    registry: PluginRegistry, alpha: Any
) -> None:
    order = Order.limit("X", "buy", 1, 50, client_order_id="s-1")
    alpha.on_order = lambda o: ExecutionResult.for_order(
        o, plugin="alpha", status="accepted", order_id="S1"
    )
    async with Executor(registry, default="alpha", journal="memory") as ex:
        await ex.execute(order)
        alpha.known["s-1"] = ExecutionResult.for_order(
            order, plugin="alpha", status="canceled", order_id="S1"
        )
        for _ in range(3):
            assert (await ex.get_order("s-1")).status is OrderStatus.CANCELED  # type: ignore[union-attr]
        kinds = [e.kind for e in await ex.journal.events("s-1")]
        assert kinds == ["intent", "result", "status"]
        assert (await ex.execute(order)).status is OrderStatus.CANCELED  # the repeat sees it


# ---------------------------------------------------------------------- discovery details


def test_discovered_plugins_carry_their_distribution_and_version() -> None:
    from importlib.metadata import version

    infos = {i.name: i for i in PluginRegistry().list_infos()}
    assert infos["mock"].distribution == "fks-exec"
    assert infos["mock"].version == version("fks-exec")


def test_not_found_names_what_to_install_only_when_it_helps() -> None:
    empty = PluginRegistry(discover=False)
    from fks_exec import PluginNotFound

    with pytest.raises(PluginNotFound) as unknown:
        empty.load("zzz")
    assert "Installable: ccxt (pip install fks-exec-ccxt), mt5 (pip install fks-exec-mt5)" in (
        str(unknown.value)
    )
    with pytest.raises(PluginNotFound) as known_kind:
        empty.load("ccxt")
    assert "pip install fks-exec-ccxt" in str(known_kind.value)
    assert "Installable" not in str(known_kind.value)
    with pytest.raises(PluginNotFound) as everything_installed:
        PluginRegistry().load("zzz")
    assert "Installable" not in str(everything_installed.value)


def test_an_instance_name_is_enabled_and_loaded_through_its_plugin() -> None:
    registry = PluginRegistry(enabled=["mock"], discover=False)
    registry.register("mock", MockPlugin)
    assert registry.is_enabled("mock:b")
    loaded = registry.load("mock:b")
    assert isinstance(loaded, MockPlugin) and loaded.name == "mock:b"
    shared = MockPlugin()
    registry.register("mock", shared, replace=True)
    other = registry.load("mock:c")  # one object cannot be two instances: a new one
    assert other is not shared and isinstance(other, MockPlugin)
    with pytest.raises(ConfigurationError, match="PLUGIN:INSTANCE"):
        registry.is_enabled("mock:")


def test_a_conflict_over_a_plugin_also_refuses_its_instances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fks_exec._discovery as discovery
    from fks_exec import PluginLoadError

    class Dist:
        def __init__(self, name: str) -> None:
            self.name, self.version = name, "1.0"

    class EntryPoint:
        def __init__(self, dist: str) -> None:
            self.name, self.value, self.dist = "dup", f"{dist}:Plugin", Dist(dist)

    monkeypatch.setattr(
        discovery, "entry_points", lambda group: [EntryPoint("a-dist"), EntryPoint("b-dist")]
    )
    with pytest.raises(PluginLoadError, match=r"a-dist .* and b-dist"):
        PluginRegistry().load("dup:x")


def test_a_registered_plugin_that_fails_to_build_gets_no_reinstall_hint(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fks_exec import PluginLoadError

    class Ccxt(MockPlugin):
        name = "ccxt"  # type: ignore[assignment]

        def __init__(self) -> None:
            raise ValueError("bad default")

    registry = PluginRegistry(discover=False)
    registry.register("ccxt", Ccxt)
    with pytest.raises(PluginLoadError) as caught:
        registry.load("ccxt")
    assert "ValueError: bad default" in str(caught.value)
    assert "reinstall" not in str(caught.value)


def test_a_class_whose_name_differs_from_its_registration_is_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    registry.register("paper", MockPlugin)
    registry.load("mock")
    assert not [r for r in caplog.records if "says its name is" in r.getMessage()]
    registry.load("paper")
    assert [r for r in caplog.records if "says its name is 'mock'" in r.getMessage()]


# ---------------------------------------------------------------------- after a send

BOUND_S = 5.0  # a hang fails the test instead of stalling the suite; never a timing check


class _TwoRecordsJournal(MemoryJournal):
    """The memory journal, not its class: the executor keeps its own entry beside it."""


def _journal_for(kind: str, tmp_path: Path) -> Any:
    return {
        "memory": lambda: "memory",
        "two records": _TwoRecordsJournal,
        "sqlite": lambda: str(tmp_path / "j.sqlite3"),
    }[kind]()


AFTER_SEND_PATHS = [
    (kind, fallbacks) for kind in ("memory", "two records", "sqlite") for fallbacks in (False, True)
]


class _NoneHints:
    """Mixed into the scripted plugin: hints at the claim, None (a missing return) after."""

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Any:
        return {"claim": "yes"} if result is None else None


@pytest.mark.parametrize(("kind", "fallbacks"), AFTER_SEND_PATHS)
async def test_a_hints_hook_returning_none_after_a_send_still_answers_and_records(
    registry: PluginRegistry,
    make_plugin: Any,
    tmp_path: Path,
    kind: str,
    fallbacks: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alpha = type("NoneHints", (_NoneHints, make_plugin), {})("alpha")
    registry.register("alpha", alpha)
    registry.register("beta", make_plugin("beta"))
    more: dict[str, Any] = {"fallbacks": {"alpha": ["beta"]}} if fallbacks else {}
    order = Order.market("X", "buy", 1, client_order_id="nh-1")
    journal = _journal_for(kind, tmp_path)
    async with Executor(registry, default="alpha", journal=journal, **more) as ex:
        first = await asyncio.wait_for(ex.execute(order), BOUND_S)
        again = await asyncio.wait_for(ex.execute(order), BOUND_S)
        await ex.journal.flush()
        entry = await ex.journal.get("nh-1")
    assert (first.status, first.sent, again.order_id) == (OrderStatus.FILLED, True, "S1")
    assert len(alpha.sent) == 1
    assert entry is not None and entry.state is JournalState.FINAL
    assert entry.hints == {"claim": "yes"}
    logged = [r.getMessage() for r in caplog.records if r.name == "fks_exec.plugins.alpha"]
    assert logged == [
        "_lookup_hints returned NoneType, not a mapping: no lookup hints are journaled "
        "(orders are still sent); make the hook return a dict of strings, {} for none"
    ]


def _break_recording(ex: Executor) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    journal: Any = ex.journal
    for name in ("note_record", "note_result", "record_result_soon"):
        setattr(journal, name, boom)
    if ex._journaled is not None:
        ex._journaled.note_record = boom


@pytest.mark.parametrize(("kind", "fallbacks"), AFTER_SEND_PATHS)
async def test_a_failure_recording_a_sent_answer_still_gives_the_caller_its_result(
    registry: PluginRegistry,
    alpha: Any,
    beta: Any,
    tmp_path: Path,
    kind: str,
    fallbacks: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    more: dict[str, Any] = {"fallbacks": {"alpha": ["beta"]}} if fallbacks else {}
    order = Order.market("X", "buy", 1, client_order_id="rf-1")
    journal = _journal_for(kind, tmp_path)
    async with Executor(registry, default="alpha", journal=journal, **more) as ex:
        _break_recording(ex)
        first = await asyncio.wait_for(ex.execute(order), BOUND_S)
        again = await asyncio.wait_for(ex.execute(order), BOUND_S)  # answered, not hung
        entry = await ex.journal.get("rf-1")
    assert (first.status, first.order_id) == (OrderStatus.FILLED, "S1")
    assert again == first and len(alpha.sent) == 1 and beta.sent == []
    assert entry is not None and entry.state is JournalState.SENDING  # the next start looks
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "order rf-1 was sent (filled) but recording its answer failed (RuntimeError: disk "
        "on fire); the journal keeps it open until the next start reconciles it"
    ]


async def test_a_failure_recording_an_interrupted_send_still_settles_the_id(
    registry: PluginRegistry, alpha: Any
) -> None:
    gate = asyncio.Event()
    alpha.on_order = lambda o: None
    original = alpha._execute_order

    async def stuck(order: Order) -> ExecutionResult:
        await gate.wait()
        answer: ExecutionResult = await original(order)
        return answer

    alpha._execute_order = stuck
    order = Order.market("X", "buy", 1, client_order_id="ri-1")
    async with Executor(registry, default="alpha", journal=_TwoRecordsJournal()) as ex:
        call = asyncio.ensure_future(ex.execute(order))
        await asyncio.sleep(0.01)
        _break_recording(ex)
        call.cancel()
        with pytest.raises(RuntimeError, match="disk on fire"):
            await call
        again = await asyncio.wait_for(ex.execute(order), BOUND_S)  # not hung
    assert again.status is OrderStatus.UNKNOWN and alpha.sent == []
    assert "the call was cancelled while the order was in flight" in (again.error or "")


# ---------------------------------------------------------------------- bad arguments

_PLUGIN_ERROR = (
    "plugin= takes a plugin name (text such as 'mock' or 'ccxt:okx-testnet') or None, "
    "got {kind} {value!r}; nothing was sent"
)


@pytest.mark.parametrize("kind", ["memory", "two records", "sqlite"])
@pytest.mark.parametrize("bad", [123, b"alpha", ["alpha"], 0, 1.5])
async def test_a_plugin_that_is_not_a_name_is_refused_before_anything_is_claimed(
    registry: PluginRegistry, alpha: Any, tmp_path: Path, kind: str, bad: Any
) -> None:
    order = Order.market("X", "buy", 1, client_order_id="bp-1")
    async with Executor(registry, default="alpha", journal=_journal_for(kind, tmp_path)) as ex:
        with pytest.raises(TypeError) as caught:
            await ex.execute(order, plugin=bad)
        assert str(caught.value) == _PLUGIN_ERROR.format(kind=type(bad).__name__, value=bad)
        assert await ex.journal.get("bp-1") is None and alpha.sent == []
        assert ex._memory.get("bp-1") is None
        retried = await asyncio.wait_for(ex.execute(order), BOUND_S)
        with pytest.raises(TypeError, match="plugin= takes a plugin name"):
            await ex.execute(order, plugin=bad)  # a known id: refused the same way
        entry = await ex.journal.get("bp-1")
    assert retried.status is OrderStatus.FILLED and len(alpha.sent) == 1
    assert entry is not None and entry.plugin == "alpha"


@pytest.mark.parametrize(("bad", "kind"), [("buy 1 X", "str"), (None, "NoneType")])
async def test_a_bad_order_is_named_before_a_bad_plugin(
    registry: PluginRegistry, bad: Any, kind: str
) -> None:
    async with Executor(registry, default="mock", journal="memory") as ex:
        for plugin in (123, None):
            with pytest.raises(TypeError) as caught:
                await ex.execute(bad, plugin=plugin)
            assert str(caught.value) == (
                f"execute takes an Order, got {kind}; build one with Order.market(...) or "
                "Order.limit(...)"
            )


def test_route_refuses_a_plugin_that_is_not_a_name() -> None:
    routes = Routes("a", None, None)
    with pytest.raises(TypeError) as caught:
        routes.route("X", b"a")  # type: ignore[arg-type]
    assert str(caught.value) == _PLUGIN_ERROR.format(kind="bytes", value=b"a")
    assert routes.route("X", "b") == "b" and routes.route("X", "") == "a"


_CALLS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["ok", "bad plugin", "none hints"])),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(calls=_CALLS, two_records=st.booleans())
def test_any_sequence_of_calls_sends_each_id_once_and_always_answers(
    make_plugin: Any, calls: list[tuple[int, str]], two_records: bool
) -> None:
    hints: list[Any] = [{}]
    sent: dict[str, int] = {}

    class Plugin(make_plugin):  # type: ignore[misc]
        def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Any:
            return hints[0]

    async def run() -> None:
        plugin = Plugin("alpha")
        registry = PluginRegistry(discover=False)
        registry.register("alpha", plugin)
        journal: Any = _TwoRecordsJournal() if two_records else "memory"
        async with Executor(registry, default="alpha", journal=journal) as ex:
            for index, kind in calls:
                cid = f"seq-{index}"
                order = Order.market("X", "buy", 1, client_order_id=cid)
                hints[0] = None if kind == "none hints" else {"n": str(index)}
                if kind == "bad plugin":
                    with pytest.raises(TypeError):
                        await ex.execute(order, plugin=index)  # type: ignore[arg-type]
                    continue
                result = await asyncio.wait_for(ex.execute(order), BOUND_S)
                assert result.status is OrderStatus.FILLED
                sent[cid] = 1
            for cid in sent:
                entry = await ex.journal.get(cid)
                assert entry is not None and entry.state is JournalState.FINAL
        assert sorted(o.client_order_id for o in plugin.sent) == sorted(sent)

    asyncio.run(run())


@pytest.mark.parametrize("kind", ["memory", "two records", "sqlite"])
async def test_a_failure_recording_what_a_repeat_found_still_gives_it_the_result(
    registry: PluginRegistry,
    alpha: Any,
    tmp_path: Path,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lost = Order.market("X", "buy", 1, client_order_id="rr-1")
    alpha.on_order = lambda order: TimeoutError("answer lost")
    alpha._get_order = lambda cid: asyncio.sleep(0, None)  # the broker shows nothing yet
    journal = _journal_for(kind, tmp_path)
    async with Executor(
        registry, default="alpha", reconcile_attempts=1, reconcile_delay_s=0, journal=journal
    ) as ex:
        assert (await ex.execute(lost)).status is OrderStatus.UNKNOWN
        found = ExecutionResult.for_order(
            lost, plugin="alpha", status="filled", filled_quantity=1, average_price=100
        )
        alpha._get_order = lambda cid: asyncio.sleep(0, found)
        _break_recording(ex)
        again = await asyncio.wait_for(ex.execute(lost), BOUND_S)
        third = await asyncio.wait_for(ex.execute(lost), BOUND_S)  # remembered now
    assert again.status is OrderStatus.FILLED and third.status is OrderStatus.FILLED
    assert [o.client_order_id for o in alpha.sent] == ["rr-1"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "order rr-1 was sent (filled) but recording its answer failed (RuntimeError: disk "
        "on fire); the journal keeps it open until the next start reconciles it"
    ]
