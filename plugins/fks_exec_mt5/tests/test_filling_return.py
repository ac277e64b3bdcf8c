"""A market order on a Market-execution symbol whose ``filling_mode`` flags neither FOK
nor IOC goes with ORDER_FILLING_RETURN, as the MQL5 reference allows (docs/plugins/mt5.md,
*Fill policy*): before, the plugin refused every market order there, ``close_position``
included. MetaQuotes' two texts disagree, so the reference fake has both readings
(``SymbolSpec.return_for_market_orders``) and the plugin is run under each: a server that
takes Return fills the order; one that follows the help page's table answers 10030, which
the caller gets as a broker rejection, nothing filled, the id final in the journal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Executor, Order, OrderStatus, OrderType, PluginRegistry
from fks_exec.journal import MemoryJournal
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.mapping import comment_for
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import Scripted

D = Decimal


def _no_flags(terminal: FakeMetaTrader5, *, takes_return: bool) -> None:
    terminal.update_symbol(
        "EURUSD",
        execution_mode=c.SYMBOL_TRADE_EXECUTION_MARKET,
        filling_flags=0,
        return_for_market_orders=takes_return,
    )


@pytest.mark.parametrize("account", ["netting", "hedging"])
async def test_a_position_on_a_symbol_without_fok_or_ioc_can_be_closed(account: str) -> None:
    terminal = getattr(FakeMetaTrader5, account)()
    plugin = await started(terminal)
    try:
        opened = await plugin.execute_order(Order.market("EURUSD", "buy", "0.5"))
        assert opened.status is OrderStatus.FILLED
        _no_flags(terminal, takes_return=True)
        plugin.session.forget_symbols()  # as after a reconnect or a 10030
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        (closed,) = await plugin.close_position("EURUSD")
        assert closed.status is OrderStatus.FILLED, closed
        assert closed.filled_quantity == D("0.5")
        assert [r["type_filling"] for r in scripted.sent] == [c.ORDER_FILLING_RETURN]
        assert terminal.net_volume("EURUSD", MAGIC) == 0
        again = await plugin.execute_order(Order.market("EURUSD", "sell", "0.2"))
        assert again.status is OrderStatus.FILLED, again
    finally:
        await plugin.close()


async def test_fok_or_ioc_is_still_preferred_when_the_symbol_flags_one() -> None:
    terminal = FakeMetaTrader5.netting()
    terminal.update_symbol("EURUSD", filling_flags=c.SYMBOL_FILLING_IOC)
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        filled = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1"))
        assert filled.status is OrderStatus.FILLED
        assert [r["type_filling"] for r in scripted.sent] == [c.ORDER_FILLING_IOC]
        # time_in_force fok asks for a flag the symbol lacks: refused, nothing sent
        fok = await plugin.execute_order(Order.market("EURUSD", "buy", "0.1", time_in_force="fok"))
        assert fok.status is OrderStatus.REJECTED and fok.sent is False, fok
        assert len(scripted.sent) == 1
    finally:
        await plugin.close()


async def test_a_server_that_refuses_return_gives_a_clear_rejection_and_a_final_id() -> None:
    terminal = FakeMetaTrader5.netting()
    registry = PluginRegistry(discover=False)
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    registry.register("mt5", plugin)
    journal = MemoryJournal()
    executor = Executor(registry, default="mt5", configs={"mt5": {"magic": MAGIC}}, journal=journal)
    async with executor as ex:
        opened = await ex.execute(Order.market("EURUSD", "buy", "0.5"))
        assert opened.status is OrderStatus.FILLED
        _no_flags(terminal, takes_return=False)  # the help page's table
        plugin.session.forget_symbols()
        scripted = Scripted(terminal)
        plugin.session.mt5 = scripted
        order = Order.market("EURUSD", "sell", "0.5", reduce_only=True)
        refused = await ex.execute(order)
        assert refused.status is OrderStatus.REJECTED, refused
        assert refused.sent is True  # the server answered: a broker rejection
        assert refused.error_code is ErrorCode.INVALID_ORDER
        assert refused.filled_quantity == 0
        assert "10030" in (refused.error or "") and "filling_mode" in (refused.error or "")
        assert [r["type_filling"] for r in scripted.sent] == [c.ORDER_FILLING_RETURN]
        assert terminal.net_volume("EURUSD", MAGIC) == D("0.5")  # nothing filled
        entry = await journal.get(order.client_order_id)
        assert entry is not None and entry.state == "final", entry
        # The same id is answered from the journal, never sent again (docs/journal.md):
        # a new order (a new id) is what may go once the broker takes a policy.
        repeat = await ex.execute(order)
        assert repeat.status is OrderStatus.REJECTED and len(scripted.sent) == 1
        assert terminal.order_arrivals().get(comment_for(order.client_order_id)) is None


@pytest.mark.parametrize(
    ("mode", "flags", "expected"),
    [
        (c.SYMBOL_TRADE_EXECUTION_MARKET, 0, (c.ORDER_FILLING_RETURN,)),
        (c.SYMBOL_TRADE_EXECUTION_MARKET, 3, (0, 1, c.ORDER_FILLING_RETURN)),
        (c.SYMBOL_TRADE_EXECUTION_EXCHANGE, 2, (1, c.ORDER_FILLING_RETURN)),
        (c.SYMBOL_TRADE_EXECUTION_INSTANT, 0, ()),
        (c.SYMBOL_TRADE_EXECUTION_REQUEST, 3, (0,)),
        # an execution mode MetaQuotes does not list: FOK/IOC as flagged, never Return
        # (the reference allows it for Market and Exchange execution only)
        (7, 3, (0, 1)),
        (7, 2, (1,)),
        (7, 0, ()),
    ],
)
def test_return_is_the_last_policy_of_a_market_order_on_market_and_exchange_only(
    mode: int, flags: int, expected: tuple[int, ...]
) -> None:
    from fks_exec_mt5.prechecks import SymbolRules, allowed_fillings

    from .test_mapping import info

    rules = SymbolRules.of(info(trade_exemode=mode, filling_mode=flags))
    assert allowed_fillings(rules, OrderType.MARKET) == expected
