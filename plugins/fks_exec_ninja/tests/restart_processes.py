"""The two processes of the bracket restart test, run as ``python restart_processes.py ROLE``.

``server``: the reference ATI server (another process, as NinjaTrader is), driven by
JSON lines on standard input -- ``{"op": "last", "price": "5989"}`` moves the ES
market, ``{"op": "configure", ...}`` changes its settings, ``{"op": "orders", "ids":
[...]}`` answers the server's truth for those order ids, ``{"op": "arrivals"}`` the
PLACE count per order id -- each answered by one JSON line on standard output (the
first line is the port). It stops when standard input closes.

``strategy``: an executor with an SQLite journal and the ninja plugin. It executes the
bracket entry ``ENTRY`` (a restarted strategy re-submits it under the same client id),
prints the result as one JSON line, and runs until standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from decimal import Decimal
from typing import Any

from fks_exec import Executor, Order, PluginRegistry
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja.testing.reference import ReferenceAtiServer, Repush, ServerSettings
from fks_exec_ninja.testing.reference import front_month as reference_front_month

ES = reference_front_month("ES", dt.datetime.now(dt.timezone.utc).date())
ENTRY = Order.limit(
    "ES", "buy", 2, "5990", stop_loss="5900", take_profit="6100", client_order_id="bracket-1"
)


async def _lines() -> Any:
    while line := await asyncio.to_thread(sys.stdin.readline):
        yield json.loads(line)


def _say(answer: Any) -> None:
    print(json.dumps(answer, default=str), flush=True)


async def serve(fill_pieces: int, repush: str) -> None:
    settings = ServerSettings(fill_pieces=fill_pieces, repush=Repush(repush))
    async with ReferenceAtiServer(settings) as nt:
        _say(nt.port)
        async for request in _lines():
            op = request.pop("op")
            if op == "last":
                nt.set_last_price(ES, Decimal(request["price"]))
                _say("ok")
            elif op == "configure":
                nt.configure(**request)
                _say("ok")
            elif op == "orders":
                found = {i: nt.order(i) for i in request["ids"]}
                _say(
                    {
                        i: None if o is None else [o.state, o.quantity, o.filled, o.oco]
                        for i, o in found.items()
                    }
                )
            else:
                _say(dict(nt.order_arrivals()))


async def strategy(port: int, journal: str) -> None:
    registry = PluginRegistry(discover=False)
    plugin = NinjaPlugin()
    plugin.use_env = False
    registry.register("ninja", plugin)
    config = {
        "port": port,
        "symbols": {"ES": ES},
        "order_timeout_s": 5,
        "connect_timeout_s": 5,
        "order_list_wait_s": 5,
    }
    async with Executor(
        registry, default="ninja", configs={"ninja": config}, journal=journal
    ) as executor:
        result = await executor.execute(ENTRY)
        _say([result.status.value, str(result.filled_quantity), result.order_id])
        async for _ in _lines():
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "strategy"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--journal")
    parser.add_argument("--fill-pieces", type=int, default=1)
    parser.add_argument("--repush", default="all")
    args = parser.parse_args()
    if args.role == "server":
        asyncio.run(serve(args.fill_pieces, args.repush))
    else:
        asyncio.run(strategy(args.port, args.journal))


if __name__ == "__main__":
    sys.exit(main())
