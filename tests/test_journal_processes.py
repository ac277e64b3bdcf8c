"""A journal holder is its process, not just its process id (outside crash review,
2026-12-04): after a crash the kernel hands the id to another program, and that program
was taken for the holder for ever (start-up reconciliation skipped the dead strategy's
entries as ``held_elsewhere`` and each re-submission waited out ``claim_wait_s``).
proc(5): ``/proc/sys/kernel/random/boot_id``; ``/proc/PID/stat`` field 22 ``starttime``.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fks_exec.journal import SqliteJournal, processes
from fks_exec.journal.base import new_owner

LINUX = Path("/proc/self/stat").exists()
linux_only = pytest.mark.skipif(not LINUX, reason="process marks come from Linux's /proc")


def _stat(pid: int, comm: str, start: int) -> bytes:
    after = ["S"] + [str(n) for n in range(4, 22)] + [str(start)] + ["0"] * 30
    return f"{pid} ({comm}) {' '.join(after)}\n".encode()


@pytest.fixture
def fake_proc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A /proc of our own: boot id 0123abcd-..., processes as the test writes them."""
    (tmp_path / "sys/kernel/random").mkdir(parents=True)
    (tmp_path / "sys/kernel/random/boot_id").write_text("0123abcd-4567-89ef-0123-456789abcdef\n")
    monkeypatch.setattr(processes, "_PROC", tmp_path)
    processes.boot_mark.cache_clear()
    yield tmp_path
    processes.boot_mark.cache_clear()


def _process(proc: Path, pid: int, comm: str, start: int) -> None:
    (proc / str(pid)).mkdir(exist_ok=True)
    (proc / str(pid) / "stat").write_bytes(_stat(pid, comm, start))


@pytest.mark.parametrize("comm", ["python3", "a b", "x) (y", "((", ") 7 8 9 ("])
def test_the_start_time_is_field_22_whatever_the_command_name(fake_proc: Path, comm: str) -> None:
    _process(fake_proc, 41, comm, 987_654)
    assert processes.process_mark(41) == "0123abcd-987654"


def test_no_mark_without_a_boot_id_a_process_or_a_readable_start(fake_proc: Path) -> None:
    assert processes.process_mark(42) == ""  # no such process
    (fake_proc / "43").mkdir()
    (fake_proc / "43" / "stat").write_bytes(b"43 (short) S 1 2\n")
    assert processes.process_mark(43) == ""
    (fake_proc / "44").mkdir()
    (fake_proc / "44" / "stat").write_bytes(_stat(44, "p", 5).replace(b" 5 ", b" x5 "))
    assert processes.process_mark(44) == ""
    _process(fake_proc, 45, "p", 5)
    assert processes.process_mark(45) == "0123abcd-5"
    (fake_proc / "sys/kernel/random/boot_id").write_text("12-3\n")  # too short: unknown
    processes.boot_mark.cache_clear()
    assert processes.boot_mark() == "" and processes.process_mark(45) == ""
    assert not processes.same_kernel("-5")


def test_a_holder_whose_process_id_another_program_now_has_is_gone(
    fake_proc: Path, tmp_path: Path
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    host, live = socket.gethostname(), os.getppid()  # a process that runs
    _process(fake_proc, live, "strategy", 1_000)
    mine = f"{host}:{live}:ab12cd34.0123abcd-1000"
    assert not journal.is_gone(mine)  # the holder itself, still running
    assert journal.is_gone(f"{host}:{live}:ab12cd34.0123abcd-999")  # started at another tick
    assert journal.is_gone(f"{host}:{live}:ab12cd34.fedcba98-1000")  # before a reboot
    assert not journal.is_gone(f"{host}:{live}:ab12cd34")  # no mark: the id decides
    (fake_proc / str(live) / "stat").unlink()  # /proc hides it (hidepid): maybe alive
    assert not journal.is_gone(mine)


@linux_only
def test_an_owner_carries_its_processes_real_mark() -> None:
    processes.boot_mark.cache_clear()
    mark = processes.process_mark(os.getpid())
    assert mark and new_owner().endswith("." + mark) and processes.same_kernel(mark)
    child = subprocess.run(
        [sys.executable, "-c", "from fks_exec.journal.base import new_owner; print(new_owner())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    owner = child.stdout.strip()
    assert owner.rpartition(".")[2].partition("-")[0] == mark.partition("-")[0]
    assert SqliteJournal("unused.sqlite3").is_gone(owner)  # it exited


@linux_only
def test_a_live_holder_is_not_gone_and_the_same_id_later_is(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mark = ""
        for _ in range(200):  # the child's /proc entry exists once it is forked
            mark = processes.process_mark(sleeper.pid)
            if mark:
                break
        owner = f"{socket.gethostname()}:{sleeper.pid}:ab12cd34.{mark}"
        assert mark and not journal.is_gone(owner)
        start = int(mark.partition("-")[2])
        assert journal.is_gone(owner.replace(f"-{start}", f"-{start + 1}"))
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    assert journal.is_gone(owner)


def test_a_holder_on_another_host_of_this_kernel_is_gone_with_a_warning(
    fake_proc: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    other = "container-b:7:ab12cd34.0123abcd-55"
    with caplog.at_level(logging.WARNING, logger="fks_exec.journal"):
        assert journal.is_gone(other) and journal.is_gone(other)
        assert journal.is_gone("far-host:7:ab12cd34.99999999-55")  # another machine
        assert journal.is_gone("old-host:7:ab12cd34")  # written before marks
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1, warned  # once per holder, and only for this kernel
    assert "container-b:7:ab12cd34" in warned[0] and "PostgreSQL journal" in warned[0]
    assert "share one hostname and process-id namespace" in warned[0]


def test_process_id_zero_or_below_names_no_process() -> None:
    assert not processes.process_exists(0) and not processes.process_exists(-1)
    assert processes.process_exists(os.getpid())


@linux_only
@pytest.mark.parametrize("reused", [True, False])
async def test_a_claim_adopts_at_once_an_entry_whose_holders_id_was_reused(
    tmp_path: Path, reused: bool
) -> None:
    from fks_exec import Order
    from fks_exec.journal import JournalState
    from fks_exec.journal.keeper import JournalKeeper

    path = tmp_path / "j.sqlite3"
    order = Order.market("X", "buy", 1, client_order_id="reuse-1")
    processes.boot_mark.cache_clear()
    live = os.getppid()  # runs; stands for the program that got the dead holder's id
    boot, _, start = processes.process_mark(live).partition("-")
    crashed = SqliteJournal(path)
    await crashed.open()
    crashed.owner = f"{socket.gethostname()}:{live}:ab12cd34.{boot}-{int(start) + reused}"
    assert (await crashed.claim(order, "p", {})).claimed
    await crashed.close()  # a SIGKILL: the entry stays "sending" under that owner
    journal = SqliteJournal(path)
    journal.claim_wait_s = 0.2
    keeper = JournalKeeper(journal)
    try:
        entry = await keeper.claim(order, "p", None)
        mine = keeper.journal.owner
    finally:
        await keeper.close()
    assert entry is not None and entry.state is JournalState.SENDING
    if reused:  # adopted at once: the caller reconciles it, never resends it
        assert entry.owner == mine
    else:  # the holder runs: left to it, the caller told so after claim_wait_s
        assert entry.owner == crashed.owner


def test_the_fields_of_a_stat_line_are_counted_to_the_last(fake_proc: Path) -> None:
    nineteen = " ".join(["S"] + [str(n) for n in range(4, 22)])  # fields 3 to 21
    (fake_proc / "46").mkdir()
    (fake_proc / "46" / "stat").write_bytes(f"46 (p) {nineteen}\n".encode())
    assert processes.process_mark(46) == ""  # no field 22
    (fake_proc / "46" / "stat").write_bytes(f"46 (p) {nineteen} 77\n".encode())
    assert processes.process_mark(46) == "0123abcd-77"  # field 22 the last one


def test_no_boot_id_no_mark(fake_proc: Path) -> None:
    (fake_proc / "sys/kernel/random/boot_id").unlink()
    processes.boot_mark.cache_clear()
    _process(fake_proc, 47, "p", 5)
    assert processes.boot_mark() == "" and processes.process_mark(47) == ""


def test_a_process_of_another_user_exists_and_an_exited_one_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait(timeout=60)
    assert not processes.process_exists(exited.pid)
    assert processes.process_exists(1)  # init always runs

    def denied(pid: int, signal: int) -> None:
        assert signal == 0  # a probe: no signal is delivered
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(processes.os, "kill", denied)
    assert processes.process_exists(12345)
