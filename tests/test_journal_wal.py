"""A journal file is three files after a crash (outside crash review, 2026-12-04).

In WAL mode, what a process wrote before a SIGKILL may be only in ``<file>-wal``
(https://www.sqlite.org/wal.html: "the original content is preserved in the database
file and the changes are appended into a separate WAL file"; a checkpoint moves them
back). Copying the main file alone then gave an empty journal, and every id was sent
again. Two things now hold: the first start after a crash checkpoints, so a copy of the
main file made while it runs misses nothing written before it; and ``fks-exec journal
backup`` copies the journal whole, WAL included, into one file, at any time.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest

from fks_exec.cli import main
from fks_exec.journal import SqliteJournal

IDS = [f"wal-{n}" for n in range(5)]

_CRASHING = """
import asyncio, os, signal, sys
from fks_exec import Order
from fks_exec.journal import SqliteJournal

async def run():
    journal = SqliteJournal(sys.argv[1])
    await journal.open()
    for cid in sys.argv[2:]:
        await journal.claim(Order.market("EURUSD", "buy", "0.1", client_order_id=cid), "p", {})
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(run())
"""


def _crash_after_claims(path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING, str(path), *IDS], capture_output=True, timeout=120
    )
    assert done.returncode == -9, done.stderr  # killed, nothing closed


def _ids_in(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "orders" not in tables:
            return set()
        return {row[0] for row in conn.execute("SELECT client_order_id FROM orders")}
    finally:
        conn.close()


@pytest.fixture
def crashed(tmp_path: Path) -> Path:
    path = tmp_path / "state" / "journal.sqlite3"
    _crash_after_claims(path)
    assert Path(f"{path}-wal").stat().st_size > 0  # the entries are in the -wal
    return path


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_the_first_start_after_a_crash_moves_the_wal_into_the_main_file(
    crashed: Path, tmp_path: Path, synchronous: Literal["full", "normal"]
) -> None:
    async def run() -> set[str]:
        journal = SqliteJournal(crashed, synchronous=synchronous)
        await journal.open()
        try:  # a copy of the main file alone, made while the journal is open
            lone = tmp_path / "copy.sqlite3"
            shutil.copyfile(crashed, lone)
            return _ids_in(lone)
        finally:
            await journal.close()

    assert asyncio.run(run()) == set(IDS)


def test_backup_copies_the_journal_whole_into_one_file(
    crashed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "backup" / "journal-copy.sqlite3"
    target.parent.mkdir()
    assert main(["journal", "backup", str(target), "--journal", str(crashed)]) == 0
    assert "copied to" in capsys.readouterr().out
    assert not Path(f"{target}-wal").exists() or Path(f"{target}-wal").stat().st_size == 0
    assert _ids_in(target) == set(IDS)
    restored = tmp_path / "restored.sqlite3"  # the one file alone is the whole journal
    shutil.copyfile(target, restored)
    assert _ids_in(restored) == set(IDS)
    assert main(["journal", "--journal", str(restored), "--open"]) == 0
    listed = capsys.readouterr().out
    assert all(cid in listed for cid in IDS), listed


def test_backup_refuses_what_it_cannot_copy(
    crashed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken.sqlite3"
    target.write_bytes(b"something else")
    assert main(["journal", "backup", str(target), "--journal", str(crashed)]) != 0
    assert "exists: give the backup a new file name" in capsys.readouterr().err
    assert target.read_bytes() == b"something else"
    missing = tmp_path / "nothing-here.sqlite3"
    assert main(["journal", "backup", str(target) + "2", "--journal", str(missing)]) != 0
    assert "nothing to back up" in capsys.readouterr().err and not missing.exists()
    nowhere = tmp_path / "no-such-dir" / "copy.sqlite3"
    assert main(["journal", "backup", str(nowhere), "--journal", str(crashed)]) != 0
    assert "cannot back up the journal at" in capsys.readouterr().err
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_text("not a database, only a file with the name of one\n" * 20)
    assert main(["journal", "backup", str(target) + "4", "--journal", str(not_sqlite)]) != 0
    assert "cannot back up the journal at" in capsys.readouterr().err
    url = "postgresql://u@127.0.0.1:1/db"
    assert main(["journal", "backup", str(target) + "3", "--journal", url]) != 0
    assert "pg_dump" in capsys.readouterr().err
