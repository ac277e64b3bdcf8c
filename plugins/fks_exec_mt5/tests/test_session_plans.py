"""The session's plans at their edges: the history window in server time, tick stamps,
positions by symbol, volume limits on netting reversals and reductions, legs after a
refused one, pending orders and requotes, close-by pairing, close-only symbols.
Each test was first checked against the mutant of session.py it exists for."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from fks_exec import Order, OrderStatus
from fks_exec.errors import OrderDenied
from fks_exec.kit import BadBrokerNumber
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.session import Mt5Session, retcode_or_none

from .conftest import MAGIC
from .scripted import IPC_DOWN, Record, Scripted, changed, hedged_pair, requote

D = Decimal


# --------------------------------------------------------------------------- history window

NOW_S = 1_700_000_000.75


@pytest.mark.parametrize(
    ("offset_minutes", "days", "expected"),
    [
        (120, 7, (1_700_000_000 + 7_200 - 7 * 86_400, 1_700_000_000 + 7_200 + 86_400)),
        (-300, 2, (1_700_000_000 - 18_000 - 2 * 86_400, 1_700_000_000 - 18_000 + 86_400)),
        # offset not known yet: 14 hours of slack either way (the widest zone)
        (None, 3, (1_700_000_000 - 3 * 86_400 - 50_400, 1_700_000_000 + 86_400 + 50_400)),
    ],
)
def test_the_history_window_covers_the_days_asked_until_tomorrow_in_server_time(
    monkeypatch: pytest.MonkeyPatch,
    offset_minutes: int | None,
    days: int,
    expected: tuple[int, int],
) -> None:
    import fks_exec_mt5.session_reads as session_module
    from fks_exec_mt5.config import Mt5Config

    monkeypatch.setattr(session_module, "time", SimpleNamespace(time=lambda: NOW_S))
    config = Mt5Config(server_utc_offset_minutes=offset_minutes, history_days=days)
    session = Mt5Session(None, config, magic=1, hedging=False, fifo=False)
    assert session.history_window() == expected


# --------------------------------------------------------------------------- tick stamps


@pytest.mark.parametrize(
    ("stamp", "named"),
    [(32_503_680_000_000, "is not a time"), (-1, "is negative"), (2.5, "not an integer")],
)
def test_a_tick_stamp_that_is_not_a_time_is_refused(
    hedged: tuple[Mt5Plugin, Scripted], stamp: Any, named: str
) -> None:
    plugin, scripted = hedged
    scripted.then("symbol_info_tick", changed(time_msc=stamp))
    with pytest.raises(BadBrokerNumber, match=f"tick EURUSD time_msc.*{named}"):
        plugin.session.tick("EURUSD")
    assert plugin.session.tick("EURUSD").time_msc > 0  # the next, sound tick is read


# --------------------------------------------------------------------------- positions by symbol


def test_the_positions_of_one_symbol_are_only_that_symbols(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    hedged_pair(scripted.terminal)
    assert {t.symbol for t in plugin.session.tickets("EURUSD")} == {"EURUSD"}
    assert plugin.session.tickets("XAUUSD") == []
    assert len(plugin.session.tickets()) == 2


# --------------------------------------------------------------------------- volume limit


async def _netting_long(plugin: Mt5Plugin, lots: str) -> None:
    opened = await plugin.execute_order(Order.market("EURUSD", "buy", lots))
    assert opened.status is OrderStatus.FILLED


@pytest.mark.parametrize(("limit", "allowed"), [("0.3", True), ("0.1", False)])
async def test_a_netting_reversal_counts_only_the_lots_beyond_the_position(
    netted: tuple[Mt5Plugin, Scripted], limit: str, allowed: bool
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", volume_limit=D(limit))
    plugin.session.forget_symbols()
    reversal = Order.market("EURUSD", "sell", "0.5")  # opens 0.2 short
    if allowed:
        assert retcode_or_none(plugin.session.place(reversal).answers[0].sent) == 10009
        assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("-0.2")
    else:
        with pytest.raises(OrderDenied, match="volume_limit"):
            plugin.session.place(reversal)
        assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.3")


async def test_a_netting_reduction_never_reads_the_volume_limit(
    netted: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", volume_limit=D("0.1"))
    plugin.session.forget_symbols()
    scripted.terminal.fail_next("orders_get", IPC_DOWN)  # a read would fail the order
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.2"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_DONE
    assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.1")


@pytest.mark.parametrize("account", ["hedging", "netting"])
def test_no_volume_limit_means_no_orders_read(account: str, request: pytest.FixtureRequest) -> None:
    plugin, scripted = request.getfixturevalue("hedged" if account == "hedging" else "netted")
    scripted.terminal.fail_next("orders_get", IPC_DOWN)  # a read would fail the order
    placed = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_DONE


def test_a_volume_limit_of_half_a_lot_is_checked(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    scripted.terminal.update_symbol("EURUSD", volume_limit=D("0.5"))
    plugin.session.forget_symbols()
    with pytest.raises(OrderDenied, match="volume_limit"):
        plugin.session.place(Order.market("EURUSD", "buy", "0.6"))
    assert not scripted.sent


# --------------------------------------------------------------------------- legs and resends


async def test_after_a_refused_leg_no_later_leg_is_sent(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    for _ in range(2):
        opened = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert opened.status is OrderStatus.FILLED
    sent = len(scripted.sent)
    refused = Record({"retcode": c.TRADE_RETCODE_REJECT, "comment": "Request rejected"})
    scripted.then("order_send", lambda real, request: refused)
    placed = plugin.session.place(Order.market("EURUSD", "sell", "0.2"))  # two legs planned
    assert [a.sent for a in placed.answers] == [refused]
    assert len(scripted.sent) == sent + 1
    assert scripted.terminal.net_volume("EURUSD", MAGIC) == D("0.2")


def test_a_pending_order_is_never_resent_at_a_new_price(hedged: tuple[Mt5Plugin, Scripted]) -> None:
    plugin, scripted = hedged
    scripted.then("order_send", requote)
    placed = plugin.session.place(Order.limit("EURUSD", "buy", "0.1", D("1.05")))
    assert retcode_or_none(placed.answers[0].sent) == c.TRADE_RETCODE_REQUOTE
    assert [r["price"] for r in scripted.sent] == [1.05]


# --------------------------------------------------------------------------- close-by order


def test_close_by_needs_both_sides_and_pairs_the_oldest_first(
    hedged: tuple[Mt5Plugin, Scripted],
) -> None:
    plugin, scripted = hedged
    terminal = scripted.terminal
    hedged_pair(terminal)  # long A, short B
    hedged_pair(terminal)  # long C, short D
    hedged_pair(terminal)  # long E, short F
    tickets = plugin.session.tickets("EURUSD")
    longs = [t.ticket for t in tickets if t.buy]
    done = plugin.session.close_pairs("EURUSD", "pair")
    assert len(done) == 3 and not plugin.session.tickets("EURUSD")
    first_pair = {done[0][0].ticket, done[0][1].ticket}
    assert longs[0] in first_pair and min(t.ticket for t in tickets if not t.buy) in first_pair
    opened = plugin.session.place(Order.market("EURUSD", "buy", "0.1"))
    assert retcode_or_none(opened.answers[0].sent) == c.TRADE_RETCODE_DONE
    assert plugin.session.close_pairs("EURUSD", "pair") == []  # a long alone: nothing to pair


@pytest.mark.parametrize(("lots", "allowed"), [("0.2", True), ("0.3", True), ("0.5", False)])
async def test_a_close_only_symbol_takes_a_netting_reduction_but_not_a_reversal(
    netted: tuple[Mt5Plugin, Scripted], lots: str, allowed: bool
) -> None:
    plugin, scripted = netted
    await _netting_long(plugin, "0.3")
    scripted.terminal.update_symbol("EURUSD", trade_mode=c.SYMBOL_TRADE_MODE_CLOSEONLY)
    plugin.session.forget_symbols()
    order = Order.market("EURUSD", "sell", lots)
    if allowed:
        assert retcode_or_none(plugin.session.place(order).answers[0].sent) == 10009
    else:
        with pytest.raises(OrderDenied, match="close-only"):
            plugin.session.place(order)
