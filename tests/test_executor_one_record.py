"""One record per client order id when the journal is ``memory`` (issue 21).

With the in-process journal the executor's memory of an id *is* the journal's record
(:class:`~fks_exec._order_memory.JournaledMemory`). A :class:`MemoryJournal` subclass
still takes the older path (the executor's own :class:`OrderMemory` entry beside the
journal's record), so the two can be run side by side on the same random streams of
executes, repeats, reused ids, direct calls, lookups, evictions and restarts: every
answer, every error and every arrival at the broker must be the same.
"""

from __future__ import annotations

import asyncio
import gc
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fks_exec import (
    BrokerUnavailable,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec._order_memory import JournaledMemory, OrderMemory
from fks_exec.journal import JournalState, JournalUpdate
from fks_exec.journal.memory import MemoryJournal

BOUND_S = 5.0  # a hang fails the test instead of stalling the suite; never a timing check
IDS = ("a", "b", "c")
BEHAVIOURS = ("fill", "rest", "refuse", "down", "lost")


class _TwoRecords(MemoryJournal):
    """The memory journal, but not the class itself: the executor keeps its own entry."""


def _plugin(make_plugin: Any, plan: dict[str, str]) -> Any:
    plugin = make_plugin("alpha")
    send = plugin._execute_order

    async def yielding(order: Order) -> ExecutionResult:
        await asyncio.sleep(0)  # a second call of the same id can come in meanwhile
        result: ExecutionResult = await send(order)
        return result

    def act(order: Order) -> Any:
        behaviour = plan.get(order.client_order_id, "fill")
        if behaviour not in ("down", "refuse"):  # what reached the broker (lost: it did)
            plugin.arrived.append(order.client_order_id)
        if behaviour == "down":
            return BrokerUnavailable("not connected")
        if behaviour == "lost":
            return TimeoutError("answer lost")  # arrived (the broker shows it accepted)
        if behaviour == "refuse":
            return ExecutionResult.for_order(
                order, plugin="alpha", status="rejected", sent=False, error="refused here"
            )
        if behaviour == "rest":
            return ExecutionResult.for_order(
                order, plugin="alpha", status="accepted", order_id=f"R-{order.client_order_id}"
            )
        return None  # filled

    plugin.arrived = []
    plugin.on_order = act
    plugin._execute_order = yielding
    return plugin


def _order(cid: str, variant: int) -> Order:
    return Order.market("X", "buy", 1 + variant, client_order_id=cid)


def _outcome(result: Any) -> tuple[Any, ...]:
    if isinstance(result, BaseException):
        return ("error", type(result).__name__)
    if result is None:
        return ("none",)
    return ("ok", result.status, result.sent, result.order_id, result.filled_quantity)


_step = st.one_of(
    st.tuples(
        st.sampled_from(("execute", "twice", "direct")),
        st.sampled_from(IDS),
        st.integers(0, 1),
        st.sampled_from(BEHAVIOURS),
    ),
    st.tuples(st.sampled_from(("restart", "filler")), st.just("z"), st.just(0), st.just("")),
    st.tuples(st.just("get"), st.sampled_from(IDS), st.just(0), st.just("")),
)


async def _journaled(journal: MemoryJournal) -> list[Any]:
    """Every entry the journal keeps and its events, all but the clock readings (which
    must run forward within each id)."""
    kept = []
    for entry in sorted(await journal.entries(), key=lambda e: e.client_order_id):
        events = await journal.events(entry.client_order_id)
        stamps = [e.at for e in events]
        assert stamps == sorted(stamps) and entry.created_at <= entry.updated_at
        assert stamps[0] == entry.created_at and stamps[-1] == entry.updated_at
        kept.append(
            (
                entry.client_order_id,
                entry.state,
                entry.attempt,
                entry.plugin,
                _outcome(entry.result),
                entry.hints,
                [(e.kind, e.state, e.status, e.detail) for e in events],
            )
        )
    return kept


async def _play(
    make_plugin: Any, journal: MemoryJournal, window: int, steps: list[Any]
) -> tuple[list[Any], list[str], list[Any], list[str]]:
    plan: dict[str, str] = {}
    plugin = _plugin(make_plugin, plan)
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    ex = Executor(
        registry,
        default="alpha",
        journal=journal,
        history_size=window,
        reconcile_attempts=1,
        reconcile_delay_s=0,
    )
    seen: list[Any] = []
    fillers = 0
    await ex.start()
    for kind, cid, variant, behaviour in steps:
        if behaviour:
            plan[cid] = behaviour
        order = _order(cid, variant)
        if kind == "restart":
            await ex.close()
            await ex.start()
            continue
        if kind == "filler":
            fillers += 1
            calls = [ex.execute(Order.market("X", "buy", 1, client_order_id=f"f-{fillers}"))]
        elif kind == "execute":
            calls = [ex.execute(order)]
        elif kind == "twice":
            calls = [ex.execute(order), ex.execute(order)]
        elif kind == "direct":
            calls = [plugin.execute_order(order)]
        else:
            calls = [ex.get_order(cid)]
        answers = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), BOUND_S)
        seen.extend(_outcome(a) for a in answers)
    await ex.close()
    sent = [o.client_order_id for o in plugin.sent]
    return seen, sent, await _journaled(journal), plugin.arrived


_FIXTURE_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
# make_plugin is the plugin class itself: nothing of it is shared between examples.


@settings(max_examples=100, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(steps=st.lists(_step, max_size=14))
@example(  # found in CI: a direct call after a restart, before the executor sent again
    steps=[
        ("execute", "a", 0, "fill"),
        ("execute", "b", 0, "rest"),
        ("restart", "z", 0, ""),
        ("execute", "a", 0, "fill"),
        ("direct", "b", 0, "lost"),
        ("get", "b", 0, ""),
    ]
)
def test_one_record_answers_as_the_two_did(make_plugin: Any, steps: list[Any]) -> None:
    # A window no stream fills: nothing is forgotten, so every answer must be the same,
    # and so must what the journal keeps (entries and events: the one record's answers
    # are journaled by note_record with the status the executor read, the two records'
    # by note_result).
    async def both() -> None:
        merged = await _play(make_plugin, MemoryJournal(max_closed=50), 50, steps)
        two = await _play(make_plugin, _TwoRecords(max_closed=50), 50, steps)
        assert merged == two

    asyncio.run(both())


@settings(max_examples=100, deadline=None, suppress_health_check=_FIXTURE_OK)
@given(window=st.sampled_from((1, 2, 3)), steps=st.lists(_step, max_size=14))
@example(  # found on 3.13: a refused id forgotten by the one record's not-sent window
    window=1,
    steps=[
        ("execute", "a", 0, "refuse"),
        ("execute", "b", 0, "down"),
        ("execute", "a", 1, "fill"),
    ],
)
@example(  # the other way round: b refused, forgotten by the two records, sent there
    window=2,
    steps=[
        ("twice", "b", 0, "refuse"),
        ("execute", "c", 0, "down"),
        ("twice", "b", 1, "refuse"),
        ("execute", "b", 0, "rest"),
    ],
)
def test_one_record_never_sends_an_id_more_often_than_the_two(
    make_plugin: Any, window: int, steps: list[Any]
) -> None:
    # Forgetting differs: the two records forgot by two windows (the executor's counted
    # every settled id, the journal's every closed one), the one record forgets a final
    # id only past max_closed newer final ones, and an id refused before sending (or not
    # sent at all) in a window of its own, and direct calls now see every id the journal
    # keeps. So an id that reached the broker is kept at least as long, and no id reaches
    # the broker *again* more often than before. What differs is harmless: an id refused
    # before sending may be forgotten sooner or later than before, so a different order
    # under it is sent (its first arrival) where the two records refused it as a
    # duplicate, or the other way round. So the count is of repeat arrivals at the broker
    # (filled, resting, or answer lost), not of first ones.
    async def both() -> None:
        merged = await _play(make_plugin, MemoryJournal(max_closed=window), window, steps)
        two = await _play(make_plugin, _TwoRecords(max_closed=window), window, steps)
        for cid in set(merged[3]):
            again, before = merged[3].count(cid) - 1, max(two[3].count(cid) - 1, 0)
            assert again <= before, (cid, merged[3], two[3])

    asyncio.run(both())


def _setup(make_plugin: Any, plan: dict[str, str], **kwargs: Any) -> tuple[Any, Executor]:
    plugin = _plugin(make_plugin, plan)
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    return plugin, Executor(registry, default="alpha", reconcile_delay_s=0, **kwargs)


async def test_the_memory_journal_is_the_executors_only_record(make_plugin: Any) -> None:
    _, ex = _setup(make_plugin, {}, journal="memory")
    async with ex:
        result = await ex.execute(Order.market("X", "buy", 1, client_order_id="o-1"))
        assert isinstance(ex._memory, JournaledMemory)
        record = ex.journal.records["o-1"]  # type: ignore[attr-defined]
        assert ex._memory.get("o-1") is record and record.result is result
        assert ex._order_memory.get("o-1") is None  # nothing kept beside it
        # This test's own frame refers to it too on 3.10 (frames are objects there).
        referrers = [r for r in gc.get_referrers(record) if not isinstance(r, FrameType)]
        assert referrers == [ex.journal._records]  # type: ignore[attr-defined]
    _, other = _setup(make_plugin, {}, journal=_TwoRecords())
    assert isinstance(other._memory, OrderMemory)


async def test_an_id_not_sent_is_journaled_not_sent_and_sent_by_its_retry(
    make_plugin: Any,
) -> None:
    plan = {"n-1": "down"}
    plugin, ex = _setup(make_plugin, plan, journal="memory")
    order = Order.market("X", "buy", 1, client_order_id="n-1")
    async with ex:
        with pytest.raises(BrokerUnavailable):
            await ex.execute(order)
        entry = await ex.journal.get("n-1")
        assert entry is not None and entry.state is JournalState.NOT_SENT
        assert ex._memory.get("n-1") is None  # kept by the journal, not remembered
        plan["n-1"] = "fill"
        other = Order.market("X", "buy", 2, client_order_id="n-1")  # never sent: may differ
        assert (await ex.execute(other)).status is OrderStatus.FILLED
        entry = await ex.journal.get("n-1")
        assert entry is not None and entry.attempt == 2 and entry.state is JournalState.FINAL
    assert [o.quantity for o in plugin.sent] == [2]


async def test_a_refused_id_retried_is_claimed_again_once(make_plugin: Any) -> None:
    plan = {"r-1": "refuse"}
    plugin, ex = _setup(make_plugin, plan, journal="memory")
    order = Order.market("X", "buy", 1, client_order_id="r-1")
    async with ex:
        assert (await ex.execute(order)).sent is False
        plan["r-1"] = "fill"
        again = await asyncio.gather(ex.execute(order), ex.execute(order))
        assert [r.status for r in again] == [OrderStatus.FILLED] * 2
        assert ex.stats["repeat"] == 2
        entry = await ex.journal.get("r-1")
        assert entry is not None and entry.attempt == 2
    assert [o.client_order_id for o in plugin.sent] == ["r-1", "r-1"]  # refused, then one


async def test_a_broker_id_is_found_only_after_it_was_asked_for_once(make_plugin: Any) -> None:
    plan = {"k-1": "rest", "k-2": "rest"}
    _, ex = _setup(make_plugin, plan, journal="memory")
    async with ex:
        await ex.execute(Order.limit("X", "buy", 1, 50, client_order_id="k-1"))
        memory = ex._memory
        assert isinstance(memory, JournaledMemory) and memory._by_order_id == {}
        assert memory.by_order_id("R-k-1") is ex.journal.records["k-1"]  # type: ignore[attr-defined]
        await ex.execute(Order.limit("X", "buy", 1, 50, client_order_id="k-2"))
        assert memory._by_order_id["R-k-2"] == "k-2"  # indexed as it is answered now
        assert memory.by_order_id("R-k-2") is ex.journal.records["k-2"]  # type: ignore[attr-defined]
        assert memory.by_order_id("R-none") is None
        assert (await ex.cancel("R-k-2")).plugin == "alpha"


def test_the_broker_id_index_is_rebuilt_before_it_outgrows_the_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = MemoryJournal(max_closed=3)
    memory = JournaledMemory(journal)
    flying = memory.claim(Order.market("X", "buy", 1, client_order_id="i-fly"), "p", None)
    assert flying is not None and flying.result is None  # no result: nothing to index
    assert memory.by_order_id("none") is None  # indexing from now on
    rebuilds: list[int] = []
    rebuild = memory._reindex
    monkeypatch.setattr(memory, "_reindex", lambda: (rebuilds.append(1), rebuild())[1])
    for n in range(200):
        order = Order.market("X", "buy", 1, client_order_id=f"i-{n}")
        record = memory.claim(order, "p", None)
        assert record is not None
        memory.answered(
            record,
            ExecutionResult.for_order(
                order,
                plugin="p",
                status="filled",
                order_id=f"B-{n}",
                filled_quantity=1,
                average_price=1,
            ),
            None,
        )
        assert len(memory._by_order_id) <= 2 * len(journal.records) + 64
    assert memory.by_order_id("B-199") is journal.records["i-199"]
    assert memory.by_order_id("B-0") is None  # forgotten with its record
    assert 1 <= len(rebuilds) <= 4  # about once per 68 orders here: never once per order


def _filled(order: Order, order_id: str | None = None) -> ExecutionResult:
    return ExecutionResult.for_order(
        order,
        plugin="p",
        status="filled",
        order_id=order_id,
        filled_quantity=order.quantity,
        average_price=1,
    )


def test_a_hinting_plugin_is_asked_at_the_claim_and_the_answer_and_others_never(
    make_plugin: Any,
) -> None:
    asked: list[str] = []

    class Hinting(make_plugin):  # type: ignore[misc,valid-type]
        def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> dict[str, str]:
            asked.append("answer" if result is not None else "claim")
            return {"at": asked[-1]} if result is None else {"ticket": "T1"}

    class Quiet(make_plugin):  # type: ignore[misc,valid-type]
        def lookup_hints(self, order: Order, result: ExecutionResult | None = None) -> Any:
            raise AssertionError("a plugin keeping the base hook is never asked")

    journal = MemoryJournal()
    memory = JournaledMemory(journal)
    for plugin in (Hinting("h"), Quiet("q"), Quiet("q"), Hinting("h")):
        order = Order.market("X", "buy", 1)
        record = memory.claim(order, plugin.name, plugin)
        assert record is not None
        memory.answered(record, _filled(order), plugin)
        hints = dict(record.hints)
        assert hints == ({"at": "claim", "ticket": "T1"} if plugin.name == "h" else {})
    assert asked == ["claim", "answer"] * 2


def test_what_the_memory_holds_of_each_record() -> None:
    journal = MemoryJournal()
    memory = JournaledMemory(journal)
    orders = [Order.market("X", "buy", 1, client_order_id=f"h-{n}") for n in range(4)]
    records = [memory.claim(order, "p", None) for order in orders]
    assert all(r is not None and memory.holds(r) for r in records)  # all in flight
    done, refused, unsent, flying = (r for r in records if r is not None)
    memory.answered(done, _filled(orders[0], "B0"), None)
    refusal = ExecutionResult.for_order(
        orders[1], plugin="p", status="rejected", sent=False, error="no"
    )
    memory.answered(refused, refusal, None)
    journal.record_soon(JournalUpdate(orders[2].client_order_id, JournalState.NOT_SENT, "not_sent"))
    memory.forget(unsent)  # nothing was sent: nothing to give up
    assert memory._released == set()
    assert [memory.holds(r) for r in (done, refused, unsent, flying)] == [True, True, False, True]
    assert memory.results() == [done.result, refusal]  # claim order; none in flight
    memory.forget(refused)  # its retry is being sent
    assert not memory.holds(refused) and memory.get("h-1") is None
    assert memory.results() == [done.result]
    again = memory.claim(orders[1], "p", None)  # claimed again: remembered again
    assert again is refused and memory.holds(again) and memory._released == set()
    assert memory.claim(orders[0], "p", None) is None  # a final id is never claimed again


def test_a_broker_id_that_moved_to_another_result_is_not_found_under_the_old_one() -> None:
    memory = JournaledMemory(MemoryJournal())
    order = Order.limit("X", "buy", 1, 50, client_order_id="m-1")
    record = memory.claim(order, "p", None)
    assert record is not None
    memory.answered(
        record,
        ExecutionResult.for_order(order, plugin="p", status="accepted", order_id="OLD"),
        None,
    )
    assert memory.by_order_id("OLD") is record
    memory.settle(
        record, ExecutionResult.for_order(order, plugin="p", status="accepted", order_id="NEW")
    )
    assert memory.by_order_id("NEW") is record and memory.by_order_id("OLD") is None


async def test_a_waiter_on_a_record_is_woken_by_its_answer_and_by_forget() -> None:
    journal = MemoryJournal()
    memory = JournaledMemory(journal)
    first, second = (Order.market("X", "buy", 1, client_order_id=c) for c in ("w-1", "w-2"))
    answered, dropped = memory.claim(first, "p", None), memory.claim(second, "p", None)
    assert answered is not None and dropped is not None
    waiting = [asyncio.ensure_future(r.settled()) for r in (answered, answered, dropped)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiting)
    memory.answered(answered, _filled(first), None)
    journal.record_soon(JournalUpdate("w-2", JournalState.NOT_SENT, "not_sent"))
    memory.forget(dropped)
    await asyncio.wait_for(asyncio.gather(*waiting), BOUND_S)
    assert answered.waiters is None and dropped.waiters is None
    await asyncio.wait_for(answered.settled(), BOUND_S)  # settled already: at once
