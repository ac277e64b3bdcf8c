"""The in-process journal keeps what it remembers per id cheap for the garbage collector
(issue 21): a result's event holds atoms only, so once the collector has seen it, it no
longer tracks it; details that were given still read back exactly.
"""

from __future__ import annotations

import gc
from decimal import Decimal

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.models import JournalState, JournalUpdate


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
