"""Masking secrets in text, data, exception chains and log records.

:class:`Redactor` masks a fixed set of secret values wherever they appear: in a
message, inside a nested JSON-like value (a result's ``raw``), and along an exception's
whole ``__cause__``/``__context__`` chain, which it rebuilds as :class:`MaskedError`
copies so that not even a traceback printed with chained causes shows a secret.

Every secret that fks-exec loads from a config is also registered process-wide with
:func:`register_secret`; :class:`MaskingFilter` masks all of them in every log record
of any logger (the CLI installs it on its handler).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "REDACTED",
    "MaskedError",
    "MaskingFilter",
    "Redactor",
    "known_secrets",
    "register_secret",
]

REDACTED = "**********"
_MAX_CHAIN = 32

_lock = threading.Lock()
_registered: set[str] = set()
_registry_redactor: Redactor | None = None


class MaskedError(Exception):
    """A copy of a third-party exception with every secret masked in its message.

    ``original_type`` names the class it replaces (e.g. ``ccxt.base.errors.
    AuthenticationError``); the traceback is the original's, so the frames still show
    where it was raised. Never raised on its own: it only appears as a chained cause.
    """

    def __init__(self, original_type: str, message: str) -> None:
        super().__init__(message)
        self.original_type = original_type

    def __str__(self) -> str:
        return f"{self.original_type}: {self.args[0]}"


class Redactor:
    """Masks a fixed set of secrets. Build it once per config; it is cheap to call."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        unique = {s for s in secrets if isinstance(s, str) and s}
        self._secrets = tuple(sorted(unique, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._secrets)} secret(s)>"

    def text(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``**********``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def found_in(self, text: str) -> bool:
        """True when any secret occurs in ``text``."""
        return any(secret in text for secret in self._secrets)

    def value(self, value: Any) -> Any:
        """Return ``value`` (str, dict, list, tuple, nesting thereof) with secrets masked.

        Other objects are returned as they are. Unchanged values are returned unchanged
        (the same object), so callers can test ``is`` to skip a copy.
        """
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict | list | tuple) and not self.found_in(repr(value)):
            return value
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value

    def exception(self, exc: BaseException) -> BaseException:
        """Return ``exc`` with its message and whole cause/context chain masked.

        An fks-exec error keeps its class (re-created with the masked message); any
        other exception becomes a :class:`MaskedError` carrying its class name. The
        chain is rebuilt from copies, so the originals (which may hold a secret) are no
        longer reachable from the result; a chain is cut after 32 links (bounded work
        for a pathological one). Returns ``exc`` itself when nothing in its chain holds a
        secret.
        """
        if not self._secrets or not self._chain_has_secret(exc):
            return exc
        return self._copy(exc, 0, {})

    def _chain_has_secret(self, exc: BaseException) -> bool:
        seen: set[int] = set()
        todo: list[BaseException] = [exc]
        while todo and len(seen) < _MAX_CHAIN:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if self.found_in(_describe(current)):
                return True
            todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        # Links left unread (a chain longer than the bound) may hold one: copy, which cuts.
        return bool(todo)

    def _copy(
        self, exc: BaseException, depth: int, done: dict[int, BaseException]
    ) -> BaseException:
        if id(exc) in done:
            return done[id(exc)]
        copy = self._masked_copy(exc)
        done[id(exc)] = copy
        copy.__traceback__ = exc.__traceback__
        copy.__suppress_context__ = exc.__suppress_context__
        if depth < _MAX_CHAIN:
            if exc.__cause__ is not None:
                copy.__cause__ = self._copy(exc.__cause__, depth + 1, done)
            if exc.__context__ is not None:
                copy.__context__ = self._copy(exc.__context__, depth + 1, done)
        else:
            copy.__cause__ = copy.__context__ = None
        return copy

    def _masked_copy(self, exc: BaseException) -> BaseException:
        from fks_exec.errors import FksExecError

        message = self.text(_message_of(exc))
        if isinstance(exc, FksExecError):
            try:
                new = type(exc)(message)
            except Exception:
                new = FksExecError(message)
            for key, val in vars(exc).items():
                setattr(new, key, self.value(val) if isinstance(val, str) else val)
            return new
        return MaskedError(f"{type(exc).__module__}.{type(exc).__qualname__}", message)


def _message_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not stop the masking
        return repr(exc.args)


def _describe(exc: BaseException) -> str:
    try:
        return f"{exc!s} {exc.args!r} {vars(exc)!r}"
    except Exception:
        return repr(exc.args)


def register_secret(secret: str) -> None:
    """Add ``secret`` to the process-wide set that :class:`MaskingFilter` masks."""
    global _registry_redactor
    if not isinstance(secret, str) or not secret:
        return
    with _lock:
        if secret not in _registered:
            _registered.add(secret)
            _registry_redactor = None


def known_secrets() -> Redactor:
    """A :class:`Redactor` of every secret registered so far in this process."""
    global _registry_redactor
    with _lock:
        if _registry_redactor is None:
            _registry_redactor = Redactor(_registered)
        return _registry_redactor


class MaskingFilter(logging.Filter):
    """A logging filter that masks every registered secret in a record.

    It formats the record's message (and exception text) once, masks it, and leaves
    the record with the masked text and no arguments, so no later handler or
    formatter can see the secret. Attach it to a handler to cover every logger.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = known_secrets()
        if not redactor:
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redactor.text(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            masked = redactor.exception(record.exc_info[1])
            record.exc_info = (type(masked), masked, masked.__traceback__)
            record.exc_text = None
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        return True
