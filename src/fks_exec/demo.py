"""The guided run behind ``fks-exec demo`` / ``make demo``, on the built-in mock broker.

It walks the promises of the README on the mock, in about a second: a fill, a resting
order, a bracket, a rejection with its error code, an answer lost after the broker
acted (``unknown``, then reconciled), the same client order id twice, and a fallback
from a live broker to the paper mock that is refused. Every result shows its ``sent``
field. Nothing here touches a network or a real broker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from fks_exec.errors import ConfigurationError
from fks_exec.executor import Executor
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.models import ExecutionResult, Order
from fks_exec.registry import PluginRegistry

__all__ = ["run_demo"]

SYMBOL = "BTC/USDT"
Say = Callable[..., None]

NEXT_STEPS = """\
Next, try:
  fks-exec plugins                      # what is installed, and whether it loads
  fks-exec order buy BTC/USDT 0.01 --limit 64000 --plugin mock --price 64100
  FKS_EXEC_DEFAULT=mock fks-exec health # check the configured plugins
  fks-exec --help                       # every command and its exit codes
Read docs/index.md (quick start) and docs/testing.md (the mock in your own tests)."""


async def run_demo(out: TextIO) -> int:
    """Walk the promises on the mock broker, writing to ``out``; return 0 (the exit code)."""

    def say(text: str = "") -> None:
        out.write(text + "\n")

    registry = PluginRegistry()
    say("Discovered plugins (entry-point group fks_exec.plugins):")
    for info in registry.list_infos():
        say(f"  {info.name:<8} {info.distribution or '-'} {info.version or ''}  ({info.target})")
    say()
    async with Executor(registry, default="mock", reconcile_delay_s=0, journal="memory") as ex:
        mock = registry.get("mock")
        assert isinstance(mock, MockPlugin)
        broker = mock.broker
        say(f"Mock account: {broker.cash:,.2f} {broker.currency} cash")
        broker.set_price(SYMBOL, bid="64990", ask="65010")
        say(f"Quote {SYMBOL}: bid 64990 / ask 65010")
        say()
        await _fill_rest_and_bracket(say, ex, broker)
        await _rejection_unknown_and_repeat(say, ex, broker)
        await _account(say, ex, broker)
    await _refused_fallback(say)
    say()
    say(NEXT_STEPS)
    return 0


async def _fill_rest_and_bracket(say: Say, ex: Executor, broker: MockBroker) -> None:
    say("1. Market buy 0.10 -> fills at the ask")
    _show(say, await ex.execute(Order.market(SYMBOL, "buy", "0.10")))

    say("2. Limit buy 0.05 at 64500 -> rests until the price comes down")
    limit = await ex.execute(Order.limit(SYMBOL, "buy", "0.05", "64500"))
    _show(say, limit)
    broker.set_price(SYMBOL, bid="64480", ask="64495")
    say("   quote moves to 64480 / 64495 ...")
    assert limit.client_order_id is not None
    filled = await ex.get_order(limit.client_order_id)
    assert filled is not None
    _show(say, filled)

    say("3. Bracket: market buy 0.05 with stop loss 63000 and take profit 66000")
    entry = await ex.execute(
        Order.market(SYMBOL, "buy", "0.05", stop_loss="63000", take_profit="66000")
    )
    _show(say, entry)
    say("   quote rallies to 66100 / 66120: the take profit fills, the stop loss is canceled")
    broker.set_price(SYMBOL, bid="66100", ask="66120")
    for record in broker.orders[-2:]:
        kind, status = record.order.type.value, record.status.value
        say(f"   exit {record.order_id:<7} {kind:<6} -> {status}")
    say()


async def _rejection_unknown_and_repeat(say: Say, ex: Executor, broker: MockBroker) -> None:
    say("4. Market buy 100 BTC with 1,000,000 USD -> the broker rejects it, with a code")
    _show(say, await ex.execute(Order.market(SYMBOL, "buy", "100")))

    say("5. The answer to a market buy is lost after the broker filled it -> unknown,")
    say("   then reconciled through get_order (never resent under a new id)")
    broker.lose_next_answer(after_broker_acted=True)
    lost = await ex.execute(Order.market(SYMBOL, "buy", "0.01", client_order_id="demo-lost"))
    _show(say, lost)
    say(f"   reconciled: {ex.stats['reconciled']}, still unknown: {ex.stats['still_unknown']}")

    say("6. The same client order id twice -> the first result, one order at the broker")
    order = Order.market(SYMBOL, "sell", "0.02", client_order_id="demo-twice")
    first, second = await ex.execute(order), await ex.execute(order)
    _show(say, second)
    arrivals = broker.order_arrivals().get("demo-twice", 0)
    say(f"   same result: {first == second}; times it reached the broker: {arrivals}")
    say()


async def _account(say: Say, ex: Executor, broker: MockBroker) -> None:
    for position in await ex.positions():
        say(
            f"Position {position.symbol}: {position.quantity} @ "
            f"{position.average_price:.2f}, unrealized P&L {position.unrealized_pnl:.2f}"
        )
    say(
        f"Realized P&L {broker.realized_pnl():.2f}, cash {broker.cash:,.2f}, "
        f"equity {broker.equity():,.2f} {broker.currency}"
    )
    say(f"Fills recorded: {len(broker.fills)}")
    health = await ex.health()
    say(f"Health: {', '.join(f'{n}={h.healthy}' for n, h in health.items())}")
    say()


async def _refused_fallback(say: Say) -> None:
    say("7. A fallback from a live broker to the paper mock -> refused before anything")
    say("   connects (an outage must not turn into fake fills). 'live' is a stand-in")
    say("   registered for the demo; it is never started.")
    registry = PluginRegistry(discover=False)
    registry.register("mock", MockPlugin)
    registry.register("live", MockPlugin)  # stands in for a real-money plugin: never started
    try:
        async with Executor(registry, default="live", fallbacks={"live": ["mock"]}):
            say("   (not refused: this would be a bug)")  # pragma: no cover
    except ConfigurationError as exc:
        say(f"   -> ConfigurationError: {exc}")


def _show(say: Say, result: ExecutionResult) -> None:
    text = f"   -> {result.status.value}"
    if result.filled_quantity:
        text += f": {result.filled_quantity} at {result.average_price}"
    if result.error_code is not None and result.error:
        text += f" ({result.error_code.value}: {result.error})"
    say(text + f"  [order {result.order_id}, sent={result.sent}]")
