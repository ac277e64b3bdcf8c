"""A real HTTP server on 127.0.0.1 in front of a fake venue, for transport-level faults.

The in-process session of :mod:`.aiohttp_transport` imitates aiohttp's failures; this
server makes real ones, for a real ccxt object whose ``urls['api']['rest']`` points at
it (see :func:`point_exchange_at`). It runs the same venue handler and turns a
:class:`~fks_exec_ccxt.testing.aiohttp_transport.TransportFault` into socket behaviour:

* ``cut_body``: the status line and a ``Content-Length`` for the whole body go out, then
  half the body, then the connection is closed.
* ``reset``: the connection is closed without an answer.
* ``read_timeout``: the answer is held back until the client gives up.
* ``refused`` / ``connect_timeout`` cannot happen on an accepted connection; use
  :func:`refusing_url` (a port nobody listens on) and :func:`blackhole` (a listener
  whose accept queue is full, so a connect hangs until the client's timeout) instead.

The server is built on aiohttp's own web server, already a ccxt dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from fks_exec_ccxt.testing.aiohttp_transport import (
    Handler,
    HttpResponse,
    TransportFault,
    parse_request,
)

__all__ = ["LoopbackServer", "blackhole", "point_exchange_at", "refusing_url"]

_HOLD_S = 30.0
"""How long a ``read_timeout`` answer is held back; clients time out well before."""


class LoopbackServer:
    """``async with LoopbackServer(handler) as server:`` serves ``handler`` on ``server.url``.

    ``requests_seen`` counts the requests whose headers and body fully arrived.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._runner: Any = None
        self._held: list[asyncio.Event] = []
        self.port = 0
        self.requests_seen = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` once started."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        from aiohttp import web

        server = web.Server(self._serve)
        self._runner = web.ServerRunner(server, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = self._runner.addresses
        self.port = int(sockets[0][1])

    async def close(self) -> None:
        """Release held answers and stop listening."""
        for event in self._held:
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve(self, raw: Any) -> Any:
        from aiohttp import web

        body = (await raw.read()).decode() or None
        request = parse_request(raw.method, str(raw.rel_url), dict(raw.headers), body)
        self.requests_seen += 1
        try:
            response = await self._handler(request)
        except TransportFault as fault:
            return await self._fail(raw, fault)
        return web.Response(status=response.status, text=response.body, headers=_plain(response))

    async def _fail(self, raw: Any, fault: TransportFault) -> Any:
        from aiohttp import web

        if fault.kind == "read_timeout":
            released = asyncio.Event()
            self._held.append(released)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(released.wait(), _HOLD_S)
        if fault.kind == "cut_body" and fault.response is not None:
            return await _cut(raw, fault.response)
        raw.transport.close()
        return web.Response(status=500)


async def _cut(raw: Any, response: HttpResponse) -> Any:
    from aiohttp import web

    payload = response.body.encode()
    stream = web.StreamResponse(status=response.status, headers=_plain(response))
    stream.content_length = len(payload)
    await stream.prepare(raw)
    await stream.write(payload[: len(payload) // 2])
    raw.transport.close()
    return stream


def _plain(response: HttpResponse) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() != "content-length"}


def point_exchange_at(exchange: Any, base_url: str) -> Any:
    """Send a ccxt exchange's REST requests to ``base_url`` (e.g. a loopback server).

    Works for exchanges whose ``urls['api']`` is a mapping of API names to base URLs
    (okx: ``{'rest': 'https://{hostname}'}``); every entry is replaced. Returns it.
    """
    api = exchange.urls["api"]
    exchange.urls["api"] = {name: base_url for name in api} if isinstance(api, dict) else base_url
    exchange.timeout_on_exit = 0
    return exchange


def refusing_url() -> str:
    """A loopback URL on a port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def blackhole() -> Iterator[str]:
    """A loopback URL where connecting hangs: the listener's accept queue is full.

    Linux drops a SYN when a listening socket's backlog is full, so the client's
    connect neither succeeds nor fails until its own timeout; nothing is ever sent.
    """
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
