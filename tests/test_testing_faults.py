"""FaultPlan, the shared plumbing of the fakes' fault injection (fks_exec.testing.faults)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec.testing.faults import FaultInjection, FaultPlan, PlannedFault


class _Fake(FaultPlan[str]):
    """The smallest fake: the plan plus arrival counts."""

    def __init__(self) -> None:
        super().__init__(refuse="refused", lose="reset")
        self.arrivals: dict[str, int] = {}

    def order_arrivals(self) -> Mapping[str, int]:
        return dict(self.arrivals)


def test_a_fake_built_on_the_plan_implements_the_protocol() -> None:
    assert isinstance(_Fake(), FaultInjection)
    assert not isinstance(FaultPlan(refuse="x", lose="y"), FaultInjection)  # no arrivals


def test_refuse_next_waits_for_an_order_request() -> None:
    fake = _Fake()
    fake.refuse_next()
    assert fake.take_fault("/balance", is_order=False) is None  # reads pass
    assert fake.take_fault("/order", is_order=True) == PlannedFault("refused", None, False, True)
    assert fake.take_fault("/order", is_order=True) is None  # used once


@pytest.mark.parametrize("acted", [True, False])
def test_lose_next_answer_says_whether_the_broker_acted(acted: bool) -> None:
    fake = _Fake()
    fake.lose_next_answer(after_broker_acted=acted)
    assert fake.take_fault("/x", is_order=False) is None
    planned = fake.take_fault("/order", is_order=True)
    assert planned == PlannedFault("reset", None, acted, True)


def test_a_fault_with_a_target_waits_for_a_request_to_it() -> None:
    fake = _Fake()
    fake.plan_fault("cut_body", where="/orders/", after_broker_acted=True)
    assert fake.take_fault("/ticker", is_order=False) is None
    assert fake.take_fault("/api/orders/7", is_order=False) == PlannedFault(
        "cut_body", "/orders/", True, False
    )


def test_faults_are_taken_oldest_first_skipping_those_that_do_not_match() -> None:
    fake = _Fake()
    fake.refuse_next()
    fake.plan_fault("first")
    fake.plan_fault("second")
    assert [fake.take_fault("/read", is_order=False) for _ in range(3)] == [
        PlannedFault("first", None, False, False),
        PlannedFault("second", None, False, False),
        None,
    ]
    assert fake.take_fault("/order", is_order=True) == PlannedFault("refused", None, False, True)


def test_the_connection_switch_and_latency() -> None:
    fake = _Fake()
    assert not fake.disconnected and fake.latency == 0.0
    fake.disconnect()
    assert fake.disconnected
    fake.reconnect()
    assert not fake.disconnected
    fake.set_latency(0.25)
    assert fake.latency == 0.25
    fake.set_latency(0)
    assert fake.latency == 0
    with pytest.raises(ValueError, match=">= 0"):
        fake.set_latency(-0.001)
    assert fake.latency == 0  # a refused value changes nothing


_plans = st.tuples(
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from([None, "/x", "/y"]),
    st.booleans(),
    st.booleans(),
)
_requests = st.tuples(st.sampled_from(["/x/1", "/y/2", "/z"]), st.booleans())


@given(st.lists(st.one_of(_plans.map(lambda p: ("plan", p)), _requests.map(lambda r: ("take", r)))))
def test_take_fault_matches_a_list_model(steps: list[tuple[str, tuple[object, ...]]]) -> None:
    """Each request takes the oldest planned fault it matches, exactly once."""
    fake = _Fake()
    model: list[PlannedFault[str]] = []
    for kind, args in steps:
        if kind == "plan":
            fault, where, acted, orders = args
            fake.plan_fault(fault, where=where, after_broker_acted=acted, orders_only=orders)  # type: ignore[arg-type]
            model.append(PlannedFault(fault, where, acted, orders))  # type: ignore[arg-type]
            continue
        target, is_order = args
        expected = next(
            (
                p
                for p in model
                if (is_order or not p.orders_only) and (p.where is None or p.where in target)  # type: ignore[operator]
            ),
            None,
        )
        if expected is not None:
            model.remove(expected)
        assert fake.take_fault(target, is_order=is_order) == expected  # type: ignore[arg-type]


def test_a_planned_fault_cannot_be_changed_once_planned() -> None:
    import dataclasses

    fake = _Fake()
    fake.refuse_next()
    planned = fake.take_fault("/order", is_order=True)
    assert planned is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        planned.orders_only = False  # type: ignore[misc]
