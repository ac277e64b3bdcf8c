"""The reference ATI server: NinjaTrader 8's side of the socket on loopback.

Written from the public decompilation of NinjaTrader's client DLL and the ATI help pages
only (see ``docs/plugins/ninja-reference-fake.md``); it shares no code or constant with
the ``fks_exec_ninja`` plugin. Typical use in a test::

    async with ReferenceAtiServer(ServerSettings(fill_pieces=3)) as nt:
        ...connect a client to ("127.0.0.1", nt.port)...
        await nt.wait_until(lambda: nt.order("A1") is not None)

It implements :class:`fks_exec.testing.faults.FaultInjection`. "Order request" there
means any Command message; ``order_arrivals`` counts PLACE and REVERSEPOSITION commands
by the order id as the client sent it, duplicates and invalid ones included.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any

from .book import Book
from .client import Client
from .commands import AtiCommand, CommandError, parse_command
from .orders import Order, Step
from .pushes import ati_message, market_data_values, render_step, render_writes, skipped_messages
from .records import CommandRecord, ConnectionLog
from .settings import Greeting, InvalidCommand, Repush, ServerSettings
from .wire import (
    CommandMessage,
    ConfirmOrdersMessage,
    DataMessage,
    Message,
    MessageReader,
    SubscribeMessage,
    WireError,
    value_message,
)

__all__ = ["ReferenceAtiServer"]

_PLACING = frozenset({"PLACE", "REVERSEPOSITION"})


class ReferenceAtiServer:
    """A NinjaTrader 8 ATI server on ``host``; ``port=0`` picks a free port.

    Raises ``RuntimeError`` from :attr:`port` before :meth:`start`.
    """

    def __init__(
        self, settings: ServerSettings | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._settings = settings or ServerSettings()
        self.book = Book(self._settings)
        self._host, self._port = host, port
        self._server: asyncio.base_events.Server | None = None
        self._clients: set[Client] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._latency = 0.0
        self._disconnected = False
        self._refuse_next = False
        self._lose_next: bool | None = None
        self._arrivals: Counter[str] = Counter()
        self._rng = random.Random(self._settings.value_order_seed)  # noqa: S311 (push orders, not secrets)
        self.connections = ConnectionLog()
        self.commands: list[CommandRecord] = []
        self.messages: list[tuple[int, Message]] = []
        self.confirm_orders: list[int] = []

    # -- lifecycle --------------------------------------------------------------------

    @property
    def settings(self) -> ServerSettings:
        """The settings in force."""
        return self._settings

    def configure(self, **changes: Any) -> None:
        """Change push/fill/greeting settings while running (not accounts/instruments)."""
        self._settings = self._settings.with_(**changes)
        self.book.settings = self._settings
        if "value_order_seed" in changes:
            self._rng = random.Random(self._settings.value_order_seed)  # noqa: S311 (push orders, not secrets)

    @property
    def port(self) -> int:
        """The bound TCP port; raises ``RuntimeError`` before :meth:`start`."""
        if self._server is None:
            raise RuntimeError("ReferenceAtiServer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen on loopback (or ``host``); raises ``OSError`` if the port is taken.

        After :meth:`stop`, ``start`` listens again on the same port with the same book:
        NinjaTrader's ATI going away and coming back while its orders live on.
        """
        self._server = await asyncio.start_server(self._handle, self._host, self._port)
        self._port = self.port

    async def stop(self) -> None:
        """Close every connection and stop listening; waits for its tasks to end."""
        if self._server is not None:
            self._server.close()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for client in list(self._clients):
            client.drop()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> ReferenceAtiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- FaultInjection ---------------------------------------------------------------

    def refuse_next(self) -> None:
        """Drop every connection now and refuse (accept, close) the next attempt."""
        self._refuse_next = True
        self._drop_all()

    def lose_next_answer(self, *, after_broker_acted: bool) -> None:
        """The next Command message's connection drops; the book acts only if asked."""
        self._lose_next = after_broker_acted

    def disconnect(self) -> None:
        """Drop every connection; refuse (accept, close) attempts until reconnect()."""
        self._disconnected = True
        self._drop_all()

    def reconnect(self) -> None:
        """Accept and serve connections again."""
        self._disconnected = False

    def set_latency(self, seconds: float) -> None:
        """Delay everything the server sends by ``seconds``; raises ``ValueError`` if < 0."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self._latency = seconds

    def order_arrivals(self) -> Mapping[str, int]:
        """PLACE/REVERSEPOSITION count per order id as sent (empty ids not counted)."""
        return MappingProxyType(dict(self._arrivals))

    # -- driving the market and the wire ----------------------------------------------

    def order(self, order_id: str) -> Order | None:
        """The book's order ``order_id`` (a live object: read, do not change)."""
        return self.book.orders.get(order_id)

    def position(self, account: str, instrument: str) -> int:
        """The signed position of ``account`` in ``instrument``."""
        position = self.book.positions.get((account, instrument))
        return position.quantity if position else 0

    def set_last_price(self, instrument: str, price: Decimal) -> None:
        """Move the market; fills what it reaches; pushes quotes to subscribers."""
        steps = self.book.set_last(instrument, price)
        self._send_steps(steps, origin=None)
        quotes = market_data_values(instrument, self.book.quotes(instrument))
        for client in self._ready():
            if instrument in client.subscriptions:
                client.send(quotes, self._now() + self._latency)

    def push_value(self, key: str, value: str) -> None:
        """Send one Value message to every client that got ``ATI``."""
        for client in self._ready():
            client.send(value_message(key, value), self._now() + self._latency)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are to every connected client (greeted or not)."""
        for client in self._clients:
            client.send(data, self._now() + self._latency)

    def set_ati(self, up: bool) -> None:
        """Push ``ATI`` = ``True``/``False`` (False: inferred, AT Interface turned off)."""
        for client in self._ready():
            client.send(ati_message(up), self._now() + self._latency)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll ``predicate`` until true; raises ``TimeoutError`` after ``timeout`` s."""

        async def poll() -> None:
            while not predicate():  # noqa: ASYNC110 (any predicate: nothing to wait on)
                await asyncio.sleep(0.005)

        await asyncio.wait_for(poll(), timeout)

    async def flushed(self, timeout: float = 5.0) -> None:
        """Wait until every queued push was written; raises ``TimeoutError``."""
        await asyncio.wait_for(
            asyncio.gather(*(c.queue.join() for c in list(self._clients))), timeout
        )

    # -- connections ------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _ready(self) -> list[Client]:
        return [c for c in self._clients if c.ready and not c.dropped]

    def _drop_all(self) -> None:
        for client in list(self._clients):
            client.drop()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        record = self.connections.opened()
        outcome, client = "served", None
        try:
            greeting = self._settings.greeting
            if self._disconnected or self._refuse_next:
                self._refuse_next = False
                outcome = "refused"
            elif greeting is Greeting.CLOSE_BEFORE_ATI:
                outcome = "closed_before_ati"
            else:
                client = Client(record.number, writer, self._settings.write_per_field)
                self._clients.add(client)
                if greeting is Greeting.ATI:
                    self._greet(client)
                else:
                    outcome = "withheld"
                outcome = await self._read_loop(client, reader) or outcome
        except (ConnectionError, OSError):
            outcome = "reset"
        finally:
            if client is not None:
                self._clients.discard(client)
                client.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                    await client.task
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self.connections.closed(record, outcome)
            self._handlers.discard(task)

    async def _read_loop(self, client: Client, reader: asyncio.StreamReader) -> str:
        parser = MessageReader()
        while not client.dropped:
            data = await reader.read(65536)
            if not data:
                break
            try:
                for message in parser.feed(data):
                    self._on_message(client, message)
                    if client.dropped:
                        break
            except WireError:
                return "wire_error"
        return ""

    def _greet(self, client: Client) -> None:
        settings = self._settings
        at = self._now() + self._latency + settings.greeting_delay_s
        client.ready = True
        client.send(ati_message(), at)
        if settings.unknown_messages:
            client.send(skipped_messages(settings), at)
        if settings.push_account_values_on_connect:
            client.send(render_step(self.book.account_snapshot(), settings), at)
        if settings.repush is Repush.ALL:
            self._send_writes([client], [self.book.order_snapshot()], at)
        elif settings.repush is Repush.DELAYED:
            timer = asyncio.get_running_loop().call_later(
                at - self._now() + settings.repush_delay_s, self._repush, client
            )
            self._timers.add(timer)

    def _repush(self, client: Client) -> None:
        if client in self._clients:
            self._send_writes([client], [self.book.order_snapshot()], self._now())

    # -- messages ---------------------------------------------------------------------

    def _on_message(self, client: Client, message: Message) -> None:
        self.messages.append((client.number, message))
        if isinstance(message, CommandMessage):
            self._on_command(client, message.text)
        elif isinstance(message, ConfirmOrdersMessage):
            self.confirm_orders.append(message.confirm)
        elif isinstance(message, SubscribeMessage) and client.ready:
            self._on_subscribe(client, message)
        elif (
            isinstance(message, DataMessage)
            and client.ready
            and message.data_type == 2  # Client.Last: an external feed's last price
            and message.instrument in self.book.last
        ):
            self.set_last_price(message.instrument, Decimal(repr(message.price)))

    def _on_subscribe(self, client: Client, message: SubscribeMessage) -> None:
        instrument = message.instrument
        if not message.subscribe:
            client.subscriptions.discard(instrument)
        elif instrument in self.book.last:  # unknown instruments: nothing (inferred)
            client.subscriptions.add(instrument)
            quotes = market_data_values(instrument, self.book.quotes(instrument))
            client.send(quotes, self._now() + self._latency)

    def _on_command(self, client: Client, text: str) -> None:
        def record(outcome: str, error: str = "") -> None:
            self.commands.append(CommandRecord(client.number, text, cmd, outcome, error))

        cmd: AtiCommand | None = None
        parse_error: CommandError | None = None
        try:
            cmd = parse_command(text)
        except CommandError as exc:
            parse_error = exc
        if not client.ready:
            record("withheld")
            return
        lose, self._lose_next = self._lose_next, None
        if lose is False:
            record("lost")
            client.drop()
            return
        if cmd is not None and cmd.command in _PLACING and cmd.order_id:
            self._arrivals[cmd.order_id] += 1
        steps, outcome, error = self._act(cmd, parse_error)
        if lose:
            outcome = "lost_after_acted"
            client.drop()
        record(outcome, error)
        self._send_steps(steps, origin=client)

    def _act(
        self, cmd: AtiCommand | None, parse_error: CommandError | None
    ) -> tuple[list[Step], str, str]:
        try:
            if cmd is None:
                raise parse_error or CommandError("no command")
            return self.book.handle(cmd), "done", ""
        except CommandError as exc:
            if cmd is None:
                return [], "ignored", str(exc)
            placing = cmd.command in _PLACING
            if placing and self._settings.invalid_command is InvalidCommand.REJECT:
                account = cmd.account or self._settings.default_account
                steps = self.book.reject(cmd.order_id, account, cmd.instrument)
                return steps, "rejected" if steps else "ignored", str(exc)
            return [], "ignored", str(exc)

    def _send_steps(self, steps: list[Step], origin: Client | None) -> None:
        targets = self._ready()
        if origin is not None and not self._settings.broadcast:
            targets = [c for c in targets if c is origin]
        self._send_writes(targets, steps, self._now() + self._latency)

    def _send_writes(self, targets: list[Client], steps: list[Step], start: float) -> None:
        """Queue the writes of one operation's ``steps`` for ``targets``, from
        ``start`` on (``render_writes``: their order and delays)."""
        for delay, data in render_writes(steps, self._settings, self._rng):
            for client in targets:
                client.send(data, start + delay)
