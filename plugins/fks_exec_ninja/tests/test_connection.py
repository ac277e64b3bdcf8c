"""The socket to the AT Interface (connection.py), one behaviour at a time, against a
tiny loopback peer: opening, the value cache, the reader, sending, reconnecting and
closing. Everything is bounded in time; nothing outlives its test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import AsyncIterator, Callable

import pytest

from fks_exec import BrokerUnavailable
from fks_exec_ninja.connection import AtiConnection, ConnectionLost

ATI = b"2\x00ATI\x00True\x00"


def value(key: str, text: str) -> bytes:
    return b"2\x00" + key.encode() + b"\x00" + text.encode() + b"\x00"


class Peer:
    """Accepts connections; ``greeting`` is written to each; records what arrives."""

    def __init__(self, greeting: bytes = ATI) -> None:
        self.greeting = greeting
        self.received = bytearray()
        self.writers: list[asyncio.StreamWriter] = []
        self.accepted = 0
        self.server: asyncio.base_events.Server | None = None
        self.handlers: set[asyncio.Task[None]] = set()
        self.read_paused = False

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.accepted += 1
        self.writers.append(writer)
        if self.greeting:
            writer.write(self.greeting)
        with contextlib.suppress(ConnectionError):
            while not self.read_paused and (chunk := await reader.read(65536)):
                self.received += chunk
            while self.read_paused and not writer.is_closing():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        writer.close()

    def send(self, data: bytes) -> None:
        for writer in self.writers:
            if not writer.is_closing():
                writer.write(data)

    def drop(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    async def stop(self) -> None:
        self.drop()
        if self.server is not None:
            self.server.close()
            await asyncio.wait_for(asyncio.gather(*self.handlers), 5)


@contextlib.asynccontextmanager
async def peer(greeting: bytes = ATI) -> AsyncIterator[tuple[Peer, int]]:
    it = Peer(greeting)
    port = await it.start()
    try:
        yield it, port
    finally:
        await it.stop()


def connection(port: int, **options: object) -> AtiConnection:
    settings: dict[str, object] = {
        "connect_timeout_s": 1.0,
        "confirm_orders": None,
        "reconnect_min_s": 0.01,
        "reconnect_max_s": 0.05,
        "max_values": 1_000,
    }
    settings.update(options)
    return AtiConnection("127.0.0.1", port, **settings)  # type: ignore[arg-type]


def ours() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t.get_name().startswith("fks-exec-ninja")}


async def until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    async def poll() -> None:
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_open_waits_for_ati_then_keeps_values_and_reports_them() -> None:
    seen: list[tuple[str, str]] = []
    batches: list[int] = []
    async with peer(ATI + value("Orders|Sim101", "a|b")) as (nt, port):
        ati = connection(port)

        def report(keys: list[str], texts: list[str]) -> None:
            assert all(ati.values.get(k) is not None for k in keys)  # stored first
            seen.extend(zip(keys, texts, strict=True))
            batches.append(len(seen))

        ati.on_values = report
        assert not ati.ati_up and ati.up_for == 0.0
        await ati.open()
        try:
            assert ati.connected and ati.ati_up and ati.connects == 1 and ati.attempts == 1
            await until(lambda: "Orders|Sim101" in ati.values)
            assert ("ATI", "True") in seen and seen[-1] == ("Orders|Sim101", "a|b")
            assert batches and batches[-1] == len(seen)  # reported after the values
            nt.send(value("K", "1") + value("K", "2") + value("L", "3"))
            await until(lambda: "L" in ati.values)
            assert seen[-3:] == [("K", "1"), ("K", "2"), ("L", "3")]  # each, in order
            assert ati.values["K"] == "2"  # the latest kept
            assert 0 < ati.up_for < 5
            nt.send(value("ATI", "TRUE"))
            await until(lambda: ati.values["ATI"] == "TRUE")
            assert ati.ati_up
            nt.send(b"1\x00last\x00ES\x005\x001\x00t\x00" + value("ATI", "False"))
            await until(lambda: ati.values["ATI"] == "False")
            assert not ati.ati_up and ati.connected  # the Data message was not a value
            assert all(k != "last" for k, _ in seen)
            with pytest.raises(RuntimeError, match="runs once"):
                await ati.open()
        finally:
            await ati.close()
        assert not ati.connected and ours() == set()
        with pytest.raises(RuntimeError, match="runs once"):
            await ati.open()


@pytest.mark.parametrize(
    "greeting",
    [ATI + ATI, value("ATI", "False") + value("ATI", "true") + ATI, ATI + value("ATI", "False")],
    ids=["twice", "false-then-true-twice", "true-then-false"],
)
async def test_a_read_saying_ati_true_more_than_once_opens_once(greeting: bytes) -> None:
    """The first ``ATI`` = ``True`` of the read opens the connection; more of them in
    the same read change nothing (the latest value is kept, as always)."""
    async with peer(greeting + value("Orders|Sim101", "")) as (_nt, port):
        ati = connection(port)
        await ati.open()
        try:
            await until(lambda: "Orders|Sim101" in ati.values)
            assert ati.connected and ati.connects == 1 and ati.attempts == 1
            assert ati.ati_up is greeting.endswith(ATI)
        finally:
            await ati.close()


@pytest.mark.parametrize(
    ("confirm", "sent"), [(None, b""), (True, b"3\x001\x00"), (False, b"3\x000\x00")]
)
async def test_confirm_orders_only_when_set(confirm: bool | None, sent: bytes) -> None:
    async with peer() as (nt, port):
        ati = connection(port, confirm_orders=confirm)
        await ati.open()
        ati.send_now("0", "PING")
        await until(lambda: b"PING" in nt.received)
        assert bytes(nt.received) == sent + b"0\x00PING\x00"
        await ati.close()


async def test_a_peer_closing_before_ati_fails_open_and_leaves_nothing() -> None:
    async with peer(greeting=b"") as (nt, port):
        ati = connection(port, connect_timeout_s=2)
        ati.on_lost = lambda: pytest.fail("never up: nothing was lost")
        opening = asyncio.ensure_future(ati.open())
        await until(lambda: nt.writers != [])
        nt.drop()
        with pytest.raises(ConnectionLost, match="before ATI"):
            await opening
        assert not ati.connected and ours() == set() and ati.attempts == 1
        assert ati.connects == 0


async def test_a_peer_that_never_says_ati_times_out() -> None:
    greeting = value("Orders|Sim101", "") + value("ATI", "False") + value("X", "True")
    async with peer(greeting=greeting) as (_nt, port):
        ati = connection(port, connect_timeout_s=0.1)
        lost: list[int] = []
        ati.on_lost = lambda: lost.append(1)
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await ati.open()
        assert loop.time() - began < 0.9
        assert ours() == set() and not ati.connected and lost == []
        await ati.close()


async def test_close_before_open_and_twice_never_raises() -> None:
    ati = connection(1)
    await ati.close()
    await ati.close()
    with pytest.raises(RuntimeError, match="before close"):  # closed for good
        await ati.open()
    assert connection(1, reconnect_min_s=5, reconnect_max_s=0.05).reconnect_min_s == 0.05


async def test_a_peer_that_drops_right_after_ati_is_reconnected_with_growing_pauses() -> None:
    async with peer() as (nt, port):
        ati = connection(port, reconnect_min_s=0.01, reconnect_max_s=0.2)
        await ati.open()

        async def dropping() -> None:
            while True:
                await asyncio.sleep(0.002)
                nt.drop()

        dropper = asyncio.ensure_future(dropping())
        await asyncio.sleep(0.6)
        dropper.cancel()
        # never up for reconnect_max_s, so the pauses keep growing: 0.01, 0.02, 0.04 ...
        assert 2 <= ati.connects <= 12
        await ati.close()


async def test_a_refused_port_raises_oserror() -> None:
    async with peer() as (_nt, port):
        pass
    ati = connection(port)
    with pytest.raises(ConnectionRefusedError):
        await ati.open()
    assert ours() == set()


async def test_the_value_cache_is_bounded_and_cleared_per_connection() -> None:
    async with peer() as (nt, port):
        ati = connection(port, max_values=4)
        lost: list[int] = []
        ati.on_lost = lambda: lost.append(1)
        reconnected: list[int] = []

        async def again() -> None:
            reconnected.append(1)

        ati.on_reconnect = again
        await ati.open()
        nt.send(value("Filled|1", "1") + value("OrderStatus|2", "x") + value("Filled|1", "3"))
        await until(lambda: ati.values.get("Filled|1") == "3")
        assert list(ati.values) == ["ATI", "Filled|1", "OrderStatus|2"]
        nt.send(value("Orders|A", "1|2") + value("AvgFillPrice|3", "5"))
        await until(lambda: "AvgFillPrice|3" in ati.values)
        # the oldest order value went; ATI and the order list stay
        assert list(ati.values) == ["ATI", "OrderStatus|2", "Orders|A", "AvgFillPrice|3"]
        nt.send(value("Orders|B", "") + value("Orders|C", "") + value("Orders|D", ""))
        await until(lambda: "Orders|D" in ati.values)
        assert len(ati.values) == 4 and "ATI" not in ati.values  # a flood of other keys
        nt.drop()
        await until(lambda: reconnected == [1])
        assert lost == [1] and ati.connects == 2 and ati.attempts == 2
        assert ati.values == {"ATI": "True"}  # nothing from the earlier connection
        await ati.close()


async def test_a_stream_fault_keeps_what_came_before_and_reconnects() -> None:
    seen: list[str] = []
    async with peer() as (nt, port):
        ati = connection(port)
        ati.on_values = lambda keys, _: seen.extend(keys)
        await ati.open()
        nt.send(value("kept", "1") + b"x\x00y\x00" + value("after", "2"))
        await until(lambda: ati.connects == 2)
        assert "kept" in seen and "after" not in seen
        await ati.close()


async def test_transcript_records_both_ways() -> None:
    async with peer() as (_nt, port):
        ati = connection(port)
        ati.transcript = []
        await ati.open()
        ati.send_now("0", "PLACE;A")
        assert ati.transcript[-1] == ">> 0 PLACE;A"
        ati.send_now("4", "ES 03-27", "1")
        assert ati.transcript[-1] == ">> 4 ES 03-27 | 1"
        assert any(line.startswith("<< ") and "ATI" in line for line in ati.transcript)
        await ati.close()


async def test_sending_when_down_raises_and_writes_nothing() -> None:
    async with peer() as (nt, port):
        ati = connection(port, reconnect_min_s=5, reconnect_max_s=5)
        with pytest.raises(BrokerUnavailable, match="not connected"):
            ati.send_now("0", "X")
        await ati.open()
        nt.drop()
        await until(lambda: not ati.connected)
        with pytest.raises(BrokerUnavailable, match="reconnecting"):
            ati.send_now("0", "X")
        with pytest.raises(BrokerUnavailable):
            await ati.send("0", "X")
        assert not await ati.wait_connected(0.01)
        with pytest.raises(BrokerUnavailable):
            ati._write("0", "X")  # the socket itself is closed too
        await ati.close()


async def test_send_waits_for_the_socket_only_when_much_is_buffered() -> None:
    async with peer() as (nt, port):
        ati = connection(port)
        await ati.open()
        await ati.send("0", "small")
        nt.read_paused = True
        big = "x" * 300_000
        waited = False
        for _ in range(40):
            try:
                await asyncio.wait_for(ati.send("0", big), 0.2)
            except asyncio.TimeoutError:
                waited = True  # over the high-water mark: it waited for the socket
                break
        writer = ati._writer
        assert writer is not None and waited
        assert writer.transport.get_write_buffer_size() > 262_144
        await ati.close()


async def test_reconnects_back_off_and_close_ends_them() -> None:
    async with peer() as (nt, port):
        ati = connection(port, reconnect_min_s=0.02, reconnect_max_s=0.08)
        await ati.open()
        nt.greeting = b""  # accept, then close: never ATI again
        closer = asyncio.get_running_loop().call_later(0.01, nt.drop)

        async def dropping() -> None:
            while True:
                await asyncio.sleep(0.005)
                nt.drop()

        dropper = asyncio.ensure_future(dropping())
        await asyncio.sleep(0.5)
        attempts = ati.attempts
        # pauses of 0.01-0.02, 0.02-0.04, then 0.04-0.08 s: far fewer than one per 5 ms
        assert 3 <= attempts <= 20
        names = sorted(t.get_name() for t in ours())  # one loop; at most one attempt's reader
        assert names in (
            ["fks-exec-ninja-supervisor"],
            ["fks-exec-ninja-reader", "fks-exec-ninja-supervisor"],
        )
        await ati.close()
        dropper.cancel()
        closer.cancel()
        await asyncio.sleep(0.1)
        assert ati.attempts == attempts and ours() == set()


async def test_a_failing_reconnect_hook_is_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def hook() -> None:
        calls.append(1)
        raise BrokerUnavailable("resubscribe failed")

    async with peer() as (nt, port):
        ati = connection(port, on_reconnect=hook)
        await ati.open()
        with caplog.at_level(logging.INFO, logger="fks_exec.plugins.ninja"):
            nt.drop()
            await until(lambda: len(calls) == 1)
            nt.drop()
            await until(lambda: len(calls) == 2)
        assert ati.connected
        assert any("resubscribe failed" in r.getMessage() for r in caplog.records)
        await ati.close()


async def test_when_a_drop_is_reported_nothing_can_be_sent() -> None:
    async with peer() as (nt, port):
        ati = connection(port, reconnect_min_s=5, reconnect_max_s=5)
        seen: list[tuple[bool, bool, str]] = []

        def lost() -> None:
            try:
                ati.send_now("0", "X")
                refused = ""
            except BrokerUnavailable as exc:
                refused = str(exc)
            seen.append((ati.connected, ati.ati_up, refused))

        ati.on_lost = lost
        await ati.open()
        nt.drop()
        await until(lambda: seen != [])
        assert seen == [
            (False, False, f"not connected to NinjaTrader at 127.0.0.1:{port}; reconnecting")
        ]
        await ati.close()


async def test_a_reset_connection_is_reopened(caplog: pytest.LogCaptureFixture) -> None:
    """The peer resets the socket (RST): closing our end raises inside asyncio, which
    must not end the reconnect loop."""
    async with peer() as (nt, port):
        ati = connection(port)
        await ati.open()
        for writer in nt.writers:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ati.send_now("0", "X")  # unread data at the peer: its close resets the connection
        await asyncio.sleep(0.05)
        nt.drop()
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            await until(lambda: ati.connects == 2)
        assert ati.connected and len([t for t in ours() if "supervisor" in t.get_name()]) == 1
        assert any("connection lost" in r.getMessage() for r in caplog.records)
        await ati.close()


async def test_wait_connected_sees_a_reconnection() -> None:
    async with peer() as (nt, port):
        ati = connection(port)  # no reconnect hook: the loop must not call one
        await ati.open()
        assert await ati.wait_connected(0.01)
        for connects in (2, 3):
            nt.drop()
            await until(lambda: not ati.connected)
            assert await ati.wait_connected(2)
            await until(lambda c=connects: ati.connects == c)  # type: ignore[misc]
        await ati.close()


def test_the_default_first_pause_is_the_configured_default() -> None:
    from fks_exec_ninja.config import NinjaConfig

    ati = AtiConnection(
        "h", 1, connect_timeout_s=1, confirm_orders=None, reconnect_max_s=5, max_values=10
    )
    assert ati.reconnect_min_s == NinjaConfig().reconnect_min_s == 0.1


async def test_close_while_the_peer_is_gone_ends_everything() -> None:
    async with peer() as (_nt, port):
        ati = connection(port, reconnect_min_s=0.01, reconnect_max_s=0.02)
        await ati.open()
    await until(lambda: not ati.connected)
    await asyncio.sleep(0.05)  # a few refused reconnection attempts
    await ati.close()
    attempts = ati.attempts
    await asyncio.sleep(0.1)
    assert ati.attempts == attempts and ours() == set()


def count_writes(ati: AtiConnection) -> list[bytes]:
    """Every ``write`` the connection's socket writer gets, recorded as it passes."""
    writer = ati._writer
    assert writer is not None
    writes: list[bytes] = []
    write = writer.write

    def recording(data: bytes) -> None:
        writes.append(bytes(data))
        write(data)

    writer.write = recording  # type: ignore[method-assign]
    return writes


async def test_gathered_commands_go_out_together_at_the_end_of_the_pass_in_order() -> None:
    async with peer() as (nt, port):
        ati = connection(port)
        ati.transcript = []
        await ati.open()
        writes = count_writes(ati)
        ati.send_command("PLACE;1")
        assert writes == [b"0\x00PLACE;1\x00"]  # not gathered: at once
        ati.send_command("PLACE;2", gather=True)
        ati.send_now("4", "ES 03-27", "1")  # after a gathered one: kept behind it
        ati.send_command("PLACE;3", gather=True)
        assert len(writes) == 1 and ati.transcript[-1] == ">> 0 PLACE;3"
        await asyncio.sleep(0)
        assert writes[1:] == [b"0\x00PLACE;2\x00" + b"4\x00ES 03-27\x001\x00" + b"0\x00PLACE;3\x00"]
        ati.send_command("PLACE;4")  # the pass is over: at once again
        assert writes[2:] == [b"0\x00PLACE;4\x00"]
        ati.send_now("4", "ES 03-27", "0")  # nothing gathered: at once too
        assert writes[3:] == [b"4\x00ES 03-27\x000\x00"]
        expected = b"".join(writes)
        await until(lambda: bytes(nt.received) == expected)
        await ati.close()


async def test_send_command_refuses_what_ati_cannot_carry_and_when_down() -> None:
    async with peer() as (_nt, port):
        ati = connection(port, reconnect_min_s=5, reconnect_max_s=5)
        with pytest.raises(BrokerUnavailable, match="not connected"):
            ati.send_command("PLACE;A")
        await ati.open()
        writes = count_writes(ati)
        for bad in ("PLACE;\u00e9", "PLACE;\x00", "\x00"):
            with pytest.raises(ValueError, match="ASCII without NUL"):
                ati.send_command(bad, gather=True)
        await asyncio.sleep(0)
        assert writes == []
        await ati.close()
        with pytest.raises(BrokerUnavailable, match="reconnecting"):
            ati.send_command("PLACE;A")


async def test_gathered_bytes_are_dropped_with_their_socket_never_sent_on_a_new_one() -> None:
    async with peer() as (nt, port):
        ati = connection(port)
        await ati.open()
        ati.send_command("OLD1", gather=True)
        writer = ati._writer
        assert writer is not None
        writer.transport.abort()  # gone before the end of the pass
        assert ati.connected  # the reader has not seen it yet, but the socket is closing:
        with pytest.raises(BrokerUnavailable):
            ati.send_command("OLD2")
        await until(lambda: ati.connects == 2 and ati.connected)
        first = len(nt.received)
        assert b"OLD1" not in nt.received
        ati.send_command("NEW", gather=True)
        await until(lambda: b"NEW" in nt.received)
        assert b"OLD" not in nt.received[first:]
        await ati.close()


async def test_a_new_connection_starts_with_nothing_gathered() -> None:
    async with peer() as (nt, port):
        ati = connection(port)
        await ati.open()
        nt.drop()
        await until(lambda: not ati.connected)
        ati._gathered = [b"0\x00OLD\x00"]  # as if a write of the old socket were due
        await until(lambda: ati.connects == 2 and ati.connected)
        ati.send_command("NEW", gather=True)
        await until(lambda: b"NEW" in nt.received)
        assert b"OLD" not in nt.received
        await ati.close()


async def test_closing_writes_what_was_gathered_first() -> None:
    async with peer() as (nt, port):
        ati = connection(port)
        await ati.open()
        ati.send_command("LAST", gather=True)
        await ati.close()
        await until(lambda: b"0\x00LAST\x00" in nt.received)


async def test_send_command_refused_after_the_reader_ended_before_the_drop() -> None:
    async with peer() as (_nt, port):
        ati = connection(port)
        await ati.open()
        writes = count_writes(ati)
        ati.connected = False  # the reader ended; the supervisor has not dropped the socket
        with pytest.raises(BrokerUnavailable, match="not connected"):
            ati.send_command("PLACE;A")
        assert writes == []
        ati.connected = True
        await ati.close()


async def test_closing_waits_for_buffered_bytes_to_leave_before_dropping_them() -> None:
    """Closing gives bytes still in our buffer a moment to leave (the peer is slow to
    read, not gone), so the last commands are not dropped."""
    received = bytearray()
    reading = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ATI)
        await reading.wait()
        while chunk := await reader.read(1 << 20):
            received.extend(chunk)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        ati = connection(server.sockets[0].getsockname()[1])
        await ati.open()
        ati.send_now("0", "x" * 8_000_000)  # more than the kernel's buffers take at once
        writer = ati._writer
        assert writer is not None and writer.transport.get_write_buffer_size() > 0
        asyncio.get_running_loop().call_later(0.05, reading.set)
        await ati.close()
        await until(lambda: len(received) == 8_000_003)  # b"0\0", the field, b"\0"
    finally:
        server.close()
