"""pytest fixtures for strategy tests, registered through the ``pytest11`` entry point.

Every fixture is function-scoped and isolated from the machine: the registry holds only
a fresh mock broker, whatever other plugins are installed and whatever ``FKS_EXEC_*``
variables are set.

=====================  ============================================================
fixture                what it gives
=====================  ============================================================
``fks_mock_broker``    a fresh :class:`~fks_exec.mock.MockBroker` (quotes, faults,
                       records of orders and fills, its clock)
``fks_mock_plugin``    the :class:`~fks_exec.mock.MockPlugin` driving that broker
``fks_registry``       a :class:`~fks_exec.PluginRegistry` holding only ``mock``
``fks_executor``       an :class:`~fks_exec.Executor` with ``default="mock"``; it
                       starts the mock on first use (use it in async tests, or with
                       ``asyncio.run``) and is closed after the test
``fks_sync_executor``  a started :class:`~fks_exec.SyncExecutor` on the same mock
=====================  ============================================================

Every test also runs with ``FKS_EXEC_JOURNAL=memory`` and the default journal file
moved to a fresh temporary directory (an autouse fixture), so no executor a test
builds writes into the user's real order journal or finds the ids of an earlier run
there; a test that wants a file passes ``journal=`` or sets the variable itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from fks_exec.executor import Executor
from fks_exec.journal import ENV_VAR as JOURNAL_ENV_VAR
from fks_exec.journal import selection as journal_selection
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.registry import PluginRegistry
from fks_exec.sync import SyncExecutor
from fks_exec.testing.registries import isolated_registry


@pytest.fixture(autouse=True)
def _fks_exec_journal_in_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep every test's executors off the user's real journal file: FKS_EXEC_JOURNAL is
    ``memory``, and a test that clears it gets a fresh file instead of the default."""
    monkeypatch.setenv(JOURNAL_ENV_VAR, "memory")
    state = tmp_path_factory.mktemp("fks-exec-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))  # subprocesses that clear FKS_EXEC_*
    monkeypatch.setattr(journal_selection, "default_path", lambda: state / "journal.sqlite3")


@pytest.fixture
def fks_mock_broker() -> MockBroker:
    """A fresh paper broker: set quotes with ``set_price`` and assert on its records."""
    return MockBroker()


@pytest.fixture
def fks_mock_plugin(fks_mock_broker: MockBroker) -> MockPlugin:
    """The mock plugin around ``fks_mock_broker`` (not started; executors start it).

    It ignores ``FKS_EXEC_MOCK_*`` variables, so the machine cannot change a test.
    """
    plugin = MockPlugin(broker=fks_mock_broker)
    plugin.use_env = False
    return plugin


@pytest.fixture
def fks_registry(fks_mock_plugin: MockPlugin) -> PluginRegistry:
    """A registry holding only the mock, untouched by installed plugins and FKS_EXEC_*."""
    return isolated_registry(mock=fks_mock_plugin)


@pytest.fixture
def fks_executor(fks_registry: PluginRegistry) -> Iterator[Executor]:
    """An executor routing everything to the mock; unknown outcomes reconcile at once."""
    executor = Executor(fks_registry, default="mock", reconcile_delay_s=0, journal="memory")
    yield executor
    asyncio.run(executor.close())


@pytest.fixture
def fks_sync_executor(fks_registry: PluginRegistry) -> Iterator[SyncExecutor]:
    """A started blocking executor routing everything to the mock."""
    with SyncExecutor(
        fks_registry, default="mock", reconcile_delay_s=0, journal="memory"
    ) as executor:
        yield executor
