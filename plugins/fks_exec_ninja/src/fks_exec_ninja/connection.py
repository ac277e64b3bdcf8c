"""The socket to NinjaTrader's AT Interface: reader task, value cache, reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable

from fks_exec.errors import BrokerUnavailable
from fks_exec_ninja.codec import (
    CONFIRM_ORDERS,
    DATA,
    VALUE,
    Decoder,
    Malformed,
    Message,
    StreamCorrupt,
    encode,
)

__all__ = ["AtiConnection"]

logger = logging.getLogger("fks_exec.plugins.ninja")

_MAX_VALUES = 200_000
_READ_BYTES = 65_536


class AtiConnection:
    """One TCP connection to NinjaTrader 8, kept open.

    A reader task decodes whatever arrives, keeps the latest value of every key
    NinjaTrader pushes, and wakes whoever waits for a key. When the connection drops
    (or the stream cannot be followed), it is opened again with capped exponential
    backoff; ``on_reconnect`` runs after each successful reconnect.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout_s: float,
        confirm_orders: bool,
        reconnect_max_s: float,
        on_reconnect: Callable[[], object] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self.confirm_orders = confirm_orders
        self.reconnect_max_s = reconnect_max_s
        self.on_reconnect = on_reconnect
        self.on_value: Callable[[str, str], None] | None = None
        """Called with every value NinjaTrader pushes (key, value), after it is stored."""
        self.values: OrderedDict[str, str] = OrderedDict()
        self.data: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.transcript: list[str] | None = None
        """When a list, every message seen or sent is appended (``fks-exec check``)."""
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._everyone: set[asyncio.Event] = set()
        self._closing = False
        self._up = asyncio.Event()
        self.connected = False
        self.connects = 0

    # ------------------------------------------------------------------ connect

    async def open(self) -> None:
        """Connect and wait for ``ATI`` to be ``True``.

        Raises ``OSError`` or ``TimeoutError`` when that does not happen in
        ``connect_timeout_s``.
        """
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.connect_timeout_s
        )
        self.values.pop("ATI", None)
        self._writer = writer
        self.connected = True
        self._up.set()
        self.connects += 1
        self._reader_task = asyncio.create_task(self._read(reader), name="fks-exec-ninja-reader")
        await self.send(CONFIRM_ORDERS, "1" if self.confirm_orders else "0")
        try:
            await self.wait_for(
                lambda v: v.get("ATI", "").lower() == "true", self.connect_timeout_s, ["ATI"]
            )
        except asyncio.TimeoutError:
            await self._drop()
            raise

    async def close(self) -> None:
        """Stop reconnecting, stop the reader and close the socket."""
        self._closing = True
        for task in (self._reconnect_task, self._reader_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self._drop()

    async def _drop(self) -> None:
        self.connected = False
        self._up.clear()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        for event in self._everyone:  # waiters learn that the connection is gone
            event.set()

    # ------------------------------------------------------------------ I/O

    async def send(self, kind: str, *fields: str) -> None:
        """Write one message. Raises :class:`BrokerUnavailable` when not connected,
        ``ConnectionError`` when the write fails (the bytes may have left)."""
        writer = self._writer
        if writer is None or not self.connected:
            raise BrokerUnavailable(
                f"not connected to NinjaTrader at {self.host}:{self.port}; reconnecting"
            )
        if self.transcript is not None:
            self.transcript.append(f">> {kind} {' | '.join(fields)}")
        writer.write(encode(kind, *fields))
        await writer.drain()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        decoder = Decoder()
        try:
            while True:
                chunk = await reader.read(_READ_BYTES)
                if not chunk:
                    logger.warning("NinjaTrader closed the connection")
                    break
                messages = decoder.feed(chunk)
                if messages:
                    await self._apply(messages)
        except StreamCorrupt as exc:
            logger.warning("dropping the NinjaTrader connection: %s", exc)
        except (OSError, asyncio.IncompleteReadError) as exc:
            logger.warning("NinjaTrader connection lost: %r", exc)
        await self._drop()
        if not self._closing:
            self._reconnect_task = asyncio.create_task(
                self._reconnect(), name="fks-exec-ninja-reconnect"
            )

    async def _apply(self, messages: list[Message | Malformed]) -> None:
        for message in messages:
            if self.transcript is not None:
                self.transcript.append(f"<< {message}")
            if isinstance(message, Malformed):
                logger.warning("skipped a malformed NinjaTrader message: %s", message.reason)
            elif message.type == VALUE:
                key, value = message.fields
                self.values[key] = value
                self.values.move_to_end(key)
                if len(self.values) > _MAX_VALUES:
                    self.values.popitem(last=False)
                if self.on_value is not None:
                    self.on_value(key, value)
                for event in self._waiters.get(key, ()):
                    event.set()
            elif message.type == DATA:
                kind, instrument = message.fields[0], message.fields[1]
                self.data[(instrument, kind)] = message.fields[2:]  # type: ignore[assignment]
            else:
                logger.debug("ignored NinjaTrader message of type %s", message.type)

    async def _reconnect(self) -> None:
        delay = 0.05
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self.open()
            except (OSError, asyncio.TimeoutError) as exc:
                logger.info("reconnecting to NinjaTrader failed (%r); retry in %.2fs", exc, delay)
                delay = min(delay * 2, self.reconnect_max_s)
                continue
            logger.info("reconnected to NinjaTrader")
            if self.on_reconnect is not None:
                result = self.on_reconnect()
                if asyncio.iscoroutine(result):
                    await result
            return

    async def wait_for(
        self,
        ready: Callable[[OrderedDict[str, str]], bool],
        timeout: float,
        keys: Iterable[str],
    ) -> None:
        """Wait until ``ready(values)`` holds, re-checking when one of ``keys`` changes.

        Raises ``asyncio.TimeoutError`` after ``timeout`` seconds, and
        :class:`BrokerUnavailable` when the connection drops meanwhile.
        """
        event = asyncio.Event()
        watched = list(keys)
        for key in watched:
            self._waiters.setdefault(key, set()).add(event)
        self._everyone.add(event)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while not ready(self.values):
                if not self.connected:
                    raise BrokerUnavailable("the NinjaTrader connection dropped")
                event.clear()
                await asyncio.wait_for(event.wait(), max(0.0, deadline - loop.time()))
        finally:
            self._everyone.discard(event)
            for key in watched:
                waiting = self._waiters.get(key)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del self._waiters[key]

    async def wait_connected(self, timeout: float) -> bool:
        """Wait for a (re)connection; True when connected within ``timeout`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self.connected
