"""The guided run behind ``fks-exec demo`` / ``make demo``, on the built-in mock broker."""

from __future__ import annotations

from typing import TextIO

from fks_exec.executor import Executor
from fks_exec.mock import MockPlugin
from fks_exec.models import ExecutionResult, Order
from fks_exec.registry import PluginRegistry

__all__ = ["run_demo"]

SYMBOL = "BTC/USDT"


async def run_demo(out: TextIO) -> int:
    """Walk through quotes, a market, a limit and a bracket order on the mock; return 0."""

    def say(text: str = "") -> None:
        out.write(text + "\n")

    registry = PluginRegistry()
    say("Discovered plugins (entry-point group fks_exec.plugins):")
    for info in registry.list_infos():
        say(f"  {info.name:<8} {info.distribution or '-'} {info.version or ''}  ({info.target})")
    say()

    async with Executor(registry, default="mock", reconcile_delay_s=0) as executor:
        mock = registry.get("mock")
        assert isinstance(mock, MockPlugin)
        broker = mock.broker
        say(f"Mock account: {broker.cash:,.2f} {broker.currency} cash")
        broker.set_price(SYMBOL, bid="64990", ask="65010")
        say(f"Quote {SYMBOL}: bid 64990 / ask 65010")
        say()

        say("1. Market buy 0.10 -> fills at the ask")
        _show(say, await executor.execute(Order.market(SYMBOL, "buy", "0.10")))

        say("2. Limit buy 0.05 at 64500 -> rests until the price comes down")
        limit = await executor.execute(Order.limit(SYMBOL, "buy", "0.05", "64500"))
        _show(say, limit)
        broker.set_price(SYMBOL, bid="64480", ask="64495")
        say("   quote moves to 64480 / 64495 ...")
        assert limit.client_order_id is not None
        filled = await executor.get_order(limit.client_order_id)
        assert filled is not None
        _show(say, filled)

        say("3. Bracket: market buy 0.05 with stop loss 63000 and take profit 66000")
        entry = await executor.execute(
            Order.market(SYMBOL, "buy", "0.05", stop_loss="63000", take_profit="66000")
        )
        _show(say, entry)
        say("   quote rallies to 66100 / 66120: the take profit fills, the stop loss is canceled")
        broker.set_price(SYMBOL, bid="66100", ask="66120")
        for record in broker.orders[-2:]:
            kind, status = record.order.type.value, record.status.value
            say(f"   exit {record.order_id:<7} {kind:<6} -> {status}")
        say()

        for position in await executor.positions():
            say(
                f"Position {position.symbol}: {position.quantity} @ "
                f"{position.average_price:.2f}, unrealized P&L {position.unrealized_pnl:.2f}"
            )
        say(
            f"Realized P&L {broker.realized_pnl():.2f}, cash {broker.cash:,.2f}, "
            f"equity {broker.equity():,.2f} {broker.currency}"
        )
        say(f"Fills recorded: {len(broker.fills)}")
        health = await executor.health()
        say(f"Health: {', '.join(f'{n}={h.healthy}' for n, h in health.items())}")
    return 0


def _show(say: object, result: ExecutionResult) -> None:
    assert callable(say)
    text = f"   -> {result.status.value}"
    if result.filled_quantity:
        text += f": {result.filled_quantity} at {result.average_price}"
    if result.error:
        text += f" ({result.error_code}: {result.error})"
    say(text + f"  [order {result.order_id}]")
