"""The mock's matching passes: what one quote does when a fill creates more work.

A quote runs passes over the orders it reaches until one pass changes nothing. These
tests pin the cases that need a second pass (a bracket's exits, created by the entry's
fill in the first pass, reached by the same quote) and the mutation run found unchecked.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec import Order, OrderStatus
from fks_exec.mock import MockBroker

SYM = "X"


def test_an_exit_the_same_quote_reaches_fills_in_a_second_pass() -> None:
    broker = MockBroker(cash=10_000)
    broker.set_price(SYM, bid=100, ask=101)
    entry = broker.submit(Order.limit(SYM, "buy", 2, 99, stop_loss=95, take_profit=110))
    assert entry.status is OrderStatus.ACCEPTED
    fills = broker.set_price(SYM, bid=94, ask=95)  # fills the entry and reaches its stop
    assert [(f.client_order_id[-3:], f.side.value, f.price) for f in fills] == [
        (entry.client_order_id[-3:], "buy", Decimal(99)),  # rested: at its limit
        ("-sl", "sell", Decimal(94)),  # the triggered stop, at the bid
    ]
    assert broker.position(SYM) == 0
    take_profit = broker.order(f"{entry.order_id}-TP")
    assert take_profit.status is OrderStatus.CANCELED  # its OCO partner filled
    assert broker.open_orders == []
