"""``make soak``: long chaos runs over every fake broker, a 100,000-order memory soak,
journal crashes, 20,000 hostile requests against a real webhook server, and every
plugin's reply fuzzing (tests/test_fuzz*.py) with thousands of examples.

Prints the figures docs/reliability.md quotes and writes them to soak/results.json.
Exits 1 if any order was lost or doubled, or memory kept growing.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chaos() -> Any:
    spec = importlib.util.spec_from_file_location("chaos", HERE / "chaos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = module
    spec.loader.exec_module(module)
    return module


async def _mock_soak(orders: int) -> dict[str, Any]:
    from fks_exec import Executor, Order, PluginRegistry
    from fks_exec.mock import MockBroker, MockPlugin

    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=MockBroker(history_limit=10_000))
    plugin.use_env = False
    plugin.broker.set_price("X", bid=100, ask=100.5)
    registry.register("mock", plugin)
    samples = []
    started = time.perf_counter()
    async with Executor(registry, default="mock", history_size=10_000) as executor:
        for i in range(orders):
            await executor.execute(Order.market("X", "buy" if i % 2 else "sell", 1))
            if i % 10_000 == 9_999:
                gc.collect()
                samples.append(tracemalloc.get_traced_memory()[0])
    return {
        "orders": orders,
        "seconds": round(time.perf_counter() - started, 1),
        "traced_kib_every_10k": [s // 1024 for s in samples],
        "growth_after_warmup_kib": (max(samples[2:]) - samples[2]) // 1024,
    }


_FUZZ_FILES = (
    "plugins/*/tests/test_fuzz*.py",  # ninja: codec, pushed values, order lists
    "plugins/fks_exec_mt5/tests/test_replies.py",  # mt5: every terminal reply
    "plugins/fks_exec_mt5/tests/test_numbers.py",  # mt5: positions, symbols, numbers
    "plugins/fks_exec_mt5/tests/test_bridge_wire.py",  # mt5: the bridge's wire decoder
    "plugins/fks_exec_ccxt/tests/test_raw_bodies.py",  # ccxt: raw venue bodies
)


def _plugin_reply_fuzz(examples: int) -> dict[str, Any]:
    """Every plugin's codec and reply-parser fuzzing with
    ``FKS_EXEC_FUZZ_EXAMPLES=examples`` (``make test`` runs a few dozen each)."""
    root = HERE.parent
    found = {p for pattern in _FUZZ_FILES for p in root.glob(pattern)}
    files = sorted(str(p.relative_to(root)) for p in found)
    env = {**os.environ, "FKS_EXEC_FUZZ_EXAMPLES": str(examples)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    last = done.stdout.strip().splitlines()[-1:] or [""]
    return {
        "examples_per_test": examples,
        "files": files,
        "passed": done.returncode == 0 and bool(files),
        "summary": last[0],
    }


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    chaos = _chaos()
    results: dict[str, Any] = {"chaos": []}
    failed = False
    for seed in (1, 2, 3):
        report = asyncio.run(chaos.run(seed=seed, orders=4_000, concurrency=48))
        print("\n".join(f"chaos seed {seed}: {line}" for line in report.lines()), flush=True)
        results["chaos"].append(
            {
                "seed": seed,
                "orders": report.orders,
                "sent": report.sent,
                "outcomes": dict(report.outcomes),
                "reconciled": report.reconciled,
                "still_unknown": report.still_unknown,
                "lost": report.lost,
                "duplicated": report.duplicated,
                "seconds": round(report.seconds, 1),
            }
        )
        failed |= bool(report.lost or report.duplicated or report.disagreements)
    tracemalloc.start()
    soak = asyncio.run(_mock_soak(100_000))
    tracemalloc.stop()
    print(
        f"mock soak: {soak['orders']} orders in {soak['seconds']}s, traced memory every 10k "
        f"orders (KiB): {soak['traced_kib_every_10k']}, growth after warm-up "
        f"{soak['growth_after_warmup_kib']} KiB"
    )
    results["mock_soak"] = soak
    failed |= soak["growth_after_warmup_kib"] > 4_096
    crash = _load("journal_crash").run()
    print(
        f"journal crash: {crash['kills']} SIGKILLs ({crash['kills_with_an_order_in_flight']} "
        f"with an order in flight), {crash['ids']} ids: reached the broker twice "
        f"{crash['reached_the_broker_twice']}, journal disagreements {crash['disagreements']}"
    )
    results["journal_crash"] = crash
    failed |= crash["failed"]
    fuzz = _load("fuzz_server").run(20_000)
    print(
        f"hostile webhook: {fuzz['requests']} requests, answers {fuzz['answers_by_code']}, "
        f"crashes {fuzz['crashes']}, refusals logged {fuzz['refusals_logged']} of "
        f"{fuzz['refusals_expected']}; a signed signal past {fuzz['flood']['idle_connections']} "
        f"idle connections: {fuzz['flood']['signed_signal_status']} in "
        f"{fuzz['flood']['answered_in_s']}s"
    )
    results["hostile_webhook"] = fuzz
    failed |= fuzz["failed"]
    replies = _plugin_reply_fuzz(examples=3_000)
    print(
        f"plugin reply fuzzing: {replies['examples_per_test']} examples per test in "
        f"{', '.join(replies['files'])}: {'passed' if replies['passed'] else 'FAILED'}"
    )
    results["plugin_reply_fuzz"] = replies
    failed |= not replies["passed"]
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
