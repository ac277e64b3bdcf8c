"""The plugin's fast tick rounding agrees with ccxt's own decimal_to_precision."""

from __future__ import annotations

from decimal import Decimal

from ccxt.base.decimal_to_precision import (
    NO_PADDING,
    ROUND,
    TICK_SIZE,
    TRUNCATE,
    decimal_to_precision,
)
from hypothesis import given
from hypothesis import strategies as st

from fks_exec_ccxt.mapping import to_tick

ticks = st.sampled_from(
    ["0.00001", "0.001", "0.01", "0.1", "0.5", "0.25", "1", "5", "10", "0.0000001", "0.05"]
).map(Decimal)
values = st.decimals(min_value="0.0000001", max_value="10000000", places=8, allow_nan=False)


@given(value=values, tick=ticks, truncate=st.booleans())
def test_to_tick_matches_ccxt(value: Decimal, tick: Decimal, truncate: bool) -> None:
    ccxt_text = decimal_to_precision(
        str(value), TRUNCATE if truncate else ROUND, float(tick), TICK_SIZE, NO_PADDING
    )
    assert to_tick(value, tick, truncate=truncate) == Decimal(ccxt_text)
