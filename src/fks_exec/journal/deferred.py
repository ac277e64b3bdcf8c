"""Lazy journal writes kept raw on the event loop's thread, encoded while intents commit.

An intent (a claim) must be committed before its order is sent, so while a group of
intents commits, the event loop has nothing to do but wait, and SQLite works without
the GIL. The answers the loop recorded since the previous group (results nobody waits
for) are therefore not made into rows when they are recorded, on the loop's critical
path, but kept raw (:meth:`DeferredWrites.defer`) and encoded in that wait: the journal's
writer thread asks the loop to (:meth:`DeferredWrites.ask`) as it starts committing a
group somebody waits for. They are also encoded, in the order they were recorded,

- before any job queued after them on the loop's thread that could see them
  (:meth:`DeferredWrites.before`): a callable job (a read, a flush), a write of a
  record one of them writes, a lazy write, the writer's stop;
- :data:`DEFER_S` after the first of them was deferred, if nothing else came first;
- at once, when recorded from another thread or after the loop closed.

So they are committed in the order the worker's queue would have had them (see
:mod:`fks_exec.journal.worker`), only later; until then a SIGKILL loses them like any
result not yet committed (the entry stays ``sending`` and is reconciled, never resent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DEFER_S", "DeferredWrites", "Encoder"]

logger = logging.getLogger("fks_exec.journal")

DEFER_S = 0.02
"""A deferred write is encoded and queued at most this long after the first one waiting."""
Encoder = Callable[[Any], tuple[Any, str]]
"""Makes a deferred raw value into (the bulk value to queue, its label for errors)."""


class DeferredWrites:
    """Raw values of lazy writes waiting on the loop's thread to be encoded and queued.

    ``queue([(value, label), ...])`` queues encoded lazy writes in order, as one
    hand-over to the writer thread; ``bulk_types`` and
    ``bulk_key`` say which queued jobs are writes of one record (the others could see
    any record). Nothing is deferred before :meth:`bind` names the loop.
    """

    def __init__(
        self,
        encode: Encoder,
        queue: Callable[[list[tuple[Any, str]]], None],
        bulk_types: tuple[type, ...],
        bulk_key: Callable[[Any], object] | None,
    ) -> None:
        self._encode = encode
        self._queue = queue
        self._bulk_types = bulk_types
        self._bulk_key = bulk_key
        self.raws: list[Any] = []
        """Waiting raw values, oldest first (touched on the loop's thread only)."""
        self._keys: set[object] = set()
        self._timer = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Defer writes recorded on ``loop``'s thread (call on that thread)."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def on_loop_thread(self) -> bool:
        """True on the thread of the loop given to :meth:`bind`."""
        return threading.get_ident() == self._loop_thread

    def defer(self, raw: Any, key: object) -> None:
        """Keep ``raw`` (a write of record ``key``) to encode later; off the loop's
        thread or once the loop closed, encode and queue it now (raising what the
        encoder raises)."""
        loop = self._loop
        if loop is None or not self.on_loop_thread() or loop.is_closed():
            self._queue([self._encode(raw)])
            return
        self.raws.append(raw)
        self._keys.add(key)
        if not self._timer:
            self._timer = True
            loop.call_later(DEFER_S, self._due)

    def before(self, job: Any) -> None:
        """Encode and queue every waiting value first if ``job``, about to be queued
        on the loop's thread, could see one (another thread's job is not ordered with
        the loop's writes)."""
        if not self.raws or threading.get_ident() != self._loop_thread:  # on_loop_thread()
            return
        key = self._bulk_key
        if key is None or not isinstance(job, self._bulk_types) or key(job) in self._keys:
            self.encode_all()

    def ask(self) -> None:
        """(From the writer thread, starting a commit somebody waits for) have the
        loop encode the waiting values while SQLite works. A closed loop is not asked."""
        if self.raws:
            loop = self._loop
            assert loop is not None  # nothing is deferred before bind()
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to ask
                loop.call_soon_threadsafe(self.encode_all)

    def _due(self) -> None:
        self._timer = False
        self.encode_all()

    def encode_all(self) -> None:
        """Encode every waiting value, oldest first, and queue it (loop's thread). One
        that cannot be encoded is logged and lost; the others are queued."""
        raws, self.raws = self.raws, []
        self._keys.clear()
        encoded = []
        for raw in raws:
            try:
                encoded.append(self._encode(raw))
            except Exception as exc:  # one bad value never loses the others
                logger.error("journal: a queued write could not be encoded: %s", exc)
        if encoded:
            self._queue(encoded)
