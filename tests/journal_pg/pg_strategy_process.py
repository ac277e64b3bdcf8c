"""One strategy process: ``strategy.py URL CID HOLD_S LEASE_S WAIT_S``.

Opens an executor journaled at URL, prints ``{"ready": true}``, waits for a line on
stdin (so racers start together), sends one market order under CID, prints its result
as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pg_venue import SharedVenuePlugin

from fks_exec import Executor, Order, PluginRegistry
from fks_exec.journal.postgres import PostgresJournal


async def main(url: str, cid: str, hold_s: float, lease_s: float, wait_s: float) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("venue", SharedVenuePlugin(url, hold_s))
    journal = PostgresJournal(url, lease_s=lease_s, claim_wait_s=wait_s)
    async with Executor(registry, default="venue", journal=journal, reconcile_delay_s=0) as ex:
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), timeout=60)
        result = await ex.execute(Order.market("X", "buy", 1, client_order_id=cid))
        print(json.dumps({"status": result.status.value, "order_id": result.order_id,
                          "error": result.error}), flush=True)  # fmt: skip


if __name__ == "__main__":
    url, cid, hold, lease, wait = sys.argv[1:6]
    asyncio.run(main(url, cid, float(hold), float(lease), float(wait)))
