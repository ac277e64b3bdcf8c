"""The in-process journal keeps what it remembers per id cheap for the garbage collector
(issue 21): a result's event holds atoms only, so once the collector has seen it, it no
longer tracks it; details that were given still read back exactly.
"""

from __future__ import annotations

import gc
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec._order_memory import JournaledMemory
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.models import JournalState, JournalUpdate, state_for


def _filled(order: Order) -> ExecutionResult:
    return ExecutionResult.for_order(
        order,
        plugin="p",
        status=OrderStatus.FILLED,
        filled_quantity=order.quantity,
        average_price=Decimal(100),
        order_id="b-1",
    )


async def test_a_settled_ids_events_are_not_tracked_by_the_collector() -> None:
    journal = MemoryJournal()
    orders = [Order.market("X", "buy", 1) for _ in range(50)]
    for order in orders:
        assert journal.claim_now(order, "p", {}) is None
        journal.note_result(_filled(order), {})
    gc.collect()
    records = [journal._records[o.client_order_id] for o in orders]
    assert records and not any(gc.is_tracked(r.events) for r in records)
    events = await journal.events(orders[0].client_order_id)
    assert [(e.kind, e.state, e.detail) for e in events] == [
        ("intent", JournalState.SENDING, {"attempt": 1}),
        ("result", JournalState.FINAL, {}),
    ]


async def test_details_given_read_back_and_an_empty_one_reads_as_empty() -> None:
    journal = MemoryJournal()
    order = Order.market("X", "buy", 1)
    cid = order.client_order_id
    journal.claim_now(order, "p", {})
    journal.record_soon(
        JournalUpdate(cid, JournalState.NOT_SENT, "not_sent", detail={"error": "down"})
    )
    assert journal.claim_now(order, "p", {}) is None  # not sent: claimed again
    journal.record_soon(JournalUpdate(cid, JournalState.SENDING, "fallback", plugin="q"))
    journal.note_result(_filled(order), {"venue": "v"})
    events = await journal.events(cid)
    assert [(e.kind, e.detail) for e in events] == [
        ("intent", {"attempt": 1}),
        ("not_sent", {"error": "down"}),
        ("intent", {"attempt": 2}),
        ("fallback", {}),
        ("result", {}),
    ]
    entry = await journal.get(cid)
    assert entry is not None and entry.plugin == "q" and entry.hints == {"venue": "v"}


async def test_ids_without_hints_share_one_empty_mapping_that_nothing_changes() -> None:
    journal = MemoryJournal()
    first, second = Order.market("X", "buy", 1), Order.market("X", "buy", 1)
    journal.claim_now(first, "p", {})
    journal.claim_now(second, "p", {})
    shared = journal._records[first.client_order_id].hints
    assert shared is journal._records[second.client_order_id].hints and not shared
    read = await journal.get(first.client_order_id)
    assert read is not None and read.hints == {} and read.hints is not shared
    read.hints["venue"] = "changed"  # a reader's copy: the record does not change
    journal.note_result(_filled(first), {"venue": "v"})
    assert journal._records[first.client_order_id].hints == {"venue": "v"}
    assert not shared and journal._records[second.client_order_id].hints is shared
    entry = await journal.get(second.client_order_id)
    assert entry is not None and entry.hints == {}


async def test_a_final_answer_forgets_the_oldest_closed_id_exactly_past_the_bound() -> None:
    journal = MemoryJournal(max_closed=2)
    orders = [Order.market("X", "buy", 1) for _ in range(4)]
    for order in orders[:3]:
        journal.claim_now(order, "p", {})
        journal.note_result(_filled(order), {})
    assert list(journal._records) == [o.client_order_id for o in orders[1:3]]
    journal.claim_now(orders[3], "p", {})  # in flight: never forgotten
    journal.note_result(_filled(orders[1]), {})  # a closed id answered again moves last
    assert list(journal._closed) == [orders[2].client_order_id, orders[1].client_order_id]
    journal.note_result(_filled(orders[3]), {})
    assert set(journal._records) == {orders[1].client_order_id, orders[3].client_order_id}
    assert list(journal._closed) == [orders[1].client_order_id, orders[3].client_order_id]


def test_an_answered_order_still_open_is_never_forgotten_by_the_window() -> None:
    journal = MemoryJournal(max_closed=1)
    resting = Order.limit("X", "buy", 1, 50)
    journal.claim_now(resting, "p", {})
    journal.note_result(
        ExecutionResult.for_order(resting, plugin="p", status="accepted", order_id="r"), {}
    )
    for order in [Order.market("X", "buy", 1) for _ in range(3)]:
        journal.claim_now(order, "p", {})
        journal.note_result(_filled(order), {})
    assert resting.client_order_id in journal.records  # open: kept whatever closes after


_ops = st.lists(
    st.tuples(
        st.sampled_from(("claim", "answer", "answer_read", "status", "refuse", "update", "settle")),
        st.integers(0, 2),
        st.sampled_from(("filled", "accepted", "unknown")),
    ),
    max_size=24,
)


@settings(max_examples=150, deadline=None)
@given(ops=_ops)
@example(ops=[("claim", 0, "filled"), ("answer", 0, "filled"), ("settle", 0, "accepted")])
@example(ops=[("claim", 0, "filled"), ("answer", 0, "accepted"), ("update", 0, "filled")])
@example(
    ops=[
        ("claim", 0, "filled"),
        ("refuse", 0, "filled"),
        ("claim", 0, "filled"),
        ("answer", 0, "filled"),
    ]
)
@example(ops=[("claim", 0, "filled"), ("answer_read", 0, "accepted"), ("status", 0, "filled")])
def test_every_change_reads_back_as_the_event_it_wrote(ops: list[tuple[str, int, str]]) -> None:
    # A record's first answer is not stored as an event tuple but read from the record
    # while it lasts; whatever changes the record next (another answer, an update, a new
    # claim after not_sent, a settled result that writes no event) must first write it
    # out as it was. Checked against a plain list of what each call wrote.
    journal = MemoryJournal(max_closed=50)
    memory = JournaledMemory(journal)
    orders = [Order.market("X", "buy", 1, client_order_id=f"e-{i}") for i in range(3)]
    written: dict[str, list[tuple[str, JournalState, OrderStatus | None]]] = {}
    for op, i, status in ops:
        order = orders[i]
        cid = order.client_order_id
        record = journal.records.get(cid)
        fill = {"filled_quantity": 1, "average_price": 1} if status == "filled" else {}
        answer = ExecutionResult.for_order(order, plugin="p", status=status, **fill)
        if op == "claim":
            if journal.claim_record(order, "p", {}) is not None:
                written.setdefault(cid, []).append(("intent", JournalState.SENDING, None))
        elif record is None:
            continue
        elif op in ("answer", "answer_read", "status"):
            given = answer.status if op == "answer" else None
            kind = "status" if op == "status" else "result"
            journal.note_record(record, answer, {}, kind, given)
            written[cid].append((kind, state_for(answer), answer.status))
        elif op == "refuse":
            refusal = ExecutionResult.for_order(order, plugin="p", status="rejected", sent=False)
            journal.note_record(record, refusal, {})
            written[cid].append(("result", JournalState.NOT_SENT, OrderStatus.REJECTED))
        elif op == "update":
            journal.record_soon(JournalUpdate(cid, JournalState.UNKNOWN, "reconcile"))
            written[cid].append(("reconcile", JournalState.UNKNOWN, None))
        else:  # a later result that is not worth an event
            memory.settle(record, answer)
    for cid, events in written.items():
        record = journal.records[cid]
        read = record.read_events()
        assert [(e.kind, e.state, e.status) for e in read] == events
        stamps = [e.at for e in read]
        assert stamps == sorted(stamps) and stamps[-1] == record.entry().updated_at
