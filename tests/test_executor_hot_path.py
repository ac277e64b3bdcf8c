"""The executor's hot path reads less than it did, and must still mean the same (issue 21).

Per order it now reads the registry's plugins and the plugin's started flag itself
(instead of calling ``registry.started``), reads each field of the order and the result
once (a pydantic model's field is a slow lookup), hands the status it read to the memory
journal, and the journal keeps the client id on its record. These tests pin what the
longer path did in each of those places.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.journal import JournalState
from fks_exec.journal.memory import MemoryJournal


def _executor(plugin: Any, **kwargs: Any) -> Executor:
    registry = PluginRegistry(discover=False)
    registry.register("alpha", plugin)
    return Executor(registry, default="alpha", journal="memory", **kwargs)


async def test_a_plugin_closed_behind_the_executors_back_is_started_again(
    make_plugin: Any,
) -> None:
    plugin = make_plugin("alpha")
    ex = _executor(plugin)
    async with ex:
        first = await ex.execute(Order.market("X", "buy", 1, client_order_id="h-1"))
        assert first.status is OrderStatus.FILLED
        await plugin.close()  # not through the executor: its registry still holds it
        assert ex.registry.instances["alpha"] is plugin and not plugin.is_initialized
        again = await ex.execute(Order.market("X", "buy", 1, client_order_id="h-2"))
        assert again.status is OrderStatus.FILLED and plugin.is_initialized
    assert [o.client_order_id for o in plugin.sent] == ["h-1", "h-2"]


async def test_the_registrys_plugins_are_the_loaded_ones_started_or_not(
    make_plugin: Any,
) -> None:
    registry = PluginRegistry(discover=False)
    plugin = make_plugin("alpha")
    registry.register("alpha", plugin)
    assert "alpha" not in registry.instances or not plugin.is_initialized
    assert registry.started("alpha") is None
    registry.load("alpha")
    assert registry.instances["alpha"] is plugin and registry.started("alpha") is None
    ex = Executor(registry, default="alpha", journal="memory")
    async with ex:
        # loaded, not started: the order starts it, then it is sent
        result = await ex.execute(Order.market("X", "buy", 1, client_order_id="l-1"))
        assert result.status is OrderStatus.FILLED and registry.started("alpha") is plugin


_results = st.lists(
    st.tuples(
        st.sampled_from(("filled", "accepted", "unknown", "rejected", "refused")),
        st.booleans(),  # answered once more (a later status)
    ),
    min_size=1,
    max_size=8,
)


def _answer(order: Order, kind: str) -> ExecutionResult:
    if kind == "refused":
        return ExecutionResult.for_order(order, plugin="p", status="rejected", sent=False)
    fill = {"filled_quantity": order.quantity, "average_price": 1} if kind == "filled" else {}
    return ExecutionResult.for_order(order, plugin="p", status=kind, order_id="B", **fill)


def _kept(journal: MemoryJournal) -> list[Any]:
    return [
        (
            cid,
            r.cid,
            r.state,
            r.attempt,
            r.result,
            r.hints,
            [(e.kind, e.state, e.status, e.detail) for e in r.read_events()],
        )
        for cid, r in journal.records.items()
    ]


@settings(max_examples=60, deadline=None)
@given(answers=_results, window=st.integers(1, 3))
def test_a_status_the_caller_read_journals_what_reading_it_again_would(
    answers: list[tuple[str, bool]], window: int
) -> None:
    # note_record with the status the executor read (it knows the answer was sent) and
    # note_record reading the result itself must keep the same records, events and
    # windows, for every state an answer can leave.
    given_status, read_here = MemoryJournal(max_closed=window), MemoryJournal(max_closed=window)
    for i, (kind, again) in enumerate(answers):
        order = Order.market("X", "buy", 1, client_order_id=f"s-{i}")
        answer, later = _answer(order, kind), _answer(order, "filled")
        for journal in (given_status, read_here):
            record = journal.claim_record(order, "p", {})
            assert record is not None and record.cid == order.client_order_id
            status = answer.status if journal is given_status and answer.sent else None
            journal.note_record(record, answer, {}, "result", status)
            if again and record.state.is_open:  # a later answer of a resting order
                status = later.status if journal is given_status else None
                journal.note_record(record, later, {}, "status", status)
    assert _kept(given_status) == _kept(read_here)
    states = {r.state for r in given_status.records.values()}
    assert states <= set(JournalState)
