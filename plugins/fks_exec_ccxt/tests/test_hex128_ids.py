"""Hyperliquid's cloid (``hex128``): distinct client ids never share one.

Only an id that is already 32 lower-case hex digits is sent as it is; any other,
upper-case hex included, is hashed (it was lower-cased, so ``ABC...`` and ``abc...``
became one cloid, and the second order was taken for the first).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fks_exec_ccxt.client_ids import venue_client_id
from fks_exec_ccxt.venues import venue

RULE = venue("hyperliquid").client_id
_HEX32 = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)
_IDS = _HEX32 | st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True)


def test_ids_differing_only_in_case_get_different_cloids() -> None:
    lower = "abcdef0123456789abcdef0123456789"
    assert venue_client_id(lower, RULE) == "0x" + lower  # kept as it is
    assert venue_client_id(lower.upper(), RULE) != venue_client_id(lower, RULE)


@given(a=_IDS, b=_IDS)
@settings(max_examples=500, deadline=None)
def test_distinct_ids_stay_distinct(a: str, b: str) -> None:
    if a != b:
        assert venue_client_id(a, RULE) != venue_client_id(b, RULE)


@given(base=st.text("0123456789abcdef", min_size=32, max_size=32), flips=st.integers(1, 2**32))
def test_any_case_change_of_a_hex_id_changes_its_cloid(base: str, flips: int) -> None:
    mixed = "".join(
        c.upper() if flips >> i & 1 else c for i, c in enumerate(base)
    )  # some letters upper-cased
    if mixed != base:
        assert venue_client_id(mixed, RULE) != venue_client_id(base, RULE)
