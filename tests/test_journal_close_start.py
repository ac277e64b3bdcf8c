"""Plugins that start late, and journal objects shared between executors.

* ``close()`` while an order waits for its plugin's first (lazy) start: whenever the
  start ends (while close() waits, after it returned, after the executor was started
  again), nothing is sent, the caller gets ``BrokerUnavailable``, the journal says
  ``not_sent``, and a plugin starting after the close neither reopens the journal nor
  adopts the executor's own claim; a restart then sends the id once.
* One journal object given to two executors is refused (each needs its own object).
* An id an earlier process left open, re-submitted while its plugin is not started, is
  looked up at the broker once the plugin starts; when it cannot start the call raises
  ``BrokerUnavailable`` (nothing looked up, nothing sent) and the entry stays open for
  the plugin's start-up reconciliation.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fks_exec._shutdown as shutdown_module
from fks_exec import (
    BrokerUnavailable,
    Capability,
    ConfigurationError,
    ExecutionPlugin,
    ExecutionResult,
    Executor,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
)
from fks_exec.journal import JournalState, MemoryJournal, SqliteJournal
from fks_exec.testing import isolated_registry


class Broker:
    """What outlives executors: the orders that arrived, and how connects go."""

    def __init__(self, proves_absence: bool = False) -> None:
        self.book: dict[str, ExecutionResult] = {}
        self.arrivals: Counter[str] = Counter()
        self.lookups: list[str] = []
        self.proves_absence = proves_absence
        self.connect_gate: asyncio.Event | None = None
        """While set to an unset event, a connect waits for it."""
        self.connecting = 0
        self.refuse_connects = 0
        """How many connects fail (the gateway is not up yet)."""


class Venue(ExecutionPlugin):
    name: ClassVar[str] = "venue"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GET_ORDER})

    def __init__(self, broker: Broker, name: str = "venue") -> None:
        self.name = name  # type: ignore[misc]
        super().__init__()
        self.broker = broker
        self.use_env = False

    async def _connect(self, config: Any) -> None:
        broker = self.broker
        broker.connecting += 1
        if broker.refuse_connects:
            broker.refuse_connects -= 1
            raise ConnectionRefusedError("gateway not up yet")
        if broker.connect_gate is not None:
            await broker.connect_gate.wait()

    async def _execute_order(self, order: Order) -> ExecutionResult:
        cid = order.client_order_id
        self.broker.arrivals[cid] += 1
        result = ExecutionResult.for_order(
            order, plugin=self.name, status=OrderStatus.ACCEPTED, order_id=f"V-{cid}"
        )
        self.broker.book[cid] = result
        return result

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        self.broker.lookups.append(client_order_id)
        found = self.broker.book.get(client_order_id)
        if found is None and self.broker.proves_absence:
            return ExecutionResult.for_order(
                Order.market("X", "buy", 1, client_order_id=client_order_id),
                plugin=self.name,
                status=OrderStatus.REJECTED,
                sent=False,
                error="the venue has no such order in its complete history",
            )
        return found

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=2)

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)


def _order(cid: str) -> Order:
    return Order.market("X", "buy", 1, client_order_id=cid)


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(2000):  # bounded: a loaded machine is slow, a broken one fails here
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"timed out waiting until {what}")


def _executor(broker: Broker, journal: Any, fallback: bool, **kwargs: Any) -> Executor:
    plugins = {"venue": Venue(broker)}
    pair: dict[str, list[str]] = {}
    if fallback:
        plugins["spare"] = Venue(broker, "spare")
        pair = {"venue": ["spare"]}
    return Executor(
        isolated_registry(**plugins),
        default="venue",
        journal=journal,
        fallbacks=pair,
        reconcile_delay_s=0,
        **kwargs,
    )


# ---------------------------------------------------------------------- close during a start


async def _close_while_starting(
    folder: Path, when: str, kind: str, proves: bool, fallback: bool
) -> None:
    broker = Broker(proves_absence=proves)
    path = folder / "journal.sqlite3"
    journal: Any = str(path) if kind == "sqlite" else MemoryJournal()
    waiting = when == "while_closing"
    ex = _executor(broker, journal, fallback, close_timeout_s=5.0 if waiting else 0.01)
    broker.connect_gate = asyncio.Event()
    call = asyncio.ensure_future(ex.execute(_order("X")))
    await _until(lambda: broker.connecting == 1, "the plugin starts connecting")
    closing = asyncio.ensure_future(ex.close())
    await _until(lambda: ex._shutdown.closing, "close() began")
    restart: asyncio.Future[Any] | None = None
    if when == "while_closing":
        broker.connect_gate.set()  # the start ends while close() waits for the call
        await closing
    else:
        await closing
        owner_at_close = ex.journal.owner
        if when == "after_restart":
            restart = asyncio.ensure_future(ex.start())  # waits for the same start
            await _until(lambda: not ex._shutdown.closing, "start() began")
        broker.connect_gate.set()
    refusal = "closed while this call waited" if when == "after_restart" else "is closing"
    with pytest.raises(BrokerUnavailable, match=f"{refusal}: order X was not sent"):
        await call
    if restart is not None:
        await restart
        await asyncio.sleep(0)
        assert ex.registry.is_initialized("venue")
        await ex.close()
    elif when == "after_close":
        # Nothing reopened: no reconciliation under a new owner, no plugin left connected.
        assert ex.journal.owner == owner_at_close and not ex._keeper._open
        assert not ex.registry.is_initialized("venue")
    assert broker.arrivals["X"] == 0 and broker.lookups == []  # nothing sent after close()
    again = _executor(broker, journal, fallback)
    async with again:
        entry = await again.journal.get("X")
        assert entry is not None and entry.state is JournalState.NOT_SENT  # it did not leave
        result = await again.execute(_order("X"))
        kinds = [e.kind for e in await again.journal.events("X")]
    assert result.status is OrderStatus.ACCEPTED and broker.arrivals == Counter({"X": 1})
    assert "reconciled" not in kinds and "reconcile" not in kinds  # never adopted


@given(
    when=st.sampled_from(["while_closing", "after_close", "after_restart"]),
    kind=st.sampled_from(["sqlite", "memory"]),
    proves=st.booleans(),
    fallback=st.booleans(),
)
@settings(max_examples=24, deadline=None)
def test_an_order_whose_plugin_starts_after_close_began_is_never_sent(
    tmp_path_factory: pytest.TempPathFactory, when: str, kind: str, proves: bool, fallback: bool
) -> None:
    folder = tmp_path_factory.mktemp("late-start")
    saved = shutdown_module._GRACE_S
    shutdown_module._GRACE_S = 0.01  # close() gives cut-off callers this long
    try:
        asyncio.run(
            asyncio.wait_for(_close_while_starting(folder, when, kind, proves, fallback), 30)
        )
    finally:
        shutdown_module._GRACE_S = saved


@pytest.mark.parametrize("restart", [False, True])
async def test_a_claim_committed_after_close_began_is_not_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restart: bool
) -> None:
    monkeypatch.setattr(shutdown_module, "_GRACE_S", 0.01)
    broker = Broker()
    ex = _executor(broker, str(tmp_path / "j.sqlite3"), False, close_timeout_s=0.01)
    await ex.start()
    journal = ex.journal
    real = journal.claim_soon
    claimed = asyncio.Event()

    def slow_claim(*args: Any) -> Awaitable[Any]:
        done = real(*args)

        async def later() -> Any:
            answer = await done
            await claimed.wait()  # the intent is committed; close() begins meanwhile
            return answer

        return later()

    monkeypatch.setattr(journal, "claim_soon", slow_claim)
    call = asyncio.ensure_future(ex.execute(_order("C")))
    await _until(lambda: "C" in ex._memory.entries, "the claim is under way")
    closing = asyncio.ensure_future(ex.close())
    await _until(lambda: ex._shutdown.closing, "close() began")
    if restart:  # close() ends, the executor starts again, then the claim returns
        await closing
        await ex.start()
    claimed.set()
    refusal = "closed while this call waited" if restart else "is closing"
    with pytest.raises(BrokerUnavailable, match=f"{refusal}: order C was not sent"):
        await call
    await closing
    await ex.close()
    monkeypatch.undo()
    assert broker.arrivals["C"] == 0
    async with _executor(broker, str(tmp_path / "j.sqlite3"), False) as again:
        entry = await again.journal.get("C")
        assert entry is not None and entry.state is JournalState.NOT_SENT


# ---------------------------------------------------------------------- one journal object


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
@pytest.mark.parametrize("lazy", [False, True])
async def test_one_journal_object_is_refused_for_a_second_live_executor(
    tmp_path: Path, kind: str, lazy: bool
) -> None:
    broker = Broker()
    shared: Any = SqliteJournal(tmp_path / "j.sqlite3") if kind == "sqlite" else MemoryJournal()
    first = _executor(broker, shared, False)
    second = _executor(broker, shared, False)
    async with first:
        await first.execute(_order("S"))
        refused = second.execute(_order("S2")) if lazy else second.start()
        with pytest.raises(ConfigurationError, match="its own journal object"):
            await refused
        assert broker.arrivals == Counter({"S": 1})  # nothing sent by the second
        await second.close()
    async with second:  # the first closed: the object is free again
        repeat = await second.execute(_order("S"))
    assert repeat.order_id == "V-S" and broker.arrivals == Counter({"S": 1})


async def test_two_journal_objects_on_one_file_serve_two_executors(tmp_path: Path) -> None:
    broker = Broker()
    path = tmp_path / "j.sqlite3"
    async with (
        _executor(broker, SqliteJournal(path), False) as first,
        _executor(broker, SqliteJournal(path), False) as second,
    ):
        sent = await first.execute(_order("T"))
        again = await second.execute(_order("T"))
    assert again.order_id == sent.order_id and broker.arrivals == Counter({"T": 1})


# ---------------------------------------------------------------------- left open, not started


async def _left_by_a_crash(path: Path, broker: Broker, at_broker: bool) -> None:
    """What a SIGKILL after the order left leaves: its intent (its holder gone)."""
    journal = SqliteJournal(path)
    await journal.open()
    await journal.claim(_order("K"), "venue", {})
    await journal.close()
    if at_broker:
        broker.book["K"] = ExecutionResult.for_order(
            _order("K"),
            plugin="venue",
            status=OrderStatus.FILLED,
            order_id="V-K",
            filled_quantity=1,
            average_price=100,
        )
        broker.arrivals["K"] = 1


@pytest.mark.parametrize("at_broker", [True, False])
async def test_an_open_id_resubmitted_before_its_plugin_started_is_looked_up(
    tmp_path: Path, at_broker: bool
) -> None:
    broker = Broker()
    path = tmp_path / "j.sqlite3"
    await _left_by_a_crash(path, broker, at_broker)
    ex = _executor(broker, str(path), False)  # no start(): the plugin starts on first use
    try:
        result = await ex.execute(_order("K"))
        entry = await ex.journal.get("K")
    finally:
        await ex.close()
    assert broker.lookups == ["K"]  # asked once (the re-submission's own lookup)
    assert entry is not None
    if at_broker:
        assert (result.status, result.order_id) == (OrderStatus.FILLED, "V-K")
        assert entry.state is JournalState.FINAL
    else:
        assert result.status is OrderStatus.UNKNOWN and entry.state is JournalState.UNKNOWN
        assert "has not shown it since" in (result.error or "")
    assert broker.arrivals["K"] == (1 if at_broker else 0)


@pytest.mark.parametrize("started", [False, True])
async def test_an_open_id_whose_plugin_cannot_start_is_left_for_its_reconciliation(
    tmp_path: Path, started: bool
) -> None:
    broker = Broker()
    path = tmp_path / "j.sqlite3"
    await _left_by_a_crash(path, broker, True)
    broker.refuse_connects = 1
    ex = _executor(broker, str(path), False, retry_init_after_s=3600)
    try:
        if started:
            assert list(await ex.start()) == ["venue"]  # fail-soft: the first connect fails
        with pytest.raises(BrokerUnavailable, match="not looked up") as raised:
            await ex.execute(_order("K"))
        assert "has not shown" not in str(raised.value)
        entry = await ex.journal.get("K")
        assert entry is not None and entry.state is JournalState.SENDING  # left open
        assert [e.kind for e in await ex.journal.events("K")] == ["intent"]
        assert broker.lookups == []
        ex.registry._forget_failure("venue")  # the gateway is up: the next order starts it
        assert (await ex.execute(_order("L"))).status is OrderStatus.ACCEPTED
        entry = await ex.journal.get("K")  # the plugin's start-up reconciliation took it
        assert entry is not None and entry.state is JournalState.FINAL
        assert broker.lookups == ["K"]
        again = await ex.execute(_order("K"))
    finally:
        await ex.close()
    assert again.order_id == "V-K" and broker.arrivals == Counter({"K": 1, "L": 1})


async def test_a_closed_keeper_reconciles_nothing_until_the_executor_starts_again(
    tmp_path: Path,
) -> None:
    from fks_exec.journal.keeper import JournalKeeper

    broker = Broker()
    plugin = Venue(broker)
    await plugin.init()
    keeper = JournalKeeper(SqliteJournal(tmp_path / "j.sqlite3"))
    assert await keeper.claim(_order("O"), "venue", plugin) is None  # its own claim
    owner = keeper.journal.owner
    await keeper.close()
    await keeper.ensure_open()  # a lazy opening (a lookup's) does not undo the close
    assert keeper.shut and await keeper.recover("venue", plugin) == Counter()
    entry = await keeper.journal.get("O")
    assert entry is not None and (entry.owner, entry.state) == (owner, JournalState.SENDING)
    assert broker.lookups == [] and not keeper.is_recovered("venue")
    await keeper.ensure_open(reopen=True)  # the executor's start()
    assert not keeper.shut
    assert await keeper.recover("venue", plugin) == Counter({"not_found": 1})
    assert broker.lookups == ["O"]
    await keeper.close()
    await plugin.close()
