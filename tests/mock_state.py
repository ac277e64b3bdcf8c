"""What the mock tests compare between two simulators fed the same stream.

Shared by the tests that run two :class:`~fks_exec.mock.MockBroker` variants side by
side (the indexed book against a linear walk, the short fill path against the general
one): one snapshot of a broker's state, and one check that two results are the same
object in every way a caller can see. Import it after putting this directory on
``sys.path`` (the suite runs with ``--import-mode=importlib``).
"""

from __future__ import annotations

from fks_exec import ExecutionResult
from fks_exec.mock import MockBroker


def broker_state(broker: MockBroker) -> str:
    """Every order record (status history included), fill, account figure and arrival
    count of ``broker``, as text two brokers' states can be compared by."""
    records = [
        (
            r.order_id,
            r.client_order_id,
            r.status,
            r.quantity,
            r.filled,
            r.notional,
            r.triggered,
            r.rested,
            r.error,
            r.error_code,
            r.history,
            r.parent_id,
            r.oco_id,
        )
        for r in broker.orders
    ]
    account = (broker.cash, broker.fees_paid, broker.positions(), broker.realized_pnl())
    return repr((records, list(broker.fills), account, broker.order_arrivals()))


def assert_same_result(
    first: ExecutionResult | BaseException, second: ExecutionResult | BaseException
) -> None:
    """Fail unless ``first`` and ``second`` are equal results with the same field order,
    fields-set and JSON dump, or exceptions with the same repr."""
    if isinstance(first, BaseException) or isinstance(second, BaseException):
        assert repr(first) == repr(second)
        return
    assert first == second
    assert repr(first) == repr(second)
    assert list(first.__dict__) == list(second.__dict__)
    assert first.model_fields_set == second.model_fields_set
    assert first.model_dump_json() == second.model_dump_json()
