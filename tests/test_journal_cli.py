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


def test_parse_when_gives_utc_for_a_time_with_an_offset() -> None:
    when = parse_when("2020-01-01T06:00+05:00")
    assert when == datetime(2020, 1, 1, 1, tzinfo=timezone.utc)
    assert when.tzinfo is timezone.utc and when.hour == 1
    assert parse_when("2020-01-01T06:00") == datetime(2020, 1, 1, 6, tzinfo=timezone.utc)


def _outside(text: str) -> str:
    return (
        f"{text!r} lies outside the years 1 to 9999 (in UTC); give a shorter age (30d, 12h) "
        "or a date within them (2026-12-01)"
    )


@pytest.mark.parametrize(
    "text", ["99999999999d", "5000000d", "0001-01-01T00:00+05:00", "9999-12-31T23:00-05:00"]
)
def test_parse_when_refuses_a_time_beyond_the_calendar(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_when(f" {text} ", datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert str(caught.value) == _outside(text)


@pytest.mark.parametrize(
    "argv",
    [["--since", "99999999999d"], ["prune", "--older-than", "5000000d"]],
)
def test_an_age_beyond_the_calendar_is_a_usage_error_not_a_traceback(
    path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(["journal", *argv, "--journal", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {_outside(argv[-1])}\n" and captured.out == ""


def test_prune_prints_its_cutoff_in_utc(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["journal", "prune", "--older-than", "2020-01-01T06:00+05:00", "--journal", str(path)])
        == 0
    )
    assert capsys.readouterr().out == (
        "pruned 0 closed entries unchanged since 2020-01-01 01:00 UTC; open entries are kept\n"
    )


def test_an_entry_an_old_version_journaled_under_a_non_text_plugin_is_listed(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    raw = sqlite3.connect(path)
    raw.execute("UPDATE orders SET plugin = ? WHERE client_order_id = 'open-1'", (b"cnt",))
    raw.execute("UPDATE orders SET plugin = 123 WHERE client_order_id = 'open-2'")
    raw.commit()
    raw.close()
    assert main(["journal", "--journal", str(path), "--json"]) == 0
    plugins = {e["client_order_id"]: e["plugin"] for e in json.loads(capsys.readouterr().out)}
    assert plugins == {"done-1": "ccxt", "open-1": "b'cnt'", "open-2": "123"}
    assert main(["journal", "--journal", str(path)]) == 0
    assert "b'cnt'" in capsys.readouterr().out
