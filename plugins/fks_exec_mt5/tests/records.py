"""Record types and hypothesis strategies the reply and number fuzz tests share.

The records are named tuples with the field names of MetaTrader5's result types
(https://www.mql5.com/en/docs/python_metatrader5), the shape the bridge decodes; and
``looked_up``, ``from_history`` as the plugin calls it.
"""

from __future__ import annotations

import math
import os
from collections import namedtuple
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fks_exec.models import ExecutionResult
from fks_exec_mt5.history import from_history
from fks_exec_mt5.servertime import ServerClock

FUZZ = settings(
    max_examples=int(os.environ.get("FKS_EXEC_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Short in ``make test``; ``FKS_EXEC_FUZZ_EXAMPLES=5000`` for a long run."""

SendResult = namedtuple(
    "OrderSendResult",
    "retcode deal order volume price bid ask comment request_id retcode_external",
)
Position = namedtuple(
    "TradePosition", "ticket symbol type volume price_open sl tp magic time_msc profit"
)
HistoryOrder = namedtuple(
    "TradeOrder", "ticket symbol type state volume_initial magic comment time_setup_msc"
)
Deal = namedtuple("TradeDeal", "ticket order volume price")

odd_floats = st.sampled_from(
    [math.nan, math.inf, -math.inf, -0.0, -1.0, 0.0, 1e30, -1e30, 9.99e29, 5e-324, 1e308]
)
anything = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    odd_floats,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**64, 2**64 - 1, -1, 0, 1, 10**40, 32_503_680_000_000, 32_503_679_999_999]),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["1e40000000", "nan", "0.1", ""]),
)
plausible_float = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
number_or_anything = st.one_of(plausible_float, anything)
EDGES = [0, 1, -1, 2**64 - 1, 2**64, -(2**64) + 1, -(2**64), 32_503_679_999_999]
EDGES += [32_503_680_000_000, 0.0, -0.0, 5e-324, -5e-324, 1.0, 9.99e29, 1e30, -9.99e29]
EDGES += [-1e30, math.nan, math.inf, -math.inf, 2.5, True, None, "1"]
"""Values at and beside every bound a field of a record can have (ints, times, doubles)."""


def looked_up(records: list[Any], deals: list[Any], client_order_id: str = "a") -> ExecutionResult:
    """``from_history`` as the plugin calls it, on a server clock at UTC."""
    return from_history(
        records, deals, plugin="mt5", client_order_id=client_order_id, clock=ServerClock(0)
    )
