"""Which journal an executor uses: ``Executor(journal=...)``, else ``FKS_EXEC_JOURNAL``,
else a file in the per-user state directory when a live plugin is planned, else memory.

=======================  ==============================================================
spec                     journal
=======================  ==============================================================
``memory``               :class:`MemoryJournal` (forgotten at exit)
``default``              SQLite at :func:`default_path`
``sqlite:///rel.db``     SQLite at a path relative to the working directory
``sqlite:////abs.db``    SQLite at an absolute path
``postgresql://...``      PostgreSQL (``fks-exec[postgres]``), shared by hosts
any other text           SQLite at that path (``~`` expanded), unless it looks
                         like a connection string (refused: see below)
=======================  ==============================================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from fks_exec.errors import ConfigurationError
from fks_exec.journal.base import Journal
from fks_exec.journal.memory import MemoryJournal
from fks_exec.journal.sqlite import SqliteJournal

__all__ = ["ENV_VAR", "PAPER_PLUGINS", "choose_journal", "default_path", "journal_from_spec"]

ENV_VAR = "FKS_EXEC_JOURNAL"
PAPER_PLUGINS = frozenset({"mock"})
"""Plugins that never reach a real broker. Until plugins declare paper or live
themselves, every other plugin counts as live."""


def default_path() -> Path:
    """The per-user journal file, e.g. ``~/.local/state/fks-exec/journal.sqlite3`` on
    Linux, ``~/Library/Application Support/fks-exec/`` on macOS,
    ``%LOCALAPPDATA%\\fks-exec\\`` on Windows (platformdirs' user state directory)."""
    import platformdirs

    return platformdirs.user_state_path("fks-exec", appauthor=False) / "journal.sqlite3"


def journal_from_spec(spec: str, *, max_closed: int = 10_000) -> Journal:
    """The journal a spec names (see the module table).

    Raises :class:`ConfigurationError` for an empty spec or another database URL.
    """
    text = spec.strip()
    if not text:
        raise ConfigurationError(f"{ENV_VAR} is empty: set it to memory, default, or a file path")
    if text.lower() == "memory":
        return MemoryJournal(max_closed=max_closed)
    if text.lower() == "default":
        return SqliteJournal(default_path())
    if text.startswith("sqlite:///"):
        return SqliteJournal(text[len("sqlite:///") :])
    if text.startswith(("postgresql://", "postgres://")):
        return _postgres_journal(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ConfigurationError(
            f"journal URLs of scheme {scheme!r} are not supported; use memory, default, "
            "a file path, sqlite:///path or postgresql://..."
        )
    _refuse_connection_text(text)
    return SqliteJournal(text)


_URL_TYPO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/?(?!/)")
"""A scheme (two letters or more: ``C:`` is a drive) and ``:`` or ``:/`` with no ``//``."""
_LIBPQ_KEYWORD = re.compile(
    r"(?:^|\s)(?:host|hostaddr|port|dbname|user|password|passfile|service|sslmode)\s*=",
    re.IGNORECASE,
)
"""A keyword of libpq's ``key=value`` connection strings (PostgreSQL docs, "Connection
Strings"), which psycopg takes but this spec does not."""


def _refuse_connection_text(text: str) -> None:
    """Refuse a spec that looks like a database connection string rather than a file
    path (a ``postgresql:/`` typo, libpq's ``host=... password=...`` form): taken as a
    path, it would create a file named after it, password and all, and show it in
    logs and output. Raises :class:`ConfigurationError`, which never repeats the text."""
    if _URL_TYPO.match(text) or _LIBPQ_KEYWORD.search(text):
        raise ConfigurationError(
            f"the {ENV_VAR} / journal= spec looks like a database connection string, not "
            "a file path (it is not repeated here: it may hold a password); for "
            "PostgreSQL write it as postgresql://user@host:5432/dbname (the password in "
            "the URL, PGPASSWORD or ~/.pgpass), for SQLite give a file path or "
            "sqlite:///path"
        )


def _postgres_journal(url: str) -> Journal:
    try:
        from fks_exec.journal.postgres import PostgresJournal
    except ImportError:
        raise ConfigurationError(
            "a postgresql:// journal needs psycopg 3: pip install 'fks-exec[postgres]'"
        ) from None
    return PostgresJournal(url)


def choose_journal(
    journal: Journal | str | None, planned_plugins: Iterable[str], *, max_closed: int = 10_000
) -> Journal:
    """The journal for an executor: ``journal`` if given, else ``FKS_EXEC_JOURNAL``,
    else SQLite at :func:`default_path` when any planned plugin is live, else memory.

    Raises :class:`ConfigurationError` for a malformed spec or a non-Journal object.
    """
    if isinstance(journal, Journal):
        return journal
    if journal is not None and not isinstance(journal, str):
        raise ConfigurationError(
            f"journal= takes a Journal or a spec text, got {type(journal).__name__}"
        )
    spec = journal if journal is not None else os.environ.get(ENV_VAR)
    if spec is not None:
        return journal_from_spec(spec, max_closed=max_closed)
    if any(name not in PAPER_PLUGINS for name in planned_plugins):
        return SqliteJournal(default_path())
    return MemoryJournal(max_closed=max_closed)
