"""The CLI as a new user meets it: only the needed plugins start, one message per error,
exit codes as documented, examples from the docs run as shown."""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from typing import Any

import pytest

from fks_exec.cli import main
from fks_exec.registry import PluginRegistry


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("FKS_EXEC_JOURNAL", "memory")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the plugins the command started, in order."""
    names: list[str] = []
    original = PluginRegistry.init

    async def recording_init(
        self: PluginRegistry, name: str, config: Mapping[str, Any] | None = None
    ) -> Any:
        names.append(name)
        return await original(self, name, config)

    monkeypatch.setattr(PluginRegistry, "init", recording_init)
    return names


def run(command: str) -> int:
    """Run one fks-exec command line, split as a shell would."""
    return main(shlex.split(command))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("fks-exec 0.")


def test_documented_order_example_runs_with_a_price(
    started: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("order buy BTC/USDT 0.01 --limit 64000 --plugin mock --price 64100") == 0
    assert capsys.readouterr().out.startswith("accepted: buy 0.01 BTC/USDT on mock")
    assert started == ["mock"]


def test_sides_and_time_in_force_ignore_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("order BUY BTC/USDT 0.01 --limit 64000 --tif GTC --plugin mock --price 63000") == 0
    assert capsys.readouterr().out.startswith("filled: buy 0.01 BTC/USDT on mock")
    assert run("order Sell BTC/USDT 0.01 --plugin mock --price 63000") == 0


def test_mock_without_a_price_is_refused_before_sending(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("order buy BTC/USDT 0.01 --limit 64000 --plugin mock") == 2
    err = capsys.readouterr().err
    assert "--price" in err and "FKS_EXEC_MOCK_PRICES" in err
    assert "set_price" not in err  # a CLI user cannot call it
    assert err.count("\n") == 1


def test_price_is_for_the_mock_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("order buy BTC/USDT 0.01 --plugin ccxt --price 5") == 2
    assert "--price quotes the mock" in capsys.readouterr().err
    for bad in ("0", "-1", "abc", "nan"):
        assert main(f"order buy BTC/USDT 0.01 --plugin mock --price {bad}".split()) == 2
        assert "--price takes a positive number" in capsys.readouterr().err


def test_order_on_the_default_starts_only_that_plugin(
    monkeypatch: pytest.MonkeyPatch, started: list[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    monkeypatch.setenv("FKS_EXEC_MOCK_PRICES", '{"BTC/USDT": "100"}')
    assert run("order buy BTC/USDT 1") == 0
    assert started == ["mock"]


def test_plugin_config_error_exits_2_and_is_printed_once(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_CASHH", "5")
    assert run("order buy BTC/USDT 1 --plugin mock --price 5") == 2
    captured = capsys.readouterr()
    assert captured.err.count("FKS_EXEC_MOCK_CASHH") == 1
    assert "FKS_EXEC_MOCK_CASHH" not in caplog.text
    assert run("health --plugin mock") == 2
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("FKS_EXEC_MOCK_CASHH") == 1
    assert "FKS_EXEC_MOCK_CASHH" not in caplog.text


def test_health_checks_the_configured_plugins_only(
    monkeypatch: pytest.MonkeyPatch, started: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["health"]) == 2  # nothing configured: say how, start nothing
    assert "--all" in capsys.readouterr().err
    assert started == []
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    assert main(["health"]) == 0
    assert started == ["mock"]
    assert capsys.readouterr().out.splitlines()[1].startswith("mock    yes")


def test_health_all_checks_every_enabled_plugin(
    monkeypatch: pytest.MonkeyPatch, started: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_DISABLED", "ninja")
    monkeypatch.setenv("FKS_EXEC_CCXT_EXCHANGE", "")
    assert main(["health", "--all"]) == 1  # ccxt and mt5 cannot start here
    assert sorted(started) == sorted(n for n in PluginRegistry().list_names() if n != "ninja")
    out = capsys.readouterr().out
    assert "mock    yes" in out and "ccxt    NO" in out


def test_health_of_an_unknown_plugin_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("health --plugin ibkr") == 2
    assert "no plugin named 'ibkr'" in capsys.readouterr().out


def test_check_hint_matches_what_is_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "ccxt"]) == 2  # installed, ships no check
    err = capsys.readouterr().err
    assert "is installed (fks-exec-ccxt" in err and "pip install" not in err

    import importlib.metadata

    real = importlib.metadata.entry_points

    def without_ccxt(**kwargs: Any) -> Any:
        return [ep for ep in real(**kwargs) if ep.name != "ccxt"]

    monkeypatch.setattr(importlib.metadata, "entry_points", without_ccxt)
    assert main(["check", "ccxt"]) == 2
    assert "not installed; install it with: pip install fks-exec-ccxt" in capsys.readouterr().err


def test_misspelt_core_variable_exits_2_with_did_you_mean(
    monkeypatch: pytest.MonkeyPatch, started: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_DEFUALT", "mock")
    assert run("order buy BTC/USDT 1 --plugin mock --price 5") == 2
    assert "did you mean FKS_EXEC_DEFAULT?" in capsys.readouterr().err
    assert started == []


def test_demo_walks_every_promise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for promise in (
        "-> filled: 0.10 at 65010",  # a fill
        "-> accepted  [order M2, sent=True]",  # a resting order
        "exit M3-TP   limit  -> filled",  # a bracket
        "(insufficient_funds: ",  # a rejection with its error code
        "reconciled: 1, still unknown: 0",  # an unknown reconciled
        "same result: True; times it reached the broker: 1",  # one id, one order
        "ConfigurationError: fallback 'live' -> 'mock' mixes live",  # refused fallback
        "Next, try:",
    ):
        assert promise in out
    assert out.count("sent=") == 7  # every result shown says whether it was sent


def test_the_demos_next_commands_run(capsys: pytest.CaptureFixture[str]) -> None:
    from fks_exec.demo import NEXT_STEPS

    order = next(line for line in NEXT_STEPS.splitlines() if "fks-exec order" in line)
    assert main(order.split("#")[0].split()[1:]) == 0
    assert main(["plugins"]) == 0


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0 success; 1 the order was rejected" in out
    assert "2 nothing was sent (usage or configuration error" in out
    assert "3 the order's outcome is unknown (reconcile, do not resend)" in out
