"""The reference ATI server, driven by a raw client written from the DLL's wire format.

``RawDllClient`` below does what ``NinjaTrader.Client.dll`` does (Client.cs, AtiSocket.cs):
it writes ``0\\0<13 fields joined by ;>\\0`` for a command, ``3\\0<n>\\0`` for
ConfirmOrders, ``4\\0<instrument>\\0<1|0>\\0`` for (un)subscribe, and reads messages as
``AtiSocket.Loop`` does, keeping the latest value of every key like ``Client.AddValue``.
It does not use the server's own wire module, so the two check each other. All sockets
are loopback, every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec.testing.faults import FaultInjection
from fks_exec_ninja.testing.reference import (
    INFERRED_AXES,
    DuplicateOrderId,
    Greeting,
    InvalidCommand,
    OcoPartialFill,
    OrderFate,
    PushOrder,
    ReferenceAtiServer,
    Repetition,
    Repush,
    ServerSettings,
    combinations,
    front_month,
)
from fks_exec_ninja.testing.reference.wire import (
    FieldReader,
    MessageReader,
    UnknownMessage,
    ValueMessage,
    WireError,
    format_double,
    parse_int,
)

WAIT = 3.0


def dotnet(number: float | int) -> str:
    """``ToString(CultureInfo.InvariantCulture)`` as the DLL formats numbers."""
    if isinstance(number, int):
        return str(number)
    return "0" if number == 0 else f"{number:.15G}"


class RawDllClient:
    """A minimal client that speaks exactly as NinjaTrader.Client.dll does."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.values: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []
        self.skipped: list[str] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    @classmethod
    async def connect(cls, port: int) -> RawDllClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WAIT)
        return cls(reader, writer)

    async def _fields(self) -> str:
        data = await self.reader.readuntil(b"\x00")
        return data[:-1].decode("ascii", errors="replace")

    async def _loop(self) -> None:
        try:
            while True:
                kind = int(await self._fields())
                if kind == 2:  # Value: key, value -> Client.AddValue
                    key, value = await self._fields(), await self._fields()
                    self.values[key] = value
                    self.log.append((key, value))
                    self._changed.set()
                elif kind == 1:  # Data: the DLL's client has no data handler
                    for _ in range(5):
                        self.skipped.append(await self._fields())
                else:  # AtiSocket.Loop default: one string, printed
                    self.skipped.append(await self._fields())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()

    def send(self, *fields: str) -> None:
        self.writer.write(b"".join(f.encode("ascii") + b"\x00" for f in fields))

    def command(
        self,
        command: str,
        account: str = "",
        instrument: str = "",
        action: str = "",
        quantity: int = 0,
        order_type: str = "",
        limit: float = 0,
        stop: float = 0,
        tif: str = "",
        oco: str = "",
        order_id: str = "",
        tpl: str = "",
        strategy: str = "",
    ) -> None:
        text = ";".join(
            [
                command,
                account,
                instrument,
                action,
                dotnet(quantity),
                order_type,
                dotnet(float(limit)),
                dotnet(float(stop)),
                tif,
                oco,
                order_id,
                tpl,
                strategy,
            ]
        )
        self.send("0", text)

    async def wait_value(self, key: str, value: str | None = None) -> str:
        async def poll() -> str:
            while key not in self.values or (value is not None and self.values[key] != value):
                self._changed.clear()
                await self._changed.wait()
            return self.values[key]

        return await asyncio.wait_for(poll(), WAIT)

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.closed.wait(), WAIT)
        finally:
            self._task.cancel()


ES = ServerSettings().instruments[0].name


async def started(
    settings_: ServerSettings | None = None,
) -> tuple[ReferenceAtiServer, RawDllClient]:
    server = ReferenceAtiServer(settings_)
    await server.start()
    client = await RawDllClient.connect(server.port)
    if server.settings.greeting is Greeting.ATI:
        await client.wait_value("ATI", "True")
    return server, client


def order_keys(log: list[tuple[str, str]], order_id: str) -> list[str]:
    return [k.split("|")[0] for k, _ in log if k.split("|")[-1] == order_id and k.count("|") == 1]


# -- wire ---------------------------------------------------------------------------------


@given(
    st.lists(st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=300)),
    st.integers(1, 50),
)
def test_fields_survive_any_read_boundaries(fields: list[str], chunk: int) -> None:
    data = b"".join(f.encode("ascii") + b"\x00" for f in fields)
    reader = FieldReader()
    got = [f for i in range(0, len(data), chunk) for f in reader.feed(data[i : i + chunk])]
    assert got == fields


def test_fields_have_no_cap_below_the_memory_bound_and_non_ascii_reads_as_question_mark() -> None:
    reader = FieldReader(max_field_bytes=1_000_000)
    long_value = "|".join(f"{i:032X}" for i in range(20_000))  # 660 kB, one field
    assert list(reader.feed(long_value.encode() + b"\x00\xc3\xa9\x00")) == [long_value, "??"]


def test_over_the_memory_bound_earlier_fields_are_kept_then_wire_error() -> None:
    reader = FieldReader(max_field_bytes=10)
    got: list[str] = []
    with pytest.raises(WireError):
        got.extend(reader.feed(b"ATI\x00" + b"x" * 11))
    assert got == ["ATI"]


def test_unknown_message_type_reads_one_field_and_bad_type_is_an_error() -> None:
    reader = MessageReader()
    messages = list(reader.feed(b"9\x00hello\x002\x00ATI\x00True\x00"))
    assert messages == [UnknownMessage(9, "hello"), ValueMessage("ATI", "True")]
    got = []
    with pytest.raises(WireError):
        got.extend(MessageReader().feed(b"2\x00a\x00b\x00x1\x00"))
    assert got == [ValueMessage("a", "b")]


def test_numbers_format_and_parse_as_dotnet_invariant_culture() -> None:
    assert [format_double(v) for v in (4500.25, 0, 1e-5, 1e20, 0.1 + 0.2, -3)] == [
        "4500.25",
        "0",
        "1E-05",
        "1E+20",
        "0.3",
        "-3",
    ]
    assert parse_int(" 12 ") == 12 and parse_int("-7") == -7
    for bad in ("", "1.0", "12a", "99999999999"):
        with pytest.raises(WireError):
            parse_int(bad)


def test_combinations_cover_every_axis_value() -> None:
    assert len(list(combinations("push_order", "repetition"))) == 12
    assert {s.push_order for s in combinations("push_order")} == set(PushOrder)
    assert len(INFERRED_AXES) >= 10
    with pytest.raises(KeyError):
        list(combinations("no_such_axis"))
    with pytest.raises(ValueError, match="fill_pieces"):
        ServerSettings(fill_pieces=0)


def test_every_setting_is_in_the_documented_table() -> None:
    # docs/plugins/ninja-reference-fake.md's "Settings" table is what a user of the fake
    # reads to choose its behaviour: a setting missing there is one nobody tests under.
    import dataclasses
    from pathlib import Path

    doc = Path(__file__).parents[3] / "docs" / "plugins" / "ninja-reference-fake.md"
    table = doc.read_text(encoding="utf-8").split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {name.strip(" `") for row in rows for name in row.split(",")}
    missing = {f.name for f in dataclasses.fields(ServerSettings)} - documented
    assert not missing, f"settings missing from {doc.name}: {sorted(missing)}"


def test_front_month_rolls_before_expiry() -> None:
    import datetime as dt

    assert front_month("ES", dt.date(2026, 12, 1)) == "ES 12-26"
    assert front_month("ES", dt.date(2026, 12, 11)) == "ES 03-27"
    assert front_month("ES", dt.date(2025, 12, 19)) == "ES 03-26"


# -- greeting and connections -------------------------------------------------------------


async def test_ati_is_the_first_value_and_account_values_follow() -> None:
    server, client = await started()
    try:
        await client.wait_value("Orders|Sim101")
        assert client.log[0] == ("ATI", "True")
        assert "Orders|Playback101" in client.values and "CashValue|LX-4402917" in client.values
        assert isinstance(server, FaultInjection)
    finally:
        await client.close()
        await server.stop()


async def test_withheld_greeting_says_nothing_and_acts_on_nothing() -> None:
    server, client = await started(ServerSettings(greeting=Greeting.WITHHELD))
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="W1")
        await server.wait_until(lambda: len(server.commands) == 1, WAIT)
        assert server.commands[0].outcome == "withheld" and server.order("W1") is None
        assert client.log == []
    finally:
        await client.close()
        await server.stop()


async def test_close_before_ati_closes_at_once_and_counts_attempts() -> None:
    server = ReferenceAtiServer(ServerSettings(greeting=Greeting.CLOSE_BEFORE_ATI))
    await server.start()
    try:
        for _ in range(3):
            client = await RawDllClient.connect(server.port)
            await asyncio.wait_for(client.closed.wait(), WAIT)
            assert client.log == []
            await client.close()
        await server.wait_until(lambda: server.connections.open_now == 0, WAIT)
        assert server.connections.attempts == 3
        assert server.connections.outcomes()["closed_before_ati"] == 3
        assert server.connections.max_open == 1
    finally:
        await server.stop()


async def test_slow_greeting_still_says_ati_first_and_account_values_are_optional() -> None:
    config = ServerSettings(greeting_delay_s=0.05, push_account_values_on_connect=False)
    server, client = await started(config)
    try:
        await server.flushed(WAIT)
        assert client.log == [("ATI", "True")]
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="G1")
        assert await client.wait_value("Orders|Sim101") == "G1"
    finally:
        await client.close()
        await server.stop()


async def test_restart_keeps_the_port_and_the_orders() -> None:
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 1, "LIMIT", 5900, 0, "GTC", order_id="K1")
        await client.wait_value("OrderStatus|K1", "Working")
        port = server.port
        await server.stop()
        await asyncio.wait_for(client.closed.wait(), WAIT)
        await server.start()
        assert server.port == port
        again = await RawDllClient.connect(port)
        assert await again.wait_value("OrderStatus|K1") == "Working"
        server.configure(repetition=Repetition.ALL_VALUES)
        again.command("CANCEL", order_id="K1")
        await again.wait_value("OrderStatus|K1", "Cancelled")
        assert [k for k, _ in again.log[-3:]] == ["OrderStatus|K1", "Filled|K1", "AvgFillPrice|K1"]
        await again.close()
    finally:
        await client.close()
        await server.stop()


# -- orders and the order of pushes -------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    list(combinations("push_order", "repetition")),
    ids=lambda s: f"{s.push_order.name}-{s.repetition.value}",
)
async def test_market_fill_values_arrive_in_the_configured_order(config: ServerSettings) -> None:
    server, client = await started(config.with_(fill_pieces=2))
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 2, "MARKET", tif="DAY", order_id="M1")
        await client.wait_value("Filled|M1", "2")
        await server.flushed(WAIT)
        assert client.values["OrderStatus|M1"] == "Filled"
        placed = server.order("M1")
        assert placed is not None
        assert Decimal(client.values["AvgFillPrice|M1"]) == placed.avg_fill_price
        keys = order_keys(client.log, "M1")
        order = list(config.push_order.value)
        if config.repetition is Repetition.ALL_VALUES:
            # Submitted, Accepted, Working, PartFilled, Filled: all three values each time
            assert keys == order * 5
        else:
            # three status-only updates; the first fill changes all three values; the
            # second (same price) changes status and filled only; never a pushed 0
            assert keys == ["OrderStatus"] * 3 + order + [k for k in order if k != "AvgFillPrice"]
        assert client.values[f"MarketPosition|{ES}|Sim101"] == "2"
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize("repush", list(Repush))
async def test_reconnecting_client_gets_existing_orders_as_configured(repush: Repush) -> None:
    server, first = await started(ServerSettings(repush=repush, repush_delay_s=0.05))
    try:
        first.command("PLACE", "Sim101", ES, "SELL", 1, "MARKET", tif="GTC", order_id="R1")
        await first.wait_value("OrderStatus|R1", "Filled")
        await first.close()
        second = await RawDllClient.connect(server.port)
        await second.wait_value("Orders|Sim101")
        assert "R1" in second.values["Orders|Sim101"].split("|")
        if repush is Repush.NONE:
            await server.flushed(WAIT)
            assert "OrderStatus|R1" not in second.values
        else:
            assert await second.wait_value("OrderStatus|R1") == "Filled"
            assert second.values["Filled|R1"] == "1"
        await second.close()
        assert server.connections.attempts == 2
    finally:
        await server.stop()


async def test_orders_list_longer_than_4096_bytes_is_one_value() -> None:
    server, client = await started(ServerSettings(preexisting_orders=130, unknown_messages=True))
    try:
        value = await client.wait_value("Orders|Sim101")
        assert len(value) > 4096 and len(value.split("|")) == 130
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="X1")
        assert await client.wait_value("OrderStatus|X1", "Filled") == "Filled"
        assert "reference fake: a message type the DLL skips" in client.skipped
    finally:
        await client.close()
        await server.stop()


async def test_part_fill_then_cancel_leaves_the_filled_part() -> None:
    server, client = await started(ServerSettings(fill_pieces=2, cancel_after_fills=1))
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 2, "MARKET", tif="DAY", order_id="P1")
        await client.wait_value("OrderStatus|P1", "Cancelled")
        assert client.values["Filled|P1"] == "1"
        assert client.values[f"MarketPosition|{ES}|Sim101"] == "1"
        statuses = [v for k, v in client.log if k == "OrderStatus|P1"]
        assert statuses[-3:] == ["PartFilled", "CancelPending", "Cancelled"]
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize(
    ("fate", "final"), [(OrderFate.REJECT, "Rejected"), (OrderFate.UNKNOWN, "Unknown")]
)
async def test_fates_end_in_a_terminal_state(fate: OrderFate, final: str) -> None:
    server, client = await started(ServerSettings(fate=fate))
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="F1")
        await client.wait_value("OrderStatus|F1", final)
        client.command("CANCEL", order_id="F1")
        await server.wait_until(lambda: len(server.commands) == 2, WAIT)
        await server.flushed(WAIT)
        assert [v for k, v in client.log if k == "OrderStatus|F1"] == ["Submitted", final]
        assert server.position("Sim101", ES) == 0
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (("BUY", 1, "MARKET", 0, 0, "IOC"), "TIF"),
        (("BUY", 1, "LIMIT", 5990.1, 0, "DAY"), "tick"),
        (("BUY", 1, "STOPMARKET", 0, 5990, "DAY"), "wrong side"),
        (("HOLD", 1, "MARKET", 0, 0, "DAY"), "action"),
        (("BUY", 0, "MARKET", 0, 0, "DAY"), "quantity"),
        (("BUY", 1, "LIMIT", 0, 0, "DAY"), "limit price"),
    ],
)
async def test_invalid_place_is_rejected_and_never_traded(fields: tuple, why: str) -> None:
    action, qty, kind, limit, stop, tif = fields
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, action, qty, kind, limit, stop, tif, order_id="V1")
        await client.wait_value("OrderStatus|V1", "Rejected")
        assert why in server.commands[0].error
        assert server.position("Sim101", ES) == 0
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize("mode", list(DuplicateOrderId))
async def test_duplicate_order_id_is_never_traded_twice(mode: DuplicateOrderId) -> None:
    server, client = await started(ServerSettings(duplicate_order_id=mode))
    try:
        for _ in range(2):
            client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="D1")
        await server.wait_until(lambda: len(server.commands) == 2, WAIT)
        await server.flushed(WAIT)
        assert server.position("Sim101", ES) == 1
        assert server.order_arrivals()["D1"] == 2
        expected = "Rejected" if mode is DuplicateOrderId.REJECT else "Filled"
        assert client.values["OrderStatus|D1"] == expected
    finally:
        await client.close()
        await server.stop()


async def test_ignored_invalid_command_pushes_nothing() -> None:
    server, client = await started(ServerSettings(invalid_command=InvalidCommand.IGNORE))
    try:
        client.command("PLACE", "NoSuchAccount", ES, "BUY", 1, "MARKET", tif="DAY", order_id="I1")
        client.send("0", "PLACE;too;few")
        await server.wait_until(lambda: len(server.commands) == 2, WAIT)
        await server.flushed(WAIT)
        assert [r.outcome for r in server.commands] == ["ignored", "ignored"]
        assert "OrderStatus|I1" not in client.values
    finally:
        await client.close()
        await server.stop()


async def test_change_moves_a_limit_into_the_market_and_it_fills() -> None:
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 1, "LIMIT", 5990, 0, "GTC", order_id="C1")
        await client.wait_value("OrderStatus|C1", "Working")
        client.command("CHANGE", quantity=3, limit=6000.25, order_id="C1")
        await client.wait_value("OrderStatus|C1", "Filled")
        assert client.values["Filled|C1"] == "3"
        assert "ChangeSubmitted" in [v for k, v in client.log if k == "OrderStatus|C1"]
    finally:
        await client.close()
        await server.stop()


async def test_closeposition_cancels_working_orders_and_flattens_one_account() -> None:
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 2, "MARKET", tif="DAY", order_id="E1")
        client.command("PLACE", "Sim101", ES, "SELL", 2, "LIMIT", 6100, 0, "GTC", order_id="T1")
        client.command("PLACE", "Playback101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="O1")
        await client.wait_value("OrderStatus|O1", "Filled")
        client.command("CLOSEPOSITION", "Sim101", ES)
        await client.wait_value(f"MarketPosition|{ES}|Sim101", "0")
        assert await client.wait_value("OrderStatus|T1", "Cancelled") == "Cancelled"
        assert server.position("Playback101", ES) == 1
        client.command("FLATTENEVERYTHING")
        await client.wait_value(f"MarketPosition|{ES}|Playback101", "0")
    finally:
        await client.close()
        await server.stop()


async def test_cancelallorders_cancels_across_accounts() -> None:
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 1, "LIMIT", 5900, 0, "DAY", order_id="A1")
        client.command("PLACE", "LX-4402917", ES, "BUY", 1, "LIMIT", 5900, 0, "DAY", order_id="A2")
        await client.wait_value("OrderStatus|A2", "Working")
        client.command("CANCELALLORDERS")
        await client.wait_value("OrderStatus|A1", "Cancelled")
        await client.wait_value("OrderStatus|A2", "Cancelled")
    finally:
        await client.close()
        await server.stop()


async def test_reverseposition_closes_then_places_the_new_order() -> None:
    server, client = await started()
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 2, "MARKET", tif="DAY", order_id="B1")
        await client.wait_value("OrderStatus|B1", "Filled")
        client.command(
            "REVERSEPOSITION", "Sim101", ES, "SELL", 1, "MARKET", tif="DAY", order_id="S1"
        )
        await client.wait_value("OrderStatus|S1", "Filled")
        assert await client.wait_value(f"MarketPosition|{ES}|Sim101", "-1") == "-1"
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize("mode", list(OcoPartialFill))
async def test_oco_fill_resizes_or_cancels_the_sibling(mode: OcoPartialFill) -> None:
    server, client = await started(ServerSettings(oco_partial_fill=mode, fill_pieces=2))
    try:
        client.command("PLACE", "Sim101", ES, "BUY", 2, "MARKET", tif="DAY", order_id="EN")
        client.command("PLACE", "Sim101", ES, "SELL", 2, "STOPMARKET", 0, 5990, "GTC", "G1", "SL")
        client.command("PLACE", "Sim101", ES, "SELL", 2, "LIMIT", 6010, 0, "GTC", "G1", "TP")
        await client.wait_value("OrderStatus|TP", "Working")
        server.set_last_price(ES, Decimal("6010"))
        await client.wait_value("OrderStatus|TP", "Filled")
        await client.wait_value("OrderStatus|SL", "Cancelled")
        stop = server.order("SL")
        assert stop is not None and stop.filled == 0
        assert server.position("Sim101", ES) == 0
        client.command("PLACE", "Sim101", ES, "SELL", 1, "LIMIT", 6100, 0, "GTC", "G1", "TP2")
        await client.wait_value("OrderStatus|TP2", "Rejected")  # OCO id reused
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize(
    ("side", "move", "fill"), [("SELL", "5989", "5989"), ("BUY", "6011", "6011.25")]
)
async def test_stop_triggers_when_the_market_reaches_it(side: str, move: str, fill: str) -> None:
    server, client = await started()
    try:
        stop = 5990 if side == "SELL" else 6010
        client.command("PLACE", "Sim101", ES, side, 1, "STOPMARKET", 0, stop, "GTC", order_id="ST")
        await client.wait_value("OrderStatus|ST", "Working")
        server.set_last_price(ES, Decimal("6000.5"))
        await server.flushed(WAIT)
        assert client.values["OrderStatus|ST"] == "Working"
        server.set_last_price(ES, Decimal(move))
        await client.wait_value("OrderStatus|ST", "Filled")
        assert client.values["AvgFillPrice|ST"] == fill
    finally:
        await client.close()
        await server.stop()


async def test_atm_exits_follow_the_filled_quantity_and_carry_no_template() -> None:
    server, client = await started(ServerSettings(fill_pieces=2, cancel_after_fills=1))
    try:
        client.command(
            "PLACE",
            "Sim101",
            ES,
            "BUY",
            2,
            "MARKET",
            tif="DAY",
            order_id="AE",
            tpl="ATM1",
            strategy="AS1",
        )
        await client.wait_value("OrderStatus|AE", "Cancelled")
        await client.wait_value("StrategyPosition|AS1", "1")
        stop_id, target_id = client.values["StopOrders|AS1"], client.values["TargetOrders|AS1"]
        stop, target = server.order(stop_id), server.order(target_id)
        assert stop is not None and target is not None
        assert (stop.quantity, target.quantity) == (1, 1) and stop.strategy == ""
        assert client.values[f"OrderStatus|{stop_id}"] == "Working"
        assert client.values["Strategies|Sim101"] == "AS1"
        client.command("CLOSESTRATEGY", strategy="AS1")
        await client.wait_value("Strategies|Sim101", "")
        assert server.position("Sim101", ES) == 0
        assert client.values[f"OrderStatus|{target_id}"] == "Cancelled"
    finally:
        await client.close()
        await server.stop()


async def test_without_broadcast_only_the_sender_hears_about_its_order() -> None:
    server, sender = await started(ServerSettings(broadcast=False))
    other = await RawDllClient.connect(server.port)
    try:
        await other.wait_value("ATI", "True")
        sender.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="N1")
        await sender.wait_value("OrderStatus|N1", "Filled")
        await server.flushed(WAIT)
        assert "OrderStatus|N1" not in other.values
    finally:
        await other.close()
        await sender.close()
        await server.stop()


async def test_delayed_repush_comes_after_the_account_values() -> None:
    server, first = await started(ServerSettings(repush=Repush.DELAYED, repush_delay_s=0.05))
    try:
        first.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="Y1")
        await first.wait_value("OrderStatus|Y1", "Filled")
        second = await RawDllClient.connect(server.port)
        await second.wait_value("OrderStatus|Y1", "Filled")
        keys = [k for k, _ in second.log]
        assert keys.index("OrderStatus|Y1") > keys.index("BuyingPower|LX-4402917")
        await second.close()
    finally:
        await first.close()
        await server.stop()


# -- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize("acted", [True, False])
async def test_lose_next_answer_drops_the_connection(acted: bool) -> None:
    server, client = await started()
    try:
        server.lose_next_answer(after_broker_acted=acted)
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="L1")
        await asyncio.wait_for(client.closed.wait(), WAIT)
        assert "OrderStatus|L1" not in client.values
        assert (server.order("L1") is not None) is acted
        assert server.order_arrivals().get("L1", 0) == (1 if acted else 0)
        again = await RawDllClient.connect(server.port)
        if acted:
            assert await again.wait_value("OrderStatus|L1") == "Filled"
        await again.close()
    finally:
        await client.close()
        await server.stop()


async def test_refuse_next_and_disconnect_refuse_connections() -> None:
    server, client = await started()
    try:
        server.refuse_next()
        await asyncio.wait_for(client.closed.wait(), WAIT)
        refused = await RawDllClient.connect(server.port)
        await asyncio.wait_for(refused.closed.wait(), WAIT)
        assert refused.log == []
        served = await RawDllClient.connect(server.port)
        await served.wait_value("ATI", "True")
        server.disconnect()
        await asyncio.wait_for(served.closed.wait(), WAIT)
        blocked = await RawDllClient.connect(server.port)
        await asyncio.wait_for(blocked.closed.wait(), WAIT)
        server.reconnect()
        back = await RawDllClient.connect(server.port)
        await back.wait_value("ATI", "True")
        for c in (refused, served, blocked, back):
            await c.close()
        await server.wait_until(lambda: server.connections.open_now == 0, WAIT)
        assert server.connections.outcomes()["refused"] == 2
        with pytest.raises(ValueError, match="latency"):
            server.set_latency(-1)
    finally:
        await client.close()
        await server.stop()


async def test_latency_keeps_push_order() -> None:
    server, client = await started()
    try:
        server.set_latency(0.02)
        client.command("PLACE", "Sim101", ES, "BUY", 1, "MARKET", tif="DAY", order_id="Q1")
        await client.wait_value("OrderStatus|Q1", "Filled")
        statuses = [v for k, v in client.log if k == "OrderStatus|Q1"]
        assert statuses == ["Submitted", "Accepted", "Working", "Filled"]
    finally:
        await client.close()
        await server.stop()


async def test_subscribe_pushes_quotes_and_confirm_orders_is_recorded() -> None:
    server, client = await started()
    try:
        client.send("4", ES, "1")
        client.send("3", "0")
        assert await client.wait_value(f"MarketData|{ES}|2") == format_double(Decimal(6000))
        server.set_last_price(ES, Decimal("6001.25"))
        assert await client.wait_value(f"MarketData|{ES}|0", "6001.5") == "6001.5"
        client.send("4", ES, "0")
        await server.wait_until(lambda: server.confirm_orders == [0], WAIT)
    finally:
        await client.close()
        await server.stop()


async def test_bad_integer_from_the_client_drops_it_like_the_dll() -> None:
    server, client = await started()
    try:
        client.send("x")
        await asyncio.wait_for(client.closed.wait(), WAIT)
        await server.wait_until(lambda: server.connections.open_now == 0, WAIT)
        assert server.connections.outcomes()["wire_error"] == 1
    finally:
        await client.close()
        await server.stop()


@pytest.mark.parametrize("stop_by", ["stdin", "sigterm"])
def test_runs_in_its_own_process_and_prints_its_port(stop_by: str) -> None:
    module = "fks_exec_ninja.testing.reference"
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", "--stdin-eof-stops", "--fill-pieces", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())

        async def check() -> None:
            client = await RawDllClient.connect(port)
            await client.wait_value("ATI", "True")
            await client.close()

        asyncio.run(check())
    finally:
        assert proc.stdin is not None
        if stop_by == "stdin":
            proc.stdin.close()
        else:
            proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


# -- properties ---------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    config=st.sampled_from(list(combinations("push_order", "repetition", "fill_pieces"))),
    orders=st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(1, 5)), max_size=6),
)
def test_client_cache_always_ends_equal_to_the_book(
    config: ServerSettings, orders: list[tuple[str, int]]
) -> None:
    async def scenario() -> None:
        server, client = await started(config)
        try:
            for n, (side, qty) in enumerate(orders):
                client.command(
                    "PLACE", "Sim101", ES, side, qty, "MARKET", tif="DAY", order_id=f"H{n}"
                )
            await server.wait_until(lambda: len(server.commands) == len(orders), WAIT)
            await server.flushed(WAIT)
            expected = sum((1 if s == "BUY" else -1) * q for s, q in orders)
            assert server.position("Sim101", ES) == expected
            for n, (_, qty) in enumerate(orders):
                order = server.order(f"H{n}")
                assert order is not None
                assert client.values[f"OrderStatus|H{n}"] == order.state == "Filled"
                assert client.values[f"Filled|H{n}"] == str(order.filled) == str(qty)
                assert Decimal(client.values[f"AvgFillPrice|H{n}"]) == order.avg_fill_price
                statuses = [v for k, v in client.log if k == f"OrderStatus|H{n}"]
                assert statuses.index("Filled") == len(statuses) - 1  # terminal is final
            if orders:
                assert client.values[f"MarketPosition|{ES}|Sim101"] == str(expected)
        finally:
            await client.close()
            await server.stop()

    asyncio.run(scenario())


_OPS = st.one_of(
    st.tuples(st.just("market"), st.sampled_from(["BUY", "SELL"]), st.integers(1, 4)),
    st.tuples(st.just("limit"), st.sampled_from(["BUY", "SELL"]), st.integers(-8, 8)),
    st.tuples(st.just("move"), st.integers(-12, 12)),
    st.tuples(st.just("cancel"), st.integers(0, 9)),
    st.tuples(st.just("change"), st.integers(0, 9), st.integers(1, 5)),
    st.tuples(
        st.just("command"),
        st.sampled_from(["CLOSEPOSITION", "FLATTENEVERYTHING", "CANCELALLORDERS"]),
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    config=st.sampled_from(
        list(combinations("fill_pieces", "cancel_after_fills", "oco_partial_fill"))
    ),
    atm=st.booleans(),
    ops=st.lists(_OPS, max_size=14),
)
def test_book_invariants_hold_for_any_command_sequence(
    config: ServerSettings, atm: bool, ops: list[tuple]
) -> None:
    from fks_exec_ninja.testing.reference.book import Book
    from fks_exec_ninja.testing.reference.commands import CommandError, parse_command
    from fks_exec_ninja.testing.reference.orders import TERMINAL_STATES, OrderUpdate

    book = Book(config)
    tick, base = Decimal("0.25"), Decimal(6000)
    steps = []

    def run(text: str) -> None:
        with contextlib.suppress(CommandError):
            steps.extend(book.handle(parse_command(text)))

    for n, op in enumerate(ops):
        tpl = f"ATM1;AS{n}" if atm and n % 2 == 0 else ";"
        if op[0] == "market":
            run(f"PLACE;Sim101;{ES};{op[1]};{op[2]};MARKET;0;0;DAY;G{n % 3};O{n};{tpl}")
        elif op[0] == "limit":
            run(f"PLACE;Sim101;{ES};{op[1]};2;LIMIT;{base + op[2] * tick};0;GTC;;O{n};{tpl}")
        elif op[0] == "move":
            steps.extend(book.set_last(ES, base + op[1] * tick))
        elif op[0] == "cancel":
            run(f"CANCEL;;;;0;;0;0;;;O{op[1]};;")
        elif op[0] == "change":
            run(f"CHANGE;;;;{op[2]};;0;0;;;O{op[1]};;")
        else:
            run(f"{op[1]};Sim101;{ES};;0;;0;0;;;;;")
    finished: set[str] = set()
    for event in (e for step in steps for e in step):
        if isinstance(event, OrderUpdate):
            assert event.order_id not in finished, "an update after a terminal state"
            if event.status in TERMINAL_STATES:
                finished.add(event.order_id)
    orders = list(book.orders.values())
    assert all(0 <= o.filled <= o.quantity for o in orders)
    position = book.positions.get(("Sim101", ES))
    assert (position.quantity if position else 0) == sum(o.sign * o.filled for o in orders)


# ------------------------------------------------------------ value order and averages


def _one_fill_then_cancel() -> list[list[object]]:
    """The steps of an order part filled then cancelled (the book's own updates)."""
    from fks_exec_ninja.testing.reference.orders import OrderUpdate, ValueUpdate

    def update(status: str, filled: int, average: str, *changed: str) -> OrderUpdate:
        return OrderUpdate("X", status, filled, Decimal(average), frozenset(changed))

    return [
        [update("PartFilled", 1, "5", "OrderStatus", "Filled", "AvgFillPrice")],
        [ValueUpdate("MarketPosition|ES|Sim101", "1")],
        [update("CancelPending", 1, "5", "OrderStatus")],
        [update("Cancelled", 1, "5", "OrderStatus")],
    ]


def _keys(writes: list[tuple[float, bytes]]) -> list[str]:
    return [data.split(b"\0")[1].decode() for _, data in writes]


def test_value_orders_push_the_latest_of_each_key_in_order_reversed_or_shuffled() -> None:
    import random

    from fks_exec_ninja.testing.reference import ValueOrder
    from fks_exec_ninja.testing.reference.pushes import render_writes

    steps = _one_fill_then_cancel()
    happened = render_writes(steps, ServerSettings(step_interval_s=0.25), random.Random(0))
    assert [delay for delay, _ in happened] == [0.0, 0.25, 0.5, 0.75]  # one write per step
    latest = ServerSettings(value_order=ValueOrder.LATEST_IN_ORDER, step_interval_s=0.25)
    writes = render_writes(steps, latest, random.Random(0))
    order = ["Filled|X", "AvgFillPrice|X", "MarketPosition|ES|Sim101", "OrderStatus|X"]
    assert _keys(writes) == order and [d for d, _ in writes] == [0.0, 0.25, 0.5, 0.75]
    assert writes[-1][1] == b"2\0OrderStatus|X\0Cancelled\0"  # the latest value only
    reversed_ = latest.with_(value_order=ValueOrder.LATEST_REVERSED)
    assert _keys(render_writes(steps, reversed_, random.Random(0))) == order[::-1]
    shuffled = latest.with_(value_order=ValueOrder.LATEST_SHUFFLED)
    draws = {
        tuple(_keys(render_writes(steps, shuffled, random.Random(seed)))) for seed in range(20)
    }
    assert len(draws) > 1 and all(sorted(d) == sorted(order) for d in draws)


def test_an_average_lag_pushes_each_average_that_much_after_its_update() -> None:
    import random

    from fks_exec_ninja.testing.reference.pushes import render_writes

    settings = ServerSettings(step_interval_s=0.25, average_lag_s=0.375)
    writes = render_writes(_one_fill_then_cancel(), settings, random.Random(0))
    assert [(delay, _keys([(delay, data)])[0]) for delay, data in writes] == [
        (0.0, "OrderStatus|X"),
        (0.25, "MarketPosition|ES|Sim101"),
        (0.375, "AvgFillPrice|X"),
        (0.5, "OrderStatus|X"),
        (0.75, "OrderStatus|X"),
    ]
    assert b"Filled|X" in writes[0][1] and b"AvgFillPrice" not in writes[0][1]


def test_settings_refuse_a_negative_lag_or_slippage() -> None:
    for bad in ({"average_lag_s": -0.1}, {"piece_slippage_ticks": -1}):
        with pytest.raises(ValueError, match="must be >= 0"):
            ServerSettings(**bad)  # type: ignore[arg-type]


async def test_market_pieces_walk_the_book_limits_fill_at_their_price() -> None:
    settings = ServerSettings(fill_pieces=2, piece_slippage_ticks=4)
    async with ReferenceAtiServer(settings) as nt:
        es = settings.instruments[0].name
        book = nt.book
        for kind, price in (("MARKET", "0"), ("LIMIT", "6001")):
            from fks_exec_ninja.testing.reference.commands import parse_command

            book.handle(parse_command(f"PLACE;Sim101;{es};BUY;2;{kind};{price};0;GTC;;{kind};;"))
        assert nt.order("MARKET").avg_fill_price == Decimal("6000.75")  # type: ignore[union-attr]
        assert nt.order("LIMIT").avg_fill_price == Decimal("6000.25")  # type: ignore[union-attr]
