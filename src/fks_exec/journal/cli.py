"""``fks-exec journal``: read, prune and migrate the order journal.

============================================  ===========================================
command                                       what it does
============================================  ===========================================
``fks-exec journal [--open] [--since WHEN]``  list entries, newest change first
``[--plugin P] [--limit N] [--json]``
``fks-exec journal show ID [--json]``         one order: its entry and every event
``fks-exec journal prune --older-than 30d``   delete closed entries unchanged for that
                                              long; open ones (``sending``, ``sent``,
                                              ``unknown``) are never pruned
``fks-exec journal migrate``                  bring an old file to this schema version
============================================  ===========================================

Every command takes ``--journal SPEC`` (default: FKS_EXEC_JOURNAL, else the per-user
file). ``WHEN`` is an ISO date or time (UTC unless it says otherwise) or an age such
as ``90m``, ``12h``, ``30d``, ``2w``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO, TypeVar

from fks_exec.errors import ConfigurationError
from fks_exec.journal.base import Journal
from fks_exec.journal.models import JournalEntry, JournalEvent
from fks_exec.journal.selection import ENV_VAR, default_path, journal_from_spec
from fks_exec.journal.sqlite import SqliteJournal, backup_file, migrate_file

__all__ = ["add_journal_command", "parse_when"]

T = TypeVar("T")
EXIT_OK, EXIT_NOT_FOUND = 0, 1
_AGE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
Handler = Callable[[argparse.Namespace, TextIO], int]


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """An age (``30d``) before ``now``, or an ISO date/time (naive means UTC), in UTC.

    Raises :class:`ConfigurationError` for anything else, or for a time outside the
    years 1 to 9999 in UTC.
    """
    now = now or datetime.now(timezone.utc)
    age = _AGE.fullmatch(text.strip().lower())
    try:
        if age:
            return now - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})
        when = datetime.fromisoformat(text.strip())
        return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except OverflowError:
        raise ConfigurationError(
            f"{text.strip()!r} lies outside the years 1 to 9999 (in UTC); give a shorter "
            "age (30d, 12h) or a date within them (2026-12-01)"
        ) from None
    except ValueError:
        raise ConfigurationError(
            f"{text!r} is neither an age (30d, 12h, 90m) nor an ISO date (2026-12-01)"
        ) from None


def add_journal_command(sub: Any) -> None:
    """Register ``journal`` and its subcommands on the CLI's subparsers ``sub``."""
    parser = sub.add_parser(
        "journal",
        help="read, prune, back up or migrate the order journal (see docs/journal.md)",
        description="List journaled orders, newest change first. Subcommands: show, "
        "prune, backup, migrate.",
    )
    _journal_option(parser)
    parser.add_argument("--open", action="store_true", help="only orders that may still change")
    parser.add_argument("--since", metavar="WHEN", help="changed since (30d, 2026-12-01...)")
    parser.add_argument("--plugin", help="only orders of this plugin instance")
    parser.add_argument("--limit", type=int, default=200, help="at most this many (200)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_cmd_list)
    actions = parser.add_subparsers(dest="journal_command", metavar="SUBCOMMAND")
    show = actions.add_parser("show", help="one order's entry and its events")
    show.add_argument("client_order_id")
    show.add_argument("--json", action="store_true", help="print JSON")
    _journal_option(show)
    show.set_defaults(handler=_cmd_show)
    prune = actions.add_parser("prune", help="delete closed entries older than an age")
    prune.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 30d")
    _journal_option(prune)
    prune.set_defaults(handler=_cmd_prune)
    backup = actions.add_parser(
        "backup", help="copy the journal file, with what its -wal holds, into one new file"
    )
    backup.add_argument("destination", help="the new file")
    _journal_option(backup)
    backup.set_defaults(handler=_cmd_backup)
    migrate = actions.add_parser("migrate", help="bring an old journal file up to date")
    _journal_option(migrate)
    migrate.set_defaults(handler=_cmd_migrate)


def _journal_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        metavar="SPEC",
        default=argparse.SUPPRESS,
        help=f"journal file or spec (default: {ENV_VAR}, else {default_path()})",
    )


def _spec(args: argparse.Namespace) -> str:
    return str(getattr(args, "journal", None) or os.environ.get(ENV_VAR) or default_path())


def _is_database(spec: str) -> bool:
    return spec.startswith(("postgresql://", "postgres://"))


def _file_journal(args: argparse.Namespace) -> Journal | None:
    journal = journal_from_spec(_spec(args))
    if _is_database(_spec(args)):
        return journal  # a server: reachable from any host, created on first use
    if not isinstance(journal, SqliteJournal):
        raise ConfigurationError(
            "the memory journal lives inside one process; point --journal (or "
            f"{ENV_VAR}) at a journal file"
        )
    return journal if journal.path.exists() else None


def _run(journal: Journal, work: Callable[[Journal], Awaitable[T]]) -> T:
    async def run() -> T:
        await journal.open()
        try:
            return await work(journal)
        finally:
            await journal.close()

    return asyncio.run(run())


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    journal = _file_journal(args)
    since = parse_when(args.since) if args.since else None
    if journal is None:
        entries: list[JournalEntry] = []
    else:
        plugins = [args.plugin] if args.plugin else None
        entries = _run(
            journal,
            lambda j: j.entries(
                open_only=args.open, plugins=plugins, since=since, limit=args.limit
            ),
        )
    if args.json:
        out.write(json.dumps([_entry_json(e) for e in entries], indent=2) + "\n")
        return EXIT_OK
    if journal is None:
        out.write(f"no journal at {_spec(args)} yet\n")
        return EXIT_OK
    _table(out, [_entry_row(e) for e in entries])
    return EXIT_OK


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    journal = _file_journal(args)
    cid = args.client_order_id

    async def read(j: Journal) -> tuple[JournalEntry | None, list[JournalEvent]]:
        return await j.get(cid), await j.events(cid)

    entry, events = _run(journal, read) if journal is not None else (None, [])
    if entry is None:
        where = journal.location if journal is not None else _spec(args)
        out.write(f"no order {cid!r} in the journal at {where}\n")
        return EXIT_NOT_FOUND
    if args.json:
        body = {**_entry_json(entry), "events": [_event_json(e) for e in events]}
        out.write(json.dumps(body, indent=2) + "\n")
        return EXIT_OK
    for key, value in _entry_row(entry).items():
        out.write(f"{key:<16} {value}\n")
    out.write(f"{'hints':<16} {json.dumps(dict(entry.hints))}\n\n")
    _table(out, [_event_row(e) for e in events])
    return EXIT_OK


def _cmd_prune(args: argparse.Namespace, out: TextIO) -> int:
    before = parse_when(args.older_than)
    journal = _file_journal(args)
    pruned = 0 if journal is None else _run(journal, lambda j: j.prune(before))
    out.write(
        f"pruned {pruned} closed entries unchanged since {before:%Y-%m-%d %H:%M} UTC; "
        "open entries are kept\n"
    )
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace, out: TextIO) -> int:
    if _is_database(_spec(args)):
        raise ConfigurationError(
            "a PostgreSQL journal is backed up with the server's own tools (pg_dump); "
            "journal backup copies a journal file"
        )
    journal = _file_journal(args)
    if not isinstance(journal, SqliteJournal):
        raise ConfigurationError(f"no journal file at {_spec(args)}: nothing to back up")
    backup_file(journal.path, args.destination)
    out.write(f"{journal.path} (with its write-ahead log) copied to {args.destination}\n")
    return EXIT_OK


def _cmd_migrate(args: argparse.Namespace, out: TextIO) -> int:
    if _is_database(_spec(args)):
        from fks_exec.journal.postgres import migrate_database, safe_location

        start, end = asyncio.run(migrate_database(_spec(args)))
        current = " (already current)" if start == end else ""
        out.write(f"{safe_location(_spec(args))}: schema version {start} -> {end}{current}\n")
        return EXIT_OK
    path = Path(_spec(args).removeprefix("sqlite:///")).expanduser()
    if not path.exists():
        out.write(f"no journal at {path}; nothing to migrate\n")
        return EXIT_OK
    start, end = migrate_file(path)
    out.write(
        f"{path}: schema version {start} -> {end}"
        + (" (already current)" if start == end else "")
        + "\n"
    )
    return EXIT_OK


# ---------------------------------------------------------------------- rendering


def _entry_json(entry: JournalEntry) -> dict[str, Any]:
    return {
        "client_order_id": entry.client_order_id,
        "plugin": entry.plugin,
        "state": entry.state.value,
        "attempt": entry.attempt,
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "hints": dict(entry.hints),
        "order": entry.order.model_dump(mode="json"),
        "result": None if entry.result is None else entry.result.model_dump(mode="json"),
    }


def _event_json(event: JournalEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "kind": event.kind,
        "state": event.state.value,
        "status": None if event.status is None else event.status.value,
        "detail": dict(event.detail),
    }


def _entry_row(entry: JournalEntry) -> dict[str, str]:
    order, result = entry.order, entry.result
    return {
        "updated": f"{entry.updated_at:%Y-%m-%d %H:%M:%S}",
        "client_order_id": entry.client_order_id,
        "plugin": entry.plugin,
        "state": entry.state.value,
        "status": result.status.value if result else "-",
        "order": f"{order.side.value} {order.quantity} {order.symbol} {order.type.value}",
        "filled": str(result.filled_quantity) if result else "-",
        "order_id": (result.order_id or "-") if result else "-",
    }


def _event_row(event: JournalEvent) -> dict[str, str]:
    return {
        "at": f"{event.at:%Y-%m-%d %H:%M:%S.%f}",
        "kind": event.kind,
        "state": event.state.value,
        "status": event.status.value if event.status else "-",
        "detail": json.dumps(dict(event.detail)) if event.detail else "",
    }


def _table(out: TextIO, rows: list[dict[str, str]]) -> None:
    if not rows:
        out.write("(none)\n")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    out.write("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip() + "\n")
