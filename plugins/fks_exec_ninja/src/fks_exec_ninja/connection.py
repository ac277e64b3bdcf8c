"""The socket to NinjaTrader's AT Interface: its reads, one reconnect loop, the value cache."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator

from fks_exec.errors import BrokerUnavailable
from fks_exec.kit import Backoff
from fks_exec_ninja.ati_socket import AtiSocket
from fks_exec_ninja.codec import (
    COMMAND,
    CONFIRM_ORDERS,
    VALUE,
    Message,
    StreamCorrupt,
    encode,
)

__all__ = ["AtiConnection", "ConnectionLost"]

logger = logging.getLogger("fks_exec.plugins.ninja")

_TimeoutError = asyncio.TimeoutError  # not the builtin TimeoutError on Python 3.10
_ORDER_VALUE_PREFIXES = ("OrderStatus|", "Filled|", "AvgFillPrice|")
_HIGH_WATER = 262_144  # bytes buffered for writing before a send waits for the socket
_CLOSE_WAIT_S = 1.0  # how long closing waits for buffered bytes to leave before dropping them


class ConnectionLost(ConnectionError):
    """The connection closed before NinjaTrader said ``ATI`` = ``True``."""


class AtiConnection:
    """One TCP connection to NinjaTrader 8, kept open by one reconnect loop.

    :meth:`open` connects once and waits for ``ATI`` = ``True``; when that fails it
    raises and leaves no task, socket or timer behind. After it succeeds every read of
    the socket (handed over by the event loop as it arrives, :class:`AtiSocket`) keeps
    the latest value of every key NinjaTrader pushes (cleared at each new
    connection, so no value survives from an earlier one; at most ``max_values``, the
    oldest order values forgotten first) and calls :attr:`on_value`.
    When the connection drops, a single supervisor task opens it again, one attempt at a
    time, pausing with capped, jittered exponential backoff; the pauses start again from
    the shortest only after a connection that stayed up ``reconnect_max_s``.
    :meth:`close` ends all of it.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout_s: float,
        confirm_orders: bool | None,
        reconnect_max_s: float,
        reconnect_min_s: float = 0.1,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
        max_values: int,
    ) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self.confirm_orders = confirm_orders
        self.reconnect_max_s = reconnect_max_s
        self.reconnect_min_s = min(reconnect_min_s, reconnect_max_s)
        self.on_reconnect = on_reconnect
        self.on_values: Callable[[list[str], list[str]], None] | None = None
        """Called once per read with the keys and the values NinjaTrader pushed in it,
        in the order they came (``keys[i]`` = ``values[i]``), after all are stored."""
        self.on_lost: Callable[[], None] | None = None
        """Called when a connection that was up drops."""
        self.values: dict[str, str] = {}
        self.transcript: list[str] | None = None
        """When a list, every message seen or sent is appended (``fks-exec check``)."""
        self.connected = False
        self.connects = 0
        """Connections that reached ``ATI`` = ``True``."""
        self.attempts = 0
        """Connection attempts, successful or not."""
        self._max_values = max_values
        self._order_keys: deque[str] = deque()  # order value keys, oldest first
        self._writer: AtiSocket | None = None  # the current connection's socket
        self._gathered: list[bytes] | None = None  # bytes to write at the end of this pass
        self._supervisor: asyncio.Task[None] | None = None
        self._ati: asyncio.Future[None] | None = None
        self._up = asyncio.Event()
        self._up_since = 0.0
        self._closing = False

    @property
    def up_for(self) -> float:
        """Seconds since the current connection reached ``ATI`` = ``True`` (0 when down)."""
        if not self.connected:
            return 0.0
        return asyncio.get_running_loop().time() - self._up_since

    @property
    def ati_up(self) -> bool:
        """Connected, and the latest ``ATI`` value is ``True``."""
        return self.connected and self.values.get("ATI", "").lower() == "true"

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Connect and wait for ``ATI`` = ``True``, then keep the connection up.

        Raises ``OSError``, ``ConnectionError`` or ``TimeoutError`` when that does not
        happen in ``connect_timeout_s``; nothing is left running then.
        """
        if self._closing or self._supervisor is not None:
            raise RuntimeError("AtiConnection.open() runs once, before close()")
        await self._connect_once()
        self._supervisor = asyncio.create_task(self._supervise(), name="fks-exec-ninja-supervisor")

    async def close(self) -> None:
        """Stop reconnecting, stop reading and close the socket. Never raises."""
        self._closing = True
        task = self._supervisor
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._drop_socket()

    async def wait_connected(self, timeout: float) -> bool:
        """Wait for a (re)connection; True when connected within ``timeout`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self.connected

    async def _connect_once(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        self.attempts += 1
        self._ati = ati = loop.create_future()
        try:
            await asyncio.wait_for(
                loop.create_connection(self._new_socket, self.host, self.port),
                self.connect_timeout_s,
            )
            if self.confirm_orders is not None:
                self._write(CONFIRM_ORDERS, "1" if self.confirm_orders else "0")
            await asyncio.wait_for(asyncio.shield(ati), max(0.0, deadline - loop.time()))
        except BaseException:
            await self._drop_socket()
            raise
        self.connected = True
        self.connects += 1
        self._up_since = loop.time()
        self._up.set()

    def _new_socket(self) -> AtiSocket:
        return AtiSocket(self._received, self._ended, self._made)

    def _made(self, sock: AtiSocket) -> None:
        """A TCP connection is up (before any of its bytes are read)."""
        self.values.clear()  # nothing from an earlier connection is current
        self._order_keys.clear()
        self._gathered = None  # never written to a new connection
        self._writer = sock

    async def _drop_socket(self) -> None:
        self._flush()
        writer = self._writer
        if writer is not None:
            writer.end()
        self.connected = False
        self._up.clear()
        self._writer = None
        if writer is not None:
            writer.close()
            try:  # a peer that stopped reading would keep unsent bytes waiting forever
                await asyncio.wait_for(writer.wait_closed(), _CLOSE_WAIT_S)
            except _TimeoutError:
                writer.transport.abort()
            except Exception as exc:  # closing never raises
                logger.debug("closing the NinjaTrader socket: %r", exc)

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = Backoff(self.reconnect_min_s, self.reconnect_max_s)
        while not self._closing:
            sock = self._writer
            if sock is not None:
                await asyncio.wait([sock.closed])
            await self._drop_socket()
            if loop.time() - self._up_since >= self.reconnect_max_s:
                backoff.reset()
            while not self._closing:
                delay = backoff.next_delay()
                await asyncio.sleep(delay)
                try:
                    await self._connect_once()
                except (OSError, _TimeoutError) as exc:
                    logger.info("reconnecting to NinjaTrader failed (%r)", exc)
                    continue
                logger.info("reconnected to NinjaTrader")
                break
            if self.on_reconnect is not None and self.connected:
                try:
                    await self.on_reconnect()
                except (BrokerUnavailable, ConnectionError) as exc:
                    logger.warning("after reconnecting: %r", exc)

    # ------------------------------------------------------------------ I/O

    def _write(self, kind: str, *fields: str) -> None:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise BrokerUnavailable(
                f"not connected to NinjaTrader at {self.host}:{self.port}; reconnecting"
            )
        data = encode(kind, *fields)
        if self.transcript is not None:
            self.transcript.append(f">> {kind} {' | '.join(fields)}")
        gathered = self._gathered
        if gathered is not None:  # after the bytes gathered in this pass: order kept
            gathered.append(data)
        else:
            writer.write(data)

    def _flush(self) -> None:
        """Write the gathered bytes, in one write (dropped when the socket is gone: the
        waits of their orders learn it from :attr:`on_lost`)."""
        gathered, self._gathered = self._gathered, None
        writer = self._writer
        if gathered and writer is not None and not writer.is_closing():
            writer.write(b"".join(gathered))

    def send_now(self, kind: str, *fields: str) -> None:
        """Write one message without waiting. Raises :class:`BrokerUnavailable` when not
        connected (nothing was written) and ``ValueError`` for a field ATI cannot carry."""
        if not self.connected:
            raise BrokerUnavailable(
                f"not connected to NinjaTrader at {self.host}:{self.port}; reconnecting"
            )
        self._write(kind, *fields)

    def send_command(self, line: str, *, gather: bool = False) -> None:
        """Write one Command message carrying the ATI command ``line``, as
        :meth:`send_now` does; with ``gather`` (other orders are waiting) it goes out
        with every other message written in this loop pass, in one write at its end.
        Raises what :meth:`send_now` raises."""
        writer = self._writer
        if not self.connected or writer is None or writer.transport.is_closing():
            raise BrokerUnavailable(
                f"not connected to NinjaTrader at {self.host}:{self.port}; reconnecting"
            )
        if not line.isascii() or "\x00" in line:
            encode(COMMAND, line)  # raises the ValueError naming the field
        if self.transcript is not None:
            self.transcript.append(f">> {COMMAND} {line}")
        data = b"0\x00" + line.encode("ascii") + b"\x00"
        gathered = self._gathered
        if gathered is not None:  # bytes already gathered: their order is kept
            gathered.append(data)
        elif gather:
            self._gathered = [data]
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            writer.write(data)

    async def send(self, kind: str, *fields: str) -> None:
        """Write one message, waiting for the socket only when much is buffered.

        Raises what :meth:`send_now` raises, and ``ConnectionError`` when the socket
        fails while waiting (the bytes may have left).
        """
        self.send_now(kind, *fields)
        writer = self._writer
        if writer is not None and writer.transport.get_write_buffer_size() > _HIGH_WATER:
            await writer.drain()

    def _received(self, sock: AtiSocket, chunk: bytes) -> None:
        """One read of ``sock``: its values stored and reported, in the same loop pass."""
        if self.transcript is None:
            fields = sock.decoder.feed_values(chunk)
            if fields is not None:  # only Value messages: no Message objects made
                self._store(fields[1::3], fields[2::3])
                return
        try:
            messages = sock.decoder.feed(chunk)
        except StreamCorrupt as exc:
            self._apply(exc.messages)
            logger.warning("dropping the NinjaTrader connection: %s", exc)
            sock.end()
            sock.close()
            return
        self._apply(messages)

    def _ended(self, sock: AtiSocket) -> None:
        """``sock``'s connection ended (once per socket): waits on it learn it."""
        if sock is not self._writer:
            return  # an earlier connection's socket, already dropped
        ati = self._ati
        if ati is not None and not ati.done():
            ati.set_exception(ConnectionLost("NinjaTrader closed before ATI = True"))
            ati.exception()  # retrieved: nobody may be waiting any more
        was_up, self.connected = self.connected, False
        self._up.clear()
        if was_up and self.on_lost is not None:
            self.on_lost()

    def _evict(self) -> None:
        """Forget the oldest order value (``OrderStatus``/``Filled``/``AvgFillPrice``);
        ``ATI``, the account's order list, positions and quotes are kept, unless
        nothing else is left (a peer flooding other keys)."""
        values, order_keys = self.values, self._order_keys
        while order_keys:
            if values.pop(order_keys.popleft(), None) is not None:
                return
        del values[next(iter(values))]

    def _apply(self, messages: list[Message]) -> None:
        pairs = list(_value_fields(messages, self.transcript))
        self._store([key for key, _ in pairs], [value for _, value in pairs])

    def _store(self, keys: list[str], texts: list[str]) -> None:
        """Store the values of one read (``keys[i]`` = ``texts[i]``), then report them."""
        values, limit, order_keys = self.values, self._max_values, self._order_keys
        for key, value in zip(keys, texts, strict=True):
            if key not in values:
                if len(values) >= limit:
                    self._evict()
                if key.startswith(_ORDER_VALUE_PREFIXES):
                    order_keys.append(key)
            values[key] = value
        ati = self._ati
        if ati is not None and not ati.done() and "ATI" in values:
            for key, value in zip(keys, texts, strict=True):
                if key == "ATI" and value.lower() == "true":
                    ati.set_result(None)
                    break
        if self.on_values is not None:
            self.on_values(keys, texts)


def _value_fields(
    messages: list[Message], transcript: list[str] | None
) -> Iterator[tuple[str, str]]:
    """The (key, value) of each Value message, each message added to ``transcript`` as
    it is reached (Data and ConfirmOrders echoes are skipped: the DLL's client ignores
    them too)."""
    for message in messages:
        if transcript is not None:
            transcript.append(f"<< {message}")
        if message.type == VALUE:
            key, value = message.fields
            yield key, value
