"""One connected client of the reference server: an ordered outgoing queue written by
its own task, a whole update per write or (``write_per_field``) each field on its own,
as NinjaTrader's client DLL writes (``Server/AtiSocket.cs``, ``Send``: one
``socket.Send`` per field)."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Client"]


class Client:
    """One connected socket: an ordered outgoing queue written by its own task."""

    def __init__(self, number: int, writer: asyncio.StreamWriter, per_field: bool = False) -> None:
        self.number = number
        self.writer = writer
        self.per_field = per_field
        self.ready = False
        self.dropped = False
        self.subscriptions: set[str] = set()
        self.queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._pump())

    def send(self, data: bytes, not_before: float) -> None:
        if data and not self.dropped:
            self.queue.put_nowait((not_before, data))

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                not_before, data = await self.queue.get()
                delay = not_before - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.per_field:  # DLL AtiSocket.Send: one socket.Send per field
                    for end in _field_ends(data):
                        self.writer.write(data[:end])
                        data = data[end:]
                        await self.writer.drain()
                        await asyncio.sleep(0)  # a loop turn: the reader may read it alone
                else:
                    self.writer.write(data)
                    await self.writer.drain()
                self.queue.task_done()

    def drop(self) -> None:
        self.dropped = True
        self.writer.close()


def _field_ends(data: bytes) -> list[int]:
    """Where each NUL-terminated field of ``data`` ends, counted from the previous one."""
    ends, start = [], 0
    while (stop := data.find(b"\0", start)) >= 0:
        ends.append(stop + 1 - start)
        start = stop + 1
    if start < len(data):
        ends.append(len(data) - start)
    return ends
