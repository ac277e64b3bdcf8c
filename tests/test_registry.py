from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

import fks_exec._discovery as discovery_module
from fks_exec import (
    ConfigurationError,
    PluginInitError,
    PluginLoadError,
    PluginNotFound,
    PluginRegistry,
)
from fks_exec.mock import MockPlugin


@dataclass
class FakeDist:
    name: str
    version: str = "1.0"


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    dist: FakeDist | None
    target: Any = None

    def load(self) -> Any:
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


def install(monkeypatch: pytest.MonkeyPatch, *eps: FakeEntryPoint) -> None:
    monkeypatch.setattr(discovery_module, "entry_points", lambda group: list(eps))


def test_discovery_imports_no_plugin_module() -> None:
    code = (
        "import sys, fks_exec\n"
        "from fks_exec import PluginRegistry\n"
        "infos = {i.name: i for i in PluginRegistry().discover()}\n"
        "assert infos['mock'].distribution == 'fks-exec', infos\n"
        "loaded = [m for m in sys.modules if m.startswith(('fks_exec.mock', 'fks_exec_'))]\n"
        "assert not loaded, loaded\n"
        "assert 'fks_exec.plugin' not in sys.modules\n"
        "print('ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_unknown_name_lists_known_and_install_hint() -> None:
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    with pytest.raises(PluginNotFound) as info:
        registry.load("mt5")
    assert "pip install fks-exec-mt5" in str(info.value)
    assert "Known plugins: mock" in str(info.value)
    with pytest.raises(PluginNotFound, match="Did you mean 'mock'"):
        registry.load("mokc")
    assert isinstance(info.value, LookupError)


def test_get_returns_one_instance(registry: PluginRegistry) -> None:
    plugin = registry.get("mock")
    assert isinstance(plugin, MockPlugin)
    assert registry.get("mock") is plugin
    assert registry.is_loaded("mock")


def test_two_distributions_claiming_one_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    install(
        monkeypatch,
        FakeEntryPoint("dup", "a_pkg:Plugin", FakeDist("dist-a"), MockPlugin),
        FakeEntryPoint("dup", "b_pkg:Plugin", FakeDist("dist-b"), MockPlugin),
        FakeEntryPoint("mock", "fks_exec.mock:MockPlugin", FakeDist("fks-exec"), MockPlugin),
    )
    registry = PluginRegistry(enabled=None, disabled=())
    names = [info.name for info in registry.discover()]
    assert names == ["mock"]
    assert "dist-a" in caplog.text
    assert "dist-b" in caplog.text
    with pytest.raises(PluginLoadError, match=r"dist-a .*and dist-b"):
        registry.load("dup")
    assert isinstance(registry.get("mock"), MockPlugin)  # the rest keeps working


def test_same_distribution_twice_is_not_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = FakeEntryPoint("mock", "fks_exec.mock:MockPlugin", FakeDist("fks-exec"), MockPlugin)
    install(monkeypatch, ep, ep)
    assert [i.name for i in PluginRegistry(enabled=None, disabled=()).discover()] == ["mock"]


def test_import_failure_is_recorded_and_fail_soft(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    install(
        monkeypatch,
        FakeEntryPoint(
            "mt5",
            "fks_exec_mt5:Mt5Plugin",
            FakeDist("fks-exec-mt5"),
            ImportError("No module named 'MetaTrader5'"),
        ),
        FakeEntryPoint("mock", "fks_exec.mock:MockPlugin", FakeDist("fks-exec"), MockPlugin),
    )
    registry = PluginRegistry(enabled=None, disabled=())
    failures = asyncio.run(registry.init_all())
    assert set(failures) == {"mt5"}
    assert "MetaTrader5" in str(registry.failures["mt5"])
    assert "pip install fks-exec-mt5" in str(registry.failures["mt5"])
    assert "plugin 'mt5' is unavailable" in caplog.text
    assert registry.is_initialized("mock")
    with pytest.raises(PluginLoadError):
        asyncio.run(PluginRegistry(enabled=None, disabled=()).init_all(strict=True))


def test_entry_point_to_a_non_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("odd", "x:y", FakeDist("odd"), object()))
    with pytest.raises(PluginLoadError, match="not an ExecutionPlugin"):
        PluginRegistry(enabled=None, disabled=()).load("odd")


def test_allowlist_and_denylist(monkeypatch: pytest.MonkeyPatch, registry: PluginRegistry) -> None:
    registry.register("other", MockPlugin)
    assert {"mock", "other"} <= set(registry.list_names())
    monkeypatch.setenv("FKS_EXEC_PLUGINS", "other")
    only = PluginRegistry()
    only.register("other", MockPlugin)
    assert only.list_names() == ["other"]
    with pytest.raises(ConfigurationError, match="disabled"):
        only.load("mock")
    monkeypatch.delenv("FKS_EXEC_PLUGINS")
    monkeypatch.setenv("FKS_EXEC_DISABLED", "mock")
    assert "mock" not in PluginRegistry().list_names()


def test_register_refuses_silent_overwrite(registry: PluginRegistry) -> None:
    registry.register("paper", MockPlugin)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("paper", MockPlugin())
    registry.register("paper", MockPlugin(), replace=True)
    with pytest.raises(TypeError, match="ExecutionPlugin"):
        registry.register("bad", object)  # type: ignore[arg-type]


async def test_init_failure_recorded_and_others_start(
    registry: PluginRegistry, make_plugin: Any
) -> None:
    good, bad = make_plugin("good"), make_plugin("bad")
    registry.register("good", good)
    registry.register("bad", bad)
    failures = await registry.init_all({"bad": {"fail_connect": True}}, names=["good", "bad"])
    assert list(failures) == ["bad"]
    assert isinstance(failures["bad"], PluginInitError)
    assert registry.is_initialized("good")
    health = await registry.health()
    assert health["good"].healthy
    assert not health["bad"].healthy
    assert "terminal not running" in health["bad"].detail
    with pytest.raises(PluginInitError):
        await registry.init_all({"bad": {"fail_connect": True}}, names=["bad"], strict=True)


async def test_health_times_out_a_hanging_plugin(
    registry: PluginRegistry, make_plugin: Any
) -> None:
    slow, fast = make_plugin("slow"), make_plugin("fast")
    slow.health_delay_s = 30
    registry.register("slow", slow)
    registry.register("fast", fast)
    await registry.init_all(names=["slow", "fast"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    health = await registry.health(timeout=0.05)
    assert loop.time() - started < 5
    assert health["fast"].healthy
    assert not health["slow"].healthy
    assert "timed out" in health["slow"].detail


async def test_close_all_survives_a_failing_close(
    registry: PluginRegistry, make_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = make_plugin("first"), make_plugin("second")
    first.close_error = RuntimeError("socket already gone")
    registry.register("first", first)
    registry.register("second", second)
    await registry.init_all(names=["first", "second"])
    with caplog.at_level(logging.WARNING):
        await registry.close_all()
    assert first.closed == 1
    assert second.closed == 1
    assert "socket already gone" in caplog.text
