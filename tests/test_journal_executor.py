"""The executor with a journal: once across restarts, start-up reconciliation, retries
of orders that were not sent, and which journal an executor picks."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fks_exec import (
    BrokerUnavailable,
    Capability,
    DuplicateClientOrderId,
    ExecutionPlugin,
    ExecutionResult,
    Executor,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec.journal import JournalState, MemoryJournal, SqliteJournal, selection
from fks_exec.testing import isolated_registry


class Venue:
    """A broker that outlives executors: what arrived, and scripted faults."""

    def __init__(self) -> None:
        self.book: dict[str, ExecutionResult] = {}
        self.arrivals: Counter[str] = Counter()
        self.calls: list[str] = []
        self.refuse: set[str] = set()
        self.lose_answer: set[str] = set()
        self.proves_absence = False
        self.hold_lookups: asyncio.Event | None = None


class VenuePlugin(ExecutionPlugin):
    name: ClassVar[str] = "venue"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GET_ORDER})

    def __init__(self, venue: Venue) -> None:
        super().__init__()
        self.venue = venue
        self.use_env = False

    async def _connect(self, config: Any) -> None:
        pass

    async def _execute_order(self, order: Order) -> ExecutionResult:
        venue, cid = self.venue, order.client_order_id
        venue.calls.append(f"send {cid}")
        if cid in venue.refuse:
            venue.refuse.discard(cid)
            raise BrokerUnavailable("connection refused")
        venue.arrivals[cid] += 1
        result = ExecutionResult.for_order(
            order, plugin=self.name, status=OrderStatus.ACCEPTED, order_id=f"V-{cid}"
        )
        venue.book[cid] = result
        if cid in venue.lose_answer:
            venue.lose_answer.discard(cid)
            raise ConnectionResetError("answer lost")
        return result

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        hints = {"venue_id": f"V-{order.client_order_id}"}
        if result is not None and result.order_id:
            hints["order_id"] = result.order_id
        return hints

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        venue = self.venue
        venue.calls.append(f"find {client_order_id} {hints.get('venue_id')}")
        if venue.hold_lookups is not None:
            await venue.hold_lookups.wait()
        found = venue.book.get(client_order_id)
        if found is None and venue.proves_absence and hints.get("venue_id"):
            return ExecutionResult.for_order(
                Order.market("X", "buy", 1, client_order_id=client_order_id),
                plugin=self.name,
                status=OrderStatus.REJECTED,
                sent=False,
                error="the venue has no order with this id in its complete history",
            )
        return found

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=2)

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)


def executor_on(venue: Venue, journal: Any, **kwargs: Any) -> Executor:
    registry = isolated_registry(venue=VenuePlugin(venue))
    return Executor(registry, default="venue", journal=journal, reconcile_delay_s=0, **kwargs)


def order(cid: str, quantity: int = 1) -> Order:
    return Order.market("X", "buy", quantity, client_order_id=cid)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


async def test_a_restarted_executor_sends_no_id_twice(path: Path) -> None:
    venue = Venue()
    async with executor_on(venue, str(path)) as first:
        results = [await first.execute(order(f"r-{i}")) for i in range(5)]
    async with executor_on(venue, str(path)) as second:
        again = [await second.execute(order(f"r-{i}")) for i in range(5)]
        with pytest.raises(DuplicateClientOrderId, match="r-0"):
            await second.execute(order("r-0", quantity=2))
    assert [r.order_id for r in again] == [r.order_id for r in results]
    assert max(venue.arrivals.values()) == 1 and len(venue.arrivals) == 5


async def test_an_id_refused_before_sending_is_sent_on_retry_after_restart(path: Path) -> None:
    venue = Venue()
    venue.refuse.add("n-1")
    async with executor_on(venue, str(path)) as first:
        with pytest.raises(BrokerUnavailable):
            await first.execute(order("n-1"))
        assert (await first.journal.get("n-1")).state is JournalState.NOT_SENT  # type: ignore[union-attr]
    async with executor_on(venue, str(path)) as second:
        result = await second.execute(order("n-1"))
        entry = await second.journal.get("n-1")
    assert result.status is OrderStatus.ACCEPTED
    assert venue.arrivals["n-1"] == 1
    assert entry is not None and entry.attempt == 2 and entry.state is JournalState.SENT


async def test_a_crash_after_sending_is_reconciled_at_start_not_resent(path: Path) -> None:
    venue = Venue()
    journal = SqliteJournal(path)
    await journal.open()
    # What a SIGKILL between "handed to the plugin" and "answer recorded" leaves behind:
    # the intent, and an order at the venue.
    await journal.claim(order("k-1"), "venue", {"venue_id": "V-k-1"})
    venue.book["k-1"] = ExecutionResult.for_order(
        order("k-1"), plugin="venue", status=OrderStatus.ACCEPTED, order_id="V-k-1"
    )
    venue.arrivals["k-1"] = 1
    await journal.claim(order("k-2"), "venue", {"venue_id": "V-k-2"})  # never arrived
    await journal.close()
    async with executor_on(venue, str(path)) as ex:
        assert sorted(venue.calls) == ["find k-1 V-k-1", "find k-2 V-k-2"]
        found = await ex.journal.get("k-1")
        lost = await ex.journal.get("k-2")
        again = await ex.execute(order("k-1"))
        unknown = await ex.execute(order("k-2"))
    assert found is not None and found.state is JournalState.SENT
    assert lost is not None and lost.state is JournalState.UNKNOWN  # not proven: never resent
    assert again.order_id == "V-k-1"
    assert unknown.status is OrderStatus.UNKNOWN and "not sent again" in (unknown.error or "")
    assert venue.arrivals == Counter({"k-1": 1})


async def test_an_order_the_plugin_proves_absent_is_marked_not_sent_and_resent(
    path: Path,
) -> None:
    venue = Venue()
    venue.proves_absence = True
    journal = SqliteJournal(path)
    await journal.open()
    await journal.claim(order("a-1"), "venue", {"venue_id": "V-a-1"})
    await journal.close()
    async with executor_on(venue, str(path)) as ex:
        assert (await ex.journal.get("a-1")).state is JournalState.NOT_SENT  # type: ignore[union-attr]
        result = await ex.execute(order("a-1"))
    assert result.status is OrderStatus.ACCEPTED and venue.arrivals["a-1"] == 1


async def test_no_order_is_sent_before_reconciliation_is_done(path: Path) -> None:
    venue = Venue()
    journal = SqliteJournal(path)
    await journal.open()
    await journal.claim(order("old-1"), "venue", {})
    await journal.close()
    venue.hold_lookups = asyncio.Event()
    ex = executor_on(venue, str(path))
    sending = asyncio.create_task(ex.execute(order("new-1")))
    for _ in range(500):  # until the lookup began (bounded; a loaded machine is slow)
        if venue.calls:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # time enough for a send that did not wait to show
    assert venue.calls == ["find old-1 V-old-1"]  # the new order waits
    venue.hold_lookups.set()
    await sending
    await ex.close()
    assert venue.calls == ["find old-1 V-old-1", "send new-1"]


async def test_a_lost_answer_is_reconciled_and_the_journal_agrees(path: Path) -> None:
    venue = Venue()
    venue.lose_answer.add("l-1")
    async with executor_on(venue, str(path)) as ex:
        result = await ex.execute(order("l-1"))
        assert result.status is OrderStatus.ACCEPTED  # found by the in-process reconcile
        await ex.journal.flush()
        entry = await ex.journal.get("l-1")
        kinds = [e.kind for e in await ex.journal.events("l-1")]
    assert entry is not None and entry.state is JournalState.SENT
    assert entry.hints == {"venue_id": "V-l-1", "order_id": "V-l-1"}
    assert kinds == ["intent", "result"]


async def test_start_logs_one_summary_line(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    venue = Venue()
    journal = SqliteJournal(path)
    await journal.open()
    await journal.claim(order("s-1"), "venue", {})
    await journal.close()
    with caplog.at_level(logging.INFO, logger="fks_exec.executor"):
        async with executor_on(venue, str(path)):
            pass
    lines = [r.getMessage() for r in caplog.records if "reconciliation" in r.getMessage()]
    assert lines == [f"journal {path}: start-up reconciliation: venue: not_found 1"]


async def test_in_flight_ids_are_never_forgotten(tmp_path: Path) -> None:
    venue = Venue()
    gate = asyncio.Event()

    class Slow(VenuePlugin):
        async def _execute_order(self, order: Order) -> ExecutionResult:
            await gate.wait()
            return await super()._execute_order(order)

    registry = isolated_registry(venue=Slow(venue))
    ex = Executor(registry, default="venue", history_size=1, journal=MemoryJournal(max_closed=1))
    first = [asyncio.create_task(ex.execute(order(f"f-{i}"))) for i in range(4)]
    await asyncio.sleep(0.01)
    repeats = [asyncio.create_task(ex.execute(order(f"f-{i}"))) for i in range(4)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*first, *repeats)
    await ex.close()
    assert venue.arrivals == Counter({f"f-{i}": 1 for i in range(4)})
    assert [r.order_id for r in results[:4]] == [r.order_id for r in results[4:]]


async def test_a_fallback_is_journaled_under_the_plugin_that_got_the_order(path: Path) -> None:
    venue, spare = Venue(), Venue()
    venue.refuse.add("fb-1")
    other = VenuePlugin(spare)
    other.name = "spare"  # type: ignore[misc]
    registry = isolated_registry(venue=VenuePlugin(venue), spare=other)
    async with Executor(
        registry, default="venue", fallbacks={"venue": ["spare"]}, journal=str(path)
    ) as ex:
        result = await ex.execute(order("fb-1"))
        await ex.journal.flush()
        entry = await ex.journal.get("fb-1")
    assert result.plugin == "spare"
    assert entry is not None and entry.plugin == "spare"


# ---------------------------------------------------------------------- selection


def test_default_journal_depends_on_the_planned_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(selection.ENV_VAR)
    registry = PluginRegistry(discover=False)
    paper = Executor(registry, default="mock")
    assert isinstance(paper.journal, MemoryJournal)
    live = Executor(registry, default="mock", routes={"*/USDT": "ccxt"})
    assert isinstance(live.journal, SqliteJournal)
    assert live.journal.path == selection.default_path()
    declared_paper = Executor(registry, default="ccxt", configs={"ccxt": {"paper": True}})
    assert isinstance(declared_paper.journal, MemoryJournal)
    monkeypatch.setenv(selection.ENV_VAR, f"sqlite:///{tmp_path}/x.sqlite3")
    chosen = Executor(registry, default="mock")
    assert isinstance(chosen.journal, SqliteJournal)
    assert chosen.journal.path == tmp_path / "x.sqlite3"
    assert isinstance(Executor(registry, default="ccxt", journal="memory").journal, MemoryJournal)


@pytest.mark.parametrize("spec", ["", "mysql://db/x"])
def test_bad_journal_specs_are_configuration_errors(spec: str) -> None:
    from fks_exec import ConfigurationError

    with pytest.raises(ConfigurationError):
        Executor(PluginRegistry(discover=False), default="mock", journal=spec)


async def test_an_identical_retry_read_back_from_the_journal_is_answered_not_refused(
    path: Path,
) -> None:
    from datetime import datetime
    from decimal import Decimal

    venue = Venue()
    cases = {
        "pr-dec": {"x": Decimal("1.5")},
        "pr-tuple": {"x": (1, 2)},
        "pr-dt": {"x": datetime(2026, 1, 1)},
        "pr-deep": {"x": {"y": [(Decimal("2"),)]}},
    }

    def orders() -> list[Order]:
        return [Order.market("X", "buy", 1, client_order_id=c, params=p) for c, p in cases.items()]

    async with executor_on(venue, str(path), history_size=1) as ex:
        first = [await ex.execute(o) for o in orders()]
        again = [await ex.execute(o) for o in orders()]  # beyond the memory: the journal
        different = Order.market("X", "buy", 1, client_order_id="pr-dec", params={"x": "1.6"})
        with pytest.raises(DuplicateClientOrderId):
            await ex.execute(different)
    async with executor_on(venue, str(path), history_size=1) as ex:
        restarted = [await ex.execute(o) for o in orders()]
    assert [r.order_id for r in again] == [r.order_id for r in first]
    assert [r.order_id for r in restarted] == [f"V-{c}" for c in cases]
    assert dict(venue.arrivals) == dict.fromkeys(cases, 1)


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
async def test_start_after_close_reconciles_what_the_close_left_open(
    path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    venue, stuck = Venue(), asyncio.Event()

    class Stuck(VenuePlugin):
        async def _execute_order(self, order: Order) -> ExecutionResult:
            arrived = await super()._execute_order(order)
            await stuck.wait()  # the answer never comes: close() cuts the send off
            return arrived

    journal = str(path) if kind == "sqlite" else "memory"
    registry = isolated_registry(venue=Stuck(venue))
    ex = Executor(registry, default="venue", journal=journal, close_timeout_s=0.05)
    await ex.start()
    call = asyncio.ensure_future(ex.execute(order("cl-1")))
    for _ in range(1000):  # the intent committed and the order sent: close() cuts it off
        if venue.arrivals:
            break
        await asyncio.sleep(0.005)
    owner_before = ex.journal.owner
    await ex.close()
    cut = await asyncio.wait_for(call, 5)
    await ex.start()
    entry, owner_now = await ex.journal.get("cl-1"), ex.journal.owner
    await ex.close()
    assert cut.status is OrderStatus.UNKNOWN and venue.arrivals == {"cl-1": 1}
    assert entry is not None and entry.state is JournalState.SENT
    assert entry.result is not None and entry.result.order_id == "V-cl-1"
    assert venue.calls == ["send cl-1", "find cl-1 V-cl-1"]
    assert owner_now != owner_before  # each opening is an owner of its own
    assert entry.owner == (owner_now if kind == "sqlite" else owner_before)  # adopted
    assert any("venue: found 1, sent 1" in r.getMessage() for r in caplog.records)


async def test_orders_sent_while_start_runs_open_the_journal_once_and_close_ends_all(
    tmp_path: Path,
) -> None:
    import threading

    path = tmp_path / "opened-once.sqlite3"  # a name no other test's journal thread has

    def journal_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.endswith(path.name)]

    venue = Venue()
    ex = executor_on(venue, str(path))
    calls = [ex.execute(order(f"o-{i}")) for i in range(4)]
    *results, _ = await asyncio.gather(*calls, ex.start())
    assert [r.status for r in results] == [OrderStatus.ACCEPTED] * 4
    assert len(journal_threads()) == 1
    await ex.close()
    await asyncio.sleep(0.05)
    assert journal_threads() == []
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert [t.get_coro().__qualname__ for t in others] == []  # type: ignore[union-attr]
