"""Hostile senders against a real ``fks-exec serve`` on loopback (part of ``make soak``).

The bodies come from the hypothesis strategies of tests/test_fuzz_parsers.py; half
are signed, and they go to both signal endpoints. Then the slow and idle clients:
1,100 idle connections under a file limit of 1,024 while a signed signal is sent.
``run()`` returns the figures docs/reliability.md quotes: requests tried, answers
by code, crashes (5xx, dropped connections, tracebacks in the log) and whether each
refusal was logged once. Run alone: ``python soak/fuzz_server.py [REQUESTS]``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).parent
SECRET = "whsec-soak-5e6f7a8b9c"
PASSPHRASE = "soak passphrase"
PATHS = ("/execute/signal", "/webhook/tradingview")


def _strategies() -> Any:
    path = HERE.parent / "tests" / "test_fuzz_parsers.py"
    spec = importlib.util.spec_from_file_location("fuzz_strategies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bodies(count: int) -> list[tuple[bytes, bool, str]]:
    found: list[tuple[bytes, bool, str]] = []
    strategy = st.tuples(_strategies().hostile_bodies, st.booleans(), st.sampled_from(PATHS))

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: tuple[bytes, bool, str]) -> None:
        found.append(example)

    collect()
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def _start(port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FKS_EXEC_")}
    env.update(
        FKS_EXEC_DEFAULT="mock",
        FKS_EXEC_JOURNAL="memory",
        FKS_EXEC_WEBHOOK_SECRET=SECRET,
        FKS_EXEC_WEBHOOK_PASSPHRASE=PASSPHRASE,
        FKS_EXEC_WEBHOOK_REQUIRE_TIMESTAMP="false",
        FKS_EXEC_MOCK_PRICES='{"X": "100", "EURUSD": "1.085"}',
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "fks_exec.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_limit_files,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not come up:\n" + log.read_text()[-2000:])


def _signed(body: bytes) -> dict[str, str]:
    from fks_exec.signals import signature_for

    return {"X-Webhook-Signature": signature_for(SECRET, body)}


def _flood(port: int) -> dict[str, Any]:
    idle = []
    try:
        for _ in range(1100):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            idle.append(sock)
        time.sleep(0.5)
        body = json.dumps({"symbol": "EURUSD", "action": "buy", "quantity": 1000}).encode()
        started = time.perf_counter()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/execute/signal",
            content=body,
            headers=_signed(body),
            timeout=2.0,
        )
        return {
            "idle_connections": len(idle),
            "file_limit": 1024,
            "signed_signal_status": answer.status_code,
            "answered_in_s": round(time.perf_counter() - started, 3),
        }
    finally:
        for sock in idle:
            sock.close()


def run(requests: int = 20_000) -> dict[str, Any]:
    """Send ``requests`` hostile bodies and the idle flood; return the figures."""
    bodies = _bodies(requests)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        process = _start(port, log)
        codes: Counter[str] = Counter()
        errors = 0
        expected_lines = 0
        started = time.perf_counter()
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                for body, sign, path in bodies:
                    try:
                        answer = client.post(
                            path, content=body, headers=_signed(body) if sign else {}
                        )
                    except httpx.HTTPError:
                        errors += 1
                        continue
                    codes[str(answer.status_code)] += 1
                    if answer.status_code >= 400 and "status" not in answer.json():
                        expected_lines += 1
            seconds = time.perf_counter() - started
            flood = _flood(port)
        finally:
            process.terminate()
            process.wait(timeout=30)
        text = log.read_text(errors="replace")
    crashes = errors + sum(n for code, n in codes.items() if code.startswith("5"))
    crashes += text.count("Traceback")
    return {
        "requests": len(bodies),
        "seconds": round(seconds, 1),
        "answers_by_code": dict(sorted(codes.items())),
        "crashes": crashes,
        "refusals_logged": text.count("refused a signal"),
        "refusals_expected": expected_lines,
        "flood": flood,
        "failed": bool(
            crashes
            or text.count("refused a signal") != expected_lines
            or flood["signed_signal_status"] != 200
        ),
    }


if __name__ == "__main__":
    figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
    print(json.dumps(figures, indent=2))
    sys.exit(1 if figures["failed"] else 0)
