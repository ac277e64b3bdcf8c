"""Start-up, the worker thread, requotes, lost links and reconnects, the check."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Order, OrderStatus, PluginInitError
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.check import run_check
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started


class ThreadSpy:
    """The fake, recording the thread of every API call."""

    def __init__(self, fake: FakeMetaTrader5) -> None:
        self.fake = fake
        self.threads: set[str] = set()
        self.sent: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.fake, name)
        if not callable(value) or name.isupper():
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self.threads.add(threading.current_thread().name)
            if name == "order_send":
                self.sent.append(dict(args[0]))
            return value(*args, **kwargs)

        return call


async def test_start_up_failures_say_what_to_do() -> None:
    wrong = FakeMetaTrader5.hedging()
    with pytest.raises(PluginInitError, match=r"Authorization|-6") as info:
        await started(wrong, login=5_000_001, password="wrong-pass-77")
    assert "wrong-pass-77" not in str(info.value)
    off = FakeMetaTrader5.hedging()
    off.update_terminal(trade_allowed=False)
    with pytest.raises(PluginInitError, match="Algo Trading is off"):
        await started(off)
    api_off = FakeMetaTrader5.hedging()
    api_off.update_terminal(tradeapi_disabled=True)
    with pytest.raises(PluginInitError, match="Python API"):
        await started(api_off)


@pytest.mark.skipif(sys.platform == "win32", reason="the package is installable there")
async def test_without_the_package_init_explains_the_bridge() -> None:
    plugin = Mt5Plugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="bridge"):
        await plugin.init()


async def test_every_call_runs_on_the_worker_thread_not_the_loop() -> None:
    spy = ThreadSpy(FakeMetaTrader5.netting())
    plugin = await started(spy)  # type: ignore[arg-type]
    orders = [Order.market("EURUSD", "buy" if i % 2 else "sell", "0.01") for i in range(20)]
    results = await asyncio.gather(
        *(plugin.execute_order(o) for o in orders),
        *(plugin.fetch_data("EURUSD") for _ in range(5)),
        plugin.positions(),
        plugin.health_check(),
    )
    assert all(r.status is OrderStatus.FILLED for r in results[:20])  # type: ignore[union-attr]
    await plugin.close()
    assert spy.threads and all(name.startswith("fks-exec-mt5") for name in spy.threads)


async def test_requotes_are_retried_at_fresh_prices_a_bounded_number_of_times() -> None:
    spy = ThreadSpy(FakeMetaTrader5.netting())
    spy.fake.update_symbol("EURUSD", execution_mode=c.SYMBOL_TRADE_EXECUTION_INSTANT)
    plugin = await started(spy, deviation_points=0)  # type: ignore[arg-type]
    ticks = iter(["1.10020", "1.10040", "1.10060", "1.10080", "1.10100"])

    def move(*_: Any) -> None:
        bid = Decimal(next(ticks))
        spy.fake.set_tick("EURUSD", bid, bid + Decimal("0.0001"))

    real_send = spy.fake.order_send

    def requoting_send(request: Any) -> Any:
        if len(spy.sent) <= 2:
            move()  # the market moves while the request travels: a requote
        return real_send(request)

    spy.fake.order_send = requoting_send  # type: ignore[method-assign]
    result = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    # deviation_points=0: no slippage accepted, so no resend at a moved price
    # (test_requote_bound.py has retries within the deviation)
    assert result.status is OrderStatus.REJECTED, result
    assert "never more than deviation_points from the first price" in (result.error or "")
    assert len(spy.sent) == 1
    await plugin.close()


async def test_no_trade_server_connection_sends_nothing() -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    terminal.update_terminal(connected=False)
    with pytest.raises(BrokerUnavailable, match="10031"):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert terminal.positions_get() == ()
    await plugin.close()


async def test_a_lost_terminal_is_unavailable_and_recovered_when_it_returns() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    order = Order.market("EURUSD", "buy", "0.1")
    assert (await plugin.execute_order(order)).status is OrderStatus.FILLED  # rules cached
    order = Order.market("EURUSD", "buy", "0.1")
    terminal.disconnect()
    with pytest.raises(BrokerUnavailable):
        await plugin.execute_order(order)
    terminal.reconnect()  # the terminal needs initialize() again: the plugin does it
    terminal.update_symbol("EURUSD", volume_min=Decimal(1))  # a new specification after it
    again = await plugin.execute_order(order)
    assert again.status is OrderStatus.REJECTED and again.sent is False, again
    assert again.error is not None and "below the minimum 1" in again.error  # read anew
    terminal.update_symbol("EURUSD", volume_min=Decimal("0.01"))
    plugin.session.forget_symbols()
    assert (await plugin.execute_order(order)).status is OrderStatus.FILLED
    terminal.refuse_next()
    with pytest.raises(BrokerUnavailable):
        await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    assert (await plugin.health_check()).healthy
    await plugin.close()


def test_check_passes_on_a_demo_and_refuses_to_place_on_real_money() -> None:
    out = io.StringIO()
    demo = FakeMetaTrader5.hedging()
    assert run_check(["--place", "--symbol", "EURUSD"], out, module=demo) == 0, out.getvalue()
    text = out.getvalue()
    assert "order_check" in text and "removed: canceled" in text and text.rstrip().endswith("PASS")
    real = FakeMetaTrader5(
        account=demo._server.account.with_changes(trade_mode=c.ACCOUNT_TRADE_MODE_REAL)
    )
    out = io.StringIO()
    assert run_check(["--place"], out, module=real) == 1
    assert "refused: this is a real-money account" in out.getvalue()
    gone = FakeMetaTrader5.hedging()
    gone.disconnect()
    out = io.StringIO()
    assert run_check([], out, module=gone) == 1
    assert out.getvalue().startswith("FAIL connect")


def test_fks_exec_check_mt5_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import fks_exec_mt5.connection as plugin_module
    from fks_exec.cli import main

    monkeypatch.setattr(plugin_module, "import_module", lambda config: FakeMetaTrader5())
    assert main(["check", "mt5", "--symbol", "XAUUSD"]) == 0
    assert "symbol XAUUSD" in capsys.readouterr().out


async def test_every_order_has_its_lots_remembered_for_lookups() -> None:
    """A lookup needs an order's lots: legs never sent leave no trace, and a leg that
    closed a whole position may have been the first of several, so without them a bare
    get_order of a close is unknown. One leg or many, the plugin remembers them."""
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        opening = Order.market("EURUSD", "buy", "0.3", client_order_id="one-leg")
        opened = await plugin.execute_order(opening)
        assert opened.status is OrderStatus.FILLED, opened
        hints = plugin.lookup_hints(opening, opened)
        assert hints["lots"] == "0.3" and "quantity" not in hints, hints
        # Sell 0.3: close the 0.3 ticket whole, one leg.
        closing = Order.market("EURUSD", "sell", "0.3", client_order_id="closes")
        assert (await plugin.execute_order(closing)).status is OrderStatus.FILLED
        found = await plugin.get_order("closes")
        assert found is not None and found.status is OrderStatus.FILLED, found
        fresh = await started(terminal)  # another process: nothing remembered
        try:
            bare = await fresh.get_order("closes")
            assert bare is not None and bare.status is OrderStatus.UNKNOWN, bare
            asked = await fresh.find_order("closes", {"quantity": "0.3"})
            assert asked is not None and asked.status is OrderStatus.FILLED, asked
        finally:
            await fresh.close()
    finally:
        await plugin.close()
