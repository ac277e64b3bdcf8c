"""One TCP connection to NinjaTrader as an asyncio protocol: each read's bytes handed on
as they arrive, writes with flow control.

There is no ``StreamReader`` and no reader task: the event loop calls
:meth:`AtiSocket.data_received` in the same pass that ``epoll`` reported the socket
readable, so a pushed value reaches the order waiting on it without a task wake-up in
between (a stream and a reader task cost one loop pass and a task step per read).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fks_exec_ninja.codec import Decoder

__all__ = ["AtiSocket"]

logger = logging.getLogger("fks_exec.plugins.ninja")


class AtiSocket(asyncio.Protocol):
    """The protocol of one connection; also what the connection writes through.

    ``on_data(socket, chunk)`` gets every read while the socket is not :attr:`ended`;
    ``on_end(socket)`` runs once, when the connection ends (the peer closed it, it
    failed, or :meth:`end` was called first). :attr:`closed` is done once the transport
    is gone. Writing: :meth:`write`, :meth:`drain` (waits while the transport's buffer
    is over its high-water mark; raises ``ConnectionResetError`` once the connection is
    lost), :meth:`close`, :meth:`wait_closed`.
    """

    def __init__(
        self,
        on_data: Callable[[AtiSocket, bytes], None],
        on_end: Callable[[AtiSocket], None],
        on_made: Callable[[AtiSocket], None],
    ) -> None:
        self._on_data, self._on_end, self._on_made = on_data, on_end, on_made
        self.decoder = Decoder()
        """Decodes this connection's bytes (a new one per connection)."""
        self.transport: asyncio.Transport  # set when connected, before any other call
        self.ended = False
        """The connection ended: no more reads are handed on."""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._paused = False
        self._drains: list[asyncio.Future[None]] = []

    # ------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._on_made(self)

    def data_received(self, data: bytes) -> None:
        if not self.ended:
            self._on_data(self, data)

    def eof_received(self) -> bool:
        if not self.ended:
            logger.warning("NinjaTrader closed the connection")
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.ended:
            logger.warning("NinjaTrader connection lost: %r", exc)
        self.end()
        for waiter in self._drains:
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("the NinjaTrader connection was lost"))
                waiter.exception()  # retrieved: its drain may have been cancelled
        self._drains.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        for waiter in self._drains:
            if not waiter.done():
                waiter.set_result(None)
        self._drains.clear()

    # ------------------------------------------------------------ ending and writing

    def end(self) -> None:
        """Stop handing reads on and report the end (once); the transport is left to
        :meth:`close`."""
        if not self.ended:
            self.ended = True
            self._on_end(self)

    def write(self, data: bytes) -> None:
        """Buffer ``data`` for the socket (asyncio writes what it can at once)."""
        self.transport.write(data)

    def is_closing(self) -> bool:
        """The transport is closing or closed: nothing more can be written."""
        return self.transport.is_closing()

    async def drain(self) -> None:
        """Wait until the transport's buffer is below its high-water mark. Raises
        ``ConnectionResetError`` when the connection is lost."""
        if self.closed.done():
            raise ConnectionResetError("the NinjaTrader connection was lost")
        if self._paused:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._drains.append(waiter)
            await waiter

    def close(self) -> None:
        """Close the transport once its buffered bytes are written."""
        self.transport.close()

    async def wait_closed(self) -> None:
        """Wait until the transport is gone (cancelling this leaves :attr:`closed`)."""
        await asyncio.shield(self.closed)
