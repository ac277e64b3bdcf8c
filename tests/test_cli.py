from __future__ import annotations

import json
import os

import pytest

from fks_exec.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)


def test_plugins_lists_the_mock(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"distribution": "fks-exec", "state": "ok"}.items() <= rows["mock"].items()


def test_order_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_PRICES", '{"BTC/USDT": "100"}')
    assert main(["order", "buy", "BTC/USDT", "0.01", "--limit", "101", "--plugin", "mock"]) == 0
    assert "filled" in capsys.readouterr().out
    assert main(["order", "buy", "BTC/USDT", "100000", "--plugin", "mock", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error_code"] == "insufficient_funds"
    assert main(["order", "buy", "ETH/USDT", "1", "--plugin", "mock", "--json"]) == 2
    assert "no price for 'ETH/USDT'" in capsys.readouterr().err
    assert main(["order", "buy", "BTC/USDT", "-1", "--plugin", "mock"]) == 2
    assert "quantity" in capsys.readouterr().err
    assert main(["order", "buy", "BTC/USDT", "1", "--limit", "100", "--sl", "120"]) == 2
    assert "stop_loss (120) must be below" in capsys.readouterr().err
    assert main(["order", "buy", "BTC/USDT", "1", "--plugin", "ibkr"]) == 2
    assert "no plugin named 'ibkr'" in capsys.readouterr().err
    assert main(["order", "buy", "BTC/USDT", "1"]) == 2
    assert "FKS_EXEC_DEFAULT" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["order", "hold", "BTC/USDT", "1"])
    assert info.value.code == 2


def test_bad_plugin_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_CASHH", "5")
    assert main(["order", "buy", "X", "1", "--plugin", "mock"]) == 2
    assert "did you mean FKS_EXEC_MOCK_CASH" in capsys.readouterr().err


def test_health(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    assert main(["health"]) == 0
    assert "mock" in capsys.readouterr().out


def test_demo_shows_plugins_and_fills(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "mock     fks-exec" in out
    assert "filled: 0.10 at 65010" in out
    assert "take profit fills" in out
    assert "-> filled" in out
    assert "-> canceled" in out
