"""Each fks-exec command group as a user sees it: exact output lines, exit codes, and
what the parser accepts (the mutation run over the cli_* modules found these unchecked)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fks_exec.cli import main
from fks_exec.cli_output import write_table
from fks_exec.errors import BrokerUnavailable
from fks_exec.executor import Executor
from fks_exec.models import ExecutionResult, HealthStatus


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FKS_EXEC_JOURNAL", "memory")


def cli(command: str) -> int:
    """Run one fks-exec command line, split as a shell would."""
    return main(shlex.split(command))


def order(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """Run ``fks-exec order ... --json`` on the mock and return its exit code and result."""
    code = main([*command.split(), "--plugin", "mock", "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else None


# ------------------------------------------------------------------ the table


def test_a_table_aligns_columns_under_an_upper_case_header() -> None:
    out = io.StringIO()
    rows = [{"name": "mock", "state": "ok"}, {"name": "ninja-long", "state": "failed: x"}]
    write_table(out, rows, ["name", "state"])
    assert out.getvalue().splitlines() == [
        "NAME        STATE",
        "mock        ok",
        "ninja-long  failed: x",
    ]


def test_a_table_of_no_rows_says_none_and_a_wide_header_sets_the_width() -> None:
    out = io.StringIO()
    write_table(out, [], ["name"])
    assert out.getvalue() == "(none)\n"
    out = io.StringIO()
    write_table(out, [{"latency_ms": "1", "b": "x"}], ["latency_ms", "b"])
    assert out.getvalue() == "LATENCY_MS  B\n1           x\n"


# ------------------------------------------------------------------ order


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The orders the command gave the executor, in order."""
    orders: list[Any] = []
    original = Executor.execute

    async def recording(self: Executor, order: Any, plugin: str | None = None) -> Any:
        orders.append(order)
        return await original(self, order, plugin=plugin)

    monkeypatch.setattr(Executor, "execute", recording)
    return orders


@pytest.mark.parametrize(
    ("options", "kind", "price", "stop"),
    [
        ("", "market", None, None),
        ("--limit 90", "limit", Decimal(90), None),
        ("--stop 120", "stop", None, Decimal(120)),
        ("--limit 125 --stop 120", "stop_limit", Decimal(125), Decimal(120)),
    ],
)
def test_limit_and_stop_options_choose_the_order_type(
    capsys: pytest.CaptureFixture[str],
    sent: list[Any],
    options: str,
    kind: str,
    price: Decimal | None,
    stop: Decimal | None,
) -> None:
    code, result = order(f"order buy BTC/USDT 1 {options} --price 100 --client-id k1", capsys)
    assert code == 0, result
    (sent_order,) = sent
    assert sent_order.type.value == kind
    assert (sent_order.price, sent_order.stop_price) == (price, stop)
    assert result["client_order_id"] == "k1"
    assert (result["status"] == "filled") == (kind == "market")


def test_every_order_option_reaches_the_order(
    capsys: pytest.CaptureFixture[str], sent: list[Any]
) -> None:
    command = (
        "order sell BTC/USDT 2 --limit 125 --stop 120 --sl 130 --tp 90 --tif day "
        "--reduce-only --account main --client-id k2 --price 100"
    )
    main([*command.split(), "--plugin", "mock", "--json"])
    capsys.readouterr()
    (sent_order,) = sent
    assert sent_order.type.value == "stop_limit" and sent_order.side.value == "sell"
    assert (sent_order.price, sent_order.stop_price) == (Decimal(125), Decimal(120))
    assert (sent_order.stop_loss, sent_order.take_profit) == (Decimal(130), Decimal(90))
    assert sent_order.time_in_force.value == "day" and sent_order.reduce_only
    assert (sent_order.account, sent_order.client_order_id) == ("main", "k2")
    assert sent_order.quantity == Decimal(2) and sent_order.symbol == "BTC/USDT"


def test_without_a_client_id_the_order_gets_a_fresh_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, first = order("order buy BTC/USDT 1 --price 100", capsys)
    _, second = order("order buy BTC/USDT 1 --price 100", capsys)
    assert first["client_order_id"] != second["client_order_id"]


def result(**fields: Any) -> ExecutionResult:
    values: dict[str, Any] = {
        "plugin": "mock",
        "client_order_id": "c1",
        "order_id": "M1",
        "symbol": "X",
        "side": "buy",
        "quantity": 2,
        **fields,
    }
    return ExecutionResult(**values)


def test_a_result_is_described_with_its_fill_its_error_and_whether_it_was_sent() -> None:
    from fks_exec.cli_order import _describe_result

    filled = result(status="filled", filled_quantity=2, average_price=100, sent=True)
    assert _describe_result(filled) == (
        "filled: buy 2 X on mock (client id c1, order id M1); filled 2 at 100; sent to the broker"
    )
    spent = result(status="rejected", error="no", error_code="insufficient_funds", sent=True)
    assert _describe_result(spent).endswith(
        "; insufficient_funds: no; the broker refused it (the id is spent: fix the cause, "
        "use a new id)"
    )
    refused = result(status="rejected", error="no", error_code="invalid_order", sent=False)
    assert _describe_result(refused) == (
        "rejected: buy 2 X on mock (client id c1, order id M1); invalid_order: no; "
        "nothing was sent (safe to retry under the same id)"
    )
    unknown = result(status="unknown", error="lost", error_code="unknown", order_id=None)
    assert _describe_result(unknown) == (
        "unknown: buy 2 X on mock (client id c1, no order id); unknown: lost; it may have "
        "reached the broker (reconcile, do not resend)"
    )


def test_a_plain_order_prints_one_line_and_a_rejection_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("order buy BTC/USDT 1 --plugin mock --price 100 --client-id k3") == 0
    assert capsys.readouterr().out == (
        "filled: buy 1 BTC/USDT on mock (client id k3, order id M1); filled 1 at 100; "
        "sent to the broker\n"
    )
    code, rejected = order("order buy BTC/USDT 100000 --price 100", capsys)
    assert code == 1 and rejected["status"] == "rejected"


def test_a_price_for_another_plugins_order_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("order buy BTC/USDT 1 --plugin ccxt:okx --price 5") == 2
    assert "this order goes to 'ccxt:okx'" in capsys.readouterr().err


def test_a_named_mock_instance_takes_the_price_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "mock,mock:paper")
    assert cli("order buy BTC/USDT 1 --plugin mock:paper --price 100 --json") == 0
    assert json.loads(capsys.readouterr().out)["plugin"] == "mock:paper"
    assert cli("order buy BTC/USDT 1 --plugin mock:paper") == 2
    assert "no price for 'BTC/USDT'" in capsys.readouterr().err


@pytest.mark.parametrize("price", ["0.5", "1", "65000"])
def test_any_positive_price_is_taken(capsys: pytest.CaptureFixture[str], price: str) -> None:
    code, filled = order(f"order buy BTC/USDT 0.01 --price {price}", capsys)
    assert code == 0 and Decimal(filled["average_price"]) == Decimal(price)


# ------------------------------------------------------------------ how errors exit


def test_an_invalid_order_names_the_field_and_starts_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli("order buy BTC/USDT 0 --plugin mock") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid order: quantity: ") and err.count("\n") == 1
    assert "Value error" not in err


def test_an_order_level_error_has_no_field_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("order buy BTC/USDT 1 --limit 100 --tp 90 --plugin mock") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid order: for a buy, take_profit (90) must be above")


def test_an_unreachable_broker_exits_2_nothing_sent_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def unreachable(self: Executor, order: Any, plugin: str | None = None) -> Any:
        raise BrokerUnavailable("the mock is down")

    monkeypatch.setattr(Executor, "execute", unreachable)
    assert cli("order buy BTC/USDT 1 --plugin mock --price 5") == 2
    assert capsys.readouterr().err == "error: the mock is down\n"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().out.startswith("usage: fks-exec")


# ------------------------------------------------------------------ plugins and health


def test_plugins_shows_a_disabled_plugin_as_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_DISABLED", "ninja")
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["ninja"]["state"] == "disabled"
    assert rows["mock"]["state"] == "ok" and rows["mock"]["target"] == "fks_exec.mock:MockPlugin"
    assert main(["plugins"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "STATE"]
    assert any(line.split()[:2] == ["ninja", "fks-exec-ninja"] for line in lines)
    assert any(line.endswith("disabled") for line in lines)


def test_plugins_shows_a_plugin_that_fails_to_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fks_exec.errors import PluginLoadError
    from fks_exec.registry import PluginRegistry

    original = PluginRegistry.load

    def broken(self: PluginRegistry, name: str) -> Any:
        if name == "mt5":
            raise PluginLoadError("mt5 is broken here")
        return original(self, name)

    monkeypatch.setattr(PluginRegistry, "load", broken)
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["mt5"]["state"] == "failed: mt5 is broken here"
    assert rows["mock"]["state"] == "ok"


def health_report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["health", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_health_names_each_plugin_once_and_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = health_report(capsys, "--plugin", "mock", "--plugin", "mock")
    assert code == 0 and list(report) == ["mock"]
    assert report["mock"]["healthy"] is True


def test_health_reads_every_configured_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "mock,mock:a,mock:b,mock:c,mock:d")
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock:a")
    monkeypatch.setenv("FKS_EXEC_ROUTES", "X=mock:b")
    monkeypatch.setenv("FKS_EXEC_FALLBACKS", "mock:c=mock:d")
    code, report = health_report(capsys)
    assert code == 0
    assert list(report) == ["mock", "mock:a", "mock:b", "mock:c", "mock:d"]
    monkeypatch.delenv("FKS_EXEC_PLUGINS")
    code, report = health_report(capsys)
    assert list(report) == ["mock:a", "mock:b", "mock:c", "mock:d"]


def test_an_unhealthy_plugin_exits_1_and_is_shown_as_no(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def sick(self: Executor) -> dict[str, HealthStatus]:
        return {"mock": HealthStatus(healthy=False, detail="down", latency_ms=12.34)}

    monkeypatch.setattr(Executor, "health", sick)
    assert main(["health", "--plugin", "mock"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["mock", "NO", "12.3", "down"]


def test_a_plugin_that_fails_to_start_is_unhealthy_not_misconfigured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = Executor.plugin

    async def failing(self: Executor, name: str) -> Any:
        if name == "mock:b":
            raise BrokerUnavailable("connection refused")
        return await original(self, name)

    monkeypatch.setattr(Executor, "plugin", failing)
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "mock,mock:b")
    code, report = health_report(capsys, "--plugin", "mock:b", "--plugin", "mock")
    assert code == 1
    assert report["mock:b"]["detail"] == "failed to start: connection refused"
    assert report["mock:b"]["healthy"] is False and report["mock"]["healthy"] is True


def test_health_with_nothing_to_report_is_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def nothing(self: Executor) -> dict[str, HealthStatus]:
        return {}

    monkeypatch.setattr(Executor, "health", nothing)
    assert main(["health", "--plugin", "mock"]) == 1
    assert capsys.readouterr().out == "(none)\n"


# ------------------------------------------------------------------ serve and check


@pytest.mark.parametrize("port", ["0", "65536", "-1", "http", "8o80", ""])
def test_serve_refuses_a_port_that_is_not_one(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--port", port])
    assert info.value.code == 2
    assert "is not a port: give a number from 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "port"), [("1", 1), ("8080", 8080), ("65535", 65535)])
def test_a_port_from_1_to_65535_is_taken(text: str, port: int) -> None:
    from fks_exec.cli_serve import _port

    assert _port(text) == port
    with pytest.raises(argparse.ArgumentTypeError):
        _port(str(port + 65535))


def test_serve_without_a_secret_refuses_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "8099"]) == 2
    assert "FKS_EXEC_WEBHOOK_SECRET" in capsys.readouterr().err


def test_check_runs_the_plugins_own_check_with_its_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.metadata

    calls: list[list[str]] = []

    class Check:
        name = "mock"
        dist = None

        def load(self) -> Any:
            def run(args: list[str], out: Any) -> int:
                calls.append(args)
                out.write("checked\n")
                return 7

            return run

    real = importlib.metadata.entry_points

    def with_a_mock_check(**kwargs: Any) -> Any:
        found = list(real(**kwargs))
        return [*found, Check()] if kwargs.get("group") == "fks_exec.checks" else found

    monkeypatch.setattr(importlib.metadata, "entry_points", with_a_mock_check)
    assert main(["check", "mock", "--place", "-x"]) == 7
    assert calls == [["--place", "-x"]]
    assert capsys.readouterr().out == "checked\n"


def test_check_of_an_unknown_plugin_lists_the_checks_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "ibkr"]) == 2
    assert capsys.readouterr().err == (
        "error: no plugin named 'ibkr' is installed (checks available: mt5, ninja)\n"
    )
    assert main(["check", "mock"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: plugin 'mock' is installed (fks-exec ")
    assert err.endswith(" but ships no check (checks available: mt5, ninja)\n")


def test_json_output_is_indented_by_two_spaces(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("order buy BTC/USDT 1 --plugin mock --price 100 --json --client-id k4") == 0
    out = capsys.readouterr().out
    assert out.startswith('{\n  "success": true,\n  "sent": true,\n') and out.endswith("\n}\n")


def test_plugins_lists_a_failure_outside_the_catalog_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import MappingProxyType

    from fks_exec.errors import PluginLoadError
    from fks_exec.registry import PluginRegistry

    failures = {"ghost": PluginLoadError("claimed twice"), "mock": PluginLoadError("shadow")}
    monkeypatch.setattr(PluginRegistry, "failures", property(lambda _: MappingProxyType(failures)))
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows].count("mock") == 1
    (ghost,) = [row for row in rows if row["name"] == "ghost"]
    assert ghost == {
        "name": "ghost",
        "distribution": "-",
        "version": "-",
        "target": "-",
        "state": "failed: claimed twice",
    }


def test_plugins_shows_each_version_or_a_dash(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib.metadata import version

    from fks_exec._discovery import PluginInfo
    from fks_exec.registry import PluginRegistry

    original = PluginRegistry.list_infos

    def with_one_unversioned(self: PluginRegistry) -> list[PluginInfo]:
        infos = list(original(self))
        return [info if info.name != "ninja" else info._replace(version=None) for info in infos]

    monkeypatch.setattr(PluginRegistry, "list_infos", with_one_unversioned)
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["mock"]["version"] == version("fks-exec")
    assert rows["ninja"]["version"] == "-"


def test_plugins_and_health_json_are_indented_by_two_spaces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plugins", "--json"]) == 0
    assert capsys.readouterr().out.startswith('[\n  {\n    "name": ')
    assert main(["health", "--plugin", "mock", "--json"]) == 0
    assert capsys.readouterr().out.startswith('{\n  "mock": {\n    "healthy": true,')


@pytest.mark.parametrize(("flags", "verbosity"), [([], 0), (["-v"], 1), (["-vv"], 2)])
def test_each_v_raises_the_log_verbosity_by_one(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], verbosity: int
) -> None:
    import contextlib

    import fks_exec.cli

    seen: list[int] = []

    def recording(verbose: int) -> contextlib.AbstractContextManager[None]:
        seen.append(verbose)
        return contextlib.nullcontext()

    monkeypatch.setattr(fks_exec.cli, "logging_for", recording)
    assert main([*flags, "plugins", "--json"]) == 0
    assert seen == [verbosity]


def test_the_version_of_a_bare_checkout_says_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.metadata

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == "fks-exec (not installed)\n"


def test_serve_listens_on_127_0_0_1_port_8080_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fks_exec.server_http

    served: list[tuple[str, int]] = []

    def recording(app: Any, settings: Any, *, host: str, port: int) -> None:
        served.append((host, port))

    monkeypatch.setattr(fks_exec.server_http, "serve", recording)
    monkeypatch.setenv("FKS_EXEC_WEBHOOK_SECRET", "whsec-cli-0a1b2c3d")
    assert main(["serve"]) == 0
    assert main(["serve", "--host", "0.0.0.0", "--port", "9001"]) == 0
    assert served == [("127.0.0.1", 8080), ("0.0.0.0", 9001)]


def test_serve_without_the_server_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "error: the server needs its extra: pip install 'fks-exec[server]'\n"
    )


def test_each_kind_of_answer_has_its_own_exit_code() -> None:
    from fks_exec.cli_order import exit_code

    held = [
        result(status="filled", filled_quantity=2, average_price=100, sent=True),
        result(status="partially_filled", filled_quantity=1, average_price=100, sent=True),
        result(status="accepted", sent=True),
        result(status="canceled", filled_quantity=1, average_price=100, sent=True),
    ]
    assert [exit_code(r) for r in held] == [0, 0, 0, 0]
    answered_nothing_held = [
        result(status="rejected", error="no", error_code="insufficient_funds", sent=True),
        result(status="canceled", sent=True),  # an IOC that found nothing to fill
        result(status="expired", sent=True),
    ]
    assert [exit_code(r) for r in answered_nothing_held] == [1, 1, 1]
    refused = result(status="rejected", error="no", error_code="invalid_order", sent=False)
    assert exit_code(refused) == 2
    assert exit_code(result(status="unknown", error="lost", error_code="unknown")) == 3
    reached = result(status="unknown", error="lost", error_code="unknown", sent=True)
    assert exit_code(reached) == 3  # it reached the broker; what became of it is not known


def test_an_ioc_that_fills_nothing_exits_1_and_an_unknown_outcome_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, canceled = order("order buy BTC/USDT 1 --limit 50 --tif ioc --price 100", capsys)
    assert code == 1 and canceled["status"] == "canceled" and canceled["filled_quantity"] == "0"

    async def lost(self: Executor, order: Any, plugin: str | None = None) -> Any:
        return ExecutionResult.for_order(
            order, plugin="mock", status="unknown", error="no answer", error_code="timeout"
        )

    monkeypatch.setattr(Executor, "execute", lost)
    assert cli("order buy BTC/USDT 1 --plugin mock --price 5") == 3
    assert "(reconcile, do not resend)" in capsys.readouterr().out


def test_an_order_for_the_mock_alone_keeps_out_of_the_per_user_journal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Live plugins are installed here (ccxt, mt5, ninja): an executor that plans for all
    # of them picks the per-user SQLite file; one for an order to the mock must not.
    from fks_exec.journal import selection

    monkeypatch.delenv("FKS_EXEC_JOURNAL", raising=False)  # the kit sets it to memory
    monkeypatch.setattr(selection, "default_path", lambda: tmp_path / "journal.sqlite3")
    monkeypatch.setenv("FKS_EXEC_MOCK_PRICES", '{"BTC/USDT": "100"}')
    assert Executor.from_env().journal.__class__.__name__ == "SqliteJournal"  # the premise
    assert cli("order buy BTC/USDT 1 --plugin mock --client-id mock-only-1") == 0
    assert "filled" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("flags", "level"), [([], "INFO"), (["-v"], "DEBUG")])
def test_serve_shows_the_servers_own_info_lines_at_the_default_level(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], level: str
) -> None:
    # The start-up line that says which endpoint accepts what is INFO: at the CLI's
    # default level (warnings) nobody saw it.
    import logging

    import fks_exec.server_http

    seen: list[str] = []

    def serve(app: Any, settings: Any, *, host: str, port: int) -> None:
        seen.append(logging.getLevelName(logging.getLogger("fks_exec.server").getEffectiveLevel()))

    monkeypatch.setattr(fks_exec.server_http, "serve", serve)
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    monkeypatch.setenv("FKS_EXEC_WEBHOOK_PASSPHRASE", "a-long-enough-passphrase-1")
    assert main([*flags, "serve"]) == 0
    assert seen == [level]
    assert logging.getLogger("fks_exec.server").level == logging.NOTSET  # put back
