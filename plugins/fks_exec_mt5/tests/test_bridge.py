"""The bridge on loopback, serving the reference fake (whose results do not pickle)."""

from __future__ import annotations

import pickle
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Order, OrderStatus, PluginInitError
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.bridge.client import BridgeModule
from fks_exec_mt5.bridge.protocol import proof, read_frame, write_frame
from fks_exec_mt5.bridge.server import BridgeServer
from fks_exec_mt5.testing.reference import FakeMetaTrader5

SECRET = "a-long-test-secret-1234"


class Recorded(BridgeModule):
    """The client, recording the thread of every call."""

    threads: set[str]

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.threads.add(threading.current_thread().name)
        return super()._call(name, *args, **kwargs)


@pytest.fixture
def fake() -> FakeMetaTrader5:
    return FakeMetaTrader5.hedging()


@pytest.fixture
def server(fake: FakeMetaTrader5) -> Iterator[BridgeServer]:
    bridge = BridgeServer(fake, SECRET, port=0)
    bridge.start()
    yield bridge
    bridge.stop()


async def start(port: int, **config: Any) -> Mt5Plugin:
    plugin = Mt5Plugin()
    plugin.use_env = False
    settings = {"bridge": "fks", "port": port, "bridge_secret": SECRET, "magic": 4242}
    await plugin.init({**settings, **config})
    return plugin


def test_the_fakes_results_do_not_pickle_like_the_real_ones(fake: FakeMetaTrader5) -> None:
    fake.initialize()
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(fake.terminal_info())


async def test_orders_and_reads_cross_the_bridge(
    server: BridgeServer, fake: FakeMetaTrader5
) -> None:
    for i in range(120):
        fake.add_position("EURUSD", fake.ORDER_TYPE_BUY, "0.01", magic=4242, comment=f"p{i}")
    plugin = await start(server.port)
    (position,) = await plugin.positions()
    assert position.quantity == Decimal("1.2")
    limit = Order.limit("EURUSD", "buy", "0.1", Decimal("1.05"))
    placed = await plugin.execute_order(limit)
    assert placed.status is OrderStatus.ACCEPTED
    found = await plugin.get_order(limit.client_order_id)
    assert found is not None and found.status is OrderStatus.ACCEPTED
    assert placed.order_id is not None
    assert (await plugin.cancel_order(placed.order_id)).status is OrderStatus.CANCELED
    closed = await plugin.close_position("EURUSD")
    assert [r.status for r in closed] == [OrderStatus.FILLED]
    assert fake.net_volume("EURUSD") == 0
    assert (await plugin.health_check()).healthy
    await plugin.close()


async def test_no_bridge_call_runs_on_the_event_loop(server: BridgeServer) -> None:
    module = Recorded("127.0.0.1", server.port, SECRET)
    module.threads = set()
    plugin = Mt5Plugin(mt5=module)
    plugin.use_env = False
    await plugin.init({"magic": 4242})
    await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
    await plugin.positions()
    await plugin.fetch_data("EURUSD")
    await plugin.close()
    assert module.threads and all(n.startswith("fks-exec-mt5") for n in module.threads)


async def test_a_lost_bridge_is_unavailable_and_the_plugin_recovers(
    fake: FakeMetaTrader5,
) -> None:
    first = BridgeServer(fake, SECRET, port=0)
    first.start()
    port = first.port
    plugin = await start(port)
    assert (await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))).success
    first.stop()
    order = Order.market("EURUSD", "buy", "0.1")
    with pytest.raises(BrokerUnavailable):
        await plugin.execute_order(order)
    with pytest.raises(BrokerUnavailable):
        await plugin.execute_order(order)  # still down: nothing was sent either time
    assert fake.net_volume("EURUSD") == Decimal("0.1")
    again = BridgeServer(fake, SECRET, port=port)
    again.start()
    try:
        result = await plugin.execute_order(order)  # the same id: it was never sent
        assert result.status is OrderStatus.FILLED
        assert fake.net_volume("EURUSD") == Decimal("0.2")
    finally:
        await plugin.close()
        again.stop()


async def test_a_wrong_secret_is_refused(server: BridgeServer) -> None:
    plugin = Mt5Plugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="secret") as info:
        await plugin.init(
            {"bridge": "fks", "port": server.port, "bridge_secret": "not-the-secret-at-all"}
        )
    assert "not-the-secret-at-all" not in repr(info.value)


async def test_a_bridge_needs_a_secret() -> None:
    plugin = Mt5Plugin()
    plugin.use_env = False
    with pytest.raises(PluginInitError, match="BRIDGE_SECRET"):
        await plugin.init({"bridge": "fks"})
    with pytest.raises(ValueError, match="16"):
        BridgeServer(FakeMetaTrader5(), "short", port=0)


def test_only_metatrader5_functions_are_served(server: BridgeServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        hello = read_frame(sock)
        write_frame(sock, {"auth": proof(SECRET, hello["hello"])})
        assert read_frame(sock) == {"ok": True}
        read_frame(sock)  # constants
        for name in ("__class__", "set_tick", "update_terminal", "_server", "eval"):
            write_frame(sock, {"call": name, "args": []})
            assert "not a MetaTrader5 function" in read_frame(sock)["error"]


def test_the_server_listens_on_loopback_by_default(fake: FakeMetaTrader5) -> None:
    bridge = BridgeServer(fake, SECRET, port=0)
    try:
        host = bridge._server.server_address[0]
        assert host == "127.0.0.1"
    finally:
        bridge._server.server_close()


def test_fks_exec_check_mt5_passes_through_the_bridge(
    server: BridgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from fks_exec_mt5.check import run_check

    monkeypatch.setenv("FKS_EXEC_MT5_BRIDGE", "fks")
    monkeypatch.setenv("FKS_EXEC_MT5_PORT", str(server.port))
    monkeypatch.setenv("FKS_EXEC_MT5_BRIDGE_SECRET", SECRET)
    out = io.StringIO()
    assert run_check(["--place"], out) == 0, out.getvalue()
    assert out.getvalue().rstrip().endswith("PASS") and SECRET not in out.getvalue()
