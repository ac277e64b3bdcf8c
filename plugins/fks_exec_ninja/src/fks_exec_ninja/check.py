"""``fks-exec check ninja``: confirm the ATI protocol on a real NinjaTrader 8.

It connects, subscribes to one instrument, places a limit order far from the market on
a simulation account, cancels it, and prints every message it saw and what it
concluded. It refuses accounts that do not look like simulation accounts (``Sim*``)
unless ``--any-account`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any, TextIO

from fks_exec.errors import FksExecError
from fks_exec.models import Order, OrderStatus
from fks_exec_ninja.plugin import NinjaPlugin

__all__ = ["front_month", "main"]


def front_month(root: str, today: dt.date) -> str:
    """NinjaTrader's name of a quarterly CME future's front month on ``today``.

    A contract expires on the third Friday of March, June, September or December; the
    name moves to the next quarter 8 days before that (CME equity index roll; inferred,
    used only as the check's default instrument).
    """
    for year in (today.year, today.year + 1):
        for month in (3, 6, 9, 12):
            first = dt.date(year, month, 1)
            expiry = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
            if today < expiry - dt.timedelta(days=8):
                return f"{root} {month:02d}-{year % 100:02d}"
    raise AssertionError("a later quarter always exists")


def main(argv: Sequence[str], out: TextIO) -> int:
    """Entry point of ``fks-exec check ninja``; returns 0 pass, 1 fail."""
    parser = argparse.ArgumentParser(prog="fks-exec check ninja", description=__doc__)
    parser.add_argument(
        "--host", help="NinjaTrader host (default: FKS_EXEC_NINJA_HOST or 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, help="ATI port (default 36973)")
    parser.add_argument("--account", help="account (default: FKS_EXEC_NINJA_ACCOUNT or Sim101)")
    default = front_month("ES", dt.datetime.now(dt.timezone.utc).date())
    parser.add_argument(
        "--instrument", default=default, help=f"instrument to subscribe to (default {default})"
    )
    parser.add_argument(
        "--any-account",
        action="store_true",
        help="allow an account whose name does not start with Sim",
    )
    args = parser.parse_args(list(argv))
    config = {
        k: v
        for k, v in (("host", args.host), ("port", args.port), ("account", args.account))
        if v is not None
    }
    return asyncio.run(_check(config, args.instrument, args.any_account, out))


async def _check(config: dict[str, Any], instrument: str, any_account: bool, out: TextIO) -> int:
    def say(text: str) -> None:
        out.write(text + "\n")

    transcript: list[str] = []
    plugin = NinjaPlugin(transcript=transcript)
    try:
        await plugin.init(config)
    except FksExecError as exc:
        say(f"FAIL connect: {exc}")
        return 1
    account = plugin.config.account
    verdicts: list[bool] = []

    def step(ok: bool, text: str) -> None:
        verdicts.append(ok)
        say(f"{'ok  ' if ok else 'FAIL'} {text}")

    try:
        step(True, f"connected to {plugin.config.host}:{plugin.config.port}, ATI = True")
        if not account.lower().startswith("sim") and not any_account:
            step(
                False,
                f"account {account!r} does not look like a simulation account; "
                "use Sim101 (or --any-account)",
            )
            return 1
        try:
            quote = await plugin.fetch_data(instrument)
            step(
                True,
                f"market data for {instrument}: bid {quote.bid} ask {quote.ask} last {quote.last}",
            )
        except FksExecError as exc:
            step(False, f"no market data for {instrument}: {exc}")
            return 1
        reference = quote.bid or quote.last or quote.ask
        assert reference is not None
        far = (reference / 2).quantize(Decimal("0.25"), rounding=ROUND_DOWN)
        order = Order.limit(instrument, "buy", 1, far)
        placed = await plugin.execute_order(order)
        step(
            placed.status is OrderStatus.ACCEPTED,
            f"PLACE buy 1 {instrument} LIMIT {far} on {account}: {placed.status.value}",
        )
        if placed.order_id is not None and placed.status is OrderStatus.ACCEPTED:
            canceled = await plugin.cancel_order(placed.order_id, instrument)
            step(canceled.status is OrderStatus.CANCELED, f"CANCEL: {canceled.status.value}")
    finally:
        say("messages seen:")
        for line in transcript:
            say(f"  {line}")
        await plugin.close()
    passed = all(verdicts)
    say("PASS" if passed else "FAIL")
    return 0 if passed else 1
