"""Logging for the ``fks-exec`` command: levels by verbosity, secrets masked.

fks-exec itself only logs (with a ``NullHandler`` on ``fks_exec``); the command decides
where records go. ``-v`` shows fks-exec's own DEBUG records and keeps every other
library (ccxt, uvicorn, asyncio, ...) at WARNING, because their DEBUG output carries
request headers; ``-vv`` shows everything. The command's handler masks every
registered secret in every record from any logger, whatever the level.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from fks_exec.config import ENV_PREFIX
from fks_exec.redaction import MaskingFilter, register_secret

__all__ = ["SECRET_NAME_PARTS", "configure_logging", "logging_for", "register_env_secrets"]

SECRET_NAME_PARTS = ("KEY", "SECRET", "PASSWORD", "PASSPHRASE", "TOKEN", "PRIVATE", "UID")
"""A ``FKS_EXEC_*`` variable whose name contains one of these holds a secret."""

_FORMAT = "%(levelname)s %(name)s: %(message)s"


def register_env_secrets(environ: dict[str, str] | None = None) -> int:
    """Register the values of secret-looking ``FKS_EXEC_*`` variables for masking.

    Plugins register the secrets of their config when they start; this covers what
    is logged before that (a failing start, a configuration error). Returns how many
    values were registered.
    """
    count = 0
    for name, value in (os.environ if environ is None else environ).items():
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and value and any(p in upper for p in SECRET_NAME_PARTS):
            register_secret(value)
            count += 1
    return count


def configure_logging(verbosity: int, stream: TextIO | None = None) -> logging.Handler:
    """Send log records to ``stream`` (stderr) at the level ``verbosity`` asks for.

    0: warnings and errors from everyone; 1 (``-v``): fks-exec at DEBUG, others at
    WARNING; 2 or more (``-vv``): everyone at DEBUG. Every record is masked. Returns
    the installed handler (replacing one installed by an earlier call).
    """
    register_env_secrets()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskingFilter())
    handler.set_name("fks-exec-cli")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "fks-exec-cli"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    logging.getLogger("fks_exec").setLevel(logging.DEBUG if verbosity >= 1 else logging.NOTSET)
    return handler


@contextmanager
def logging_for(verbosity: int, stream: TextIO | None = None) -> Iterator[logging.Handler]:
    """:func:`configure_logging` for the length of a ``with`` block, then undone: the
    handler removed and the root and ``fks_exec`` levels put back. ``fks_exec.cli.main``
    runs in it, so calling ``main()`` in-process (tests, scripts) leaves no handler
    behind (a stale one writes to a closed stream and masks other handlers' records).
    """
    root, own = logging.getLogger(), logging.getLogger("fks_exec")
    levels = (root.level, own.level)
    handler = configure_logging(verbosity, stream)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        own.setLevel(levels[1])
