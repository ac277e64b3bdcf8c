"""The connection half of the plugin (fks_exec_mt5.connection): what ``initialize`` is
given, the default magic, start-up on older terminals, reconnects, closing.

Each test pins a behaviour the docs promise (docs/plugins/mt5.md, *Configuration* and
*Whose positions*) or MetaQuotes' documentation of the Python package describes
(``initialize``, ``account_info``, ``terminal_info``, ``shutdown``); they were written
for the survivors of the module's first mutation run.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import pytest

from fks_exec import Order, OrderStatus, PluginInitError
from fks_exec.kit import WorkerClosed
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.connection import derived_magic
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Record, Recording

LOGIN, SERVER = 5_000_001, "MetaQuotes-Demo"  # the reference fake's account


async def on(module: Any, **config: Any) -> Mt5Plugin:
    """A plugin started on ``module`` with exactly ``config`` (no magic added)."""
    plugin = Mt5Plugin(mt5=module)
    plugin.use_env = False
    await plugin.init(config)
    return plugin


def without(field: str) -> Any:
    """An answer: the real record without ``field`` (a terminal build older than it)."""

    def answer(real: Any, *args: Any, **kwargs: Any) -> Any:
        fields = real(*args, **kwargs)._asdict()
        del fields[field]
        return Record(fields)

    return answer


# --------------------------------------------------------------------------- initialize


async def test_initialize_gets_only_what_is_configured() -> None:
    # MetaQuotes: initialize(path, login=, password=, server=, timeout=, portable=); without
    # a path the package finds the terminal itself, without a login it keeps the account the
    # terminal is in. docs/plugins/mt5.md: path None is "a running terminal".
    bare = Recording(FakeMetaTrader5.hedging())
    plugin = await on(bare)
    await plugin.close()
    assert bare.kwargs_of("initialize") == [{"timeout": 60000}]
    full = Recording(FakeMetaTrader5.hedging())
    plugin = await on(
        full,
        path=r"C:\MT5\terminal64.exe",
        login=LOGIN,
        password="fake-password",
        server=SERVER,
        timeout_ms=5000,
    )
    await plugin.close()
    assert full.kwargs_of("initialize") == [
        {
            "timeout": 5000,
            "path": r"C:\MT5\terminal64.exe",
            "login": LOGIN,
            "password": "fake-password",
            "server": SERVER,
        }
    ]


async def test_an_empty_path_or_server_is_not_passed_on() -> None:
    recording = Recording(FakeMetaTrader5.hedging())
    plugin = await on(recording, path="", login=LOGIN, server="")
    await plugin.close()
    assert recording.kwargs_of("initialize") == [{"timeout": 60000, "login": LOGIN}]


async def test_one_initialize_for_a_start_and_its_orders() -> None:
    recording = Recording(FakeMetaTrader5.netting())
    plugin = await started(recording)  # type: ignore[arg-type]
    for side in ("buy", "sell", "buy"):
        result = await plugin.execute_order(Order.market("EURUSD", side, "0.01"))
        assert result.status is OrderStatus.FILLED, result
    assert (await plugin.health_check()).healthy
    await plugin.close()
    assert recording.count("initialize") == 1
    assert recording.count("shutdown") == 1  # at close only


async def test_a_reconnect_initializes_once_and_the_calls_after_it_do_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    terminal = FakeMetaTrader5.hedging()
    recording = Recording(terminal)
    plugin = await started(recording)  # type: ignore[arg-type]
    terminal.disconnect()
    with pytest.raises(Exception, match="nothing was sent"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    terminal.reconnect()
    with caplog.at_level(logging.INFO, logger="fks_exec.plugins.mt5"):
        for _ in range(3):
            result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
            assert result.status is OrderStatus.FILLED, result
    await plugin.close()
    assert recording.count("initialize") == 2  # the start and the one reconnect
    assert recording.count("shutdown") == 2  # the reconnect's and the close's
    said = [r.getMessage() for r in caplog.records]
    assert said.count("reconnected to MetaTrader 5") == 1


# --------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("failing", ["account_info", "terminal_info"])
async def test_no_account_or_no_terminal_record_refuses_to_start(failing: str) -> None:
    # MetaQuotes: account_info() and terminal_info() return None on an error, whose
    # code last_error() gives.
    terminal = FakeMetaTrader5.hedging()
    terminal.fail_next(failing, c.RES_E_INTERNAL_FAIL_TIMEOUT)
    with pytest.raises(PluginInitError, match="gave no account or terminal") as info:
        await started(terminal)
    assert str(c.RES_E_INTERNAL_FAIL_TIMEOUT) in str(info.value)


async def test_a_terminal_without_the_python_api_switch_starts() -> None:
    # TerminalInfo.tradeapi_disabled came with later builds; an older terminal has no such
    # switch, so nothing disables the API there.
    recording = Recording(FakeMetaTrader5.hedging(), terminal_info=without("tradeapi_disabled"))
    plugin = await started(recording)  # type: ignore[arg-type]
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert result.status is OrderStatus.FILLED, result
    await plugin.close()


async def test_an_account_without_the_fifo_field_is_not_fifo() -> None:
    # AccountInfo.fifo_close came with later builds: an account that does not report it
    # is not held to closing oldest first (docs/plugins/mt5.md, FIFO accounts).
    recording = Recording(FakeMetaTrader5.hedging(), account_info=without("fifo_close"))
    plugin = await started(recording)  # type: ignore[arg-type]
    assert plugin.session.fifo is False
    await plugin.close()
    fifo = await started(FakeMetaTrader5.hedging(fifo_close=True))
    assert fifo.session.fifo is True
    await fifo.close()


async def test_hedging_is_a_property_read_from_the_account() -> None:
    hedging = await started(FakeMetaTrader5.hedging())
    netting = await started(FakeMetaTrader5.netting())
    assert hedging.hedging is True and netting.hedging is False
    assert hedging.magic == MAGIC
    await hedging.close()
    await netting.close()


def test_before_init_the_plugin_names_no_account() -> None:
    # MT5 account numbers are positive; 0 is no account (an order naming any real
    # account is not taken for this plugin's before init).
    assert Mt5Plugin().login == 0


# --------------------------------------------------------------------------- magic


def test_the_derived_magic_is_a_fixed_function_of_name_login_and_server() -> None:
    # "stable across restarts" (docs/plugins/mt5.md, Whose positions): a restarted or
    # upgraded program must find the tickets it opened, so the formula is part of the
    # contract. 31 bits: it fits MQL5's int as well as its ulong.
    expected = zlib.crc32(f"fks-exec|mt5|{LOGIN}|{SERVER}".encode()) & 0x7FFFFFFF
    assert derived_magic("mt5", LOGIN, SERVER) == expected == 160478661
    assert derived_magic("mt5-b", LOGIN, SERVER) == 114730358
    for login in range(1, 200):
        magic = derived_magic("mt5", login, "Broker-Live")
        assert 0 < magic < 2**31


def test_the_derived_magic_is_never_zero() -> None:
    # manual trades carry magic 0; this server's name makes the hash's 31 bits all zero.
    server = "Zero-BSWFPA@@"
    assert zlib.crc32(f"fks-exec|mt5|{LOGIN}|{server}".encode()) & 0x7FFFFFFF == 0
    assert derived_magic("mt5", LOGIN, server) == 1


async def test_without_a_magic_the_plugin_uses_the_derived_one_on_every_order() -> None:
    for server, magic in ((SERVER, 160478661), ("Zero-BSWFPA@@", 1)):
        terminal = FakeMetaTrader5.netting(account_options={"server": server})
        plugin = await on(terminal)
        assert plugin.magic == magic
        result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert result.status is OrderStatus.FILLED, result
        positions = terminal.positions_get(symbol="EURUSD")
        assert positions is not None and [p.magic for p in positions] == [magic]
        await plugin.close()


# --------------------------------------------------------------------------- closing


async def test_close_shuts_the_terminal_link_and_the_worker_down() -> None:
    terminal = FakeMetaTrader5.hedging()
    recording = Recording(terminal)
    plugin = await started(recording)  # type: ignore[arg-type]
    worker = plugin.worker
    await plugin.close()
    assert recording.count("shutdown") == 1
    assert terminal.account_info() is None  # MetaQuotes: calls fail until initialize
    with pytest.raises(WorkerClosed):
        await worker.run(lambda: None)
    await plugin.close()  # twice: nothing more
    assert recording.count("shutdown") == 1


async def test_a_failing_shutdown_is_logged_and_the_worker_still_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(real: Any) -> None:
        raise ConnectionError("the bridge is gone")

    recording = Recording(FakeMetaTrader5.hedging(), shutdown=broken)
    plugin = await started(recording)  # type: ignore[arg-type]
    worker = plugin.worker
    with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.mt5"):
        await plugin.close()
    said = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("MetaTrader 5 shutdown failed: ConnectionError") for m in said)
    assert not any("close failed" in m for m in said)
    with pytest.raises(WorkerClosed):
        await worker.run(lambda: None)
