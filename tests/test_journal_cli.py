"""``fks-exec journal``: listing, one order's history, pruning that keeps open orders,
migration, and the age/date parser."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fks_exec import ConfigurationError, ExecutionResult, Order
from fks_exec.cli import main
from fks_exec.journal import JournalUpdate, SqliteJournal
from fks_exec.journal.cli import parse_when


def fill(path: Path) -> None:
    async def run() -> None:
        journal = SqliteJournal(path)
        await journal.open()
        for cid, plugin in [("done-1", "ccxt"), ("open-1", "mt5"), ("open-2", "ccxt")]:
            await journal.claim(
                Order.market("EURUSD", "buy", "0.1", client_order_id=cid), plugin, {}
            )
        done = ExecutionResult.for_order(
            Order.market("EURUSD", "buy", "0.1", client_order_id="done-1"),
            plugin="ccxt",
            status="filled",
            order_id="B-9",
            filled_quantity="0.1",
            average_price="1.1",
        )
        await journal.record(JournalUpdate.from_result(done))
        await journal.close()

    asyncio.run(run())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite3"
    fill(path)
    return path


def test_list_filters_and_prints_json(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "--journal", str(path), "--json"]) == 0
    assert {e["client_order_id"] for e in json.loads(capsys.readouterr().out)} == {
        "done-1",
        "open-1",
        "open-2",
    }
    assert main(["journal", "--journal", str(path), "--open", "--plugin", "ccxt", "--json"]) == 0
    assert [e["client_order_id"] for e in json.loads(capsys.readouterr().out)] == ["open-2"]
    assert main(["journal", "--journal", str(path), "--since", "1h"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].startswith("UPDATED") and "done-1" in table


def test_show_prints_every_event(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "show", "done-1", "--journal", str(path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["kind"] for e in shown["events"]] == ["intent", "result"]
    assert shown["result"]["order_id"] == "B-9" and shown["state"] == "final"
    assert main(["journal", "show", "nope", "--journal", str(path)]) == 1


def test_prune_keeps_open_entries(
    path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FKS_EXEC_JOURNAL", str(path))
    assert main(["journal", "prune", "--older-than", "0d"]) == 0
    assert "pruned 1 closed" in capsys.readouterr().out
    assert main(["journal", "--json"]) == 0
    left = {e["client_order_id"] for e in json.loads(capsys.readouterr().out)}
    assert left == {"open-1", "open-2"}


def test_migrate_and_memory_refusal(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "migrate", "--journal", str(path)]) == 0
    assert "already current" in capsys.readouterr().out
    assert main(["journal", "--journal", "memory"]) == 2
    assert "inside one process" in capsys.readouterr().err


def test_parse_when() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    assert parse_when("30d", now) == now - timedelta(days=30)
    assert parse_when("90m", now) == now - timedelta(minutes=90)
    assert parse_when("2026-11-30") == datetime(2026, 11, 30, tzinfo=timezone.utc)
    with pytest.raises(ConfigurationError, match="neither an age"):
        parse_when("last tuesday")
