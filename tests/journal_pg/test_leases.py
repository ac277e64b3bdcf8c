"""Who counts as gone: the liveness rules behind adoption, for a one-machine journal
(SQLite: the OS knows) and a shared one (PostgreSQL: only the lease knows)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fks_exec.journal import SqliteJournal
from fks_exec.journal.base import forget_live_owner, new_owner, note_live_owner
from fks_exec.journal.postgres import PostgresJournal


@pytest.fixture
def journals(tmp_path: Path) -> tuple[SqliteJournal, PostgresJournal]:
    return SqliteJournal(tmp_path / "j.sqlite3"), PostgresJournal("postgresql://u@h/db")


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def test_a_handle_of_this_process_is_gone_once_closed(journals: tuple[object, ...]) -> None:
    owner = new_owner()
    note_live_owner(owner)
    try:
        assert not any(j.is_gone(owner) for j in journals)  # type: ignore[attr-defined]
    finally:
        forget_live_owner(owner)
    assert all(j.is_gone(owner) for j in journals)  # type: ignore[attr-defined]


def test_other_processes_and_hosts(journals: tuple[SqliteJournal, PostgresJournal]) -> None:
    sqlite, postgres = journals
    host = socket.gethostname()
    dead = f"{host}:{_exited_pid()}:ab12cd34"
    alive = f"{host}:1:ab12cd34"  # pid 1 always runs
    elsewhere = "another-host:4242:ab12cd34"
    assert sqlite.is_gone(dead) and not postgres.is_gone(dead)  # a container may share the name
    assert not sqlite.is_gone(alive) and not postgres.is_gone(alive)
    assert sqlite.is_gone(elsewhere) and not postgres.is_gone(elsewhere)
    assert sqlite.is_gone("not an owner") and not postgres.is_gone("not an owner")
