"""The ``order`` command: one order from the command line, refused before any plugin
starts when it is invalid, and its result described with whether anything was sent."""

from __future__ import annotations

import argparse
import asyncio
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from fks_exec.cli_output import EXIT_FAILED, EXIT_OK, EXIT_UNKNOWN, EXIT_USAGE
from fks_exec.errors import BrokerUnavailable, ConfigurationError
from fks_exec.executor import Executor
from fks_exec.models import ExecutionResult, Order, OrderStatus, OrderType
from fks_exec.plugin import ExecutionPlugin

__all__ = ["add_order_command"]


def add_order_command(sub: Any) -> None:
    """Register ``order`` (place one order) on the CLI's subparsers ``sub``."""
    order = sub.add_parser(
        "order",
        help="place one order",
        description="Place one order, e.g.: fks-exec order buy BTC/USDT 0.01 --limit 64000 "
        "--plugin mock --price 64100. A limit and a stop together make a stop-limit order. "
        "Only the plugin the order goes to is started. Exit 0 filled (in part or whole) "
        "or accepted; 1 rejected, or cancelled or expired with nothing filled; 2 nothing "
        "was sent (refused before sending, no broker reachable): safe to retry; 3 "
        "outcome unknown: reconcile, do not resend.",
    )
    order.add_argument("side", type=str.lower, choices=["buy", "sell"])
    order.add_argument("symbol")
    order.add_argument("quantity")
    order.add_argument("--limit", metavar="PRICE", help="limit price")
    order.add_argument("--stop", metavar="PRICE", help="stop (trigger) price")
    order.add_argument("--sl", metavar="PRICE", help="attached stop loss")
    order.add_argument("--tp", metavar="PRICE", help="attached take profit")
    order.add_argument("--tif", type=str.lower, choices=["gtc", "day", "ioc", "fok"], default="gtc")
    order.add_argument("--reduce-only", action="store_true")
    order.add_argument("--client-id", metavar="ID", help="client order id (idempotency key)")
    order.add_argument("--account")
    order.add_argument("--plugin", help="plugin to use (default: routes / FKS_EXEC_DEFAULT)")
    order.add_argument(
        "--price",
        metavar="PRICE",
        help="mock only: quote the symbol at PRICE first (the mock has no market of its "
        "own; FKS_EXEC_MOCK_PRICES does the same for every command)",
    )
    order.add_argument("--json", action="store_true", help="print the result as JSON")
    order.set_defaults(handler=_cmd_order)


def _order_from_args(args: argparse.Namespace) -> Order:
    if args.limit is not None and args.stop is not None:
        kind = OrderType.STOP_LIMIT
    elif args.limit is not None:
        kind = OrderType.LIMIT
    elif args.stop is not None:
        kind = OrderType.STOP
    else:
        kind = OrderType.MARKET
    fields: dict[str, Any] = {
        "symbol": args.symbol,
        "side": args.side,
        "type": kind,
        "quantity": args.quantity,
        "price": args.limit,
        "stop_price": args.stop,
        "stop_loss": args.sl,
        "take_profit": args.tp,
        "time_in_force": args.tif,
        "reduce_only": args.reduce_only,
        "account": args.account,
    }
    if args.client_id is not None:
        fields["client_order_id"] = args.client_id
    return Order.model_validate(fields)


def _cmd_order(args: argparse.Namespace, out: TextIO) -> int:
    order = _order_from_args(args)  # invalid input stops here, before any plugin starts
    name = Executor.from_env().route(order.symbol, args.plugin)
    config: dict[str, Any] = {}
    if args.price is not None:
        if _kind(name) != "mock":
            raise ConfigurationError(
                f"--price quotes the mock broker; this order goes to {name!r}, which has "
                "its own market"
            )
        config["prices"] = {order.symbol: _decimal_arg("--price", args.price)}
    # Naming the plugin in configs makes it one the executor plans for: an order for
    # the mock alone gets the memory journal, not the per-user file live plugins share.
    executor = Executor.from_env(configs={name: config})

    async def run() -> ExecutionResult:
        try:
            if _kind(name) == "mock":
                _require_mock_quote(await executor.plugin(name), order.symbol)
            # Starts only the plugin the order goes to (and its fallbacks, if needed).
            return await executor.execute(order, plugin=name)
        finally:
            await executor.close()

    try:
        result = asyncio.run(run())
    except BrokerUnavailable as exc:  # nothing was sent: exit 2, not 1
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _write_result(out, result, as_json=args.json)
    return exit_code(result)


def exit_code(result: ExecutionResult) -> int:
    """The ``order`` command's exit code for ``result`` (see :mod:`fks_exec.cli_output`)."""
    if result.sent is False:
        return EXIT_USAGE
    if result.status is OrderStatus.UNKNOWN:  # sent None is always unknown
        return EXIT_UNKNOWN
    if result.status in _HELD or result.filled_quantity:
        return EXIT_OK
    return EXIT_FAILED


_HELD = frozenset({OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED, OrderStatus.ACCEPTED})


def _write_result(out: TextIO, result: ExecutionResult, *, as_json: bool) -> None:
    """Write ``result`` as indented JSON or as the one line :func:`_describe_result` gives."""
    if as_json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(_describe_result(result) + "\n")


def _require_mock_quote(plugin: ExecutionPlugin, symbol: str) -> None:
    """Refuse, before sending, an order the mock could only reject for want of a price."""
    from fks_exec.mock import MockPlugin

    if not isinstance(plugin, MockPlugin):
        return
    try:
        plugin.broker.quote(symbol)
    except KeyError:
        raise ConfigurationError(
            f"the mock broker has no price for {symbol!r}: add --price 65000 to the "
            f'command, or set FKS_EXEC_MOCK_PRICES=\'{{"{symbol}": "65000"}}\''
        ) from None


def _decimal_arg(option: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise ConfigurationError(f"{option} takes a positive number, e.g. 65000; got {text!r}")
    return value


def _kind(name: str) -> str:
    return name.partition(":")[0]


def _describe_result(result: ExecutionResult) -> str:
    text = (
        f"{result.status.value}: {result.side} {result.quantity} {result.symbol} "
        f"on {result.plugin} (client id {result.client_order_id}, "
        + (f"order id {result.order_id})" if result.order_id else "no order id)")
    )
    if result.filled_quantity:
        text += f"; filled {result.filled_quantity} at {result.average_price}"
    if result.error:
        text += f"; {result.error_code}: {result.error}"
    if result.sent is True and result.status is OrderStatus.REJECTED:
        return text + "; the broker refused it (the id is spent: fix the cause, use a new id)"
    return text + f"; {_SENT_TEXT[result.sent]}"


_SENT_TEXT = {
    False: "nothing was sent (safe to retry under the same id)",
    True: "sent to the broker",
    None: "it may have reached the broker (reconcile, do not resend)",
}
