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

import base64
import json
import logging
import marshal
import re
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

    __slots__ = ("_encoded", "_forms", "_secrets", "_written")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = frozenset(s for s in secrets if isinstance(s, str) and s)
        self._secrets = unique
        # What is searched and masked: each secret as it is and as repr() and JSON
        # write it inside a string (a password with a backslash or a quote shows
        # doubled or escaped in an exception's args, a dict's repr or a JSON body),
        # and its base64 and base64url forms at any alignment (Basic auth headers,
        # JWTs and signed payloads that carry it encoded).
        # Longest first, so a secret that contains another is masked whole.
        forms = {form for secret in unique for form in _written_forms(secret)}
        self._forms = tuple(sorted(forms, key=len, reverse=True))
        self._encoded = tuple(form.encode("utf-8", "surrogatepass") for form in self._forms)
        # held_in's one search of a value's marshal bytes for all the forms (a dozen or
        # so per secret): faster there than a find per form; no forms, no match.
        self._written = re.compile(b"|".join(map(re.escape, self._encoded)) or b"(?!)")

    def __bool__(self) -> bool:
        return bool(self._secrets)

    @property
    def secrets(self) -> frozenset[str]:
        """The secrets it masks."""
        return self._secrets

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._secrets)} secret(s)>"

    def text(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``**********``, also where it
        is written escaped, as ``repr()`` or JSON would write it inside a string, or
        encoded in base64 or base64url inside a longer encoded text."""
        for form in self._forms:  # str.find beats a regex alternation on text here
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def found_in(self, text: str) -> bool:
        """True when any secret occurs in ``text`` (as it is, or escaped as
        :meth:`text` masks it)."""
        return any(form in text for form in self._forms)

    def held_in(self, value: Any) -> bool:
        """True when a secret occurs in a string of ``value`` (``value`` itself, or a
        key, value or item of its nested dicts, lists and tuples, at any depth), as
        it is or escaped as :meth:`text` masks it: whenever :meth:`value` would mask
        something. A secret inside bytes or a set (left alone by :meth:`value`) may
        count too. Raises only what iterating a dict or list subclass in it raises.
        """
        if not self._forms:
            return False
        # marshal writes every str of a value made of exact built-in types as its
        # UTF-8 (surrogatepass) text, in C; it refuses a subclass or any other object,
        # which are walked in Python instead.
        try:
            written = marshal.dumps(value)
        except Exception:
            return self._walked_holds(value)
        return self._written.search(written) is not None

    def _walked_holds(self, value: Any) -> bool:
        # held_in by a walk: each string of at least the shortest form's length is
        # searched; a container met twice (shared, or a cycle) is read once.
        shortest, found_in = len(self._forms[-1]), self.found_in
        todo = [value]
        seen: set[int] = set()
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                if len(item) >= shortest and found_in(item):
                    return True
            elif isinstance(item, dict | list | tuple):
                if id(item) in seen:
                    continue
                seen.add(id(item))
                if isinstance(item, dict):
                    todo.extend(item)
                    todo.extend(item.values())
                else:
                    todo.extend(item)
        return False

    def value(self, value: Any) -> Any:
        """Return ``value`` (str, dict, list, tuple, nesting thereof) with secrets masked.

        Other objects are returned as they are. Unchanged values are returned unchanged
        (the same object), so callers can test ``is`` to skip a copy.
        """
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict | list | tuple) and not self.held_in(value):
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


def _written_forms(secret: str) -> set[str]:
    # repr() escapes a character by itself, given the string's quote: ' unless the
    # string holds ' and no " (then ", and secret holds no "); ascii() as repr() plus
    # non-ASCII; JSON escapes each character by itself, with or without ensure_ascii.
    forms = {secret, repr(secret + '"')[1:-2], ascii(secret + '"')[1:-2]}
    if '"' not in secret:
        forms.update((repr("'" + secret)[2:-1], ascii("'" + secret)[2:-1]))
    forms.update((json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]))
    forms.update(_base64_forms(secret.encode("utf-8", "surrogatepass")))
    return forms


_MIN_ENCODED = 6
"""Encoded forms shorter than this are not masked (they would match unrelated text):
every secret of 5 bytes or more is masked encoded at any offset."""


def _base64_forms(secret: bytes) -> set[str]:
    # A credential is often sent encoded: HTTP Basic auth (base64 of "key:secret"), a
    # JWT's or a signed payload's base64url JSON holding the key. Inside a longer
    # encoded text the secret starts at any byte offset, so at each of the three
    # offsets a 3-byte group allows, the characters that depend on its bytes alone are
    # the same whatever surrounds it: those are masked, in both alphabets. (What is
    # left unmasked at the edges encodes at most a few bits of the secret.)
    forms: set[str] = set()
    bits = 8 * len(secret)
    for offset in (0, 1, 2):
        encoded = base64.b64encode(bytes(offset) + secret).decode("ascii")
        first, last = -(-8 * offset // 6), (8 * offset + bits) // 6  # whole characters
        form = encoded[first:last]
        if len(form) >= _MIN_ENCODED:
            forms.add(form)
            forms.add(form.replace("+", "-").replace("/", "_"))
    return forms


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
