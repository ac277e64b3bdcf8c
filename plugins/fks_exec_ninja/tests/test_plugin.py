"""The plugin against the reference ATI server: commands as the DLL writes them, refusals
before sending, accounts, brackets, final states, reads, closing, the check command."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderDenied, OrderStatus
from fks_exec_ninja.check import front_month
from fks_exec_ninja.check import main as check_main
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import (
    InvalidCommand,
    OrderFate,
    ReferenceAtiServer,
    Repetition,
    ServerSettings,
    combinations,
)

from .ninja_helpers import ES, running


def places(nt: ReferenceAtiServer) -> list[list[str]]:
    return [c.text.split(";") for c in nt.commands if c.text.startswith("PLACE;")]


async def test_place_commands_as_the_dll_writes_them() -> None:
    async with running() as (nt, plugin):
        market = Order.market("ES", "buy", 2)
        result = await plugin.execute_order(market)
        assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, 2)
        order_id = order_id_for(market.client_order_id)
        assert nt.commands[-1].text == f"PLACE;Sim101;{ES};BUY;2;MARKET;0;0;GTC;;{order_id};;"
        await plugin.execute_order(Order.limit("ES", "sell", 1, "6100.5", time_in_force="day"))
        assert places(nt)[-1][3:9] == ["SELL", "1", "LIMIT", "6100.5", "0", "DAY"]
        await plugin.execute_order(Order.stop("ES", "sell", 1, "5900"))
        assert places(nt)[-1][5:8] == ["STOPMARKET", "0", "5900"]
        await plugin.execute_order(Order.stop_limit("ES", "buy", 1, stop_price=6050, price=6051))
        assert places(nt)[-1][5:8] == ["STOPLIMIT", "6051", "6050"]
        assert all(c.outcome == "done" for c in nt.commands)
        assert nt.confirm_orders == []  # NinjaTrader's global setting left alone


@pytest.mark.parametrize("symbol", ["ES;Sim101", "ES\x00", "Ésar", "ES|X", "ES\t1"], ids=repr)
async def test_symbols_the_ati_cannot_carry_are_refused_before_sending(symbol: str) -> None:
    async with running(symbols={"X": symbol}) as (nt, plugin):  # the map may hold anything
        result = await plugin.execute_order(Order.market("X", "buy", 1))
        assert (result.status, result.sent, result.error_code) == (
            OrderStatus.REJECTED,
            False,
            ErrorCode.INVALID_ORDER,
        )
        assert nt.commands == []
        if symbol.isprintable() and "\x00" not in symbol:
            direct = await plugin.execute_order(Order.market(symbol, "buy", 1))
            assert direct.sent is False and nt.commands == []
        account = await plugin.execute_order(Order.market("ES", "buy", 1, account="Sim;1"))
        assert account.sent is False and nt.commands == []


async def test_other_refusals_before_sending() -> None:
    async with running(strategy="ATM1") as (nt, plugin):
        fractional = await plugin.execute_order(Order.market("ES", "buy", "1.5"))
        assert (fractional.error_code, fractional.sent) == (ErrorCode.INVALID_ORDER, False)
        ioc = await plugin.execute_order(Order.limit("ES", "buy", 1, "5900", time_in_force="ioc"))
        assert (ioc.error_code, ioc.sent) == (ErrorCode.NOT_SUPPORTED, False)
        both = Order.market("ES", "buy", 1, stop_loss="5900", take_profit="6100")
        refused = await plugin.execute_order(both)  # the ATM template places its own exits
        assert refused.sent is False and "ATM" in (refused.error or "")
        assert nt.commands == []
        plain = await plugin.execute_order(Order.market("ES", "buy", 1))
        assert plain.status is OrderStatus.FILLED and places(nt)[-1][11] == "ATM1"


async def test_broker_rejections_keep_sent_true() -> None:
    async with running() as (_nt, plugin):
        unknown = await plugin.execute_order(Order.market("CL 01-27", "buy", 1))
        assert (unknown.status, unknown.error_code, unknown.sent) == (
            OrderStatus.REJECTED,
            ErrorCode.REJECTED,
            True,
        )


async def test_the_order_account_is_the_place_account() -> None:
    async with running() as (nt, plugin):
        result = await plugin.execute_order(Order.market("ES", "buy", 1, account="Playback101"))
        assert result.status is OrderStatus.FILLED
        assert places(nt)[-1][1] == "Playback101"
        assert nt.position("Playback101", ES) == 1 and nt.position("Sim101", ES) == 0


async def test_unknown_is_final() -> None:
    async with running(ServerSettings(fate=OrderFate.UNKNOWN), order_timeout_s=30) as (_, plugin):
        result = await asyncio.wait_for(plugin.execute_order(Order.market("ES", "buy", 1)), 5)
        assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
        assert "Unknown" in (result.error or "")


async def test_an_unanswered_place_says_it_was_written_and_what_to_do() -> None:
    settings = ServerSettings(invalid_command=InvalidCommand.IGNORE)  # nothing pushed back
    async with running(settings, order_timeout_s=0.2) as (nt, plugin):
        order = Order.market("CL 01-27", "buy", 1)  # not an instrument the server knows
        result = await asyncio.wait_for(plugin.execute_order(order), 5)
        assert (result.status, result.sent, result.error_code) == (
            OrderStatus.UNKNOWN,
            None,  # written is not proof that NinjaTrader has it
            ErrorCode.TIMEOUT,
        )
        order_id = order_id_for(order.client_order_id)
        assert places(nt)[-1][10] == order_id
        error = result.error or ""
        assert f"PLACE of order id {order_id} was written" in error
        assert "0.2s" in error and "get_order" in error and "never send it again" in error


async def test_a_rejected_fate_is_rejected() -> None:
    async with running(ServerSettings(fate=OrderFate.REJECT)) as (_, plugin):
        result = await plugin.execute_order(Order.market("ES", "buy", 1))
        assert (result.status, result.sent) == (OrderStatus.REJECTED, True)


def exits(nt: ReferenceAtiServer, entry: Order) -> list[object]:
    ids = [order_id_for(entry.client_order_id, s) for s in ("-sl", "-tp")]
    return [o for o in (nt.order(i) for i in ids) if o is not None]


async def test_brackets_partial_entry_fill_then_cancel_keeps_exits_for_what_filled() -> None:
    server = ServerSettings(fill_pieces=2, cancel_after_fills=1)
    async with running(server) as (nt, plugin):
        entry = Order.market("ES", "buy", 2, stop_loss="5900", take_profit="6100")
        result = await plugin.execute_order(entry)
        assert (result.status, result.filled_quantity) == (OrderStatus.CANCELED, 1)
        await nt.wait_until(lambda: len(exits(nt, entry)) == 2)
        stop, target = exits(nt, entry)
        assert (stop.order_type, stop.quantity, stop.stop_price) == ("STOPMARKET", 1, 5900)
        assert (target.order_type, target.quantity, target.limit_price) == ("LIMIT", 1, 6100)
        assert stop.oco == target.oco != "" and stop.action == target.action == "SELL"
        assert all(p[11] == "" for p in places(nt))  # no ATM template anywhere


@pytest.mark.parametrize(
    "server",
    list(combinations("repetition", base=ServerSettings(fill_pieces=3, step_interval_s=0.1))),
    ids=lambda s: s.repetition.value,
)
async def test_bracket_exits_grow_with_each_fill(server: ServerSettings) -> None:
    """Fills pushed 0.1 s apart: the exits are placed at the first, then grown with a
    CHANGE each for every later read that brought a fill (a loaded machine may read two
    pieces at once: then the exits grow by both in one CHANGE)."""
    async with running(server) as (nt, plugin):
        entry = Order.limit("ES", "buy", 3, "5990", stop_loss="5900", take_profit="6100")
        assert (await plugin.execute_order(entry)).status is OrderStatus.ACCEPTED
        assert exits(nt, entry) == []  # nothing to protect before a fill
        nt.set_last_price(ES, Decimal("5989"))
        await nt.wait_until(lambda: [getattr(o, "quantity", 0) for o in exits(nt, entry)] == [3, 3])
        first = [c.text.split(";")[4] for c in nt.commands if c.text.startswith("PLACE;")][1:]
        assert first[0] == first[1] != "3"  # placed for the first fill
        changes = [c for c in nt.commands if c.text.startswith("CHANGE;")]
        assert len(changes) in (2, 4) and all(c.outcome == "done" for c in changes)
        assert changes[-1].text.split(";")[4] == changes[-2].text.split(";")[4] == "3"
        nt.set_last_price(ES, Decimal("6100"))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0)
        assert [o.state for o in exits(nt, entry)] == ["Cancelled", "Filled"]


async def test_bracket_fills_read_together_size_the_exits_at_once() -> None:
    """Fill pieces that come in one read: the exits are placed for what filled by the
    end of that read, with no CHANGE for the pieces in between."""
    async with running(ServerSettings(fill_pieces=3)) as (nt, plugin):
        entry = Order.limit("ES", "buy", 3, "5990", stop_loss="5900", take_profit="6100")
        assert (await plugin.execute_order(entry)).status is OrderStatus.ACCEPTED
        nt.set_last_price(ES, Decimal("5989"))
        await nt.wait_until(lambda: [getattr(o, "quantity", 0) for o in exits(nt, entry)] == [3, 3])
        assert [c.text.split(";")[4] for c in nt.commands if c.text.startswith("PLACE;")] == [
            "3",
            "3",
            "3",
        ]
        assert not [c for c in nt.commands if c.text.startswith("CHANGE;")]


async def test_cancel_get_order_positions_close_and_data() -> None:
    async with running() as (nt, plugin):
        resting = Order.limit("ES", "buy", 1, "5000")
        placed = await plugin.execute_order(resting)
        found = await plugin.get_order(resting.client_order_id)
        assert found is not None and found.status is OrderStatus.ACCEPTED
        canceled = await plugin.cancel_order(placed.order_id or "")
        assert canceled.status is OrderStatus.CANCELED
        assert nt.commands[-1].text.split(";")[0] == "CANCEL"
        again = await plugin.cancel_order(placed.order_id or "")
        assert (again.status, again.sent) == (OrderStatus.REJECTED, False)
        await plugin.execute_order(Order.market("ES", "sell", 3))
        (position,) = await plugin.positions()
        assert (position.symbol, position.quantity) == ("ES", Decimal(-3))
        assert position.average_price == nt.book.quotes(ES)[1]  # sold at the bid
        partial = await plugin.close_position("ES", Decimal(1))
        assert [r.status for r in partial] == [OrderStatus.FILLED]
        assert places(nt)[-1][3:5] == ["BUY", "1"]
        await nt.wait_until(lambda: nt.position("Sim101", ES) == -2)
        (closed,) = await plugin.close_position("ES", Decimal(10))  # never more than held
        assert (closed.status, closed.filled_quantity, closed.side) == (
            OrderStatus.FILLED,
            2,
            "buy",
        )
        assert nt.commands[-1].text.startswith(f"CLOSEPOSITION;Sim101;{ES};")
        assert await plugin.positions() == []
        assert await plugin.close_position("ES") == []  # nothing to close: nothing sent
        assert not any(c.text.startswith(("CANCELALLORDERS", "FLATTEN")) for c in nt.commands)
        quote = await plugin.fetch_data("ES")
        assert quote.bid is not None and quote.ask is not None and quote.ask > quote.bid


async def test_closing_a_long_position_whole_reports_the_closing_fill() -> None:
    async with running() as (nt, plugin):
        await plugin.execute_order(Order.market("ES", "buy", 2))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2)
        _ask, bid, _last = nt.book.quotes(ES)  # a market sell fills at the bid
        (closed,) = await plugin.close_position("ES", Decimal(2))  # all of it: CLOSEPOSITION
        assert nt.commands[-1].text.startswith(f"CLOSEPOSITION;Sim101;{ES};")
        assert not [p for p in places(nt) if p[3] == "SELL"]
        assert (closed.status, closed.side, closed.sent) == (OrderStatus.FILLED, "sell", True)
        assert (closed.filled_quantity, closed.average_price) == (2, bid)
        assert nt.position("Sim101", ES) == 0


async def test_a_part_smaller_than_one_contract_is_denied_and_nothing_is_sent() -> None:
    async with running() as (nt, plugin):
        await plugin.execute_order(Order.market("ES", "buy", 2))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2)
        sent = len(nt.commands)
        with pytest.raises(OrderDenied, match="whole contracts"):
            await plugin.close_position("ES", Decimal("0.5"))
        (part,) = await plugin.close_position("ES", Decimal("1.7"))  # whole contracts only
        assert places(nt)[-1][3:5] == ["SELL", "1"]
        assert part.status is OrderStatus.FILLED
        assert not [c for c in nt.commands[sent:] if c.text.startswith("CLOSEPOSITION")]


async def test_health_and_paper_say_what_they_checked() -> None:
    async with running() as (nt, plugin):
        health = await plugin.health_check()
        assert health.healthy and "ATI True" in health.detail and "Sim101" in health.detail
        assert plugin.is_paper
        nt.set_ati(False)  # AT Interface turned off in NinjaTrader: no order could go
        await nt.wait_until(lambda: not plugin.ati.ati_up)
        health = await plugin.health_check()
        assert not health.healthy and "ATI is not True" in health.detail
        nt.set_ati(True)
        await nt.wait_until(lambda: plugin.ati.ati_up)
        assert (await plugin.health_check()).healthy
        nt.disconnect()
        await nt.wait_until(lambda: not plugin.ati.connected)
        health = await plugin.health_check()
        assert not health.healthy and "not connected" in health.detail
    async with running(account="LX-4402917") as (_nt, live):
        assert not live.is_paper


@pytest.mark.parametrize("confirm", [True, False])
async def test_confirm_orders_only_when_asked(confirm: bool) -> None:
    async with running(confirm_orders=confirm) as (nt, _plugin):
        assert nt.confirm_orders == [int(confirm)]


async def test_orders_are_bounded_in_memory() -> None:
    server = ServerSettings(repetition=Repetition.CHANGED_ONLY)
    async with running(server, max_tracked_orders=100) as (_nt, plugin):
        for _ in range(150):
            await plugin.execute_order(Order.limit("ES", "buy", 1, "5000"))
        assert len(plugin._orders) == 100


def test_the_default_check_instrument_is_not_expired() -> None:
    import datetime as dt

    assert front_month("ES", dt.date(2025, 12, 10)) == "ES 12-25"
    assert front_month("ES", dt.date(2025, 12, 11)) == "ES 03-26"  # 8 days before expiry
    assert front_month("ES", dt.date(2026, 12, 25)) == "ES 03-27"


def test_check_against_the_reference_server() -> None:
    async def run() -> tuple[int, str]:
        async with ReferenceAtiServer() as server:
            out = io.StringIO()
            loop = asyncio.get_running_loop()
            code = await loop.run_in_executor(None, check_main, ["--port", str(server.port)], out)
            return code, out.getvalue()

    code, text = asyncio.run(run())
    assert code == 0, text
    assert f"PLACE buy 1 {ES} LIMIT" in text and "CANCEL: canceled" in text
    assert "<< Message(type='2', fields=('ATI', 'True'))" in text and text.endswith("PASS\n")


async def test_orders_placed_at_once_share_writes_and_each_gets_its_own_answer() -> None:
    async with running() as (nt, plugin):
        writer = plugin.ati._writer
        assert writer is not None
        writes: list[bytes] = []
        write = writer.write
        writer.write = lambda data: (writes.append(bytes(data)), write(data))[1]  # type: ignore[method-assign]
        orders = [Order.limit("ES", "buy", n + 1, "5000") for n in range(40)]
        orders.append(Order.market("ES", "sell", 3))
        results = await asyncio.gather(*(plugin.execute_order(o) for o in orders))
        assert [r.status for r in results] == [OrderStatus.ACCEPTED] * 40 + [OrderStatus.FILLED]
        assert [r.client_order_id for r in results] == [o.client_order_id for o in orders]
        assert results[-1].filled_quantity == 3
        assert 1 < len(writes) < 10  # the first at once, the rest gathered
        sent = b"".join(writes).split(b"\x00")
        ids = [order_id_for(o.client_order_id) for o in orders]
        assert [field.split(b";")[10].decode() for field in sent[1::2]] == ids  # in order
        assert [p[10] for p in places(nt)] == ids


@pytest.mark.parametrize("name", ["Ätm 2 targets", "ATM;2", "ATM|2", "ATM\t2"])
async def test_an_atm_template_the_wire_cannot_carry_is_refused_at_init(name: str) -> None:
    from fks_exec import ConfigurationError
    from fks_exec_ninja.plugin import NinjaPlugin

    plugin = NinjaPlugin()
    plugin.use_env = False
    with pytest.raises(ConfigurationError, match="cannot be sent over the AT Interface"):
        await plugin.init({"strategy": name, "port": 1})


def test_a_plain_atm_template_name_is_kept() -> None:
    from fks_exec_ninja.config import NinjaConfig

    assert NinjaConfig(strategy="ATM 2 targets (ES)").strategy == "ATM 2 targets (ES)"
