"""The two processes of the journal crash tests, run as ``python processes.py ROLE ...``.

``broker``: the mock paper broker (:class:`fks_exec.mock.MockBroker`) behind a tiny
JSON-lines server on 127.0.0.1. A lookup of an absent id says whether the absence is
proven (no other client connection open, so nothing can still be on its way). It
records every order it receives (its own ``orders`` list is the count that matters)
before it answers, and answers after
``--delay-ms``, so a strategy killed at a random moment is often killed between
"the broker has it" and "the answer arrived". The mock behind a socket rather than
the NinjaTrader fake: this test is about the journal and the executor, and the mock's
record needs no protocol knowledge to count arrivals.

``strategy``: an executor with an SQLite journal sending ``market`` orders with fixed
client ids ``crash-0 ...`` to the broker through :class:`LoopbackPlugin`; it re-submits
every id from the first on each start, as a restarted strategy would. With
``--report`` it prints ``{id: [status, order_id]}`` as JSON when done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from fks_exec import (
    BrokerUnavailable,
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    Executor,
    HealthStatus,
    MarketData,
    Order,
    PluginRegistry,
)
from fks_exec.mock import MockBroker

# ---------------------------------------------------------------------- broker


async def serve_broker(port_file: str, delay_s: float) -> None:
    broker = MockBroker()
    broker.set_price("X", bid=100, ask=100.5)

    connections: set[asyncio.StreamWriter] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add(writer)
        try:
            await serve(reader, writer)
        finally:
            connections.discard(writer)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            request = json.loads(line)
            op = request["op"]
            if op == "submit":
                result = broker.submit(Order.model_validate_json(request["order"]))
                await asyncio.sleep(delay_s)  # acted on, answer still to come
                answer: Any = result.model_dump_json()
            elif op == "find":
                record = broker.find(request["client_order_id"])
                # Absence is proven when no other connection is open: a dead client's
                # connection is closed only after every line it sent was handled.
                proven = record is None and connections == {writer}
                found = None if record is None else broker.result(record).model_dump_json()
                answer = {"result": found, "proven_absent": proven}
            else:  # arrivals: the broker's own count of orders per client id
                answer = Counter(r.order.client_order_id for r in broker.orders)
            writer.write(json.dumps({"answer": answer}).encode() + b"\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = str(server.sockets[0].getsockname()[1])
    await asyncio.to_thread(Path(port_file).write_text, port)
    async with server:
        await server.serve_forever()


# ---------------------------------------------------------------------- plugin


class LoopbackPlugin(ExecutionPlugin):
    """Sends orders to the broker process; finds them there by client id."""

    name: ClassVar[str] = "loopback"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GET_ORDER})

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.use_env = False
        self._lock = asyncio.Lock()
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def _connect(self, config: Any) -> None:
        self._stream = await asyncio.open_connection("127.0.0.1", self.port)

    async def _ask(self, request: dict[str, Any]) -> Any:
        if self._stream is None:
            raise BrokerUnavailable("not connected")
        reader, writer = self._stream
        async with self._lock:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 5)
        return json.loads(line)["answer"]

    async def _execute_order(self, order: Order) -> ExecutionResult:
        answer = await self._ask({"op": "submit", "order": order.model_dump_json()})
        return ExecutionResult.model_validate_json(answer).model_copy(update={"plugin": self.name})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        answer = await self._ask({"op": "find", "client_order_id": client_order_id})
        if answer["proven_absent"]:
            order = Order.market("X", "buy", 1, client_order_id=client_order_id)
            return ExecutionResult.for_order(
                order,
                plugin=self.name,
                status="rejected",
                sent=False,
                error="the broker has no such order and nothing else is in flight to it",
            )
        if answer["result"] is None:
            return None
        found = ExecutionResult.model_validate_json(answer["result"])
        return found.model_copy(update={"plugin": self.name})

    async def _fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=100, ask=100.5)

    async def _health_check(self) -> HealthStatus:
        return HealthStatus(healthy=True)

    async def _close(self) -> None:
        if self._stream is not None:
            self._stream[1].close()


async def arrivals(port: int) -> dict[str, int]:
    """The broker's count of orders per client id."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b'{"op": "arrivals"}\n')
    answer: dict[str, int] = json.loads(await reader.readline())["answer"]
    writer.close()
    return answer


# ---------------------------------------------------------------------- strategy


async def run_strategy(port: int, journal: str, count: int, report: bool) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("loopback", LoopbackPlugin(port))
    results = {}
    async with Executor(registry, default="loopback", journal=journal) as executor:
        print("ready", flush=True)  # reconciled: the harness may now pick a moment to kill
        for i in range(count):
            order = Order.market("X", "buy", 1, client_order_id=f"crash-{i}")
            result = await executor.execute(order)
            results[order.client_order_id] = [result.status.value, result.order_id]
    if report:
        print(json.dumps(results), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["broker", "strategy"])
    parser.add_argument("--port-file")
    parser.add_argument("--delay-ms", type=float, default=5)
    parser.add_argument("--port", type=int)
    parser.add_argument("--journal")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.role == "broker":
        asyncio.run(serve_broker(args.port_file, args.delay_ms / 1000))
    else:
        asyncio.run(run_strategy(args.port, args.journal, args.count, args.report))


if __name__ == "__main__":
    sys.exit(main())
