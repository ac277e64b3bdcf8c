"""Signal ids and the journal: a replay is refused with 409 after a server restart, and
a signal answered "not sent" may be retried under its id."""

from __future__ import annotations

import json
import time
from pathlib import Path

from starlette.testclient import TestClient

from fks_exec import Executor, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.server import WebhookSettings, create_app
from fks_exec.signals import signature_for

SECRET = "whsec-journal-1f2e3d"


def server(broker: MockBroker, journal: Path) -> TestClient:
    """A fresh server process, as far as the test can tell: new executor, new plugin,
    the same broker and the same journal file."""
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=broker)
    plugin.use_env = False
    registry.register("mock", plugin)
    executor = Executor(registry, default="mock", journal=str(journal), reconcile_delay_s=0)
    return TestClient(create_app(executor, WebhookSettings(secret=SECRET)))


def signed(signal_id: str) -> tuple[bytes, dict[str, str]]:
    body = {
        "symbol": "BTC/USDT",
        "action": "buy",
        "quantity": "0.5",
        "timestamp": int(time.time()),
        "id": signal_id,
    }
    raw = json.dumps(body).encode()
    return raw, {"X-Webhook-Signature": signature_for(SECRET, raw)}


def arrivals(broker: MockBroker) -> list[str]:
    return [record.order.client_order_id for record in broker.orders]


def test_a_replay_after_a_restart_gets_409_and_the_first_result(tmp_path: Path) -> None:
    broker = MockBroker()
    broker.set_price("BTC/USDT", bid=100, ask=101)
    raw, headers = signed("tv-1")
    with server(broker, tmp_path / "j.sqlite3") as first:
        answer = first.post("/execute/signal", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    with server(broker, tmp_path / "j.sqlite3") as second:
        replay = second.post("/execute/signal", content=raw, headers=headers)
    assert replay.status_code == 409
    assert replay.json()["result"]["order_id"] == answer.json()["order_id"]
    assert len(arrivals(broker)) == 1


def test_a_signal_not_sent_may_be_retried_under_its_id(tmp_path: Path) -> None:
    broker = MockBroker()
    broker.set_price("BTC/USDT", bid=100, ask=101)
    raw, headers = signed("tv-2")
    with server(broker, tmp_path / "j.sqlite3") as app:
        broker.disconnect()
        refused = app.post("/execute/signal", content=raw, headers=headers)
        broker.reconnect()
        retried = app.post("/execute/signal", content=raw, headers=headers)
        replay = app.post("/execute/signal", content=raw, headers=headers)
    assert refused.status_code == 503 and refused.json()["sent"] is False
    assert retried.status_code == 200, retried.text
    assert replay.status_code == 409
    assert len(arrivals(broker)) == 1
