"""``fks-exec journal`` on a PostgreSQL journal: another process, over TCP as from
another host, lists and shows what an executor's process wrote; prune and migrate."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from fks_exec import ExecutionResult, Order
from fks_exec.cli import main
from fks_exec.journal import JournalUpdate
from fks_exec.journal.postgres import PostgresJournal

CLI = "import sys; from fks_exec.cli import main; sys.exit(main(sys.argv[1:]))"


def fill(url: str) -> None:
    async def run() -> None:
        journal = PostgresJournal(url)
        await journal.open()
        for cid, plugin in [("done-1", "ccxt"), ("open-1", "mt5"), ("open-2", "ccxt")]:
            order = Order.market("EURUSD", "buy", "0.1", client_order_id=cid)
            await journal.claim(order, plugin, {"ticket": "7"})
        done = ExecutionResult.for_order(
            Order.market("EURUSD", "buy", "0.1", client_order_id="done-1"),
            plugin="ccxt", status="filled", order_id="B-9", filled_quantity="0.1",
            average_price="1.1",
        )  # fmt: skip
        await journal.record(JournalUpdate.from_result(done))
        await journal.close()

    asyncio.run(run())


def _over_tcp(pg_cluster: object, socket_url: str) -> str:
    schema = socket_url.rsplit("%3D", 1)[1]
    tcp = pg_cluster.tcp_url()  # type: ignore[attr-defined]
    return f"{tcp}?options=-csearch_path%3D{schema}"


def test_another_process_over_tcp_lists_and_shows(pg_cluster: object, pg_url: str) -> None:
    fill(pg_url)
    url = _over_tcp(pg_cluster, pg_url)
    env = {**os.environ, "FKS_EXEC_JOURNAL": url}
    listed = _cli(env, "journal", "--open", "--json")
    assert sorted(e["client_order_id"] for e in json.loads(listed)) == ["open-1", "open-2"]
    shown = _cli(env, "journal", "show", "done-1")
    assert "B-9" in shown and "intent" in shown and "result" in shown


def _cli(env: dict[str, str], *argv: str) -> str:
    command = [sys.executable, "-c", CLI, *argv]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_prune_migrate_and_a_missing_id(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(pg_url)
    assert main(["journal", "prune", "--older-than", "0s", "--journal", pg_url]) == 0
    assert "pruned 1 closed entries" in capsys.readouterr().out
    assert main(["journal", "--journal", pg_url, "--json"]) == 0
    assert sorted(e["client_order_id"] for e in json.loads(capsys.readouterr().out)) == [
        "open-1",
        "open-2",
    ]
    assert main(["journal", "migrate", "--journal", pg_url]) == 0
    assert "schema version 1 -> 1 (already current)" in capsys.readouterr().out
    assert main(["journal", "show", "nope", "--journal", pg_url]) == 1
    assert "no order 'nope'" in capsys.readouterr().out
