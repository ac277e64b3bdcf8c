"""A conformance suite every journal backend's tests subclass: :class:`JournalConformance`.

Subclass it in a test module and provide an async ``journal`` fixture that yields an
opened backend (and closes it)::

    class TestMyJournal(JournalConformance):
        @pytest.fixture
        async def journal(self, tmp_path):
            j = MyJournal(...); await j.open(); yield j; await j.close()
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from fks_exec.journal.base import Journal, JournalError
from fks_exec.journal.models import JournalState, JournalUpdate
from fks_exec.models import ExecutionResult, Order, OrderStatus

__all__ = ["JournalConformance"]


def _order(cid: str, quantity: str = "1") -> Order:
    return Order.limit("BTC/USDT", "buy", quantity, "100.10", client_order_id=cid)


def _result(order: Order, status: str, **fields: object) -> ExecutionResult:
    return ExecutionResult.for_order(order, plugin="p", status=status, **fields)


class JournalConformance:
    """The guarantees of :class:`~fks_exec.journal.Journal`, as tests."""

    async def test_claim_commits_an_intent_once(self, journal: Journal) -> None:
        order = _order("c-1")
        first = await journal.claim(order, "p", {"venue_id": "x-c-1"})
        assert first.claimed
        assert first.entry.state is JournalState.SENDING
        assert first.entry.attempt == 1
        again = await journal.claim(order, "q", {})
        assert not again.claimed
        assert again.entry.plugin == "p"
        assert again.entry.order.same_request(order)
        assert again.entry.hints == {"venue_id": "x-c-1"}
        stored = await journal.get("c-1")
        assert stored is not None and stored.order == order
        assert [e.kind for e in await journal.events("c-1")] == ["intent"]

    async def test_results_and_events_are_recorded(self, journal: Journal) -> None:
        order = _order("c-2")
        await journal.claim(order, "p", {})
        accepted = _result(order, "accepted", order_id="B1")
        await journal.record(JournalUpdate.from_result(accepted, hints={"ticket": "7"}))
        filled = _result(order, "filled", order_id="B1", filled_quantity="1", average_price="100")
        journal.record_soon(JournalUpdate.from_result(filled, "status"))
        await journal.flush()
        entry = await journal.get("c-2")
        assert entry is not None
        assert entry.state is JournalState.FINAL
        assert entry.result == filled
        assert entry.hints == {"ticket": "7"}
        events = await journal.events("c-2")
        assert [(e.kind, e.state, e.status) for e in events] == [
            ("intent", JournalState.SENDING, None),
            ("result", JournalState.SENT, OrderStatus.ACCEPTED),
            ("status", JournalState.FINAL, OrderStatus.FILLED),
        ]

    async def test_a_not_sent_id_can_be_claimed_again(self, journal: Journal) -> None:
        order = _order("c-3")
        await journal.claim(order, "p", {})
        await journal.record(JournalUpdate("c-3", JournalState.NOT_SENT, "not_sent"))
        retry = await journal.claim(_order("c-3", "2"), "q", {})
        assert retry.claimed
        assert retry.entry.attempt == 2
        assert retry.entry.plugin == "q"
        stored = await journal.get("c-3")
        assert stored is not None and stored.order.quantity == 2 and stored.result is None
        assert [e.kind for e in await journal.events("c-3")] == ["intent", "not_sent", "intent"]

    @pytest.mark.parametrize("state", [JournalState.SENT, JournalState.UNKNOWN, JournalState.FINAL])
    async def test_a_sent_id_is_never_claimed_again(
        self, journal: Journal, state: JournalState
    ) -> None:
        order = _order("c-4")
        await journal.claim(order, "p", {})
        await journal.record(JournalUpdate("c-4", state, "result"))
        assert not (await journal.claim(order, "p", {})).claimed

    async def test_recording_an_unknown_id_fails(self, journal: Journal) -> None:
        with pytest.raises(JournalError, match="nope"):
            await journal.record(JournalUpdate("nope", JournalState.FINAL, "result"))

    async def test_entries_filter_and_sort(self, journal: Journal) -> None:
        for cid, plugin in [("e-1", "a"), ("e-2", "b"), ("e-3", "a")]:
            await journal.claim(_order(cid), plugin, {})
        await journal.record(JournalUpdate("e-1", JournalState.FINAL, "result"))
        newest_first = [e.client_order_id for e in await journal.entries()]
        assert newest_first == ["e-1", "e-3", "e-2"]
        assert [e.client_order_id for e in await journal.entries(open_only=True)] == [
            "e-3",
            "e-2",
        ]
        assert {e.client_order_id for e in await journal.entries(plugins=["a"])} == {
            "e-1",
            "e-3",
        }
        assert await journal.entries(plugins=[]) == []
        assert len(await journal.entries(limit=1)) == 1
        later = datetime.now(timezone.utc) + timedelta(seconds=1)
        assert await journal.entries(since=later) == []

    async def test_prune_never_touches_open_entries(self, journal: Journal) -> None:
        for cid in ("p-1", "p-2", "p-3", "p-4", "p-5"):
            await journal.claim(_order(cid), "p", {})
        await journal.record(JournalUpdate("p-1", JournalState.FINAL, "result"))
        await journal.record(JournalUpdate("p-2", JournalState.NOT_SENT, "not_sent"))
        await journal.record(JournalUpdate("p-3", JournalState.UNKNOWN, "result"))
        await journal.record(JournalUpdate("p-5", JournalState.SENT, "result"))
        future = datetime.now(timezone.utc) + timedelta(days=1)
        assert await journal.prune(datetime.now(timezone.utc) - timedelta(days=1)) == 0
        assert await journal.prune(future) == 2
        assert {e.client_order_id for e in await journal.entries()} == {"p-3", "p-4", "p-5"}
        assert await journal.events("p-1") == []

    async def test_claim_to_send_answers_none_only_for_a_won_claim(self, journal: Journal) -> None:
        order = _order("s-1")
        assert await journal.claim_to_send(order, "p", {"venue_id": "v-1"}) is None
        stored = await journal.get("s-1")
        assert stored is not None and stored.state is JournalState.SENDING
        assert stored.hints == {"venue_id": "v-1"} and stored.order == order
        held = await journal.claim_to_send(order, "q", {})
        assert held is not None and not held.claimed
        assert held.entry.plugin == "p" and held.entry.state is JournalState.SENDING
        await journal.record(JournalUpdate("s-1", JournalState.NOT_SENT, "not_sent"))
        assert await journal.claim_to_send(_order("s-1", "2"), "q", {}) is None  # taken over
        retried = await journal.get("s-1")
        assert retried is not None and retried.attempt == 2 and retried.plugin == "q"

    async def test_record_result_soon_records_the_result(self, journal: Journal) -> None:
        order = _order("s-2")
        await journal.claim(order, "p", {"venue_id": "v-2"})
        accepted = _result(order, "accepted", order_id="B2")
        journal.record_result_soon(accepted, {"ticket": "9"})
        filled = _result(order, "filled", order_id="B2", filled_quantity="1", average_price="100")
        journal.record_result_soon(filled, {}, "status")
        await journal.flush()
        entry = await journal.get("s-2")
        assert entry is not None and entry.state is JournalState.FINAL and entry.result == filled
        assert entry.hints == {"venue_id": "v-2", "ticket": "9"}
        events = await journal.events("s-2")
        assert [(e.kind, e.state, e.status, dict(e.detail)) for e in events[1:]] == [
            ("result", JournalState.SENT, OrderStatus.ACCEPTED, {}),
            ("status", JournalState.FINAL, OrderStatus.FILLED, {}),
        ]
        assert events[2].at == entry.updated_at  # the event's time is the entry's change
        anonymous = accepted.model_copy(update={"client_order_id": None})
        with pytest.raises(ValueError, match="client order id"):
            journal.record_result_soon(anonymous, {})
