"""``fks-exec check mt5``: confirm that a real terminal works with this plugin.

It connects with the usual configuration (FKS_EXEC_MT5_*), reads the account, the
terminal and one symbol, asks ``order_check`` about a minimal market order and, only
with ``--place``, places a pending order far from the market and removes it. It never
places anything on a real-money account.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

from fks_exec.errors import FksExecError, OrderDenied
from fks_exec.models import Order, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Leg
from fks_exec_mt5.mapping import build_request
from fks_exec_mt5.numbers import BadBrokerNumber, decimal_of
from fks_exec_mt5.plugin import Mt5Plugin
from fks_exec_mt5.prechecks import SymbolRules

__all__ = ["main", "run_check"]

_MODES = {
    c.ACCOUNT_TRADE_MODE_DEMO: "demo",
    c.ACCOUNT_TRADE_MODE_CONTEST: "contest",
    c.ACCOUNT_TRADE_MODE_REAL: "REAL MONEY",
}


def main(argv: Sequence[str], out: TextIO) -> int:
    """Entry point of ``fks-exec check mt5``; returns 0 pass, 1 fail, 2 usage error."""
    return run_check(argv, out)


def run_check(argv: Sequence[str], out: TextIO, module: Any = None) -> int:
    """Run the check; ``module`` replaces the MetaTrader5 package (tests pass a fake)."""
    parser = argparse.ArgumentParser(prog="fks-exec check mt5", description=__doc__)
    parser.add_argument("--symbol", default="EURUSD", help="symbol to read and test with")
    parser.add_argument(
        "--place",
        action="store_true",
        help="also place and remove a far-away pending order (demo only)",
    )
    args = parser.parse_args(list(argv))
    return asyncio.run(_check(args.symbol, args.place, out, module))


async def _check(symbol: str, place: bool, out: TextIO, module: Any) -> int:
    def say(text: str) -> None:
        out.write(text + "\n")

    plugin = Mt5Plugin(mt5=module)
    try:
        await plugin.init()
    except FksExecError as exc:
        say(f"FAIL connect: {exc}")
        return 1
    try:
        return await _steps(plugin, symbol, place, say)
    finally:
        await plugin.close()


async def _steps(plugin: Mt5Plugin, symbol: str, place: bool, say: Any) -> int:
    worker = plugin.worker
    account = await worker.call("account_info")
    terminal = await worker.call("terminal_info")
    version = await worker.call("version")
    say(
        f"ok   terminal: {terminal.name} build {terminal.build} ({terminal.company}), "
        f"connected={terminal.connected}, algo trading={terminal.trade_allowed}, "
        f"package version={getattr(worker.mt5, '__version__', '?')}, terminal version={version}"
    )
    mode = _MODES.get(account.trade_mode, "?")
    say(
        f"ok   account: {account.login} on {account.server}, {mode}, "
        f"{'hedging' if plugin.hedging else 'netting'}, balance {account.balance} "
        f"{account.currency}, leverage 1:{account.leverage}"
    )
    info = await plugin.symbol_info(symbol)
    tick = await worker.call("symbol_info_tick", symbol) if info is not None else None
    if info is None or tick is None:
        code, text = await worker.call("last_error")
        say(f"FAIL symbol {symbol}: not available ({code}, {text})")
        return 1
    say(
        f"ok   symbol {symbol}: bid {tick.bid} ask {tick.ask}, digits {info.digits}, "
        f"tick {info.trade_tick_size}, volume {info.volume_min}..{info.volume_max} step "
        f"{info.volume_step}, filling flags {info.filling_mode}"
    )
    try:
        rules = SymbolRules.of(info)
        bid = decimal_of(tick.bid, f"tick {symbol} bid")
    except BadBrokerNumber as exc:
        say(f"FAIL symbol {symbol}: {exc}")
        return 1
    probe = Order.market(symbol, "buy", rules.volume_min)
    try:
        request = build_request(
            probe, rules, tick, Leg(rules.volume_min), deviation=10, magic=plugin.magic
        )
    except OrderDenied as exc:
        say(f"FAIL order_check: {exc}")
        return 1
    checked = await worker.call("order_check", request)
    if checked is None:
        code, text = await worker.call("last_error")
        say(f"FAIL order_check returned nothing ({code}, {text})")
        return 1
    verdict = "ok  " if checked.retcode in (0, c.TRADE_RETCODE_DONE) else "FAIL"
    say(
        f"{verdict} order_check {info.volume_min} lots: retcode {checked.retcode} "
        f"{checked.comment!r}, margin {checked.margin}, free margin after {checked.margin_free}"
    )
    if verdict == "FAIL":
        return 1
    if not place:
        say("PASS (read-only; add --place to place and remove a pending order on a demo)")
        return 0
    health = await plugin.health_check()
    say(f"{'ok  ' if health.healthy else 'FAIL'} health: {health.detail}")
    if not health.healthy:
        return 1
    if not plugin.is_paper:
        say("FAIL --place refused: this is a real-money account; use a demo account")
        return 1
    far = bid / 2
    order = Order.limit(symbol, "buy", rules.volume_min, far)
    placed = await plugin.execute_order(order)
    if placed.status is not OrderStatus.ACCEPTED or placed.order_id is None:
        say(f"FAIL placing a buy limit at {far}: {placed.status.value} {placed.error}")
        return 1
    say(f"ok   placed buy limit {placed.order_id} at {Decimal(str(far)):f}")
    found = await plugin.get_order(order.client_order_id)
    say(f"{'ok  ' if found else 'FAIL'} found it again by client order id: {bool(found)}")
    removed = await plugin.cancel_order(placed.order_id, symbol)
    say(
        f"{'ok  ' if removed.status is OrderStatus.CANCELED else 'FAIL'} removed: "
        f"{removed.status.value} {removed.error or ''}"
    )
    passed = found is not None and removed.status is OrderStatus.CANCELED
    say("PASS" if passed else "FAIL")
    return 0 if passed else 1
