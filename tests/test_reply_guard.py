"""A plugin's result that cannot be a definite answer becomes ``unknown`` in the base
class, with a warning naming the broker and the field (never a crash)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import ExecutionResult, Order, OrderStatus
from fks_exec._plausible import implausible

ORDER = Order.market("BTC/USDT", "buy", Decimal("0.001"))


def _result(**fields: Any) -> ExecutionResult:
    base: dict[str, Any] = {
        "success": True,
        "sent": True,
        "paper": None,
        "status": OrderStatus.FILLED,
        "plugin": "scripted",
        "client_order_id": ORDER.client_order_id,
        "order_id": "B1",
        "symbol": ORDER.symbol,
        "side": ORDER.side,
        "quantity": ORDER.quantity,
        "filled_quantity": ORDER.quantity,
        "average_price": Decimal(100),
        "error": None,
        "error_code": None,
        "raw": None,
    }
    base.update(fields)
    return ExecutionResult.model_construct(**base)  # unvalidated, as a careless plugin may


async def _sent(make_plugin: Callable[[], Any], answer: ExecutionResult) -> ExecutionResult:
    plugin = make_plugin()
    plugin.use_env = False
    await plugin.init({})
    plugin.on_order = lambda order: answer
    try:
        return await plugin.execute_order(ORDER)
    finally:
        await plugin.close()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"filled_quantity": Decimal(5), "quantity": Decimal(5)}, "filled_quantity"),
        ({"filled_quantity": Decimal(5)}, "filled_quantity"),
        ({"average_price": Decimal("Infinity")}, "average_price"),
        ({"average_price": Decimal("NaN")}, "average_price"),
        ({"average_price": Decimal(-3)}, "average_price"),
        ({"filled_quantity": Decimal("1E+400")}, "filled_quantity"),
        ({"quantity": Decimal(-2), "filled_quantity": Decimal(0)}, "quantity"),
    ],
)
async def test_an_impossible_answer_is_unknown_with_a_warning(
    fields: dict[str, Any],
    field: str,
    caplog: pytest.LogCaptureFixture,
    make_plugin: Callable[[], Any],
) -> None:
    caplog.set_level(logging.WARNING)
    result = await _sent(make_plugin, _result(**fields))
    assert result.status is OrderStatus.UNKNOWN and result.sent is None
    assert result.filled_quantity == 0 and not result.success
    assert "broker 'scripted' answered" in (result.error or "") and field in (result.error or "")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'scripted'" in w and field in w for w in warnings)


async def test_a_sound_answer_passes_unchanged(make_plugin: Callable[[], Any]) -> None:
    result = await _sent(make_plugin, _result())
    assert (result.status, result.filled_quantity) == (OrderStatus.FILLED, ORDER.quantity)


_decimals = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("0.001"), Decimal(0), Decimal(-1), Decimal("1E+400")]),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity=_decimals, filled=_decimals, price=_decimals)
def test_implausible_is_total_and_agrees_with_the_model(
    quantity: Decimal | None, filled: Decimal | None, price: Decimal | None
) -> None:
    result = _result(quantity=quantity, filled_quantity=filled, average_price=price)
    problem = implausible(result, ORDER)  # never raises, whatever the numbers
    sound = (
        filled is not None
        and filled.is_finite()
        and 0 <= filled <= ORDER.quantity
        and (price is None or (price.is_finite() and price > 0))
        and (quantity is None or (quantity.is_finite() and quantity > 0 and filled <= quantity))
    )
    assert (problem is None) == sound, problem
