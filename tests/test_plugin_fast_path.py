"""The plugin base's per-order work is cheap without weakening a rule.

- ``implausible`` settles a result of exact Decimals with one flat check and agrees
  with the field-by-field examination on every input;
- an order that needs no optional capability skips the capability lookups, and one
  that needs them is still refused by a plugin that lacks them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec import _plausible
from fks_exec._plausible import implausible
from fks_exec._plugin_guard import PluginGuard
from fks_exec.models import ExecutionResult, Order, OrderSide, OrderStatus
from fks_exec.redaction import Redactor
from fks_exec.testing.strategies import orders

ORDER = Order.market("BTC/USDT", "buy", "2")


class _Exact(Decimal):
    """A Decimal subclass: never settled by the flat check."""


_numbers = st.one_of(
    st.none(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal(0), Decimal("-0"), Decimal(2), Decimal(3), Decimal("0.5")]),
    st.decimals(min_value=0, max_value=5, places=2).map(_Exact),
    st.sampled_from([2, 2.0, "2"]),
)


def _constructed(**fields: Any) -> ExecutionResult:
    base: dict[str, Any] = {
        "status": OrderStatus.FILLED,
        "plugin": "p",
        "client_order_id": ORDER.client_order_id,
        "symbol": ORDER.symbol,
        "side": OrderSide.BUY,
        "quantity": ORDER.quantity,
        "filled_quantity": ORDER.quantity,
        "average_price": Decimal(10),
    }
    base.update(fields)
    return ExecutionResult.model_construct(**base)


@settings(max_examples=300, deadline=None)
@given(quantity=_numbers, filled=_numbers, price=_numbers, with_order=st.booleans())
def test_the_flat_check_agrees_with_the_detailed_one(
    quantity: Any, filled: Any, price: Any, with_order: bool
) -> None:
    result = _constructed(quantity=quantity, filled_quantity=filled, average_price=price)
    order = ORDER if with_order else None
    assert (implausible(result, order) is None) == (_plausible._problem(result, order) is None)


def test_a_plausible_result_is_settled_without_the_detailed_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def detailed(*args: Any) -> str:
        raise AssertionError("the detailed check ran for a plausible result")

    monkeypatch.setattr(_plausible, "_problem", detailed)
    for fields in (
        {},
        {"quantity": None},
        {"filled_quantity": Decimal(0), "average_price": None, "status": OrderStatus.ACCEPTED},
        {"filled_quantity": Decimal(1)},
    ):
        assert implausible(_constructed(**fields), ORDER) is None


def test_the_flat_check_still_refuses_a_fill_above_the_order() -> None:
    result = _constructed(quantity=Decimal(5), filled_quantity=Decimal(3))
    assert implausible(result) is None
    assert implausible(result, ORDER) == "filled_quantity 3 above the order's quantity 2"


class _Bare(PluginGuard):
    """Stands in for a plugin that offers no optional capability."""

    name = "bare"
    _paper = False
    _redactor = Redactor()

    def supports(self, capability: Any) -> bool:
        return False

    def redact(self, text: str) -> str:
        return text


@settings(max_examples=200, deadline=None)
@given(order=st.booleans().flatmap(lambda reduce: orders(reduce_only=reduce)))
def test_only_orders_that_need_nothing_optional_pass_a_bare_plugin(order: Order) -> None:
    denial = _Bare()._check_supported(order)
    needs = (
        order.type.value in ("stop", "stop_limit")
        or order.stop_loss is not None
        or order.take_profit is not None
        or order.reduce_only
    )
    assert (denial is not None) == needs
    if denial is not None:
        assert denial.sent is False and denial.error_code is not None


def test_a_non_number_is_quoted_in_the_message_up_to_40_characters() -> None:
    text = "".join(str(i % 10) for i in range(60))
    result = _constructed(average_price=text)
    assert implausible(result) == f"a average_price that is not a finite number ({text[:40]})"
