"""The ninja plugin's order path (fks_exec_ninja.plugin) where the mutation run found it
untested: the words of a refusal, values that still disagree after the grace period,
the writes of orders placed at once, the names it remembers as checked.

docs/plugins/ninja.md, *Connection*: "An order placed while others are waiting for their
answers is written together with every other command of the same event-loop pass, in one
socket write at the end of that pass; an order alone goes out at once."
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, Order, OrderStatus
from fks_exec_ninja import NinjaPlugin
from fks_exec_ninja import plugin as plugin_module
from fks_exec_ninja.codec import SUBSCRIBE
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import InvalidCommand, ReferenceAtiServer, ServerSettings

from .ninja_helpers import ES, placing, running


async def test_a_refusal_before_sending_says_why_in_words() -> None:
    async with running() as (nt, plugin):
        fractional = await plugin.execute_order(Order.market("ES", "buy", "1.5"))
        # (the core's guard adds its own "; nothing was sent" to the plugin's words)
        assert (fractional.error or "").startswith(
            "NinjaTrader takes whole quantities, got 1.5; nothing was sent"
        )
        ioc = await plugin.execute_order(Order.limit("ES", "buy", 1, "5900", time_in_force="ioc"))
        assert (ioc.error or "").startswith("the AT Interface takes DAY or GTC orders only")
        assert nt.commands == []


_STILL_DISAGREE = (("OrderStatus", "Filled"), ("Filled", "2"), ("AvgFillPrice", "70.5"))
_STALE_AVERAGE = (  # a second fill whose average never comes
    ("OrderStatus", "PartFilled"),
    ("Filled", "1"),
    ("AvgFillPrice", "70.5"),
    ("Filled", "3"),
    ("OrderStatus", "Filled"),
)


@pytest.mark.parametrize(
    ("pushed", "status", "warned"),
    [(_STILL_DISAGREE, OrderStatus.UNKNOWN, True), (_STALE_AVERAGE, OrderStatus.UNKNOWN, True)],
    ids=["still-disagree", "stale-average"],
)
async def test_what_the_grace_period_ends_in(
    pushed: tuple[tuple[str, str], ...],
    status: OrderStatus,
    warned: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server ignores the PLACE (an instrument it does not know); values are pushed
    by hand and stay so past ``fill_agreement_s``. Filled 2 of 3 is still a
    disagreement: ``unknown``, with a warning. A second fill whose average never came
    after it: the last average pushed may be the first fill's, so ``unknown`` too, with
    a warning -- never a definite fill at it (docs/plugins/ninja.md, The answer)."""
    server = ServerSettings(invalid_command=InvalidCommand.IGNORE)
    async with running(server, order_timeout_s=30, fill_agreement_s=0.05) as (nt, plugin):
        order_id, pending = await placing(nt, plugin, Order.market("CL 01-27", "buy", 3))
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            for kind, value in pushed:
                nt.push_value(f"{kind}|{order_id}", value)
            result = await asyncio.wait_for(pending, 5)
        assert (result.status, result.sent) == (status, True), result
        assert result.error_code is ErrorCode.UNKNOWN and result.filled_quantity == 0
        why = "disagree" if pushed is _STILL_DISAGREE else "no average price after it"
        assert why in (result.error or "") and result.average_price is None
        assert any(order_id in r.getMessage() for r in caplog.records) is warned, caplog.records


async def test_an_order_timing_out_on_values_that_disagree_answers_unknown_unwarned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not final when ``order_timeout_s`` ends (a fill without its price): ``unknown``
    from the values, as a timeout is -- no grace ran, so nothing to warn of."""
    server = ServerSettings(invalid_command=InvalidCommand.IGNORE)
    async with running(server, order_timeout_s=0.2, fill_agreement_s=0.05) as (nt, plugin):
        order_id, pending = await placing(nt, plugin, Order.market("CL 01-27", "buy", 3))
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            nt.push_value(f"OrderStatus|{order_id}", "PartFilled")
            nt.push_value(f"Filled|{order_id}", "1")
            result = await asyncio.wait_for(pending, 5)
        assert (result.status, result.sent) == (OrderStatus.UNKNOWN, True)
        assert not any(order_id in r.getMessage() for r in caplog.records), caplog.records


async def test_of_orders_placed_at_once_the_first_goes_alone_the_rest_in_one_write() -> None:
    async with running() as (_, plugin):
        writer = plugin.ati._writer
        assert writer is not None
        writes: list[bytes] = []
        write = writer.write
        writer.write = lambda data: (writes.append(bytes(data)), write(data))[1]  # type: ignore[method-assign]
        orders = [Order.limit("ES", "buy", 1, "5000") for _ in range(3)]
        results = await asyncio.gather(*(plugin.execute_order(o) for o in orders))
        assert [r.status for r in results] == [OrderStatus.ACCEPTED] * 3
        assert [w.count(b"PLACE;") for w in writes] == [1, 2]


async def test_checked_names_are_remembered_up_to_a_thousand_and_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Names are checked once, then remembered: at most 1,001 (the account and 1,000
    instruments here); one more clears them, so a name is checked again after it."""
    checked: list[str] = []
    real = plugin_module.check_name

    def counting(kind: str, name: str) -> Any:
        checked.append(name)
        return real(kind, name)

    monkeypatch.setattr(plugin_module, "check_name", counting)
    async with running() as (nt, plugin):
        nt.set_ati(False)  # every order stops after its names: nothing is sent
        await nt.wait_until(lambda: plugin.ati.values.get("ATI") == "False")

        async def place(instrument: str) -> None:
            with pytest.raises(BrokerUnavailable, match="AT Interface is not up"):
                await plugin.execute_order(Order.market(instrument, "buy", 1))

        for n in range(1, 1001):
            await place(f"S{n}")
        assert len(checked) == 2000
        await place("S1")  # remembered: the account and 1,000 instruments
        assert len(checked) == 2000
        await place("S1001")  # one more: the memory starts again
        await place("S2")
        assert checked[2000:] == ["Sim101", "S1001", "Sim101", "S2"]
        assert nt.commands == []


async def test_the_values_kept_are_four_per_tracked_order_and_ten_thousand() -> None:
    """docs/plugins/ninja.md, max_tracked_orders: the pushed values kept are bounded to 4
    per tracked order + 10,000, the oldest order values forgotten first."""
    async with running(max_tracked_orders=100) as (nt, plugin):
        values = plugin.ati.values
        others = len(values)  # ATI, the accounts' values: never forgotten
        for n in range(10_500):
            nt.push_value(f"OrderStatus|X{n}", "Working")
        await nt.wait_until(lambda: "OrderStatus|X10499" in values)
        assert len(values) == 100 * 4 + 10_000
        kept = [key for key in values if key.startswith("OrderStatus|X")]
        assert len(kept) == 10_400 - others and kept[0] == f"OrderStatus|X{100 + others}"
        assert values.get("ATI") == "True"


async def test_close_unsubscribes_the_quotes_it_subscribed() -> None:
    lines: list[str] = []
    async with ReferenceAtiServer() as nt:
        plugin = NinjaPlugin(transcript=lines)
        plugin.use_env = False
        await plugin.init({"port": nt.port, "symbols": {"ES": ES}, "order_timeout_s": 2})
        assert (await plugin.fetch_data("ES")).bid is not None
        assert lines.count(f">> {SUBSCRIBE} {ES} | 1") == 1
        await plugin.close()
        assert lines[-1] == f">> {SUBSCRIBE} {ES} | 0"


async def test_a_socket_closing_under_the_plugin_fails_nothing_it_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The socket is closing, and the plugin has not yet seen it (still connected): an
    order is BrokerUnavailable with nothing written, and close() ends quietly."""
    async with running() as (nt, plugin):
        assert (await plugin.fetch_data("ES")).bid is not None  # a quote to unsubscribe
        writer = plugin.ati._writer
        assert writer is not None
        writer.close()
        assert plugin.ati.connected
        bracket = Order.market("ES", "buy", 1, stop_loss="4000", take_profit="9000")
        with pytest.raises(BrokerUnavailable):
            await plugin.execute_order(bracket)
        with caplog.at_level(logging.WARNING, logger="fks_exec.plugins.ninja"):
            await plugin.close()
        assert not any("close failed" in r.getMessage() for r in caplog.records)
        assert plugin.connection is None and not places_in(nt)


def places_in(nt: ReferenceAtiServer) -> list[str]:
    return [c.text for c in nt.commands if c.text.startswith("PLACE;")]


async def test_the_oldest_orders_are_forgotten_first() -> None:
    """docs/plugins/ninja.md, max_tracked_orders: "orders this process remembers (oldest
    forgotten first)"."""
    async with running(max_tracked_orders=100) as (_, plugin):
        orders = [Order.limit("ES", "buy", 1, "5000") for _ in range(101)]
        for order in orders:
            assert (await plugin.execute_order(order)).status is OrderStatus.ACCEPTED
        kept = [order_id_for(o.client_order_id) for o in orders[1:]]
        assert list(plugin._orders) == kept


@pytest.mark.parametrize("exit_", ["stop_loss", "take_profit"])
async def test_one_exit_alone_makes_a_bracket(exit_: str) -> None:
    price = {"stop_loss": "4000", "take_profit": "9000"}[exit_]
    async with running(strategy="ATM1") as (nt, plugin):
        refused = await plugin.execute_order(Order.market("ES", "buy", 1, **{exit_: price}))
        assert refused.sent is False and "ATM strategy template" in (refused.error or "")
        assert nt.commands == []
