"""The executor's first send under an SQL journal (:class:`SqlJournalSend`) gives what
the general path (``OncePerClientId.first_send``) gives, call for call, send for send
and journal row for journal row, and commits every intent before its plugin is called.

The property test runs one script of waves (``asyncio.gather``) of orders, with ids
repeated inside and across waves, different orders under used ids (remembered, or
only in the journal once a memory of one id has forgotten them), and plugin answers
that fill, refuse (``sent=False``) or are unavailable (nothing sent), through two
executors on two SQLite journals: one on the fast path, one forced onto the general
path. Everything either can observe must be equal.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import (
    BrokerUnavailable,
    ExecutionResult,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec.journal import SqliteJournal
from fks_exec.journal.sql_send import SqlJournalSend
from fks_exec.mock import MockBroker, MockPlugin
from tests.conftest import ScriptedPlugin

_IDS = ["a", "b", "c", "d"]
_ANSWERS = ("fill", "refuse", "unavailable")

# One call: (id, which order under it: 0 the usual one, 1 a different one).
_calls = st.tuples(st.sampled_from(_IDS), st.sampled_from((0, 0, 0, 1)))
_waves = st.lists(st.lists(_calls, min_size=1, max_size=6), min_size=1, max_size=5)
# The plugin's answer to the n-th send of each id (then fills).
_answers = st.dictionaries(
    st.tuples(st.sampled_from(_IDS), st.integers(0, 2)), st.sampled_from(_ANSWERS)
)


def _order(cid: str, variant: int) -> Order:
    return Order.market("X", "buy", 1 + variant, client_order_id=cid)


def _state_in_file(path: Path, cid: str) -> str | None:
    """The committed state of ``cid`` as another connection sees it (WAL)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT state FROM orders WHERE client_order_id = ?", (cid,)).fetchone()
    finally:
        conn.close()
    return None if row is None else str(row[0])


class _Broker(ScriptedPlugin):
    """A scripted plugin that answers each id's n-th send as told, and notes whether
    the intent was committed (``sending`` in the file) when it was called."""

    def __init__(self, path: Path, answers: dict[tuple[str, int], str]) -> None:
        super().__init__("p")
        self.path, self.answers = path, answers
        self.calls: list[tuple[str, str | None]] = []
        self.on_order = self._answer

    def _answer(self, order: Order) -> Any:
        cid = order.client_order_id
        nth = sum(1 for c, _ in self.calls if c == cid)
        self.calls.append((cid, _state_in_file(self.path, cid)))
        answer = self.answers.get((cid, nth), "fill")
        if answer == "unavailable":
            return BrokerUnavailable("the terminal is not connected")
        if answer == "refuse":
            return ExecutionResult.for_order(
                order, plugin=self.name, status=OrderStatus.REJECTED, sent=False,
                error="refused before sending",
            )  # fmt: skip
        return None  # filled


def _outcome(done: Any) -> tuple[Any, ...]:
    if isinstance(done, BaseException):
        return ("raised", type(done).__name__)
    return ("result", done.status.value, done.sent, str(done.filled_quantity), done.order_id)


async def _run(
    path: Path,
    waves: list[list[tuple[str, int]]],
    answers: dict[tuple[str, int], str],
    history: int,
    fast: bool,
) -> tuple[Any, ...]:
    broker = _Broker(path, answers)
    registry = PluginRegistry(discover=False)
    registry.register("p", broker)
    journal = SqliteJournal(path, synchronous="normal")
    executor = Executor(registry, default="p", journal=journal, history_size=history)
    taken: list[str] = []
    if not fast:  # every first send through the general path
        once = executor._once

        async def general(
            order: Order, cid: str, primary: str, ready: Any, plugin: str | None
        ) -> ExecutionResult:
            taken.append("general")
            return await once.first_send(order, cid, primary, ready, plugin)

        executor._sql_send.send = general  # type: ignore[method-assign]
    else:
        send = executor._sql_send.send

        async def spied(
            order: Order, cid: str, primary: str, ready: Any, plugin: str | None
        ) -> ExecutionResult:
            taken.append("fast")
            return await send(order, cid, primary, ready, plugin)

        executor._sql_send.send = spied  # type: ignore[method-assign]
    outcomes = []
    async with executor:
        for wave in waves:
            calls = [executor.execute(_order(cid, variant)) for cid, variant in wave]
            outcomes.append(
                [_outcome(d) for d in await asyncio.gather(*calls, return_exceptions=True)]
            )
        await executor.journal.flush()
        rows = {}
        for cid in _IDS:
            entry = await executor.journal.get(cid)
            events = [e.kind for e in await executor.journal.events(cid)]
            rows[cid] = None if entry is None else (
                entry.state.value, entry.attempt, entry.order.quantity,
                None if entry.result is None else entry.result.status.value, events,
            )  # fmt: skip
    assert set(taken) <= {"fast" if fast else "general"}
    return outcomes, broker.calls, rows, bool(taken)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(waves=_waves, answers=_answers, history=st.sampled_from((1, 10_000)))
def test_the_sql_fast_path_answers_sends_and_journals_as_the_general_path(
    waves: list[list[tuple[str, int]]], answers: dict[tuple[str, int], str], history: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        fast = asyncio.run(_run(Path(folder) / "fast.sqlite3", waves, answers, history, fast=True))
        general = asyncio.run(
            _run(Path(folder) / "general.sqlite3", waves, answers, history, fast=False)
        )
    assert fast[:3] == general[:3]
    assert fast[3] and general[3]  # each executor took its own path at least once
    calls = fast[1]
    assert all(state == "sending" for _, state in calls)  # write-ahead, every send
    filled = [cid for cid, _ in calls]
    for cid in set(filled):  # never a second send after an answer that was sent
        sends = [i for i, c in enumerate(filled) if c == cid]
        assert len(sends) <= 1 + sum(1 for n in range(3) if answers.get((cid, n), "fill") != "fill")


async def test_a_first_send_under_an_sql_journal_takes_the_fast_path(tmp_path: Path) -> None:
    broker = _Broker(tmp_path / "j.sqlite3", {})
    registry = PluginRegistry(discover=False)
    registry.register("p", broker)
    journal = SqliteJournal(tmp_path / "j.sqlite3", synchronous="normal")
    async with Executor(registry, default="p", journal=journal) as executor:
        assert isinstance(executor._sql_send, SqlJournalSend)
        calls: list[str] = []
        general = executor._once.first_send

        async def spied(*args: Any) -> ExecutionResult:
            calls.append("general")
            return await general(*args)

        executor._once.first_send = spied  # type: ignore[method-assign]
        result = await executor.execute(_order("f1", 0))
        assert result.status is OrderStatus.FILLED
        assert calls == []  # not the general path
        assert broker.calls == [("f1", "sending")]  # its intent committed first
        await executor.journal.flush()
        assert _state_in_file(tmp_path / "j.sqlite3", "f1") == "final"
        assert (await executor.execute(_order("f1", 0))) == result  # a repeat: no send
        assert len(broker.calls) == 1


@pytest.mark.parametrize("variant", [0, 1])
async def test_an_id_an_earlier_process_journaled_is_answered_from_the_journal(
    tmp_path: Path, variant: int
) -> None:
    path = tmp_path / "j.sqlite3"
    for life in range(2):
        broker = _Broker(path, {})
        registry = PluginRegistry(discover=False)
        registry.register("p", broker)
        async with Executor(registry, default="p", journal=SqliteJournal(path)) as executor:
            if life == 0:
                first = await executor.execute(_order("r1", 0))
                continue
            if variant == 0:  # the same order: the recorded result, nothing sent
                assert await executor.execute(_order("r1", 0)) == first
            else:  # a different order under the used id
                with pytest.raises(Exception, match="r1") as raised:
                    await executor.execute(_order("r1", 1))
                assert type(raised.value).__name__ == "DuplicateClientOrderId"
            assert broker.calls == []


def _slow_executor(path: Path) -> Executor:
    """An SQL-journaled executor on a mock whose answers take 5 s, closing after 0.1 s."""
    plugin = MockPlugin(broker=MockBroker())
    plugin.use_env = False
    plugin.broker.set_price("X", bid=100, ask=100.5)
    plugin.broker.set_latency(5.0)
    registry = PluginRegistry(discover=False)
    registry.register("mock", plugin)
    journal = SqliteJournal(path, synchronous="normal")
    return Executor(registry, default="mock", journal=journal, close_timeout_s=0.1)


async def test_a_send_cut_off_at_close_is_unknown_and_no_longer_marked(tmp_path: Path) -> None:
    executor = _slow_executor(tmp_path / "j.sqlite3")
    await executor.start()
    order = Order.market("X", "buy", 1)
    call = asyncio.ensure_future(executor.execute(order))
    await asyncio.sleep(0.05)
    assert executor._shutdown.sends  # the send is tracked while the plugin has it
    await executor.close()  # cuts the send off: unknown
    result = call.result()
    assert (result.status, result.plugin) == (OrderStatus.UNKNOWN, "mock")
    assert "closed" in (result.error or "")
    assert not executor._shutdown.sends  # nothing tracked is left behind
    assert not executor._shutdown.cut  # a cut-off task is no longer marked once it left
    assert _state_in_file(tmp_path / "j.sqlite3", order.client_order_id) == "unknown"


async def test_a_caller_cancelling_its_own_send_is_cancelled_and_journaled_unknown(
    tmp_path: Path,
) -> None:
    async with _slow_executor(tmp_path / "j.sqlite3") as executor:
        order = Order.market("X", "buy", 1)
        call = asyncio.ensure_future(executor.execute(order))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not executor._shutdown.sends
        entry = await executor.journal.get(order.client_order_id)
        assert entry is not None and entry.result is not None
        assert entry.result.status is OrderStatus.UNKNOWN
