"""Running the webhook app: uvicorn, plus the connection limits uvicorn lacks.

uvicorn (well kept, already the ``server`` extra) parses HTTP/1.1 with h11 and has a
keep-alive timeout and a header size limit, but no header or body read timeout and no
bound on open connections. :class:`GuardedH11Protocol`, a thin subclass of uvicorn's
h11 protocol handed to uvicorn through its documented ``http=`` option, adds them:

- a **header timeout**: from the connection's first byte (or from its opening), the
  request line and headers must arrive within ``header_timeout_s``, else the sender
  gets 408 and the connection closes; slow senders of headers cannot hold a socket;
- a **body timeout** (a backstop: the app answers 408 itself after
  ``body_timeout_s``);
- a **bound on open connections** below the process's file limit: when a new
  connection would exceed it, the oldest connection that has not delivered a complete
  request is closed (what nginx does with idle keep-alive connections). A request
  being handled is never closed this way, so a flood of idle or slow connections
  cannot keep a signed signal from being served.

The concurrency limit is in the app (``max_concurrent_signals``, answered 503).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from fks_exec.errors import ConfigurationError
from fks_exec.server import WebhookSettings

__all__ = ["ConnectionPool", "GuardedH11Protocol", "connection_bound", "serve"]

logger = logging.getLogger("fks_exec.server")

_RESERVED_FDS = 64
"""Files kept free for the journal, plugins' sockets and logs."""
_TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def connection_bound(settings: WebhookSettings, file_limit: int | None = None) -> int:
    """The most connections to keep open: ``max_connections``, lowered to fit the file
    limit (``RLIMIT_NOFILE``) with room for what asyncio accepts before the bound is
    applied (up to four accept batches of ``backlog``) and for other files.

    Raises :class:`ConfigurationError` when the file limit leaves fewer than 16.
    """
    if file_limit is None:
        file_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if file_limit == resource.RLIM_INFINITY:
        return settings.max_connections
    room = file_limit - _RESERVED_FDS - 4 * settings.backlog
    if room < 16:
        raise ConfigurationError(
            f"the file limit ({file_limit}) leaves room for {max(room, 0)} connections; "
            "raise it (ulimit -n) or lower FKS_EXEC_WEBHOOK_BACKLOG"
        )
    return min(settings.max_connections, room)


class ConnectionPool:
    """The open connections, oldest first, and the bound on their number."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._open: dict[GuardedH11Protocol, None] = {}
        self.closed_for_room = 0
        self.timed_out = 0
        self._last_report = 0.0

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, connection: GuardedH11Protocol) -> None:
        """Count ``connection``; over the bound, close the oldest ones without a
        complete request (the new one too, when it is the only such)."""
        self._open[connection] = None
        while len(self._open) > self.bound:
            victim = next((c for c in self._open if c.is_incomplete), None)
            if victim is None:
                break  # every connection carries a request being handled
            self.discard(victim)
            victim.transport.abort()
            self.closed_for_room += 1
        self.report()

    def discard(self, connection: GuardedH11Protocol) -> None:
        """Forget ``connection`` (closed)."""
        self._open.pop(connection, None)

    def report(self, every_s: float = 10.0) -> None:
        """At most one log line per ``every_s`` about connections closed by the limits."""
        now = time.monotonic()
        if (self.closed_for_room or self.timed_out) and now - self._last_report >= every_s:
            logger.warning(
                "closed %d connection(s) at the limit of %d and %d that timed out "
                "(since the last report)",
                self.closed_for_room,
                self.bound,
                self.timed_out,
            )
            self.closed_for_room = self.timed_out = 0
            self._last_report = now


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body read timeouts and a shared bound on
    open connections (see the module docstring). Subclass it per server with
    :meth:`configured`."""

    pool: ClassVar[ConnectionPool]
    header_timeout_s: ClassVar[float]
    body_timeout_s: ClassVar[float]

    @classmethod
    def configured(cls, settings: WebhookSettings, bound: int) -> type[GuardedH11Protocol]:
        """A subclass bound to one server's limits and connection pool."""
        namespace: dict[str, Any] = {
            "pool": ConnectionPool(bound),
            "header_timeout_s": settings.header_timeout_s,
            # The app answers 408 at body_timeout_s; this only cuts off what it cannot.
            "body_timeout_s": settings.body_timeout_s + 1.0,
        }
        return type("GuardedH11ProtocolForServer", (cls,), namespace)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None

    @property
    def is_incomplete(self) -> bool:
        """True while no complete request is being handled (waiting for or reading one)."""
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline and count the connection against the bound."""
        super().connection_made(transport)
        self._watch()
        self.pool.admit(self)

    def data_received(self, data: bytes) -> None:
        """Feed uvicorn, then move the deadline to the phase the request is in."""
        super().data_received(data)
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the deadline and uncount the connection."""
        self._stop()
        self.pool.discard(self)
        super().connection_lost(exc)

    def _watch(self) -> None:
        state = self.conn.their_state
        phase = "header" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._stop()
        self._phase = phase
        if phase is not None and not self.transport.is_closing():
            limit = self.header_timeout_s if phase == "header" else self.body_timeout_s
            self._deadline = self.loop.call_later(limit, self._expire)

    def _stop(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        self.pool.timed_out += 1
        self.pool.report()
        if self._phase == "header" and self.conn.our_state is h11.IDLE:
            self.transport.write(_TIMEOUT_408)
            self.transport.close()
        else:
            self.transport.abort()


def serve(app: Any, settings: WebhookSettings, *, host: str, port: int) -> None:
    """Serve ``app`` on ``host:port`` with the limits of ``settings`` until SIGINT or
    SIGTERM. Raises :class:`ConfigurationError` when the file limit is too low."""
    bound = connection_bound(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol.configured(settings, bound),
        loop="asyncio",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level="info",
        backlog=settings.backlog,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
    )
    logger.info(
        "limits: %d connections, headers in %gs, bodies in %gs, keep-alive %ds, %d signals at once",
        bound,
        settings.header_timeout_s,
        settings.body_timeout_s,
        settings.keep_alive_timeout_s,
        settings.max_concurrent_signals,
    )
    uvicorn.Server(config).run()
