"""The webhook server against hostile senders and careless operators.

One real ``fks-exec serve`` process on loopback, under a file limit of 1,024 (set in
the child with ``resource.setrlimit``), with header and body timeouts of one second,
serves the module's tests; every test is bounded in count and time. Credentials per
endpoint and the concurrency limit are checked in-process as well.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fks_exec import Executor, PluginRegistry
from fks_exec.errors import ConfigurationError
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.server import WebhookSettings, create_app
from fks_exec.signals import signature_for

SECRET = "whsec-hostile-7c1e9a2b"
PASSPHRASE = "tradingview passphrase 42"
FILE_LIMIT = 1024


@dataclass
class Server:
    base: str
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _limit_files() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env.update(
        FKS_EXEC_DEFAULT="mock",
        FKS_EXEC_JOURNAL="memory",
        FKS_EXEC_WEBHOOK_SECRET=SECRET,
        FKS_EXEC_WEBHOOK_PASSPHRASE=PASSPHRASE,
        FKS_EXEC_WEBHOOK_HEADER_TIMEOUT_S="1",
        FKS_EXEC_WEBHOOK_BODY_TIMEOUT_S="1",
        FKS_EXEC_WEBHOOK_KEEP_ALIVE_TIMEOUT_S="1",
        FKS_EXEC_MOCK_PRICES='{"EURUSD": "1.085"}',
    )
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "fks_exec.cli", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_limit_files,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
            yield Server(base, port, log)
        finally:
            process.terminate()
            process.wait(timeout=20)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]
        assert SECRET not in text and PASSPHRASE not in text


def _signal(**extra: Any) -> dict[str, Any]:
    return {
        "symbol": "EURUSD",
        "action": "buy",
        "quantity": 1000,
        "timestamp": int(time.time()),
        **extra,
    }


def _signed(raw: bytes) -> dict[str, str]:
    return {"X-Webhook-Signature": signature_for(SECRET, raw)}


# ------------------------------------------------------------------ credentials


def test_a_passphrase_in_the_wrong_field_is_never_echoed(server: Server) -> None:
    # The body is parsed before the passphrase can be checked, and a parse error names
    # the value it could not read: the answer (and the log) must mask it.
    raw = json.dumps(_signal(action=PASSPHRASE, passphrase="wrong")).encode()
    refused = httpx.post(f"{server.base}/webhook/tradingview", content=raw, timeout=5)
    assert refused.status_code == 422 and "unknown action" in refused.text
    assert PASSPHRASE not in refused.text and "**********" in refused.text


def test_a_passphrase_alone_never_passes_the_hmac_endpoint(server: Server) -> None:
    raw = json.dumps(_signal(passphrase=PASSPHRASE, id="pp-1")).encode()
    refused = httpx.post(f"{server.base}/execute/signal", content=raw, timeout=5)
    assert (refused.status_code, refused.json()) == (401, {"error": "unauthorized"})
    taken = httpx.post(f"{server.base}/webhook/tradingview", content=raw, timeout=5)
    assert taken.status_code == 200 and taken.json()["status"] == "filled"
    signed = httpx.post(
        f"{server.base}/execute/signal", content=raw.replace(b"pp-1", b"pp-2"), timeout=5
    )
    assert signed.status_code == 401  # the signature is over the exact bytes
    good = raw.replace(b"pp-1", b"pp-3")
    answer = httpx.post(f"{server.base}/execute/signal", content=good, headers=_signed(good))
    assert answer.status_code == 200


HOSTILE_BODIES: list[bytes] = [
    b"[" * 1000 + b"]" * 1000,
    b'{"a":' * 1000 + b"1" + b"}" * 1000,
    json.dumps(_signal(timestamp=int("9" * 401))).encode(),
    json.dumps(_signal(quantity=int("1" * 401))).encode(),
    b'{"symbol":"EURUSD","action":"buy","quantity":1e40000000}',
    b'{"symbol":"EURUSD","action":"buy","quantity":"1e40000000"}',
    b'{"symbol":"EURUSD","action":"buy","quantity":NaN}',
    b'{"symbol":"EURUSD","action":"buy","quantity":1,"timestamp":"1' + b"0" * 60 + b'"}',
    b"\xff\xfe not json",
    b'"\\"' * 5000,
    b"",
    b"null",
    b'{"symbol": {"nested": [1, 2]}, "action": "buy", "quantity": 1}',
]


def test_unsigned_hostile_bodies_are_refused_before_parsing(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=5) as client:
        codes = [client.post("/execute/signal", content=b).status_code for b in HOSTILE_BODIES]
    assert codes == [401] * len(HOSTILE_BODIES)


def test_signed_hostile_bodies_get_a_4xx_and_one_log_line_each(server: Server) -> None:
    before = server.log_text().count("refused a signal")
    with httpx.Client(base_url=server.base, timeout=5) as client:
        answers = [
            client.post("/execute/signal", content=b, headers=_signed(b)) for b in HOSTILE_BODIES
        ]
    assert all(400 <= a.status_code < 500 for a in answers), [a.status_code for a in answers]
    assert all("error" in a.json() for a in answers)
    deadline = time.monotonic() + 5
    while server.log_text().count("refused a signal") < before + len(HOSTILE_BODIES):
        assert time.monotonic() < deadline, "a refusal was not logged"
        time.sleep(0.05)
    time.sleep(0.2)
    assert server.log_text().count("refused a signal") == before + len(HOSTILE_BODIES)


# ------------------------------------------------------------------ slow and idle clients


def _connect(port: int, first: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if first:
        sock.sendall(first)
    return sock


def _closed_by_server(sock: socket.socket) -> bytes:
    """What the server sent before closing (raises socket.timeout if it kept it open)."""
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_slow_headers_and_slow_bodies_are_cut_off(server: Server) -> None:
    head = b"POST /execute/signal HTTP/1.1\r\nHost: x\r\n"
    body_head = head + b"Content-Length: 100\r\n\r\n{"
    slow_headers = [_connect(server.port, head) for _ in range(30)]
    slow_bodies = [_connect(server.port, body_head) for _ in range(10)]
    silent = [_connect(server.port) for _ in range(10)]
    try:
        header_answers = [_closed_by_server(s) for s in slow_headers + silent]
        body_answers = [_closed_by_server(s) for s in slow_bodies]
    finally:
        for sock in slow_headers + slow_bodies + silent:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 408") for a in header_answers)
    assert all(a == b"" or b" 408 " in a.split(b"\r\n", 1)[0] for a in body_answers)


def _request(raw: bytes) -> bytes:
    head = f"POST /execute/signal HTTP/1.1\r\nHost: x\r\nContent-Length: {len(raw)}\r\n"
    signature = _signed(raw)["X-Webhook-Signature"]
    return head.encode() + f"X-Webhook-Signature: {signature}\r\n\r\n".encode() + raw


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP response (headers and Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_keep_alive_connections_are_closed_when_idle_or_slow(server: Server) -> None:
    idle = _connect(server.port, _request(json.dumps(_signal(id="ka-1")).encode()))
    slow = _connect(server.port, _request(json.dumps(_signal(id="ka-2")).encode()))
    try:
        assert _response(idle).startswith(b"HTTP/1.1 200")
        assert _response(slow).startswith(b"HTTP/1.1 200")
        slow.sendall(b"POST /execute/signal HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert _closed_by_server(idle) == b""  # the keep-alive timeout
        assert _closed_by_server(slow).startswith(b"HTTP/1.1 408")  # the header timeout
    finally:
        idle.close()
        slow.close()


def test_a_signed_signal_is_served_past_1100_idle_connections(server: Server) -> None:
    idle: list[socket.socket] = []
    try:
        for _ in range(1100):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", server.port))
            idle.append(sock)
        time.sleep(0.5)  # let the server accept what it will
        raw = json.dumps(_signal(id="through-the-flood")).encode()
        answer = httpx.post(
            f"{server.base}/execute/signal", content=raw, headers=_signed(raw), timeout=2.0
        )
        assert answer.status_code == 200 and answer.json()["status"] == "filled"
    finally:
        for sock in idle:
            sock.close()
    assert "out of system resource" not in server.log_text()  # never ran out of files


# ------------------------------------------------------------------ operator settings


def test_serve_refuses_a_port_out_of_range() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env["FKS_EXEC_WEBHOOK_SECRET"] = SECRET
    out = subprocess.run(
        [sys.executable, "-m", "fks_exec.cli", "serve", "--port", "99999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "1 to 65535" in out.stderr


def _executor(latency_s: float = 0.0) -> Executor:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=MockBroker())
    plugin.use_env = False
    plugin.broker.set_price("EURUSD", last=1.085)
    plugin.broker.set_latency(latency_s)
    registry.register("mock", plugin)
    return Executor(registry, default="mock", journal="memory")


def test_each_endpoint_takes_only_the_credential_it_is_set_to() -> None:
    settings = WebhookSettings(secret=SECRET, passphrase=PASSPHRASE, tradingview_auth="signature")
    raw = json.dumps(_signal(passphrase=PASSPHRASE)).encode()
    with TestClient(create_app(_executor(), settings)) as client:
        assert client.post("/webhook/tradingview", content=raw).status_code == 401
        signed = client.post("/webhook/tradingview", content=raw, headers=_signed(raw))
        assert signed.status_code == 200
    off = WebhookSettings(secret=SECRET, signal_auth="off")
    with TestClient(create_app(_executor(), off)) as client:
        assert client.post("/execute/signal", content=raw, headers=_signed(raw)).status_code == 404


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"passphrase": PASSPHRASE, "signal_auth": "passphrase"}, "SIGNAL_AUTH cannot be"),
        ({"secret": SECRET, "tradingview_auth": "passphrase"}, "needs FKS_EXEC_WEBHOOK_PASSPHRASE"),
        ({"passphrase": PASSPHRASE, "signal_auth": "signature"}, "needs FKS_EXEC_WEBHOOK_SECRET"),
        ({"secret": SECRET, "tradingview_auth": "off", "signal_auth": "off"}, "both"),
    ],
)
def test_an_endpoint_without_its_credential_is_a_configuration_error(
    settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_app(_executor(), WebhookSettings(**settings))


def test_the_signature_is_checked_before_the_parser_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import fks_exec.server as server_module

    calls: list[bytes] = []
    real = server_module.parse_signal
    monkeypatch.setattr(server_module, "parse_signal", lambda b: calls.append(b) or real(b))
    with TestClient(create_app(_executor(), WebhookSettings(secret=SECRET))) as client:
        assert client.post("/execute/signal", content=HOSTILE_BODIES[0]).status_code == 401
        assert calls == []
        raw = json.dumps(_signal()).encode()
        assert client.post("/execute/signal", content=raw, headers=_signed(raw)).status_code == 200
        assert calls == [raw]


async def test_signals_beyond_the_concurrency_limit_get_503() -> None:
    settings = WebhookSettings(secret=SECRET, max_concurrent_signals=2)
    executor = _executor(latency_s=0.3)
    app = create_app(executor, settings)
    bodies = [json.dumps(_signal(id=f"c-{i}")).encode() for i in range(5)]
    async with executor:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(
                *(client.post("/execute/signal", content=b, headers=_signed(b)) for b in bodies)
            )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 503, 503, 503]
    assert all(a.headers.get("retry-after") == "1" for a in answers if a.status_code == 503)
