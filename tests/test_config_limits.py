"""Configuration garbage is refused with a ConfigurationError naming the field (and
its variable), never a hang, a raw TypeError or a traceback."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Executor, PluginConfig, PluginRegistry
from fks_exec.config import MAX_DURATION_S, check_durations, load_plugin_config
from fks_exec.errors import ConfigurationError
from fks_exec.mock import MockConfig
from fks_exec.server import WebhookSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FKS_EXEC_"):
            monkeypatch.delenv(key)


class VenueConfig(PluginConfig):
    """A plugin config with the kinds of fields the naming rules cover."""

    order_timeout_s: float = 10.0
    poll_ms: int = 500
    port: int = 8000
    bridge_port: int | None = None
    size: float = 1.0

    fields_under_test: ClassVar[tuple[str, ...]] = ("order_timeout_s", "poll_ms", "port")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_timeout_s", math.inf),
        ("order_timeout_s", math.nan),
        ("order_timeout_s", -1.0),
        ("order_timeout_s", MAX_DURATION_S + 0.5),
        ("poll_ms", MAX_DURATION_S * 1000 + 1),
        ("port", 0),
        ("port", 65536),
        ("bridge_port", 99999),
        ("size", math.inf),
    ],
)
def test_out_of_range_settings_name_the_field_and_variable(field: str, value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_plugin_config("venue", VenueConfig, {field: value}, use_env=False)
    assert f"{field} (FKS_EXEC_VENUE_{field.upper()})" in str(caught.value)


def test_the_edges_of_each_range_are_accepted() -> None:
    config = load_plugin_config(
        "venue",
        VenueConfig,
        {"order_timeout_s": MAX_DURATION_S, "poll_ms": 0, "port": 65535, "bridge_port": 1},
        use_env=False,
    )
    assert (config.order_timeout_s, config.port) == (MAX_DURATION_S, 65535)  # type: ignore[attr-defined]


def test_a_variable_out_of_range_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_VENUE_ORDER_TIMEOUT_S", "inf")
    with pytest.raises(ConfigurationError, match="FKS_EXEC_VENUE_ORDER_TIMEOUT_S"):
        load_plugin_config("venue", VenueConfig)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_duration_keyword_is_accepted_exactly_when_finite_and_within_a_day(value: float) -> None:
    if math.isfinite(value) and 0 <= value <= MAX_DURATION_S:
        check_durations(close_timeout_s=value)
    else:
        with pytest.raises(ConfigurationError, match="close_timeout_s"):
            check_durations(close_timeout_s=value)


@pytest.mark.parametrize("text", ["inf", "nan", "1e300", "-5", "60001"])
def test_mock_latency_variable_garbage_is_refused_not_hung(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("FKS_EXEC_MOCK_LATENCY_MS", text)
    with pytest.raises(ConfigurationError, match="FKS_EXEC_MOCK_LATENCY_MS"):
        load_plugin_config("mock", MockConfig)


async def test_mock_latency_keyword_inf_is_refused_at_start() -> None:
    executor = Executor(
        default="mock", configs={"mock": {"latency_ms": math.inf}}, journal="memory"
    )
    with pytest.raises(ConfigurationError, match="latency_ms"):
        await asyncio.wait_for(executor.plugin("mock"), 10)
    await executor.close()


def test_mock_prices_must_be_finite_and_positive() -> None:
    for bad in ("Infinity", "NaN", "0", "-1"):
        with pytest.raises(ConfigurationError, match="prices"):
            load_plugin_config("mock", MockConfig, {"prices": {"X": bad}}, use_env=False)


@pytest.mark.parametrize("keyword", ["reconcile_delay_s", "health_timeout_s", "retry_init_after_s"])
@pytest.mark.parametrize("value", [math.inf, math.nan, 1e300])
def test_executor_durations_are_finite(keyword: str, value: float) -> None:
    with pytest.raises(ConfigurationError, match=keyword):
        Executor(PluginRegistry(discover=False), default="mock", **{keyword: value})


@pytest.mark.parametrize("configs", [{"mock": 5}, {"mock": "cash=1"}, {"mock": [1]}, ["mock"], 3])
def test_every_config_of_the_wrong_type_gets_the_same_clear_error(configs: Any) -> None:
    with pytest.raises(ConfigurationError, match="must"):
        Executor(PluginRegistry(discover=False), default="mock", configs=configs)


def test_load_plugin_config_refuses_values_that_are_not_a_mapping() -> None:
    with pytest.raises(ConfigurationError, match="must be a dict of settings, not list"):
        load_plugin_config("mock", MockConfig, [("cash", 1)], use_env=False)  # type: ignore[arg-type]


def test_a_bad_json_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FKS_EXEC_WEBHOOK_SYMBOLS", "BINANCE:BTCUSDT=ccxt:BTC/USDT")
    with pytest.raises(ConfigurationError, match="FKS_EXEC_WEBHOOK_SYMBOLS"):
        WebhookSettings.from_env()
    monkeypatch.setenv("FKS_EXEC_MOCK_PRICES", "{not json")
    with pytest.raises(ConfigurationError, match="FKS_EXEC_MOCK_PRICES"):
        load_plugin_config("mock", MockConfig)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FKS_EXEC_WEBHOOK_WINDOW_S", "inf"),
        ("FKS_EXEC_WEBHOOK_HEADER_TIMEOUT_S", "nan"),
        ("FKS_EXEC_WEBHOOK_BODY_TIMEOUT_S", "1e300"),
        ("FKS_EXEC_WEBHOOK_MAX_BODY_BYTES", "1000000000"),
        ("FKS_EXEC_WEBHOOK_MAX_CONNECTIONS", "0"),
        ("FKS_EXEC_WEBHOOK_TRADINGVIEW_AUTH", "maybe"),
    ],
)
def test_webhook_variables_out_of_range_are_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        WebhookSettings.from_env()


def test_serve_with_a_bad_variable_says_which_without_a_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env.update(FKS_EXEC_WEBHOOK_SECRET="s" * 20, FKS_EXEC_WEBHOOK_SYMBOLS="not json")
    out = subprocess.run(
        [sys.executable, "-m", "fks_exec.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "FKS_EXEC_WEBHOOK_SYMBOLS" in out.stderr and "Traceback" not in out.stderr


def test_serve_file_limit_too_low_is_a_clear_error() -> None:
    from fks_exec.server_http import connection_bound

    settings = WebhookSettings(secret="s" * 20)
    assert connection_bound(settings, file_limit=1024) < 1024
    assert connection_bound(settings, file_limit=1_000_000) == settings.max_connections
    with pytest.raises(ConfigurationError, match="file limit"):
        connection_bound(settings, file_limit=200)
