"""Misspelt FKS_EXEC_* variables: errors for the core's, warnings for absent plugins'."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec.config import settings_from_env
from fks_exec.env_names import CORE_VARIABLES, check_env_names, check_prefixed_names
from fks_exec.errors import ConfigurationError

INSTALLED = ["mock", "ccxt", "ninja"]  # mt5 "not installed" in these tests


def test_known_names_pass() -> None:
    env = dict.fromkeys(CORE_VARIABLES, "x")
    env.update(
        {
            "FKS_EXEC_MOCK_CASH": "1",
            "FKS_EXEC_CCXT_EXCHANGE": "okx",
            "FKS_EXEC_CCXT__OKX_TESTNET_API_KEY": "k",  # a named instance
            "FKS_EXEC_WEBHOOK_SECRET": "s",  # the server checks its own fields
            "OTHER_VARIABLE": "1",
        }
    )
    assert check_env_names(INSTALLED, env) == []


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("FKS_EXEC_DEFUALT", "FKS_EXEC_DEFAULT"),
        ("FKS_EXEC_ROUTE", "FKS_EXEC_ROUTES"),
        ("fks_exec_fallback", "FKS_EXEC_FALLBACKS"),
        ("FKS_EXEC_ALLOW_PAPER_FALLBACKS", "FKS_EXEC_ALLOW_PAPER_FALLBACK"),
        ("FKS_EXEC_PLUGIN", "FKS_EXEC_PLUGINS"),
        ("FKS_EXEC_DISABLE", "FKS_EXEC_DISABLED"),
        ("FKS_EXEC_JOURNALS", "FKS_EXEC_JOURNAL"),
        ("FKS_EXEC_JOURNAL_PATH", "FKS_EXEC_JOURNAL"),
        ("FKS_EXEC_WEBHOK_SECRET", "FKS_EXEC_WEBHOOK_SECRET"),
        ("FKS_EXEC_WEB_HOOK_SECRET", None),
    ],
)
def test_core_typos_are_errors(key: str, meant: str | None) -> None:
    with pytest.raises(ConfigurationError) as info:
        check_env_names(INSTALLED, {key: "s3cret-value"})
    message = str(info.value)
    assert key in message
    if meant:
        assert f"did you mean {meant}" in message
    assert "s3cret-value" not in message


def test_absent_plugin_prefix_is_a_warning_with_the_install_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    warnings = check_env_names(INSTALLED, {"FKS_EXEC_MT5_LOGIN": "1", "FKS_EXEC_IBKR_HOST": "h"})
    assert len(warnings) == 2
    assert (
        "plugin 'mt5' is not installed; install it with: pip install fks-exec-mt5" in (warnings[1])
    )
    assert "plugin 'ibkr' is not installed" in warnings[0]
    assert "FKS_EXEC_MT5_LOGIN" in caplog.text


def test_near_miss_of_an_installed_plugin_prefix_is_a_warning() -> None:
    (warning,) = check_env_names(INSTALLED, {"FKS_EXEC_CCTX_EXCHANGE": "okx"})
    assert "did you mean FKS_EXEC_CCXT_EXCHANGE?" in warning


@given(
    name=st.sampled_from(sorted(CORE_VARIABLES)),
    position=st.integers(min_value=0),
    letter=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
def test_one_letter_off_any_core_variable_is_caught(name: str, position: int, letter: str) -> None:
    suffix = name.removeprefix("FKS_EXEC_")
    i = position % len(suffix)
    typo = "FKS_EXEC_" + suffix[:i] + letter + suffix[i + 1 :]
    if typo in CORE_VARIABLES:
        return
    with pytest.raises(ConfigurationError, match=f"did you mean {name}"):
        check_env_names(INSTALLED, {typo: "1"})


def test_prefixed_names_name_the_field_meant() -> None:
    env = {"FKS_EXEC_WEBHOOK_MIN_CONFIDANCE": "0.9", "FKS_EXEC_WEBHOOK_SECRET": "s"}
    with pytest.raises(ConfigurationError) as info:
        check_prefixed_names("FKS_EXEC_WEBHOOK_", ["secret", "min_confidence"], env)
    assert "FKS_EXEC_WEBHOOK_MIN_CONFIDANCE (did you mean FKS_EXEC_WEBHOOK_MIN_CONFIDENCE?)" in (
        str(info.value)
    )
    assert "0.9" not in str(info.value)


def test_webhook_settings_refuse_a_typo_and_name_a_bad_json_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("starlette")
    from fks_exec.server import WebhookSettings

    monkeypatch.setenv("FKS_EXEC_WEBHOOK_MIN_CONFIDANCE", "0.9")
    with pytest.raises(ConfigurationError, match="did you mean FKS_EXEC_WEBHOOK_MIN_CONFIDENCE"):
        WebhookSettings.from_env()
    monkeypatch.delenv("FKS_EXEC_WEBHOOK_MIN_CONFIDANCE")
    monkeypatch.setenv("FKS_EXEC_WEBHOOK_SYMBOLS", "BINANCE:BTCUSDT=ccxt")
    with pytest.raises(ConfigurationError, match="FKS_EXEC_WEBHOOK_SYMBOLS is not valid JSON"):
        settings_from_env(WebhookSettings, "FKS_EXEC_WEBHOOK_")


def test_executor_settings_know_plugins_by_entry_point_without_importing_them(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from importlib.metadata import EntryPoint

    import fks_exec.config as config

    never_imported = EntryPoint("boom", "module_that_does_not_exist:Plugin", "fks_exec.plugins")
    monkeypatch.setattr(config, "entry_points", lambda group: [never_imported])
    for key in [k for k in os.environ if k.startswith("FKS_EXEC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("FKS_EXEC_BOOM_ANYTHING", "1")  # the plugin's own model decides
    config.ExecutorSettings.from_env()
    assert "FKS_EXEC_BOOM_ANYTHING" not in caplog.text
    monkeypatch.setenv("FKS_EXEC_ROUTS", "BTC/*=boom")
    with pytest.raises(ConfigurationError, match="did you mean FKS_EXEC_ROUTES"):
        config.ExecutorSettings.from_env()
