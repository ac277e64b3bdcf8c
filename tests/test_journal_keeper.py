"""The journal keeper on its own: claims that wait for another live holder, lease
renewal, status notes for orders not in memory, reconciliation outcomes, the bracket
hand-over after a restart (``resume_order``) and the summary line.

Two handles on one SQLite file stand for two processes: a handle is "live" while a
keeper holds it open, and "gone" once that keeper closed it (see ``Journal.is_gone``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fks_exec import (
    BrokerUnavailable,
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    HealthStatus,
    MarketData,
    NotSupported,
    Order,
    OrderStatus,
)
from fks_exec.journal import JournalError, JournalState, JournalUpdate, MemoryJournal, SqliteJournal
from fks_exec.journal.keeper import JournalKeeper
from fks_exec.journal.recovery import resume, summary_line


def _order(cid: str, **kw: Any) -> Order:
    return Order.market("X", "buy", 1, client_order_id=cid, **kw)


def _result(order: Order, status: OrderStatus, filled: str = "0", **kw: Any) -> ExecutionResult:
    fields: dict[str, Any] = {"filled_quantity": Decimal(filled)}
    if Decimal(filled):
        fields["average_price"] = Decimal(100)
    return ExecutionResult.for_order(order, plugin="p", status=status, **fields, **kw)


def _sqlite(path: Path, claim_wait_s: float) -> SqliteJournal:
    journal = SqliteJournal(path, synchronous="normal")
    journal.claim_wait_s = claim_wait_s
    return journal


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[JournalKeeper, JournalKeeper]]:
    """Two keepers, each with its own open handle on one file ("two processes")."""
    first = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 5.0))
    second = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 5.0))
    await first.ensure_open()
    await second.ensure_open()
    yield first, second
    await second.close()
    await first.close()


# ---------------------------------------------------------------------- claim waits


async def test_a_claim_waits_for_the_live_holder_and_answers_its_result(
    two: tuple[JournalKeeper, JournalKeeper],
) -> None:
    first, second = two
    order = _order("w-1")
    assert await first.claim(order, "p", None) is None  # first sends it
    waiting = asyncio.ensure_future(second.claim(order, "p", None))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # held by a live holder: second waits, never sends
    await first.journal.record(JournalUpdate.from_result(_result(order, OrderStatus.FILLED, "1")))
    entry = await asyncio.wait_for(waiting, 5)
    assert entry is not None and entry.state is JournalState.FINAL
    assert entry.result is not None and entry.result.status is OrderStatus.FILLED


async def test_a_claim_takes_the_id_once_the_holder_gives_it_up(
    two: tuple[JournalKeeper, JournalKeeper],
) -> None:
    first, second = two
    order = _order("w-2")
    assert await first.claim(order, "p", None) is None
    waiting = asyncio.ensure_future(second.claim(order, "p", None))
    await asyncio.sleep(0.05)
    await first.record_not_sent(order, BrokerUnavailable("refused"))
    assert await asyncio.wait_for(waiting, 5) is None  # second now owns the send
    entry = await second.journal.get("w-2")
    assert entry is not None and entry.owner == second.journal.owner and entry.attempt == 2


async def test_a_claim_adopts_the_entry_of_a_holder_that_is_gone(tmp_path: Path) -> None:
    first = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 5.0))
    second = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 5.0))
    order = _order("w-3")
    assert await first.claim(order, "p", None) is None
    await first.close()  # its handle is gone: nothing will record a result
    try:
        entry = await asyncio.wait_for(second.claim(order, "p", None), 1)
        assert entry is not None and entry.state is JournalState.SENDING
        assert entry.owner == second.journal.owner  # adopted: the caller reconciles it
        stored = await second.journal.get("w-3")
        assert stored is not None and stored.owner == second.journal.owner
    finally:
        await second.close()


async def test_a_claim_gives_up_waiting_after_claim_wait_s(tmp_path: Path) -> None:
    first = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 5.0))
    second = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 0.15))
    order = _order("w-4")
    attempts: list[str] = []
    try:
        assert await first.claim(order, "p", None) is None
        await second.ensure_open()
        real_claim = second.journal.claim_to_send

        async def counted(*args: Any) -> Any:
            attempts.append("claim")
            return await real_claim(*args)

        second.journal.claim_to_send = counted  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        began = loop.time()
        entry = await asyncio.wait_for(second.claim(order, "p", None), 5)
        waited = loop.time() - began
        assert entry is not None and entry.state is JournalState.SENDING
        assert entry.owner == first.journal.owner  # still the live holder's: never sent
        assert waited >= 0.15  # it did wait (a bound below, never a wall-clock ceiling)
        # Pauses of 10, 20, 40, 80 ms fill 0.15 s: a few attempts, never a busy loop.
        assert 1 <= len(attempts) <= 8, len(attempts)
    finally:
        await second.close()
        await first.close()


async def test_a_different_order_under_a_held_id_is_answered_at_once(
    two: tuple[JournalKeeper, JournalKeeper],
) -> None:
    first, second = two
    assert await first.claim(_order("w-5"), "p", None) is None
    other = Order.market("X", "sell", 2, client_order_id="w-5")
    entry = await asyncio.wait_for(second.claim(other, "p", None), 1)  # wait is 5 s
    assert entry is not None and entry.order.side.value == "buy"  # the caller refuses it


async def test_the_pauses_between_claim_attempts_grow_and_stay_bounded(
    two: tuple[JournalKeeper, JournalKeeper], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two
    order = _order("w-6")
    assert await first.claim(order, "p", None) is None
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        pauses.append(delay)
        if len(pauses) == 8:
            await first.journal.record(
                JournalUpdate.from_result(_result(order, OrderStatus.FILLED, "1"))
            )
        return await real_sleep(0, result)

    monkeypatch.setattr("fks_exec.journal.keeper.asyncio.sleep", sleep)
    entry = await asyncio.wait_for(second.claim(order, "p", None), 5)
    assert entry is not None and entry.state is JournalState.FINAL
    assert pauses[:6] == [0.01, 0.02, 0.04, 0.08, 0.16, 0.2]
    assert pauses[6:] == [0.2, 0.2]


# ---------------------------------------------------------------------- leases


class _Leasing(MemoryJournal):
    def __init__(self, lease_s: float, fail_first: int = 0) -> None:
        super().__init__()
        self.lease_s = lease_s
        self.renewals = 0
        self.released = 0
        self.fail_first = fail_first
        self.calls: list[str] = []

    async def renew_leases(self) -> None:
        self.renewals += 1
        if self.renewals <= self.fail_first:
            raise JournalError("server away")

    async def flush(self) -> None:
        self.calls.append("flush")
        await super().flush()

    async def release_leases(self) -> None:
        self.calls.append("release")

    async def close(self) -> None:
        self.calls.append("close")
        await super().close()


async def test_leases_are_renewed_every_third_of_lease_s_and_failures_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal = _Leasing(lease_s=0.06, fail_first=1)
    keeper = JournalKeeper(journal)
    await keeper.ensure_open()
    with caplog.at_level(logging.WARNING, logger="fks_exec.journal"):
        for _ in range(200):
            if journal.renewals >= 3:
                break
            await asyncio.sleep(0.01)
    assert journal.renewals >= 3  # the failed renewal did not end the loop
    assert "renewing leases failed (retried): server away" in caplog.text
    await keeper.close()
    after = journal.renewals
    await asyncio.sleep(0.1)
    assert journal.renewals == after  # closing stops the renewals
    assert journal.calls == ["flush", "release", "close"]


async def test_no_renewal_comes_before_a_third_of_lease_s() -> None:
    journal = _Leasing(lease_s=3.0)
    keeper = JournalKeeper(journal)
    await keeper.ensure_open()
    await asyncio.sleep(0.2)
    assert journal.renewals == 0
    await keeper.close()


async def test_an_open_keeper_marks_its_handle_live_and_close_forgets_it(tmp_path: Path) -> None:
    journal = _sqlite(tmp_path / "j.sqlite3", 1.0)
    keeper = JournalKeeper(journal)
    other = SqliteJournal(tmp_path / "j.sqlite3")
    await keeper.ensure_open()
    assert not other.is_gone(journal.owner)
    assert not keeper.claims_at_once  # a file journal is always awaited
    owner = journal.owner
    await keeper.close()
    assert other.is_gone(owner) and journal.owner != owner  # reopened, it owns anew
    memory = JournalKeeper(MemoryJournal())
    await memory.ensure_open()
    assert memory.claims_at_once
    await memory.close()
    assert not memory.claims_at_once


# ---------------------------------------------------------------------- recording


async def test_note_status_appends_only_a_change_of_an_entry_it_has(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    order = _order("n-1")
    try:
        assert await keeper.claim(order, "p", None) is None
        accepted = _result(order, OrderStatus.ACCEPTED)
        await keeper.journal.record(JournalUpdate.from_result(accepted))
        await keeper.note_status(accepted, "p")  # no change: no event
        kinds = [e.kind for e in await keeper.journal.events("n-1")]
        assert kinds == ["intent", "result"]
        await keeper.note_status(_result(order, OrderStatus.PARTIALLY_FILLED, "0.5"), "p")
        await keeper.note_status(_result(order, OrderStatus.PARTIALLY_FILLED, "0.5"), "p")
        await keeper.note_status(_result(order, OrderStatus.FILLED, "1"), "p")
        events = await keeper.journal.events("n-1")
        assert [e.kind for e in events] == ["intent", "result", "status", "status"]
        entry = await keeper.journal.get("n-1")
        assert entry is not None and entry.state is JournalState.FINAL
        await keeper.note_status(_result(_order("n-unknown"), OrderStatus.FILLED, "1"), "p")
        assert await keeper.journal.get("n-unknown") is None  # never invents an entry
        nameless = _result(_order("n-1"), OrderStatus.CANCELED).model_copy(
            update={"client_order_id": None}
        )
        await keeper.note_status(nameless, "p")  # no client id: nothing to look up
        assert len(await keeper.journal.events("n-1")) == 4
    finally:
        await keeper.close()


async def test_note_status_leaves_an_entry_recorded_not_sent_alone(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    order = _order("n-2")
    try:
        assert await keeper.claim(order, "p", None) is None
        await keeper.record_not_sent(order, BrokerUnavailable("refused"))
        await keeper.note_status(_result(order, OrderStatus.FILLED, "1"), "p")
        entry = await keeper.journal.get("n-2")
        assert entry is not None and entry.state is JournalState.NOT_SENT
        assert [e.kind for e in await keeper.journal.events("n-2")] == ["intent", "not_sent"]
    finally:
        await keeper.close()


async def test_note_status_of_an_entry_without_a_result_records_it(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    order = _order("n-3")
    try:
        assert await keeper.claim(order, "p", None) is None
        await keeper.note_status(_result(order, OrderStatus.ACCEPTED), "p")
        assert [e.kind for e in await keeper.journal.events("n-3")] == ["intent", "status"]
    finally:
        await keeper.close()


async def test_note_status_of_another_plugin_leaves_the_entry_alone(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    order = _order("n-4")
    try:
        assert await keeper.claim(order, "p", None) is None
        await keeper.note_status(_result(order, OrderStatus.FILLED, "1"), "q")  # not p's answer
        entry = await keeper.journal.get("n-4")
        assert entry is not None and entry.state is JournalState.SENDING
        assert [e.kind for e in await keeper.journal.events("n-4")] == ["intent"]
        await keeper.note_status(_result(order, OrderStatus.FILLED, "1"), "p")
        assert [e.kind for e in await keeper.journal.events("n-4")] == ["intent", "status"]
    finally:
        await keeper.close()


async def test_a_not_sent_answer_is_durable_before_record_result_returns(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    order, sent = _order("r-1"), _order("r-2")
    try:
        for o in (order, sent):
            assert await keeper.claim(o, "p", None) is None
        refused = _result(order, OrderStatus.REJECTED, sent=False)
        queued: list[ExecutionResult] = []
        real_soon = keeper.journal.record_result_soon
        keeper.journal.record_result_soon = lambda r, *_: queued.append(r)  # type: ignore[method-assign]
        await keeper.record_result(refused, None, order)
        await keeper.record_result(_result(sent, OrderStatus.ACCEPTED), None, sent)
        keeper.journal.record_result_soon = real_soon  # type: ignore[method-assign]
        entry = await keeper.journal.get("r-1")
        assert entry is not None and entry.state is JournalState.NOT_SENT  # not queued
        assert [r.client_order_id for r in queued] == ["r-2"]  # the sent one is queued
    finally:
        await keeper.close()


# ---------------------------------------------------------------------- reconciling


Answer = ExecutionResult | BaseException | dict[str, ExecutionResult] | None
"""What a lookup answers: a result, an error to raise, results by id, or nothing."""


class _Lookup(ExecutionPlugin):
    name: ClassVar[str] = "lookup"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GET_ORDER})

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer
        self.use_env = False
        self.asked: list[tuple[str, dict[str, str]]] = []

    async def _connect(self, config: Any) -> None:
        pass

    async def _execute_order(self, order: Order) -> ExecutionResult:
        raise AssertionError("reconciliation never sends")

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        return {"venue_id": f"V-{order.client_order_id}"}

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        self.asked.append((client_order_id, dict(hints)))
        if isinstance(self.answer, BaseException):
            raise self.answer
        if isinstance(self.answer, dict):
            found: ExecutionResult | None = self.answer.get(client_order_id)
            return found
        return self.answer

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=2)

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)


async def _started(answer: Answer) -> _Lookup:
    plugin = _Lookup(answer)
    await plugin.init()
    return plugin


async def _left_sending(keeper: JournalKeeper, cid: str) -> Any:
    assert await keeper.claim(_order(cid), "lookup", None) is None
    entry = await keeper.journal.get(cid)
    assert entry is not None
    return entry


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (NotSupported("no lookups here"), "lookup_unsupported"),
        (BrokerUnavailable("down"), "lookup_failed"),
        (None, "not_found"),
    ],
)
async def test_an_entry_not_found_is_marked_unknown_and_never_sent(
    tmp_path: Path, answer: BaseException | None, outcome: str
) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    try:
        entry = await _left_sending(keeper, "c-1")
        found, result = await keeper.reconcile(await _started(answer), entry)
        assert found == outcome
        assert result.status is OrderStatus.UNKNOWN and "not sent again" in (result.error or "")
        stored = await keeper.journal.get("c-1")
        assert stored is not None and stored.state is JournalState.UNKNOWN
        events = await keeper.journal.events("c-1")
        assert events[-1].kind == "reconcile" and events[-1].detail == {"outcome": outcome}
    finally:
        await keeper.close()


async def test_reconcile_asks_with_the_plugins_and_the_stored_hints(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    try:
        entry = await _left_sending(keeper, "c-2")
        entry = replace(entry, hints={"ticket": "77"})
        order = entry.order
        plugin = await _started(_result(order, OrderStatus.FILLED, "1"))
        outcome, result = await keeper.reconcile(plugin, entry)
        assert outcome == "found" and result.status is OrderStatus.FILLED
        assert plugin.asked == [("c-2", {"venue_id": "V-c-2", "ticket": "77"})]
        stored = await keeper.journal.get("c-2")
        assert stored is not None and stored.state is JournalState.FINAL
    finally:
        await keeper.close()


async def test_reconcile_marks_not_sent_only_on_the_plugins_proof(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    try:
        entry = await _left_sending(keeper, "c-3")
        proof = _result(entry.order, OrderStatus.REJECTED, sent=False)
        outcome, _ = await keeper.reconcile(await _started(proof), entry)
        assert outcome == "not_sent"
        stored = await keeper.journal.get("c-3")
        assert stored is not None and stored.state is JournalState.NOT_SENT
        entry = await _left_sending(keeper, "c-4")
        unknown = _result(entry.order, OrderStatus.UNKNOWN)
        outcome, result = await keeper.reconcile(await _started(unknown), entry)
        assert outcome == "found" and result.status is OrderStatus.UNKNOWN
        stored = await keeper.journal.get("c-4")
        assert stored is not None and stored.state is JournalState.UNKNOWN  # not "found"
        assert (await keeper.journal.events("c-4"))[-1].detail == {"outcome": "not_found"}
    finally:
        await keeper.close()


async def test_an_entry_held_by_a_live_holder_is_reported_not_recorded(
    two: tuple[JournalKeeper, JournalKeeper],
) -> None:
    first, second = two
    entry = await _left_sending(first, "c-5")
    outcome, result = await second.reconcile(await _started(None), entry)
    assert outcome == "not_found" and result.status is OrderStatus.UNKNOWN
    assert first.journal.owner in (result.error or "")
    assert [e.kind for e in await second.journal.events("c-5")] == ["intent"]


async def test_reconcile_without_a_plugin_keeps_a_known_result(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    try:
        entry = await _left_sending(keeper, "c-6")
        accepted = _result(entry.order, OrderStatus.ACCEPTED)
        await keeper.journal.record(JournalUpdate.from_result(accepted))
        entry = await keeper.journal.get("c-6")
        assert entry is not None
        outcome, result = await keeper.reconcile(None, entry)
        assert outcome == "no_plugin" and result.status is OrderStatus.ACCEPTED
        stored = await keeper.journal.get("c-6")
        assert stored is not None and stored.state is JournalState.SENT  # not "unknown"
    finally:
        await keeper.close()


async def test_recover_runs_once_for_concurrent_callers_and_again_after_a_failure(
    tmp_path: Path,
) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    calls: list[str] = []
    real = keeper._recover

    async def counted(name: str, plugin: ExecutionPlugin) -> Counter[str]:
        calls.append(name)
        await asyncio.sleep(0.01)
        if len(calls) == 1:
            raise JournalError("disk full")
        return await real(name, plugin)

    keeper._recover = counted  # type: ignore[method-assign]
    plugin = await _started(None)
    try:
        with pytest.raises(JournalError, match="disk full"):
            await keeper.recover("lookup", plugin)
        assert not keeper.is_recovered("lookup")
        both = await asyncio.gather(
            keeper.recover("lookup", plugin), keeper.recover("lookup", plugin)
        )
        assert list(both) == [Counter(), Counter()] and calls == ["lookup", "lookup"]
        assert keeper.is_recovered("lookup")
    finally:
        await keeper.close()
    assert not keeper.is_recovered("lookup")  # a new opening reconciles again


# ---------------------------------------------------------------------- brackets


class _Resuming:
    name = "resuming"

    def __init__(self) -> None:
        self.resumed: list[tuple[str, OrderStatus]] = []

    async def resume_order(self, order: Order, result: ExecutionResult) -> None:
        self.resumed.append((order.client_order_id, result.status))


class _NoHook:
    name = "plain"


_BRACKET = {"stop_loss": Decimal(90), "take_profit": Decimal(110)}


@pytest.mark.parametrize(
    ("bracket", "status", "filled", "with_hook", "expected"),
    [
        (False, OrderStatus.FILLED, "1", True, {}),  # no bracket: nothing to re-arm
        (True, OrderStatus.FILLED, "1", True, {"brackets_rearmed": 1}),
        (True, OrderStatus.ACCEPTED, "0", True, {"brackets_rearmed": 1}),  # followed
        (True, OrderStatus.CANCELED, "0", True, {}),  # final, nothing filled
        (True, OrderStatus.ACCEPTED, "0", False, {}),  # no hook, nothing filled yet
        (True, OrderStatus.PARTIALLY_FILLED, "0.5", False, {"brackets_not_rearmed": 1}),
    ],
)
async def test_resume_hands_bracket_entries_to_the_plugin_hook(
    bracket: bool,
    status: OrderStatus,
    filled: str,
    with_hook: bool,
    expected: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    order = _order("b-1", **(_BRACKET if bracket else {}))
    result = _result(order, status, filled)
    plugin: Any = _Resuming() if with_hook else _NoHook()
    counts: Counter[str] = Counter()
    with caplog.at_level(logging.WARNING, logger="fks_exec.journal"):
        await resume(plugin, order, result, counts)
    assert counts == Counter(expected)
    if with_hook:
        assert plugin.resumed == ([("b-1", status)] if expected else [])
    warned = "cannot re-arm its stop_loss/take_profit" in caplog.text
    assert warned == ("brackets_not_rearmed" in expected)


def test_the_summary_line_names_every_plugin_and_count() -> None:
    line = summary_line("/j.sqlite3", {"b": Counter({"found": 2, "filled": 1}), "a": Counter()})
    assert line == (
        "journal /j.sqlite3: start-up reconciliation: a: nothing open; b: filled 1, found 2"
    )
    assert summary_line("/j", {}) == "journal /j: start-up reconciliation: no plugins"


# ---------------------------------------------------------------------- survivors


@pytest.mark.parametrize(("lease_s", "period"), [(0.9, 0.3), (0.0, 0.01)])
async def test_the_renewal_period_is_a_third_of_lease_s(
    monkeypatch: pytest.MonkeyPatch, lease_s: float, period: float
) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, result: Any = None) -> Any:
        delays.append(delay)
        return await real_sleep(10, result)  # one recorded pause is enough

    journal = _Leasing(lease_s=lease_s)
    keeper = JournalKeeper(journal)
    monkeypatch.setattr("fks_exec.journal.keeper.asyncio.sleep", sleep)
    await keeper.ensure_open()
    await real_sleep(0.01)
    await keeper.close()
    assert delays == [pytest.approx(period)]  # never a busy loop, even at lease_s 0


async def test_a_closed_keeper_reopens_its_journal_on_the_next_claim(tmp_path: Path) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    assert await keeper.claim(_order("o-1"), "p", None) is None  # opens on first use
    await keeper.close()
    assert await keeper.claim(_order("o-2"), "p", None) is None  # and again after close
    await keeper.close()
    memory = JournalKeeper(MemoryJournal())
    await memory.ensure_open()
    await memory.close()
    with pytest.raises(RuntimeError, match="claim_now needs the in-process journal, open"):
        memory.claim_now(_order("o-3"), "p", None)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_record_soon_and_record_sent_reach_the_journal(tmp_path: Path, backend: str) -> None:
    journal = MemoryJournal() if backend == "memory" else _sqlite(tmp_path / "j.sqlite3", 1.0)
    keeper = JournalKeeper(journal)
    order = _order("s-1")
    try:
        assert await keeper.claim(order, "p", None) is None
        keeper.record_sent(_result(order, OrderStatus.ACCEPTED), None, order)
        keeper.record_soon(_result(order, OrderStatus.FILLED, "1"), "status")
        await journal.flush()
        kinds = [e.kind for e in await journal.events("s-1")]
        assert kinds == ["intent", "result", "status"]
        entry = await journal.get("s-1")
        assert entry is not None and entry.state is JournalState.FINAL
    finally:
        await keeper.close()


async def test_recover_reconciles_what_it_adopted_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    crashed = JournalKeeper(_sqlite(path, 1.0))
    for cid in ("gone-1", "gone-2", "done-1"):
        assert await crashed.claim(_order(cid), "lookup", None) is None
    await crashed.journal.record(JournalUpdate("done-1", JournalState.FINAL, "result"))
    await crashed.close()  # gone: its open entries are adoptable
    alive = JournalKeeper(_sqlite(path, 1.0))
    assert await alive.claim(_order("live-1"), "lookup", None) is None  # newest: first
    keeper = JournalKeeper(_sqlite(path, 1.0))
    found = {
        "gone-1": _result(_order("gone-1"), OrderStatus.FILLED, "1"),
        "gone-2": _result(_order("gone-2"), OrderStatus.ACCEPTED),
    }
    plugin = await _started(found)
    try:
        counts = await keeper.recover("lookup", plugin)
        assert sorted(cid for cid, _ in plugin.asked) == ["gone-1", "gone-2"]  # not done-1
        assert counts == Counter({"found": 2, "final": 1, "sent": 1, "held_elsewhere": 1})
        live = await keeper.journal.get("live-1")
        assert live is not None and live.owner == alive.journal.owner  # left to its holder
    finally:
        await keeper.close()
        await alive.close()


async def test_start_up_reconciliation_reports_nothing_open_at_info(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keeper = JournalKeeper(_sqlite(tmp_path / "j.sqlite3", 1.0))
    try:
        with caplog.at_level(logging.INFO, logger="fks_exec.journal"):
            await keeper.recover_and_report({"lookup": await _started(None)})
        assert "lookup: nothing open" in caplog.text
        caplog.clear()
        await keeper.close()
        with caplog.at_level(logging.INFO, logger="fks_exec.journal"):
            await keeper.recover_and_report({"lookup": await _started(None)}, report_nothing=False)
        assert caplog.text == ""
    finally:
        await keeper.close()


def test_gives_hints_is_true_only_for_a_plugin_with_its_own_hook() -> None:
    # One rule for the keeper and the in-memory record path: a plugin keeping the base
    # class's _lookup_hints gives no hints and is never asked for them.
    from fks_exec.journal.keeper import gives_hints, lookup_hints
    from fks_exec.mock import MockPlugin

    class _Counted(MockPlugin):  # keeps the base hook; counts asks of the public call
        asked = 0

        def lookup_hints(self, order: Order, result: ExecutionResult | None = None) -> Any:
            _Counted.asked += 1
            return super().lookup_hints(order, result)

    hinting, plain = _Lookup(None), _Counted()
    assert gives_hints(hinting) is True
    assert gives_hints(plain) is False
    assert gives_hints(None) is False
    order = _order("c-h")
    assert lookup_hints(hinting, order, None) == {"venue_id": "V-c-h"}
    assert lookup_hints(plain, order, None) == {}
    assert lookup_hints(None, order, None) == {}
    assert _Counted.asked == 0  # a plugin that gives no hints is never asked for them


# ---------------------------------------------------------------------- opening


class _SlowOpen(MemoryJournal):
    """The memory journal, counting its openings and closings; ``gate`` holds an open."""

    def __init__(self) -> None:
        super().__init__()
        self.opens = self.closes = 0
        self.gate = asyncio.Event()
        self.fail: Exception | None = None

    async def open(self) -> None:
        self.opens += 1
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail

    async def close(self) -> None:
        self.closes += 1


def _renewers() -> list[asyncio.Task[Any]]:
    return [
        t
        for t in asyncio.all_tasks()
        if "_renew_forever" in t.get_coro().__qualname__  # type: ignore[union-attr]
    ]


async def test_callers_that_come_while_the_journal_opens_share_that_one_opening() -> None:
    journal = _SlowOpen()
    keeper = JournalKeeper(journal)
    callers = [asyncio.ensure_future(keeper.ensure_open()) for _ in range(4)]
    await asyncio.sleep(0.01)
    callers[0].cancel()  # a caller that gives up leaves the opening to the others
    journal.gate.set()
    done = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(done[0], asyncio.CancelledError) and done[1:] == [None, None, None]
    assert (journal.opens, len(_renewers()), keeper._opening) == (1, 1, None)
    await keeper.ensure_open()  # open: nothing to do
    await keeper.close()
    await asyncio.sleep(0)
    assert (journal.opens, journal.closes, _renewers()) == (1, 1, [])


async def test_a_failed_opening_fails_every_caller_and_the_next_one_tries_again() -> None:
    journal = _SlowOpen()
    journal.fail = JournalError("disk gone")
    keeper = JournalKeeper(journal)
    journal.gate.set()
    results = await asyncio.gather(
        keeper.ensure_open(), keeper.ensure_open(), return_exceptions=True
    )
    assert [str(r) for r in results] == ["disk gone", "disk gone"] and journal.opens == 1
    journal.fail = None
    await keeper.ensure_open()
    assert (journal.opens, keeper._open, len(_renewers())) == (2, True, 1)
    await keeper.close()


async def test_a_close_while_the_journal_opens_waits_and_closes_what_it_opened() -> None:
    journal = _SlowOpen()
    keeper = JournalKeeper(journal)
    opening = asyncio.ensure_future(keeper.ensure_open())
    await asyncio.sleep(0.01)
    closing = asyncio.ensure_future(keeper.close())
    await asyncio.sleep(0.01)
    assert not closing.done()  # it waits for the opening
    journal.gate.set()
    await asyncio.wait_for(asyncio.gather(opening, closing), 5)
    await asyncio.sleep(0)
    assert (journal.opens, journal.closes, keeper._open, _renewers()) == (1, 1, False, [])
