"""The connection's asyncio protocol (fks_exec_ninja.ati_socket): reads handed on as
they come until the end, the end reported once, writes waiting on flow control and
failing once the connection is lost. Over loopback, each test bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest

from fks_exec_ninja.ati_socket import AtiSocket

from .test_connection import until

WAIT = 5.0
RECEIVED = bytearray()


class Recorded:
    """What one socket handed on: reads, ends, and whether it was made."""

    def __init__(self) -> None:
        self.reads: list[bytes] = []
        self.ends = 0
        self.made: list[AtiSocket] = []

    def socket(self) -> AtiSocket:
        return AtiSocket(
            lambda _s, data: self.reads.append(data),
            lambda _s: setattr(self, "ends", self.ends + 1),
            self.made.append,
        )


@contextlib.asynccontextmanager
async def connected() -> AsyncIterator[tuple[Recorded, AtiSocket, list[asyncio.StreamWriter]]]:
    """An AtiSocket connected to a loopback server, which adds what it reads to
    :data:`RECEIVED`; the server's writers are given."""
    peers: list[asyncio.StreamWriter] = []
    got = asyncio.Event()
    RECEIVED.clear()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer)
        got.set()
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                RECEIVED.extend(chunk)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen = Recorded()
    loop = asyncio.get_running_loop()
    _transport, sock = await loop.create_connection(seen.socket, "127.0.0.1", port)
    await asyncio.wait_for(got.wait(), WAIT)
    try:
        yield seen, sock, peers
    finally:
        sock.transport.abort()
        for writer in peers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_reads_are_handed_on_as_they_come_and_the_made_hook_runs_first() -> None:
    async with connected() as (seen, sock, peers):
        assert seen.made == [sock] and sock.transport is not None
        peers[0].write(b"2\x00ATI\x00True\x00")
        await until(lambda: seen.reads)
        assert b"".join(seen.reads) == b"2\x00ATI\x00True\x00"
        assert not sock.ended and not sock.is_closing() and not sock.closed.done()


async def test_nothing_is_handed_on_after_the_end_and_the_end_is_reported_once() -> None:
    async with connected() as (seen, sock, peers):
        sock.end()
        sock.end()
        assert sock.ended and seen.ends == 1
        peers[0].write(b"2\x00late\x00x\x00")
        await asyncio.sleep(0.05)
        assert seen.reads == []
        sock.close()
        await asyncio.wait_for(sock.wait_closed(), WAIT)
        assert seen.ends == 1 and sock.closed.done() and sock.is_closing()


async def test_the_peer_closing_ends_it_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    async with connected() as (seen, sock, peers):
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            peers[0].close()
            await asyncio.wait_for(sock.wait_closed(), WAIT)
        assert seen.ends == 1 and sock.ended
        assert [r.getMessage() for r in caplog.records] == ["NinjaTrader closed the connection"]


async def test_an_end_of_ours_is_not_reported_as_the_peer_closing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connected() as (seen, sock, _peers):
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            sock.end()
            sock.eof_received()  # a late EOF after our end: not news
            sock.connection_lost(ConnectionResetError("late"))
        assert caplog.records == [] and seen.ends == 1


async def test_a_failed_connection_is_logged_once_and_ends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connected() as (seen, sock, _peers):
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            sock.connection_lost(ConnectionResetError("reset by peer"))
        assert seen.ends == 1 and sock.closed.done()
        assert [r.getMessage() for r in caplog.records] == [
            "NinjaTrader connection lost: ConnectionResetError('reset by peer')"
        ]


async def test_drain_returns_at_once_unless_paused_and_waits_for_resume() -> None:
    async with connected() as (_seen, sock, _peers):
        await asyncio.wait_for(sock.drain(), WAIT)  # not paused: at once
        sock.pause_writing()
        waiting = asyncio.ensure_future(sock.drain())
        await asyncio.sleep(0.02)
        assert not waiting.done()
        sock.resume_writing()
        await asyncio.wait_for(waiting, WAIT)
        await asyncio.wait_for(sock.drain(), WAIT)  # resumed: at once again


async def test_drain_fails_once_the_connection_is_lost_also_while_waiting() -> None:
    async with connected() as (_seen, sock, _peers):
        sock.pause_writing()
        waiting = asyncio.ensure_future(sock.drain())
        await asyncio.sleep(0.02)
        sock.transport.abort()
        with pytest.raises(ConnectionResetError, match="lost"):
            await asyncio.wait_for(waiting, WAIT)
        with pytest.raises(ConnectionResetError, match="lost"):
            await sock.drain()


async def test_a_cancelled_drain_leaves_no_unretrieved_error_when_the_connection_is_lost() -> None:
    errors: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        async with connected() as (_seen, sock, _peers):
            sock.pause_writing()
            waiting = asyncio.ensure_future(sock.drain())
            await asyncio.sleep(0.02)
            waiting.cancel()
            sock.transport.abort()
            await asyncio.wait_for(sock.wait_closed(), WAIT)
            del waiting
        import gc

        gc.collect()
        await asyncio.sleep(0)
        assert errors == []
    finally:
        loop.set_exception_handler(None)


async def test_writes_reach_the_peer_also_when_closed_at_once() -> None:
    async with connected() as (_seen, sock, _peers):
        sock.write(b"0\x00PLACE\x00")
        assert not sock.is_closing()
        sock.close()  # after what was buffered is written
        assert sock.is_closing()
        await asyncio.wait_for(sock.wait_closed(), WAIT)
        await until(lambda: bytes(RECEIVED) == b"0\x00PLACE\x00")


async def test_wait_closed_cancelled_leaves_closed_pending() -> None:
    async with connected() as (_seen, sock, _peers):
        waiting = asyncio.ensure_future(sock.wait_closed())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        assert not sock.closed.done() and not sock.closed.cancelled()
        sock.close()
        await asyncio.wait_for(sock.wait_closed(), WAIT)
