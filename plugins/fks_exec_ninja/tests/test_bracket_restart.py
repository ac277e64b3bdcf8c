"""Bracket exits survive a crash: a strategy process is SIGKILLed after its bracket entry
is placed, the entry fills while no process watches it, and the restarted strategy
(the journal's start-up reconciliation calls ``resume_order``) protects the position:
each exit reaches NinjaTrader once, sized to what filled."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, ExecutionResult, Order, OrderStatus
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import ReferenceAtiServer, Repush, ServerSettings

from .ninja_helpers import ES, running, start

SCRIPT = Path(__file__).with_name("restart_processes.py")
CID = "bracket-1"
ENTRY_ID = order_id_for(CID)
EXIT_IDS = [order_id_for(CID, "-sl"), order_id_for(CID, "-tp")]
DEADLINE_S = 10.0


class Process:
    """A child speaking JSON lines, every read bounded in time."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def read(self, timeout: float = DEADLINE_S) -> Any:
        assert self.popen.stdout is not None
        ready, _, _ = select.select([self.popen.stdout], [], [], timeout)
        line = self.popen.stdout.readline() if ready else ""
        if not line:
            self.popen.kill()
            _, err = self.popen.communicate(timeout=10)
            raise AssertionError(f"no answer from {self.popen.args[2:]}: {err[-3000:]}")
        return json.loads(line)

    def ask(self, **request: Any) -> Any:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(request) + "\n")
        self.popen.stdin.flush()
        return self.read()

    def sigkill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> str:
        """Close standard input (the child ends) and return its standard error."""
        assert self.popen.stdin is not None and self.popen.stderr is not None
        if not self.popen.stdin.closed:
            self.popen.stdin.close()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
        return self.popen.stderr.read()


@contextmanager
def server(**options: Any) -> Iterator[tuple[Process, str]]:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    nt = Process("server", *args)
    try:
        yield nt, str(nt.read())
    finally:
        nt.stop()


def strategy(port: str, journal: Path) -> Process:
    return Process("strategy", "--port", port, "--journal", str(journal))


def exits_of(nt: Process) -> dict[str, Any]:
    """``{exit id: [state, quantity, filled, oco] or None}`` at the server."""
    found: dict[str, Any] = nt.ask(op="orders", ids=EXIT_IDS)
    return found


def wait_for_exits(nt: Process, quantity: int) -> None:
    """Until both exits work at the server for ``quantity`` (bounded)."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        found = exits_of(nt).values()
        if all(o is not None and o[:2] == ["Working", quantity] for o in found):
            return
        time.sleep(0.02)


def assert_protected_once(nt: Process, quantity: int) -> None:
    """Both exits at the server, each PLACEd once, sized ``quantity``, one OCO pair."""
    arrivals = nt.ask(op="arrivals")
    assert arrivals == {ENTRY_ID: 1, **dict.fromkeys(EXIT_IDS, 1)}
    stop, target = (exits_of(nt)[i] for i in EXIT_IDS)
    assert stop[:2] == target[:2] == ["Working", quantity]
    assert stop[3] == target[3] != ""


def place_and_kill(port: str, journal: Path) -> None:
    first = strategy(port, journal)
    assert first.read() == ["accepted", "0", ENTRY_ID]
    first.sigkill()


@pytest.mark.parametrize("repush", ["all", "delayed"])
def test_an_entry_filled_while_down_gets_its_exits_at_restart(tmp_path: Path, repush: str) -> None:
    journal = tmp_path / "journal.sqlite3"
    with server(repush=repush) as (nt, port):
        place_and_kill(port, journal)
        nt.ask(op="last", price="5989")  # fills the entry: nobody is watching
        assert nt.ask(op="orders", ids=[ENTRY_ID])[ENTRY_ID][:3] == ["Filled", 2, 2]
        assert exits_of(nt) == dict.fromkeys(EXIT_IDS)
        again = strategy(port, journal)
        assert again.read() == ["filled", "2", ENTRY_ID]  # from the journal: not sent again
        wait_for_exits(nt, 2)
        assert_protected_once(nt, 2)
        again.stop()
        third = strategy(port, journal)  # a later restart adopts nothing twice
        assert third.read() == ["filled", "2", ENTRY_ID]
        third.stop()
        assert_protected_once(nt, 2)


def test_exits_placed_before_the_crash_are_adopted_and_grown(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with server(fill_pieces=2) as (nt, port):
        first = strategy(port, journal)
        assert first.read() == ["accepted", "0", ENTRY_ID]
        nt.ask(op="configure", step_interval_s=3.0)  # the second fill is pushed 3 s later
        nt.ask(op="last", price="5989")  # the server fills 2; the strategy hears of 1
        wait_for_exits(nt, 1)
        first.sigkill()  # before the second fill reached it
        nt.ask(op="configure", step_interval_s=0.0)
        assert [o[:2] for o in exits_of(nt).values()] == [["Working", 1]] * 2
        again = strategy(port, journal)
        assert again.read()[:2] == ["filled", "2"]
        wait_for_exits(nt, 2)
        assert_protected_once(nt, 2)
        again.stop()


def test_an_entry_still_working_at_restart_is_followed(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with server() as (nt, port):
        place_and_kill(port, journal)
        again = strategy(port, journal)
        assert again.read() == ["accepted", "0", ENTRY_ID]
        assert exits_of(nt) == dict.fromkeys(EXIT_IDS)  # nothing filled: nothing to protect
        nt.ask(op="last", price="5989")  # fills while the restarted strategy watches
        wait_for_exits(nt, 2)
        assert_protected_once(nt, 2)
        again.stop()


# ---------------------------------------------------------------------- in one process


def _commands(nt: ReferenceAtiServer, since: int) -> list[str]:
    return [c.text.split(";")[0] for c in nt.commands[since:]]


async def _placed_then_gone(nt: ReferenceAtiServer, entry: Order) -> None:
    first = await start(nt)
    assert (await first.execute_order(entry)).status is OrderStatus.ACCEPTED
    await first.close()


async def test_resume_adopts_exits_known_only_from_the_order_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """NinjaTrader re-pushes nothing after the restart: the exits an earlier process
    placed are known from ``Orders|<account>`` alone. What they filled is not known, so
    they are left as NinjaTrader has them (a warning names them) and never placed; once
    NinjaTrader pushes their values (here: on the next connection, which re-pushes
    them) they are changed to what is open."""
    entry = Order.limit("ES", "buy", 2, "5990", stop_loss="5900", take_profit="6100")
    exit_ids = [order_id_for(entry.client_order_id, s) for s in ("-sl", "-tp")]
    async with ReferenceAtiServer(ServerSettings(fill_pieces=2, repush=Repush.NONE)) as nt:
        first = await start(nt)
        await first.execute_order(entry)
        nt.configure(step_interval_s=5.0)  # the second piece reaches nobody
        nt.set_last_price(ES, Decimal("5989"))
        await nt.wait_until(lambda: all(nt.order(i) is not None for i in exit_ids))
        await first.close()
        nt.configure(step_interval_s=0.0)
        second = await start(nt)
        try:
            since = len(nt.commands)
            filled = ExecutionResult.for_order(
                entry, plugin="ninja", status="filled", filled_quantity=2, average_price=5990
            )
            await second.resume_order(entry, filled)
            await nt.flushed()
            assert _commands(nt, since) == []
            assert "what they filled is not known" in caplog.text
            assert all(i in caplog.text for i in exit_ids)
            nt.configure(repush=Repush.ALL)
            nt.refuse_next()  # dropped: the next connection re-pushes the exits' values
            await nt.wait_until(lambda: [nt.order(i).quantity for i in exit_ids] == [2, 2])
            assert _commands(nt, since) == ["CHANGE", "CHANGE"]
            assert nt.order_arrivals()[exit_ids[0]] == nt.order_arrivals()[exit_ids[1]] == 1
            await second.resume_order(entry, filled)  # twice: still never placed again
            await nt.flushed()
            assert "PLACE" not in _commands(nt, since)
        finally:
            await second.close()


async def test_resume_sends_nothing_when_an_exit_already_ended() -> None:
    """The stop filled while no process watched (or the user cancelled an exit): the
    bracket did its work; nothing is placed or changed."""
    entry = Order.market("ES", "buy", 1, stop_loss="5990", take_profit="6100")
    async with ReferenceAtiServer() as nt:
        first = await start(nt)
        result = await first.execute_order(entry)
        stop_id = order_id_for(entry.client_order_id, "-sl")
        await nt.wait_until(lambda: nt.order(stop_id) is not None)
        await first.close()
        nt.set_last_price(ES, Decimal("5989"))  # the stop fills, the target is cancelled
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0)
        second = await start(nt)
        try:
            since = len(nt.commands)
            await second.resume_order(entry, result)
            await nt.flushed()
            assert _commands(nt, since) == []
        finally:
            await second.close()


async def test_resume_leaves_orders_without_a_bracket_alone() -> None:
    async with running() as (nt, plugin):
        plain = Order.market("ES", "buy", 1)
        result = await plugin.execute_order(plain)
        since = len(nt.commands)
        await plugin.resume_order(plain, result)
        assert _commands(nt, since) == []
    with pytest.raises(BrokerUnavailable):
        await NinjaPlugin().resume_order(Order.market("ES", "buy", 1, stop_loss="5900"), result)
