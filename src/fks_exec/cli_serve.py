"""The ``serve``, ``check`` and ``demo`` commands: each hands over to code elsewhere (the
webhook server, a plugin's shipped check, the guided demo)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any, TextIO

from fks_exec.cli_output import EXIT_OK, EXIT_USAGE
from fks_exec.executor import Executor

__all__ = ["CHECKS_GROUP", "add_check_command", "add_demo_command", "add_serve_command"]

CHECKS_GROUP = "fks_exec.checks"
"""The entry-point group of the checks plugins ship (``fks-exec check NAME``)."""


def add_demo_command(sub: Any) -> None:
    """Register ``demo`` (a guided run on the mock broker) on the CLI's subparsers ``sub``."""
    demo = sub.add_parser("demo", help="a short guided run on the built-in mock broker")
    demo.set_defaults(handler=_cmd_demo)


def add_serve_command(sub: Any) -> None:
    """Register ``serve`` (the webhook server) on the CLI's subparsers ``sub``."""
    serve = sub.add_parser(
        "serve",
        help="run the webhook server (pip install fks-exec[server])",
        description="Serve POST /webhook/tradingview, POST /execute/signal, GET /health and "
        "GET /ready. Needs FKS_EXEC_WEBHOOK_SECRET or FKS_EXEC_WEBHOOK_PASSPHRASE.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port, 1-65535 (default 8080)")
    serve.set_defaults(handler=_cmd_serve)


def add_check_command(sub: Any) -> None:
    """Register ``check`` (a plugin's check against a real broker) on ``sub``."""
    check = sub.add_parser(
        "check",
        help="run a plugin's check against a real broker (e.g. check mt5 --place)",
        description="Run the check a plugin ships (entry point group fks_exec.checks) "
        "against your real terminal or account, with the usual FKS_EXEC_* configuration.",
    )
    check.add_argument("plugin", help="plugin whose check to run (mt5, ninja, ...)")
    check.add_argument("args", nargs=argparse.REMAINDER, help="the check's own options")
    check.set_defaults(handler=_cmd_check)


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
    # A server's own INFO lines (which endpoint accepts what, at start-up) are what its
    # operator reads, as uvicorn's are; -v still gives fks-exec's DEBUG.
    server_log = logging.getLogger("fks_exec.server")
    level = server_log.level
    if not args.verbose:
        server_log.setLevel(logging.INFO)
    try:
        serve(app, settings, host=args.host, port=args.port)
    finally:
        server_log.setLevel(level)
    return EXIT_OK


def _port(text: str) -> int:
    """A TCP port number for argparse: 1-65535."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give a number from 1 to 65535")
    return int(text)


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


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from fks_exec.demo import run_demo

    return asyncio.run(run_demo(out))
