"""Signals: parsing, authentication and replay, execution, and the webhook server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from fks_exec import Executor, OrderStatus, PluginRegistry
from fks_exec.mock import MockPlugin
from fks_exec.server import WebhookSettings, create_app
from fks_exec.signals import (
    SignalError,
    SignalMapping,
    SignalSkipped,
    Unauthorized,
    WebhookAuth,
    parse_signal,
    signature_for,
)

SECRET = "whsec-3f9a8b7c6d5e"
PASSPHRASE = "correct horse battery staple"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


# ------------------------------------------------------------------ parsing


@given(
    action=st.sampled_from(["buy", "BUY", "long", "sell", "short"]),
    quantity=st.decimals(min_value="0.001", max_value="1000", places=3),
    as_text=st.booleans(),
    key=st.sampled_from(["quantity", "contracts"]),
)
def test_valid_alerts_parse_to_the_right_order(
    action: str, quantity: Decimal, as_text: bool, key: str
) -> None:
    body = {
        "ticker": "BINANCE:BTCUSDT",
        "action": action,
        key: str(quantity) if as_text else float(quantity),
    }
    signal = parse_signal(json.dumps(body))
    assert signal.action == ("buy" if action.lower() in ("buy", "long") else "sell")
    assert signal.quantity == (quantity if as_text else Decimal(str(float(quantity))))
    assert signal.id is not None and signal.client_order_id is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=10) | st.integers(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def numbers(low: str, high: str) -> st.SearchStrategy[str]:
    return st.decimals(min_value=low, max_value=high, places=2).map(str)


# For each alert field, values that fit it; mixed with arbitrary JSON so that both outcomes
# of the property below occur (test_the_arbitrary_bodies_include_ones_that_parse checks).
FITTING = {
    "ticker": st.sampled_from(["BINANCE:BTCUSDT", "ES 12-25", ""]),
    "action": st.sampled_from(["buy", "SELL", "long", "short", "exit", "flat", "hold"]),
    "quantity": numbers("-1", "100"),
    "price": numbers("1", "1000"),
    "sl": numbers("1", "1000"),
    "tp": numbers("1", "1000"),
    "order_type": st.sampled_from(["market", "limit", "stop", "stop_limit", "iceberg"]),
    "confidence": numbers("0", "1.5"),
    "sl_points": numbers("0", "10"),
}
REQUIRED = ("ticker", "action", "quantity")
alert_dicts = st.fixed_dictionaries(
    {key: FITTING[key] | json_values for key in REQUIRED},
    optional={key: FITTING[key] | json_values for key in FITTING if key not in REQUIRED},
)
ALERT_BODIES = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.dictionaries(st.sampled_from([*FITTING, "timestamp"]), json_values).map(
        lambda d: json.dumps(d).encode()
    ),
    alert_dicts.map(lambda d: json.dumps(d).encode()),
)


def parses(body: bytes) -> bool:
    try:
        parse_signal(body)
    except SignalError:
        return False
    return True


@settings(max_examples=150)
@given(ALERT_BODIES)
def test_arbitrary_bodies_parse_or_raise_signal_error(body: bytes) -> None:
    """Any body either parses to a buy, sell or exit, or raises SignalError saying why."""
    try:
        signal = parse_signal(body)
    except SignalError as exc:
        error = str(exc)
    else:
        error = None
    if error is not None:
        assert error, "a SignalError must say what was wrong"
        return
    assert signal.action in ("buy", "sell", "exit")
    assert signal.quantity is None or signal.quantity > 0
    assert signal.action == "exit" or signal.quantity is not None


def test_the_arbitrary_bodies_include_ones_that_parse() -> None:
    """The property above reaches its success branch, not only the SignalError one."""
    body = find(ALERT_BODIES, parses, settings=settings(database=None, max_examples=2000))
    assert parse_signal(body).action in ("buy", "sell", "exit")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"action": "buy", "quantity": 1}, "names no symbol"),
        ({"ticker": "X", "quantity": 1}, "no 'action'"),
        ({"ticker": "X", "action": "buy"}, "needs 'quantity'"),
        ({"ticker": "X", "action": "buy", "quantity": -1}, "positive"),
        (
            {"ticker": "X", "action": "buy", "quantity": "{{strategy.order.contracts}}"},
            "unfilled placeholder",
        ),
        ({"ticker": "X", "action": "buy", "quantity": 1, "tp_points": 5}, "'price'"),
        ({"ticker": "X", "action": "buy", "quantity": 1, "confidence": 2}, "between 0 and 1"),
        ({"ticker": "X", "action": "buy", "quantity": 1, "timestamp": "yesterday"}, "ISO 8601"),
    ],
)
def test_what_matters_is_strict(body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SignalError, match=fragment):
        parse_signal(json.dumps(body))


def test_old_service_and_ninja_formats() -> None:
    old = parse_signal(
        json.dumps(
            {
                "symbol": "EURUSD",
                "action": "sell",
                "order_type": "limit",
                "quantity": 1000,
                "price": 1.08,
                "stop_loss": 1.09,
                "take_profit": 1.07,
                "confidence": 0.8,
                "timestamp": 1_795_540_000,
                "exchange": "mt5",
            }
        )
    )
    assert (old.plugin, old.confidence, old.timestamp.year if old.timestamp else None) == (
        "mt5",
        0.8,
        2026,
    )
    ninja = parse_signal(
        json.dumps(
            {
                "instrument": "ES 12-25",
                "action": "long",
                "quantity": 1,
                "price": "5000",
                "tp_points": 10,
                "sl_points": 5,
            }
        )
    )
    assert (ninja.stop_loss, ninja.take_profit) == (Decimal(4995), Decimal(5010))


# ------------------------------------------------------------------ authentication


def signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"X-Webhook-Signature": signature_for(SECRET, raw)}


def test_hmac_and_passphrase_and_replays() -> None:
    auth = WebhookAuth(secret=SECRET, passphrase=PASSPHRASE, window_s=300)
    raw, headers = signed(
        {"ticker": "X", "action": "buy", "quantity": 1, "timestamp": now_iso(), "id": "a1"}
    )
    auth.check(raw, headers, parse_signal(raw))
    auth.check(raw, headers, parse_signal(raw))  # replays are the journal's job (409)
    tampered = raw.replace(b'"quantity": 1', b'"quantity": 9')
    with pytest.raises(Unauthorized, match="bad signature"):
        auth.check(tampered, headers, parse_signal(tampered))
    wrong = {"X-Webhook-Signature": signature_for("not-the-secret", raw)}
    with pytest.raises(Unauthorized, match="bad signature"):
        auth.check(raw, wrong, parse_signal(raw))
    stale = json.dumps(
        {
            "ticker": "X",
            "action": "buy",
            "quantity": 1,
            "passphrase": PASSPHRASE,
            "timestamp": int(time.time()) - 3600,
        }
    ).encode()
    with pytest.raises(Unauthorized, match="outside"):
        auth.check(stale, {}, parse_signal(stale))
    bad_phrase = json.dumps(
        {
            "ticker": "X",
            "action": "buy",
            "quantity": 1,
            "passphrase": "guess",
            "timestamp": now_iso(),
        }
    ).encode()
    with pytest.raises(Unauthorized, match="passphrase"):
        auth.check(bad_phrase, {}, parse_signal(bad_phrase))
    with pytest.raises(ValueError, match="FKS_EXEC_WEBHOOK_SECRET"):
        WebhookAuth()


# ------------------------------------------------------------------ execution


@pytest.fixture
def executor() -> Executor:
    registry = PluginRegistry(discover=False)
    mock = MockPlugin()
    mock.use_env = False
    mock.broker.set_price("BTC/USDT", bid=65000, ask=65001)
    mock.broker.set_price("ES 12-25", bid=5000, ask=5000.25)
    registry.register("mock", mock)
    return Executor(registry, default="mock", reconcile_delay_s=0)


async def test_execute_signal_maps_tickers_and_is_idempotent(executor: Executor) -> None:
    mapping = SignalMapping(symbols={"BINANCE:BTCUSDT": "mock:BTC/USDT"}, min_confidence=0.5)
    body = json.dumps(
        {
            "ticker": "BINANCE:BTCUSDT",
            "action": "buy",
            "quantity": "0.1",
            "id": "alert-7",
            "confidence": 0.9,
        }
    )
    first = await executor.execute_signal(body, mapping)
    assert (first.status, first.symbol, first.average_price) == (
        OrderStatus.FILLED,
        "BTC/USDT",
        Decimal(65001),
    )
    assert await executor.execute_signal(body, mapping) == first
    mock = executor.registry.get("mock")
    assert isinstance(mock, MockPlugin) and len(mock.broker.orders) == 1
    weak = json.dumps(
        {"ticker": "BINANCE:BTCUSDT", "action": "sell", "quantity": 1, "confidence": 0.2}
    )
    with pytest.raises(SignalSkipped, match="below the minimum"):
        await executor.execute_signal(weak, mapping)


async def test_exit_closes_the_position_and_flat_is_skipped(executor: Executor) -> None:
    await executor.execute_signal(
        json.dumps({"ticker": "CME_MINI:ES 12-25", "action": "short", "contracts": 3})
    )
    closed = await executor.execute_signal(
        json.dumps({"ticker": "CME_MINI:ES 12-25", "action": "flat"})
    )
    assert (closed.side, closed.quantity, closed.status) == ("buy", 3, OrderStatus.FILLED)
    with pytest.raises(SignalSkipped, match="no open position"):
        await executor.execute_signal(
            json.dumps({"ticker": "ES 12-25", "action": "exit", "id": "x2"})
        )


# ------------------------------------------------------------------ the server


@pytest.fixture
def client(executor: Executor) -> Iterator[TestClient]:
    settings_ = WebhookSettings(
        secret=SECRET,
        passphrase=PASSPHRASE,
        max_body_bytes=2000,
        symbols={"BINANCE:BTCUSDT": "mock:BTC/USDT"},
    )
    with TestClient(create_app(executor, settings_)) as test_client:
        yield test_client


def test_tradingview_webhook_to_a_fill(client: TestClient) -> None:
    body = {
        "ticker": "BINANCE:BTCUSDT",
        "action": "buy",
        "contracts": "0.25",
        "passphrase": PASSPHRASE,
        "timestamp": now_iso(),
    }
    response = client.post("/webhook/tradingview", content=json.dumps(body))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "filled" and response.json()["average_price"] == "65001"


def test_signed_execute_signal_and_its_refusals(client: TestClient) -> None:
    raw, headers = signed(
        {
            "symbol": "BTC/USDT",
            "action": "sell",
            "quantity": 0.1,
            "timestamp": int(time.time()),
            "exchange": "mock",
            "id": "s-1",
        }
    )
    assert client.post("/execute/signal", content=raw, headers=headers).status_code == 200
    replay = client.post("/execute/signal", content=raw, headers=headers)
    assert replay.status_code == 409 and replay.json()["result"]["status"] == "filled"
    assert replay.json()["error"] == (
        "signal id 's-1' was already used (first result: filled); nothing was sent again: "
        "fix the cause if it failed, and send the signal under a new id"
    )
    unsigned = client.post("/execute/signal", content=raw)
    assert (unsigned.status_code, unsigned.json()) == (401, {"error": "unauthorized"})
    huge = client.post("/execute/signal", content=b"{" + b" " * 5000 + b"}")
    assert huge.status_code == 413 and "error" in huge.json()
    garbage_body = b"\xff\xfe not json"  # signed: the signature is checked before parsing
    garbage = client.post(
        "/execute/signal",
        content=garbage_body,
        headers={"X-Webhook-Signature": signature_for(SECRET, garbage_body)},
    )
    assert garbage.status_code == 422 and "not JSON" in garbage.json()["error"]


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/ready").json() == {"ready": True}
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["plugins"]["mock"]["healthy"]


def test_no_secret_no_server(executor: Executor) -> None:
    with pytest.raises(Exception, match="FKS_EXEC_WEBHOOK_SECRET"):
        create_app(executor, WebhookSettings())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_uvicorn_process_on_loopback() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env.update(
        FKS_EXEC_DEFAULT="mock",
        FKS_EXEC_WEBHOOK_PASSPHRASE=PASSPHRASE,
        FKS_EXEC_MOCK_PRICES='{"EURUSD": "1.085"}',
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fks_exec.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        body = {
            "ticker": "OANDA:EURUSD",
            "action": "buy",
            "quantity": 1000,
            "passphrase": PASSPHRASE,
            "timestamp": now_iso(),
        }
        response = httpx.post(f"{base}/webhook/tradingview", content=json.dumps(body), timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "filled"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert PASSPHRASE not in output


def test_serve_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    out = subprocess.run(
        [sys.executable, "-m", "fks_exec.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "FKS_EXEC_WEBHOOK_SECRET" in out.stderr


def test_the_start_up_line_says_which_endpoint_is_off() -> None:
    described = WebhookSettings(passphrase=PASSPHRASE).auth().describe()
    assert described == "/webhook/tradingview accepts passphrase; /execute/signal is off (404)"
    both = WebhookSettings(secret=SECRET, passphrase=PASSPHRASE).auth().describe()
    assert both == "/webhook/tradingview accepts passphrase; /execute/signal accepts signature"
