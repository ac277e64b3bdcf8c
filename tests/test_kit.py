"""The shared plugin kit: bounded maps, expiring caches, backoff, the worker thread,
bounded broker numbers, and what the base class offers (generic config, capabilities
per instance, result builders)."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import Capability, Order, OrderStatus
from fks_exec.kit import (
    Backoff,
    BadBrokerNumber,
    BoundedDict,
    SerialWorker,
    TtlCache,
    WorkerClosed,
    broker_decimal,
)
from fks_exec.mock import MockPlugin
from fks_exec.mock.plugin import MockConfig


@given(st.lists(st.tuples(st.integers(0, 30), st.integers()), min_size=1), st.integers(1, 8))
def test_a_bounded_dict_keeps_the_newest_entries(items: list[tuple[int, int]], size: int) -> None:
    bounded: BoundedDict[int, int] = BoundedDict(size)
    reference: dict[int, int] = {}
    for key, value in items:
        bounded[key] = value
        reference.pop(key, None)
        reference[key] = value
    newest = list(reference.items())[-size:]
    assert list(bounded.items()) == newest
    assert len(bounded) <= size


def test_an_lru_bounded_dict_keeps_what_was_read() -> None:
    lru: BoundedDict[str, int] = BoundedDict(2, lru=True)
    lru["a"], lru["b"] = 1, 2
    assert lru.get("a") == 1  # a is now the newest
    lru["c"] = 3
    assert list(lru) == ["a", "c"]
    assert lru.get("b") is None
    with pytest.raises(ValueError, match="at least 1"):
        BoundedDict(0)


def test_a_ttl_cache_forgets_after_its_time() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(5, maxlen=2, clock=lambda: now[0])
    cache.set("a", 1)
    now[0] = 4.9
    assert cache.get("a") == 1
    now[0] = 5.0
    assert cache.get("a") is None and len(cache) == 0
    cache.set("a", 1), cache.set("b", 2), cache.set("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    for bad in (-1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="finite"):
            TtlCache(bad)


@given(st.integers(1, 60), st.floats(0, 1), st.integers(0, 2**32))
def test_backoff_grows_to_its_cap_and_never_past_it(n: int, jitter: float, seed: int) -> None:
    backoff = Backoff(0.1, 2.0, factor=2, jitter=jitter, seed=seed)
    delays = [backoff.next_delay() for _ in range(n)]
    nominal = [min(2.0, 0.1 * 2**i) for i in range(n)]
    for delay, top in zip(delays, nominal, strict=True):
        assert top * (1 - jitter) - 1e-12 <= delay <= top + 1e-12
    assert backoff.attempts == n
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next_delay() <= 0.1


def test_backoff_refuses_nonsense() -> None:
    for kwargs in ({"initial_s": 0}, {"initial_s": 5, "cap_s": 1}, {"cap_s": float("inf")}):
        with pytest.raises(ValueError, match="initial_s"):
            Backoff(**kwargs)
    with pytest.raises(ValueError, match="factor"):
        Backoff(factor=0.5)


async def test_the_serial_worker_runs_everything_on_one_thread_in_order() -> None:
    worker = SerialWorker("fks-test-worker")
    seen: list[tuple[int, str]] = []

    def job(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * 2

    assert await asyncio.gather(*(worker.run(job, i) for i in range(20))) == [
        i * 2 for i in range(20)
    ]
    assert [i for i, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {"fks-test-worker"}

    def boom() -> None:
        raise KeyError("from the SDK")

    with pytest.raises(KeyError, match="from the SDK"):
        await worker.run(boom)
    worker.close()
    assert not any(t.name == "fks-test-worker" for t in threading.enumerate())
    with pytest.raises(WorkerClosed):
        await worker.run(job, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.001", Decimal("0.001")), (0.1, Decimal("0.1")), (5, Decimal(5)), (None, None)],
)
def test_broker_numbers_that_are_fine(value: Any, expected: Decimal | None) -> None:
    assert broker_decimal(value, broker="x", field="qty") == expected


@pytest.mark.parametrize(
    "value", ["1e400", "1E+999999999", "1e40000000", "nan", "-inf", "abc", "-1", True, [], 10**400]
)
def test_broker_numbers_that_are_not(value: Any) -> None:
    with pytest.raises(BadBrokerNumber, match=r"venue: executedQty"):
        broker_decimal(value, broker="venue", field="executedQty")
    assert broker_decimal("-1", broker="v", field="pnl", allow_negative=True) == -1


# ------------------------------------------------------------------ the base class


async def test_config_is_typed_readable_inside_connect_and_cleared_on_failure() -> None:
    seen: list[MockConfig] = []

    class Peeking(MockPlugin):
        async def _connect(self, config: MockConfig) -> None:
            seen.append(self.config)  # no private copy needed
            if config.cash == 0:
                raise ConnectionError("no money, no start")
            await super()._connect(config)

    plugin = Peeking()
    plugin.use_env = False
    await plugin.init({"cash": 5})
    assert seen[0].cash == 5 and plugin.config.cash == 5  # typed as MockConfig
    await plugin.close()
    with pytest.raises(Exception, match="no money"):
        await plugin.init({"cash": 0})
    with pytest.raises(Exception, match="not initialized"):
        plugin.config  # noqa: B018


async def test_capabilities_narrowed_per_instance() -> None:
    plugin = MockPlugin()
    assert plugin.supports(Capability.STOP_ORDERS)
    plugin.set_capabilities(frozenset({Capability.GET_ORDER}))
    assert not plugin.supports(Capability.STOP_ORDERS)
    assert MockPlugin().supports(Capability.STOP_ORDERS)  # the class is untouched
    plugin.use_env = False
    await plugin.init({"prices": {"X": "10"}})
    denied = await plugin.execute_order(Order.stop("X", "buy", 1, 20))
    assert denied.error_code == "not_supported" and denied.sent is False

    class Narrow(MockPlugin):
        capabilities = frozenset({Capability.GET_ORDER})

    with pytest.raises(ValueError, match="does not declare"):
        Narrow().set_capabilities(frozenset({Capability.POSITIONS}))


def test_result_builders_stamp_the_plugin_name() -> None:
    plugin = MockPlugin()
    plugin.bind_instance_name("mock:b")
    order = Order.market("X", "buy", 1)
    result = plugin.result_for(order, OrderStatus.ACCEPTED, order_id="7")
    assert (result.plugin, result.client_order_id, result.order_id) == (
        "mock:b",
        order.client_order_id,
        "7",
    )
    cancel = plugin.cancel_result_for("7", "X", OrderStatus.CANCELED)
    assert cancel.plugin == "mock:b" and cancel.side is None


def test_broker_number_bounds_are_exact() -> None:
    edge = "0." + "0" * 61 + "1"  # 64 characters: the longest text taken
    assert len(edge) == 64 and broker_decimal(edge, broker="v", field="f") == Decimal(edge)
    with pytest.raises(BadBrokerNumber, match="65 characters"):
        broker_decimal(edge + "1", broker="v", field="f")
    assert broker_decimal("9.99e29", broker="v", field="f") == Decimal("9.99e29")
    with pytest.raises(BadBrokerNumber, match="out of range"):
        broker_decimal("1e30", broker="v", field="f")
    assert broker_decimal(10**30 - 1, broker="v", field="f") == 10**30 - 1
    for big in (10**30, -(10**30), 10**4000):
        with pytest.raises(BadBrokerNumber, match="out of range"):
            broker_decimal(big, broker="v", field="f", allow_negative=True)
    assert broker_decimal("0", broker="v", field="f") == 0
    assert broker_decimal(Decimal("-0"), broker="v", field="f") == 0
    with pytest.raises(BadBrokerNumber) as refused:
        broker_decimal("abcdefghijklmnopqrstuvwxyz", broker="v", field="f")
    assert "'abcdefghijklmnopqrst'" in str(refused.value)
    with pytest.raises(BadBrokerNumber, match="missing"):
        broker_decimal(None, broker="v", field="f", allow_none=False)
    with pytest.raises(BadBrokerNumber, match="a dict, not a number"):
        broker_decimal({}, broker="v", field="f")
