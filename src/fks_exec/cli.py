"""The ``fks-exec`` command: list plugins, check health, place an order, run the demo.

Exit codes: 0 success; 1 the broker rejected the order or ended it with nothing filled,
or a health check failed; 2 nothing was sent (usage or configuration error, an order
refused before sending, no broker reachable); 3 the order's outcome is unknown (reconcile,
do not resend). Each error is printed once, on stderr. A command starts only the plugins
it needs.

Each command group lives in a module of its own (:mod:`fks_exec.cli_plugins`,
:mod:`fks_exec.cli_order`, :mod:`fks_exec.cli_serve`, :mod:`fks_exec.journal.cli`);
this one builds the parser and runs the command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from fks_exec.cli_logging import logging_for
from fks_exec.cli_order import add_order_command
from fks_exec.cli_output import EXIT_FAILED as EXIT_FAILED
from fks_exec.cli_output import EXIT_OK as EXIT_OK
from fks_exec.cli_output import EXIT_USAGE
from fks_exec.cli_plugins import add_health_command, add_plugins_command
from fks_exec.cli_serve import add_check_command, add_demo_command, add_serve_command
from fks_exec.errors import BrokerUnavailable, FksExecError
from fks_exec.journal.cli import add_journal_command

__all__ = ["main"]


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
        epilog="Exit codes: 0 success; 1 the order was rejected or ended with nothing "
        "filled, or a health check failed; 2 nothing was sent (usage or configuration "
        "error, refused before sending, no broker reachable); 3 the order's outcome is "
        "unknown (reconcile, do not resend).",
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

    add_plugins_command(sub)
    add_health_command(sub)
    add_order_command(sub)
    add_demo_command(sub)
    add_serve_command(sub)
    add_check_command(sub)
    add_journal_command(sub)  # fks-exec journal [show|prune|migrate]
    return parser


def _version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"fks-exec {version('fks-exec')}"
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "fks-exec (not installed)"


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
