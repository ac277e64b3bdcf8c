"""hypothesis strategies for orders: valid ones of every type, and inputs that must fail.

Requires ``hypothesis`` (``pip install fks-exec[testing]``)::

    from hypothesis import given
    from fks_exec.testing import orders

    @given(orders(symbols=["BTC/USDT"], min_price="20000", max_price="90000"))
    def test_strategy_never_crashes(order): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fks_exec.models import Order, OrderSide, OrderType, TimeInForce

__all__ = ["invalid_order_inputs", "orders"]


def _decimals(low: Decimal, high: Decimal, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def orders(
    draw: st.DrawFn,
    symbols: Sequence[str] = ("BTC/USDT",),
    *,
    min_price: Decimal | str = "1",
    max_price: Decimal | str = "100000",
    min_quantity: Decimal | str = "0.001",
    max_quantity: Decimal | str = "1000",
    price_places: int = 2,
    quantity_places: int = 3,
    types: Sequence[OrderType | str] = tuple(OrderType),
    time_in_force: Sequence[TimeInForce | str] = tuple(TimeInForce),
    brackets: bool = True,
    reduce_only: bool = False,
) -> Order:
    """Valid :class:`Order` objects of the given types, symbols and price range.

    Stop losses and take profits, when ``brackets`` is true, are drawn on the correct
    side of the order's reference price, so every drawn order passes validation.
    Raises ``ValueError`` for an empty or inverted range.
    """
    lo, hi = Decimal(min_price), Decimal(max_price)
    qlo, qhi = Decimal(min_quantity), Decimal(max_quantity)
    if not (0 < lo < hi) or not (0 < qlo <= qhi) or not symbols or not types:
        raise ValueError(
            "orders() needs 0 < min_price < max_price, 0 < min_quantity <= "
            "max_quantity, and at least one symbol and type"
        )
    step = Decimal(1).scaleb(-price_places)
    # Keep room below and above every reference price for a stop loss / take profit.
    inner_lo, inner_hi = lo + 2 * step, hi - 2 * step
    kind = OrderType(draw(st.sampled_from(list(types))))
    side = draw(st.sampled_from(list(OrderSide)))
    fields: dict[str, Any] = {
        "symbol": draw(st.sampled_from(list(symbols))),
        "side": side,
        "type": kind,
        "quantity": draw(_decimals(qlo, qhi, quantity_places).filter(lambda q: q > 0)),
        "time_in_force": TimeInForce(draw(st.sampled_from(list(time_in_force)))),
        "reduce_only": reduce_only,
    }
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["price"] = draw(_decimals(inner_lo, inner_hi, price_places))
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields["stop_price"] = draw(_decimals(inner_lo, inner_hi, price_places))
    reference = fields.get("price", fields.get("stop_price"))
    if brackets and draw(st.booleans()):
        if reference is None:  # a market order: any SL below TP (for a buy) will do
            reference = draw(_decimals(inner_lo, inner_hi, price_places))
        below = draw(_decimals(lo, reference - step, price_places))
        above = draw(_decimals(reference + step, hi, price_places))
        sl, tp = (below, above) if side is OrderSide.BUY else (above, below)
        if draw(st.booleans()):
            fields["stop_loss"] = sl
        if draw(st.booleans()):
            fields["take_profit"] = tp
    return Order(**fields)


_BAD_QUANTITIES = [
    0,
    -1,
    "-0.01",
    "NaN",
    "inf",
    "-Infinity",
    "abc",
    "",
    None,
    True,
    float("nan"),
    float("inf"),
]


@st.composite
def invalid_order_inputs(draw: st.DrawFn, symbol: str = "BTC/USDT") -> dict[str, Any]:
    """Keyword dicts that ``Order(**fields)`` must reject with a ``ValidationError``.

    Each draw breaks exactly one rule: a bad quantity, a missing or forbidden price or
    stop price, a stop loss or take profit on the wrong side, an empty symbol, a
    malformed client order id, or an unknown field.
    """
    price = draw(_decimals(Decimal(10), Decimal(1000), 2))
    base: dict[str, Any] = {
        "symbol": symbol,
        "side": "buy",
        "type": "limit",
        "quantity": "1",
        "price": price,
    }
    breakage = draw(
        st.sampled_from(
            [
                "quantity",
                "limit_without_price",
                "market_with_price",
                "stop_without_trigger",
                "limit_with_trigger",
                "stop_loss_side",
                "take_profit_side",
                "symbol",
                "client_order_id",
                "unknown_field",
                "side",
            ]
        )
    )
    if breakage == "quantity":
        base["quantity"] = draw(st.sampled_from(_BAD_QUANTITIES))
    elif breakage == "limit_without_price":
        del base["price"]
    elif breakage == "market_with_price":
        base["type"] = "market"
    elif breakage == "stop_without_trigger":
        base["type"] = draw(st.sampled_from(["stop", "stop_limit"]))
        if base["type"] == "stop":
            del base["price"]
    elif breakage == "limit_with_trigger":
        base["stop_price"] = price
    elif breakage == "stop_loss_side":
        base["stop_loss"] = price + draw(_decimals(Decimal(0), Decimal(100), 2))
    elif breakage == "take_profit_side":
        base["take_profit"] = price - draw(_decimals(Decimal(0), Decimal(9), 2))
    elif breakage == "symbol":
        base["symbol"] = draw(st.sampled_from(["", " ", "\t", "\n"]))
    elif breakage == "client_order_id":
        allowed = st.text(alphabet="abcXYZ019_-", max_size=12)
        forbidden = st.sampled_from([" ", "/", ".", "\u00e9", "\t", "#", "\u20ac"])
        base["client_order_id"] = draw(
            st.one_of(
                st.just(""),
                st.text(min_size=37, max_size=60, alphabet="abc123"),
                # built invalid (a forbidden character inside), not filtered: fast to draw
                st.tuples(allowed, forbidden, allowed).map("".join),
            )
        )
    elif breakage == "unknown_field":
        base["colour"] = "red"
    else:
        base["side"] = draw(st.sampled_from(["hold", "long", "", "b"]))
    return base
