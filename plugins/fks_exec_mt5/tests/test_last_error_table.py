"""What each ``last_error()`` code says when ``order_send`` returns None, reviewed against
MetaQuotes' last_error page (https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py):
"not sent" only where the code's meaning proves nothing reached the terminal (a refusal
of the call itself, or no link at all); anything that can happen once the terminal has
the request is ``unknown``. Before, -1 (generic fail), -3 (no memory), -4 (no history)
and -5 (invalid version) said "not sent": an order the terminal had acted on was then
``rejected`` with ``sent=False``, and its id free to go again, a second fill."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fks_exec import BrokerUnavailable, Executor, Order, OrderStatus, PluginRegistry
from fks_exec.journal import MemoryJournal
from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5 import constants as c
from fks_exec_mt5.retcodes import LAST_ERRORS, Fate, last_error_of
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started

EXPECTED = {
    c.RES_E_FAIL: Fate.MAYBE_SENT,  # "generic fail": says nothing of where
    c.RES_E_INVALID_PARAMS: Fate.DENIED,  # the package refuses the arguments it is given
    c.RES_E_NO_MEMORY: Fate.MAYBE_SENT,  # may come while reading the answer
    c.RES_E_NOT_FOUND: Fate.MAYBE_SENT,  # "no history": no answer to order_send at all
    c.RES_E_INVALID_VERSION: Fate.MAYBE_SENT,  # the answer may be what was not understood
    c.RES_E_AUTH_FAILED: Fate.DENIED,  # the caller is not let in (the bridge: handshake)
    c.RES_E_UNSUPPORTED: Fate.DENIED,  # "unsupported method": the call is not there
    c.RES_E_AUTO_TRADING_DISABLED: Fate.DENIED,  # the terminal's own switch refuses it
    c.RES_E_INTERNAL_FAIL: Fate.MAYBE_SENT,  # "internal IPC general error"
    c.RES_E_INTERNAL_FAIL_SEND: Fate.UNAVAILABLE,  # the request never left whole
    c.RES_E_INTERNAL_FAIL_RECEIVE: Fate.MAYBE_SENT,  # it left; no answer came back
    c.RES_E_INTERNAL_FAIL_INIT: Fate.UNAVAILABLE,  # no link was ever made
    c.RES_E_INTERNAL_FAIL_CONNECT: Fate.UNAVAILABLE,  # "no ipc"
    c.RES_E_INTERNAL_FAIL_TIMEOUT: Fate.MAYBE_SENT,  # it left; the answer came too late
}


def test_the_table_says_not_sent_only_where_the_code_proves_it() -> None:
    assert {code: meaning.fate for code, meaning in LAST_ERRORS.items()} == EXPECTED
    for odd in (c.RES_S_OK, 0, 4756, -9, -10006):  # None beside success, MQL5 codes, new ones
        assert last_error_of(odd).fate is Fate.MAYBE_SENT


class ActsThenFails:
    """A terminal that acts on the next request and then answers None with ``code`` (the
    worst case a code allows: it may come after the order reached the server)."""

    def __init__(self, terminal: FakeMetaTrader5, code: int) -> None:
        self.terminal, self.code, self.armed = terminal, code, True
        self.error: tuple[int, str] | None = None
        self.sends = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terminal, name)

    def order_send(self, request: dict[str, Any]) -> Any:
        self.sends += 1
        if not self.armed:
            return self.terminal.order_send(request)
        self.armed = False
        self.terminal.order_send(request)
        self.error = (self.code, "failed")
        return None

    def last_error(self) -> tuple[int, str]:
        error, self.error = self.error, None
        return error if error is not None else self.terminal.last_error()


MAYBE = sorted(code for code, fate in EXPECTED.items() if fate is Fate.MAYBE_SENT)


@pytest.mark.parametrize("code", MAYBE)
async def test_a_code_after_which_the_order_may_have_gone_is_unknown_and_never_resent(
    code: int,
) -> None:
    terminal = FakeMetaTrader5.hedging()
    registry = PluginRegistry(discover=False)
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    registry.register("mt5", plugin)
    journal = MemoryJournal()
    executor = Executor(
        registry,
        default="mt5",
        configs={"mt5": {"magic": MAGIC}},
        journal=journal,
        reconcile_attempts=1,
        reconcile_delay_s=0,
    )
    async with executor as ex:
        await ex.health()  # started
        failing = ActsThenFails(terminal, code)
        plugin.session.mt5 = failing
        order = Order.market("EURUSD", "buy", "0.1")
        first = await ex.execute(order)
        assert first.status is not OrderStatus.REJECTED, first
        assert first.sent is not False, first
        entry = await journal.get(order.client_order_id)
        assert entry is not None and entry.state != "not_sent", entry
        again = await ex.execute(order)  # the same id: looked up, never sent again
        assert again.status is not OrderStatus.REJECTED, again
        assert failing.sends == 1
        assert terminal.net_volume("EURUSD", MAGIC) == Decimal("0.1")  # one fill, not two


@pytest.mark.parametrize("code", MAYBE)
async def test_a_maybe_sent_code_on_a_cancel_or_a_close_by_is_unknown(code: int) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", 1.05))
        plugin.session.mt5 = ActsThenFails(terminal, code)
        cancel = await plugin.cancel_order(str(placed.order_id))
        assert cancel.status is OrderStatus.UNKNOWN, cancel
        plugin.session.mt5 = terminal
        await plugin.close()
        plugin = await started(terminal)
        terminal.add_position("EURUSD", c.ORDER_TYPE_BUY, "0.2", magic=MAGIC)
        terminal.add_position("EURUSD", c.ORDER_TYPE_SELL, "0.2", magic=MAGIC)
        plugin.session.mt5 = ActsThenFails(terminal, code)
        (pair,) = await plugin.close_position("EURUSD")
        assert pair.status is OrderStatus.UNKNOWN and pair.sent is None, pair
    finally:
        await plugin.close()


@pytest.mark.parametrize(
    "code", sorted(code for code, fate in EXPECTED.items() if fate is not Fate.MAYBE_SENT)
)
async def test_a_code_that_proves_nothing_was_sent_lets_the_same_id_go_again(code: int) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        terminal.fail_next("order_send", code)  # the fake acts on nothing here
        order = Order.market("EURUSD", "buy", "0.1")
        if EXPECTED[code] is Fate.UNAVAILABLE:
            with pytest.raises(BrokerUnavailable, match="nothing was sent"):
                await plugin.execute_order(order)
        else:
            refused = await plugin.execute_order(order)
            assert refused.status is OrderStatus.REJECTED and refused.sent is False, refused
        again = await plugin.execute_order(order)
        assert again.status is OrderStatus.FILLED, again
    finally:
        await plugin.close()


@pytest.mark.parametrize(
    "code", [c.RES_E_FAIL, c.RES_E_INVALID_PARAMS, c.RES_E_INTERNAL_FAIL_TIMEOUT, -10004]
)
async def test_a_cancel_whose_order_lookup_failed_says_so_not_that_the_order_is_gone(
    code: int,
) -> None:
    """``orders_get`` None beside a failure code is a failed read, not "no such order":
    the cancel raises BrokerUnavailable (nothing was sent, try again), it does not answer
    that the order is filled or canceled while it may still be working."""
    terminal = FakeMetaTrader5.hedging()
    plugin = await started(terminal)
    try:
        placed = await plugin.execute_order(Order.limit("EURUSD", "buy", "0.1", 1.05))
        terminal.fail_next("orders_get", code)
        with pytest.raises(BrokerUnavailable, match="orders_get failed"):
            await plugin.cancel_order(str(placed.order_id))
        assert terminal.orders_get(ticket=int(placed.order_id or 0))  # still working
        canceled = await plugin.cancel_order(str(placed.order_id))
        assert canceled.status is OrderStatus.CANCELED, canceled
        terminal.fail_next("orders_get", c.RES_E_NOT_FOUND)  # "no history": none found
        missing = await plugin.cancel_order("123456")
        assert missing.status is OrderStatus.REJECTED and missing.sent is False, missing
        assert "no working order" in (missing.error or "")
    finally:
        await plugin.close()
