"""Start-up, threads, reads, positions on netting and hedging accounts, the check."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus, PluginInitError
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.check import run_check
from fks_exec_mt5.testing import FakeMetaTrader5


async def start(terminal: FakeMetaTrader5, **config: object) -> Mt5Plugin:
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    await plugin.init(config)
    return plugin


async def test_initialize_gets_the_configured_credentials() -> None:
    terminal = FakeMetaTrader5()
    plugin = await start(
        terminal,
        login=5001234,
        password="demo-password",
        server="FakeBroker-Demo",
        path="C:\\MT5\\terminal64.exe",
        timeout_ms=5000,
    )
    assert terminal.initialize_kwargs == {
        "path": "C:\\MT5\\terminal64.exe",
        "login": 5001234,
        "password": "demo-password",
        "server": "FakeBroker-Demo",
        "timeout": 5000,
        "portable": False,
    }
    await plugin.close()
    assert "shutdown" in terminal.calls


@pytest.mark.parametrize(
    ("terminal", "config", "fragment"),
    [
        (FakeMetaTrader5(terminal_running=False), {}, "-10003"),
        (FakeMetaTrader5(), {"login": 5001234, "password": "wrong-pass-77"}, "Authorization"),
        (FakeMetaTrader5(algo_trading=False), {}, "Algo Trading is off"),
    ],
)
async def test_start_up_failures_say_what_to_do(
    terminal: FakeMetaTrader5, config: dict[str, object], fragment: str
) -> None:
    with pytest.raises(PluginInitError, match=fragment) as info:
        await start(terminal, **config)
    assert "wrong-pass-77" not in str(info.value)


@pytest.mark.skipif(sys.platform == "win32", reason="the package is installable there")
async def test_without_the_package_init_explains_the_bridge() -> None:
    plugin = Mt5Plugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="mt5linux"):
        await plugin.init()


async def test_every_call_runs_on_one_worker_thread_not_the_loop(terminal: FakeMetaTrader5) -> None:
    plugin = await start(terminal)
    orders = [Order.market("EURUSD", "buy" if i % 2 else "sell", "0.01") for i in range(40)]
    results = await asyncio.gather(
        *(plugin.execute_order(o) for o in orders),
        *(plugin.fetch_data("EURUSD") for _ in range(10)),
    )
    assert all(r.status is OrderStatus.FILLED for r in results[:40])  # type: ignore[union-attr]
    assert terminal.thread_violations == 0
    assert terminal._thread != threading.get_ident()
    await plugin.close()


async def test_reads(mt5: Mt5Plugin) -> None:
    quote = await mt5.fetch_data("EURUSD")
    assert (quote.bid, quote.ask, quote.last) == (Decimal("1.085"), Decimal("1.08512"), None)
    health = await mt5.health_check()
    assert health.healthy and health.latency_ms == pytest.approx(23.456)


async def test_hedging_positions_are_netted_per_symbol_and_closed_by_ticket(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    await mt5.execute_order(Order.market("EURUSD", "buy", "0.1"))
    terminal.set_price("EURUSD", 1.08600, 1.08612)
    await mt5.execute_order(Order.market("EURUSD", "buy", "0.3"))
    assert len(terminal.open_positions) == 2
    (position,) = await mt5.positions()
    assert position.quantity == Decimal("0.4")
    assert position.average_price == (
        Decimal("0.1") * Decimal("1.08512") + Decimal("0.3") * Decimal("1.08612")
    ) / Decimal("0.4")
    tickets = sorted(p.ticket for p in terminal.open_positions)
    closed = await mt5.close_position("EURUSD")
    assert [r.status for r in closed] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert [r["position"] for r in terminal.sent[-2:]] == tickets  # closed by ticket
    assert terminal.open_positions == []


async def test_netting_account_keeps_one_position() -> None:
    terminal = FakeMetaTrader5(hedging=False)
    plugin = await start(terminal)
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.2"))
    await plugin.execute_order(Order.market("EURUSD", "sell", "0.5"))  # reverses
    (position,) = await plugin.positions()
    assert position.quantity == Decimal("-0.3")
    assert len(terminal.open_positions) == 1
    await plugin.close_position("EURUSD", Decimal("0.1"))
    (position,) = await plugin.positions()
    assert position.quantity == Decimal("-0.2")
    await plugin.close()


async def test_pending_orders_and_stops_fire_on_price_moves(
    mt5: Mt5Plugin, terminal: FakeMetaTrader5
) -> None:
    entry = Order.stop_limit(
        "EURUSD",
        "buy",
        "0.1",
        stop_price="1.0860",
        price="1.0858",
        stop_loss="1.0800",
        take_profit="1.0900",
    )
    await mt5.execute_order(entry)
    terminal.set_price("EURUSD", 1.08600, 1.08612)  # the stop fires: a buy limit at 1.0858
    assert terminal.working_orders[0].type == terminal.ORDER_TYPE_BUY_LIMIT
    terminal.set_price("EURUSD", 1.08570, 1.08580)  # the limit fills
    found = await mt5.get_order(entry.client_order_id)
    assert found is not None and found.status is OrderStatus.FILLED
    terminal.set_price("EURUSD", 1.09010, 1.09022)  # take profit
    assert terminal.open_positions == []
    assert terminal.account_balance > 10_000


def test_check_passes_on_a_demo_and_refuses_to_place_on_real_money() -> None:
    out = io.StringIO()
    assert run_check(["--place", "--symbol", "EURUSD"], out, module=FakeMetaTrader5()) == 0
    text = out.getvalue()
    assert "order_check" in text and "removed: canceled" in text and text.rstrip().endswith("PASS")
    out = io.StringIO()
    assert run_check(["--place"], out, module=FakeMetaTrader5(real_account=True)) == 1
    assert "refused: this is a real-money account" in out.getvalue()
    out = io.StringIO()
    assert run_check([], out, module=FakeMetaTrader5(terminal_running=False)) == 1
    assert out.getvalue().startswith("FAIL connect")


def test_fks_exec_check_mt5_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import fks_exec_mt5.plugin as plugin_module
    from fks_exec.cli import main

    monkeypatch.setattr(plugin_module, "import_module", lambda config: FakeMetaTrader5())
    assert main(["check", "mt5", "--symbol", "GBPJPY"]) == 0
    assert "symbol GBPJPY" in capsys.readouterr().out
    assert main(["check", "nosuch"]) == 2
