"""The ``fks-exec`` command: list plugins, check health, place an order, run the demo.

Exit codes: 0 success; 1 the order was not filled or accepted (rejected, unknown) or a
health check failed; 2 usage or configuration error (nothing was sent). Each error is
printed once, on stderr. A command starts only the plugins it needs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from pydantic import ValidationError

from fks_exec.cli_logging import logging_for
from fks_exec.config import ExecutorSettings
from fks_exec.errors import BrokerUnavailable, ConfigurationError, FksExecError, PluginNotFound
from fks_exec.executor import Executor
from fks_exec.journal.cli import add_journal_command
from fks_exec.models import ExecutionResult, HealthStatus, Order, OrderType
from fks_exec.plugin import ExecutionPlugin
from fks_exec.registry import PluginRegistry

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    with logging_for(args.verbose):
        return _run(parser, args)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = args.handler(args, sys.stdout)
    except ValidationError as exc:
        print(f"error: invalid order: {_validation_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except FksExecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fks-exec",
        description="One order API over many brokers. Plugins and routes come from the "
        "FKS_EXEC_* environment variables (see docs/configuration.md).",
        epilog="Exit codes: 0 success; 1 the order was rejected or its outcome is unknown, "
        "or a health check failed; 2 usage or configuration error (nothing was sent).",
    )
    parser.add_argument("--version", action="version", version=_version_text())
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v: fks-exec's DEBUG log; -vv: every library's too (secrets always masked)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = sub.add_parser("plugins", help="list discovered plugins and whether they load")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_cmd_plugins)

    health = sub.add_parser(
        "health",
        help="start the configured plugins and check them",
        description="Check the plugins the configuration names (FKS_EXEC_DEFAULT, "
        "_ROUTES, _FALLBACKS, _PLUGINS), those given with --plugin, or with --all every "
        "enabled one. Exit 0 all healthy, 1 one is not, 2 a configuration error.",
    )
    health.add_argument(
        "--plugin", action="append", metavar="NAME", help="check this plugin (repeatable)"
    )
    health.add_argument("--all", action="store_true", help="check every enabled plugin")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(handler=_cmd_health)

    order = sub.add_parser(
        "order",
        help="place one order",
        description="Place one order, e.g.: fks-exec order buy BTC/USDT 0.01 --limit 64000 "
        "--plugin mock --price 64100. A limit and a stop together make a stop-limit order. "
        "Only the plugin the order goes to is started. Exit 0 filled or accepted, 1 "
        "rejected or unknown, 2 refused before sending.",
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

    demo = sub.add_parser("demo", help="a short guided run on the built-in mock broker")
    demo.set_defaults(handler=_cmd_demo)

    serve = sub.add_parser(
        "serve",
        help="run the webhook server (pip install fks-exec[server])",
        description="Serve POST /webhook/tradingview, POST /execute/signal, GET /health and "
        "GET /ready. Needs FKS_EXEC_WEBHOOK_SECRET or FKS_EXEC_WEBHOOK_PASSPHRASE.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port, 1-65535 (default 8080)")
    serve.set_defaults(handler=_cmd_serve)

    check = sub.add_parser(
        "check",
        help="run a plugin's check against a real broker (e.g. check mt5 --place)",
        description="Run the check a plugin ships (entry point group fks_exec.checks) "
        "against your real terminal or account, with the usual FKS_EXEC_* configuration.",
    )
    check.add_argument("plugin", help="plugin whose check to run (mt5, ninja, ...)")
    check.add_argument("args", nargs=argparse.REMAINDER, help="the check's own options")
    check.set_defaults(handler=_cmd_check)

    add_journal_command(sub)  # fks-exec journal [show|prune|migrate]
    return parser


# ---------------------------------------------------------------------- plugins


def _cmd_plugins(args: argparse.Namespace, out: TextIO) -> int:
    registry = PluginRegistry()
    rows = []
    for info in registry.list_infos():
        state = "disabled" if not registry.is_enabled(info.name) else "ok"
        if state == "ok":
            try:
                registry.load(info.name)
            except FksExecError as exc:
                state = f"failed: {exc}"
        rows.append(
            {
                "name": info.name,
                "distribution": info.distribution or "-",
                "version": info.version or "-",
                "target": info.target,
                "state": state,
            }
        )
    for name, error in registry.failures.items():
        if not any(row["name"] == name for row in rows):
            rows.append(
                {
                    "name": name,
                    "distribution": "-",
                    "version": "-",
                    "target": "-",
                    "state": f"failed: {error}",
                }
            )
    if args.json:
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        _table(out, rows, ["name", "distribution", "version", "state"])
    return EXIT_OK


# ---------------------------------------------------------------------- health


def _cmd_health(args: argparse.Namespace, out: TextIO) -> int:
    executor = Executor.from_env()
    names = _health_names(args, executor)
    if not names:
        print(
            "error: no plugin is configured (FKS_EXEC_DEFAULT, FKS_EXEC_ROUTES, "
            "FKS_EXEC_FALLBACKS, FKS_EXEC_PLUGINS): name one with --plugin NAME, or "
            "check every installed plugin with --all",
            file=sys.stderr,
        )
        return EXIT_USAGE
    misconfigured: list[str] = []

    async def run() -> dict[str, Any]:
        failed: dict[str, HealthStatus] = {}
        try:
            for name in names:
                try:
                    await executor.plugin(name)
                except FksExecError as exc:
                    if isinstance(exc, (ConfigurationError, PluginNotFound)):
                        misconfigured.append(name)
                    failed[name] = HealthStatus(healthy=False, detail=f"failed to start: {exc}")
            checked = {n: s for n, s in (await executor.health()).items() if n in names}
        finally:
            await executor.close()
        return {n: s.model_dump() for n, s in sorted({**checked, **failed}.items())}

    report = asyncio.run(run())
    if args.json:
        json.dump(report, out, indent=2, default=str)
        out.write("\n")
    else:
        rows = [
            {
                "plugin": name,
                "healthy": "yes" if status["healthy"] else "NO",
                "latency_ms": "-"
                if status["latency_ms"] is None
                else f"{status['latency_ms']:.1f}",
                "detail": status["detail"],
            }
            for name, status in report.items()
        ]
        _table(out, rows, ["plugin", "healthy", "latency_ms", "detail"])
    if misconfigured:
        return EXIT_USAGE
    return EXIT_OK if report and all(s["healthy"] for s in report.values()) else EXIT_FAILED


def _health_names(args: argparse.Namespace, executor: Executor) -> list[str]:
    """The plugins ``health`` checks: --plugin, else --all, else the configured ones."""
    if args.plugin:
        return sorted(set(args.plugin))
    if args.all:
        return executor.registry.list_names()
    settings = ExecutorSettings.from_env()
    named = {settings.default} if settings.default else set()
    named.update(settings.routes.values())
    for primary, others in settings.fallbacks.items():
        named.update([primary, *others])
    named.update(settings.plugins or ())
    return sorted(named)


# ---------------------------------------------------------------------- order


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
    executor = Executor.from_env()
    name = executor.route(order.symbol, args.plugin)
    if args.price is not None:
        if _kind(name) != "mock":
            raise ConfigurationError(
                f"--price quotes the mock broker; this order goes to {name!r}, which has "
                "its own market"
            )
        prices = {order.symbol: _decimal_arg("--price", args.price)}
        executor = Executor.from_env(configs={name: {"prices": prices}})

    async def run() -> ExecutionResult:
        try:
            if _kind(name) == "mock":
                _require_mock_quote(await executor.plugin(name), order.symbol)
            # Starts only the plugin the order goes to (and its fallbacks, if needed).
            return await executor.execute(order, plugin=name)
        finally:
            await executor.close()

    result = asyncio.run(run())
    if args.json:
        out.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.write(_describe_result(result) + "\n")
    return EXIT_OK if result.success else EXIT_FAILED


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
        f"on {result.plugin} (client id {result.client_order_id}, order id {result.order_id})"
    )
    if result.filled_quantity:
        text += f"; filled {result.filled_quantity} at {result.average_price}"
    if result.error:
        text += f"; {result.error_code}: {result.error}"
    return text + f"; {_SENT_TEXT[result.sent]}"


_SENT_TEXT = {
    False: "nothing was sent (safe to retry under the same id)",
    True: "the broker has it",
    None: "it may have reached the broker (unknown: reconcile, do not resend)",
}


# ---------------------------------------------------------------------- serve


def _cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import uvicorn  # noqa: F401 - only to say which extra is missing

        from fks_exec.server import WebhookSettings, create_app
    except ImportError:
        print("error: the server needs its extra: pip install 'fks-exec[server]'", file=sys.stderr)
        return EXIT_USAGE
    from fks_exec.server_http import serve

    settings = WebhookSettings.from_env()
    app = create_app(Executor.from_env(), settings)  # refuses without a secret
    serve(app, settings, host=args.host, port=args.port)
    return EXIT_OK


def _port(text: str) -> int:
    """A TCP port number for argparse: 1-65535."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535")
    return int(text)


# ---------------------------------------------------------------------- check

CHECKS_GROUP = "fks_exec.checks"


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    from importlib.metadata import entry_points

    from fks_exec.registry import ENTRY_POINT_GROUP, INSTALL_HINTS

    found = {ep.name: ep for ep in entry_points(group=CHECKS_GROUP)}
    if args.plugin not in found:
        installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
        available = ", ".join(sorted(found)) or "none"
        if args.plugin in installed:
            dist = installed[args.plugin].dist
            source = f" ({dist.name} {dist.version})" if dist is not None else ""
            reason = f"plugin {args.plugin!r} is installed{source} but ships no check"
        elif args.plugin in INSTALL_HINTS:
            reason = (
                f"plugin {args.plugin!r} is not installed; install it with: "
                f"pip install {INSTALL_HINTS[args.plugin]}"
            )
        else:
            reason = f"no plugin named {args.plugin!r} is installed"
        print(f"error: {reason} (checks available: {available})", file=sys.stderr)
        return EXIT_USAGE
    run = found[args.plugin].load()
    code: int = run(args.args, out)
    return code


# ---------------------------------------------------------------------- demo


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from fks_exec.demo import run_demo

    return asyncio.run(run_demo(out))


# ---------------------------------------------------------------------- helpers


def _version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"fks-exec {version('fks-exec')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "fks-exec (not installed)"


def _table(out: TextIO, rows: list[dict[str, str]], columns: list[str]) -> None:
    if not rows:
        out.write("(none)\n")
        return
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip() + "\n")


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
