"""The plugin passes no ``Order.params`` to MetaTrader 5: an order with any is refused
before sending (outside review, 2026-12-04: ``type_time``/``expiration`` and
``deviation`` were dropped without a word, so an order meant to expire never did)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import started
from .scripted import Scripted


@pytest.mark.parametrize(
    "order",
    [
        Order.limit(
            "EURUSD",
            "buy",
            "0.1",
            Decimal("1.0950"),
            params={"type_time": 2, "expiration": 1_900_000_000},
        ),
        Order.market("EURUSD", "buy", "0.1", params={"deviation": 2}),
    ],
)
async def test_an_order_with_params_is_refused_and_nothing_reaches_the_terminal(
    order: Order,
) -> None:
    terminal = FakeMetaTrader5.netting()
    plugin = await started(terminal)
    scripted = Scripted(terminal)
    plugin.session.mt5 = scripted
    try:
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED and result.sent is False, result
    assert result.error_code is ErrorCode.NOT_SUPPORTED
    assert "plugin 'mt5' cannot pass params" in (result.error or "")
    assert scripted.sent == []
