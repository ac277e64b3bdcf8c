"""The ``plugins`` and ``health`` commands: which plugins are installed and load, and
whether the configured ones answer."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TextIO

from fks_exec.cli_output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, write_table
from fks_exec.config import ExecutorSettings
from fks_exec.errors import ConfigurationError, FksExecError, PluginNotFound
from fks_exec.executor import Executor
from fks_exec.models import HealthStatus
from fks_exec.registry import PluginRegistry

__all__ = ["add_health_command", "add_plugins_command"]


def add_plugins_command(sub: Any) -> None:
    """Register ``plugins`` (list discovered plugins) on the CLI's subparsers ``sub``."""
    plugins = sub.add_parser("plugins", help="list discovered plugins and whether they load")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_cmd_plugins)


def add_health_command(sub: Any) -> None:
    """Register ``health`` (start and check plugins) on the CLI's subparsers ``sub``."""
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
        write_table(out, rows, ["name", "distribution", "version", "state"])
    return EXIT_OK


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
    _write_health(out, report, as_json=args.json)
    if misconfigured:
        return EXIT_USAGE
    return EXIT_OK if report and all(s["healthy"] for s in report.values()) else EXIT_FAILED


def _write_health(out: TextIO, report: dict[str, Any], *, as_json: bool) -> None:
    """Write the health ``report`` (plugin name -> status fields) as JSON or a table."""
    if as_json:
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
        write_table(out, rows, ["plugin", "healthy", "latency_ms", "detail"])


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
