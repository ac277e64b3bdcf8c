"""A fake NinjaTrader 8 AT Interface: an asyncio TCP server speaking the ATI protocol.

It behaves like NinjaTrader as far as the protocol shows: ``ATI`` = ``True`` once a
client connects, ``PLACE`` pushes the order lifecycle as values (Submitted, Accepted,
Working, then Filled with ``Filled|id`` and ``AvgFillPrice|id``), unknown accounts and
instruments are rejected, limit and stop orders wait for prices set by the test, OCO
siblings cancel each other, positions and account values are pushed, and market data
flows after ``Subscribe``. Faults: drop the connection (before or after handling a
``PLACE``), delay answers, send garbage, never say ``ATI``, split every frame into
single bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec_ninja.codec import (
    COMMAND,
    CONFIRM_ORDERS,
    SUBSCRIBE,
    VALUE,
    Decoder,
    StreamCorrupt,
    encode,
)

__all__ = ["FakeNinjaTrader", "NtOrder"]


@dataclass
class NtOrder:
    """An order as the fake NinjaTrader holds it."""

    order_id: str
    account: str
    instrument: str
    action: str
    quantity: int
    kind: str
    limit: Decimal | None
    stop: Decimal | None
    tif: str
    oco: str
    state: str = "Initialized"
    filled: int = 0
    average: Decimal | None = None
    triggered: bool = False

    @property
    def working(self) -> bool:
        """Still able to fill."""
        return self.state in ("Accepted", "Working", "TriggerPending")


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    subscriptions: set[str] = field(default_factory=set)
    confirm_orders: str | None = None


class FakeNinjaTrader:
    """The server. ``async with FakeNinjaTrader() as nt:`` listens on 127.0.0.1:``nt.port``."""

    def __init__(
        self,
        *,
        accounts: tuple[str, ...] = ("Sim101",),
        prices: dict[str, tuple[str, str]] | None = None,
        cash: str = "100000",
    ) -> None:
        self.accounts = set(accounts)
        self.quotes: dict[str, tuple[Decimal, Decimal]] = {
            k: (Decimal(b), Decimal(a))
            for k, (b, a) in (
                prices or {"ES 12-25": ("5000.00", "5000.25"), "NQ 12-25": ("17500.00", "17500.25")}
            ).items()
        }
        self.cash = {a: Decimal(cash) for a in self.accounts}
        self.orders: dict[str, NtOrder] = {}
        self.positions: dict[tuple[str, str], tuple[int, Decimal]] = {}
        self.commands: list[str] = []
        """Every command line received, in order."""
        self.port = 0
        self.ati_ready = True
        self.delay_s = 0.0
        self.split_bytes = False
        self._drop_on_place: str | None = None  # "before" | "after"
        self._clients: list[_Client] = []
        self._server: asyncio.base_events.Server | None = None
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeNinjaTrader:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (``port`` 0 picks a free one, see :attr:`port`)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Disconnect every client and stop listening."""
        await self.drop_clients()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # ------------------------------------------------------------------ test controls

    async def set_price(self, instrument: str, bid: str, ask: str) -> None:
        """Quote ``instrument``; working orders the quote reaches fill; subscribers hear it."""
        self.quotes[instrument] = (Decimal(bid), Decimal(ask))
        await self._push_quotes(instrument)
        for order in [o for o in self.orders.values() if o.instrument == instrument and o.working]:
            await self._try_fill(order)

    def drop_on_next_place(self, when: str) -> None:
        """Drop the connection on the next PLACE: ``before`` handling it, or ``after``."""
        self._drop_on_place = when

    async def drop_clients(self) -> None:
        """Close every client connection now."""
        for client in list(self._clients):
            client.writer.close()
            with contextlib.suppress(Exception):
                await client.writer.wait_closed()
        self._clients.clear()

    async def send_garbage(self, data: bytes) -> None:
        """Write raw bytes to every client."""
        for client in self._clients:
            client.writer.write(data)
            await client.writer.drain()

    @property
    def clients(self) -> int:
        """Connected clients."""
        return len(self._clients)

    # ------------------------------------------------------------------ protocol

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.append(client)
        decoder = Decoder()
        try:
            if self.ati_ready:
                await self._push(client, ("ATI", "True"))
                await self._push_account_snapshot(client)
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                for message in decoder.feed(chunk):
                    if hasattr(message, "fields"):
                        await self._handle(client, message.type, message.fields)
        except (StreamCorrupt, ConnectionError, OSError):
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    async def _handle(self, client: _Client, kind: str, fields: tuple[str, ...]) -> None:
        if kind == CONFIRM_ORDERS:
            client.confirm_orders = fields[0]
        elif kind == SUBSCRIBE:
            instrument, on = fields
            if on == "1":
                client.subscriptions.add(instrument)
                await self._push_quotes(instrument, only=client)
            else:
                client.subscriptions.discard(instrument)
        elif kind == COMMAND:
            await self._command(fields[0])

    async def _command(self, line: str) -> None:
        self.commands.append(line)
        parts = (line.split(";") + [""] * 13)[:13]
        verb = parts[0].upper()
        if verb == "PLACE":
            if self._drop_on_place == "before":
                self._drop_on_place = None
                await self.drop_clients()
                return
            await self._place(parts)
            if self._drop_on_place == "after":
                self._drop_on_place = None
                await self.drop_clients()
        elif verb == "CANCEL":
            order = self.orders.get(parts[10])
            if order is not None and order.working:
                await self._set_state(order, "CancelPending")
                await self._set_state(order, "Cancelled")
        elif verb == "CANCELALLORDERS":
            for order in list(self.orders.values()):
                if order.working:
                    await self._set_state(order, "Cancelled")
        elif verb == "CLOSEPOSITION":
            await self._flatten(parts[1], parts[2])
        elif verb == "FLATTENEVERYTHING":
            for account, instrument in list(self.positions):
                await self._flatten(account, instrument)

    async def _place(self, p: list[str]) -> None:
        _, account, instrument, action, qty, kind, limit, stop, tif, oco, order_id, _, _ = p
        order_id = order_id or f"NT{next(self._ids)}"
        try:
            quantity = int(qty)
        except ValueError:
            quantity = 0
        order = NtOrder(
            order_id,
            account,
            instrument,
            action.upper(),
            quantity,
            kind.upper(),
            Decimal(limit) if limit and Decimal(limit) else None,  # the DLL sends 0 if unused
            Decimal(stop) if stop and Decimal(stop) else None,
            tif.upper() or "DAY",
            oco,
        )
        self.orders[order_id] = order
        await self._push_all((f"Orders|{account}", self._order_list(account)))
        await self._set_state(order, "Submitted")
        valid = (
            account in self.accounts
            and instrument in self.quotes
            and quantity > 0
            and order.action in ("BUY", "SELL")
            and order.kind in ("MARKET", "LIMIT", "STOPMARKET", "STOPLIMIT")
            and (order.limit is not None) == (order.kind in ("LIMIT", "STOPLIMIT"))
            and (order.stop is not None) == (order.kind in ("STOPMARKET", "STOPLIMIT"))
        )
        if not valid:
            await self._set_state(order, "Rejected")
            return
        await self._set_state(order, "Accepted")
        await self._set_state(order, "TriggerPending" if order.stop is not None else "Working")
        await self._try_fill(order)

    async def _try_fill(self, order: NtOrder) -> None:
        bid, ask = self.quotes[order.instrument]
        buy = order.action == "BUY"
        touch = ask if buy else bid
        if order.stop is not None and not order.triggered:
            if not (touch >= order.stop if buy else touch <= order.stop):
                return
            order.triggered = True
            await self._set_state(order, "Working")
        if order.limit is not None and not (touch <= order.limit if buy else touch >= order.limit):
            return
        price = (
            touch
            if order.limit is None
            else (min(touch, order.limit) if buy else max(touch, order.limit))
        )
        await self._fill(order, price)

    async def _fill(self, order: NtOrder, price: Decimal) -> None:
        order.filled, order.average = order.quantity, price
        await self._push_all(
            ("Filled|" + order.order_id, str(order.filled)),
            ("AvgFillPrice|" + order.order_id, str(price)),
        )
        await self._set_state(order, "Filled")
        signed = order.quantity if order.action == "BUY" else -order.quantity
        key = (order.account, order.instrument)
        held, average = self.positions.get(key, (0, Decimal(0)))
        total = held + signed
        if held == 0 or (held > 0) == (signed > 0):
            average = (abs(held) * average + abs(signed) * price) / abs(total)
        elif total and (total > 0) != (held > 0):
            average = price
        self.positions[key] = (total, average if total else Decimal(0))
        await self._push_position(order.account, order.instrument)
        if order.oco:
            for other in self.orders.values():
                if other is not order and other.oco == order.oco and other.working:
                    await self._set_state(other, "Cancelled")

    async def _flatten(self, account: str, instrument: str) -> None:
        held, _ = self.positions.get((account, instrument), (0, Decimal(0)))
        if held:
            order = NtOrder(
                f"NT{next(self._ids)}",
                account,
                instrument,
                "SELL" if held > 0 else "BUY",
                abs(held),
                "MARKET",
                None,
                None,
                "DAY",
                "",
            )
            self.orders[order.order_id] = order
            await self._set_state(order, "Accepted")
            bid, ask = self.quotes[instrument]
            await self._fill(order, bid if held > 0 else ask)

    # ------------------------------------------------------------------ pushing values

    async def _set_state(self, order: NtOrder, state: str) -> None:
        order.state = state
        await self._push_all(("OrderStatus|" + order.order_id, state))

    async def _push_position(self, account: str, instrument: str) -> None:
        held, average = self.positions.get((account, instrument), (0, Decimal(0)))
        await self._push_all(
            (f"MarketPosition|{instrument}|{account}", str(held)),
            (f"AvgEntryPrice|{instrument}|{account}", str(average)),
            (f"CashValue|{account}", str(self.cash[account])),
        )

    async def _push_account_snapshot(self, client: _Client) -> None:
        pairs = [(f"BuyingPower|{a}", str(self.cash[a] * 4)) for a in sorted(self.accounts)]
        pairs += [(f"CashValue|{a}", str(self.cash[a])) for a in sorted(self.accounts)]
        pairs += [(f"Orders|{a}", self._order_list(a)) for a in sorted(self.accounts)]
        for order in self.orders.values():  # so a reconnected client can reconcile
            pairs.append(("OrderStatus|" + order.order_id, order.state))
            if order.filled:
                pairs += [
                    ("Filled|" + order.order_id, str(order.filled)),
                    ("AvgFillPrice|" + order.order_id, str(order.average)),
                ]
        for (account, instrument), (held, average) in self.positions.items():
            pairs += [
                (f"MarketPosition|{instrument}|{account}", str(held)),
                (f"AvgEntryPrice|{instrument}|{account}", str(average)),
            ]
        await self._push(client, *pairs)

    def _order_list(self, account: str) -> str:
        return "|".join(o.order_id for o in self.orders.values() if o.account == account)

    async def _push_quotes(self, instrument: str, only: _Client | None = None) -> None:
        if instrument not in self.quotes:
            return
        bid, ask = self.quotes[instrument]
        pairs = [
            (f"MarketData|{instrument}|0", str(ask)),
            (f"MarketData|{instrument}|1", str(bid)),
            (f"MarketData|{instrument}|2", str((bid + ask) / 2)),
        ]
        for client in [only] if only else list(self._clients):
            if instrument in client.subscriptions:
                await self._push(client, *pairs)

    async def _push_all(self, *pairs: tuple[str, str]) -> None:
        for client in list(self._clients):
            await self._push(client, *pairs)

    async def _push(self, client: _Client, *pairs: tuple[str, str]) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        data = b"".join(encode(VALUE, key, value) for key, value in pairs)
        try:
            if self.split_bytes:
                for i in range(len(data)):
                    client.writer.write(data[i : i + 1])
                    await client.writer.drain()
            else:
                client.writer.write(data)
                await client.writer.drain()
        except (ConnectionError, OSError):
            if client in self._clients:
                self._clients.remove(client)
