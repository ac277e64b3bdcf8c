from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from fks_exec import ConfigurationError, PluginConfig
from fks_exec.config import ExecutorSettings, load_plugin_config


class DemoConfig(PluginConfig):
    exchange: str = "binance"
    api_key: SecretStr | None = None
    timeout_ms: int = 10_000
    sandbox: bool = False
    options: dict[str, str] = {}
    min_size: Decimal = Decimal("0.001")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)


def test_env_fills_fields_and_keywords_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_DEMO_EXCHANGE", "bybit")
    monkeypatch.setenv("FKS_EXEC_DEMO_TIMEOUT_MS", "2500")
    monkeypatch.setenv("fks_exec_demo_sandbox", "true")
    monkeypatch.setenv("FKS_EXEC_DEMO_OPTIONS", '{"defaultType": "swap"}')
    monkeypatch.setenv("FKS_EXEC_DEMO_API_KEY", "k-123")
    cfg = load_plugin_config("demo", DemoConfig, {"exchange": "okx"})
    assert isinstance(cfg, DemoConfig)
    assert cfg.exchange == "okx"
    assert cfg.timeout_ms == 2500
    assert cfg.sandbox is True
    assert cfg.options == {"defaultType": "swap"}
    assert cfg.api_key is not None
    assert cfg.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(cfg)


def test_bad_env_value_names_variable_and_hides_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_DEMO_TIMEOUT_MS", "soon-ish")
    with pytest.raises(ConfigurationError) as info:
        load_plugin_config("demo", DemoConfig)
    message = str(info.value)
    assert "FKS_EXEC_DEMO_TIMEOUT_MS" in message
    assert "soon-ish" not in message


def test_a_refused_secret_is_not_kept_in_the_errors_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pydantic's ValidationError keeps each refused input in .errors() (hide_input_in_errors
    # hides it from str() only): the ConfigurationError must not carry it as its context.
    with pytest.raises(ConfigurationError) as given:
        load_plugin_config("demo", DemoConfig, {"api_key": 88812345})
    monkeypatch.setenv("FKS_EXEC_DEMO_OPTIONS", '["secret-in-a-list-77"]')
    with pytest.raises(ConfigurationError) as from_env:
        load_plugin_config("demo", DemoConfig)
    monkeypatch.setenv("FKS_EXEC_DEMO_OPTIONS", "{not json secret-77")
    with pytest.raises(ConfigurationError) as not_json:
        load_plugin_config("demo", DemoConfig)
    for raised in (given, from_env, not_json):
        assert raised.value.__context__ is None and raised.value.__cause__ is None
        assert "88812345" not in str(raised.value) and "secret-" not in str(raised.value)


def test_bad_json_env_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_DEMO_OPTIONS", "{not json")
    with pytest.raises(ConfigurationError, match="JSON"):
        load_plugin_config("demo", DemoConfig)


def test_misspelt_variable_gets_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_DEMO_APIKEY", "x")
    with pytest.raises(ConfigurationError, match="did you mean FKS_EXEC_DEMO_API_KEY"):
        load_plugin_config("demo", DemoConfig)


def test_unknown_keyword_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown config key.*secrett"):
        load_plugin_config("demo", DemoConfig, {"secrett": "x"})


def test_executor_settings_parse_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_DEFAULT", "mock")
    monkeypatch.setenv("FKS_EXEC_ROUTES", "BTC/*=ccxt; EURUSD=mt5 ;ES *=ninja")
    monkeypatch.setenv("FKS_EXEC_FALLBACKS", "mt5=ccxt,mock")
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "mock, ccxt")
    monkeypatch.setenv("FKS_EXEC_DISABLED", "ninja")
    settings = ExecutorSettings.from_env()
    assert settings.default == "mock"
    assert settings.routes == {"BTC/*": "ccxt", "EURUSD": "mt5", "ES *": "ninja"}
    assert settings.fallbacks == {"mt5": ["ccxt", "mock"]}
    assert settings.plugins == ["mock", "ccxt"]
    assert settings.disabled == ["ninja"]


def test_malformed_routes_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_ROUTES", "BTC/* ccxt")
    with pytest.raises(ConfigurationError, match=r"FKS_EXEC_ROUTES.*KEY=VALUE"):
        ExecutorSettings.from_env()
