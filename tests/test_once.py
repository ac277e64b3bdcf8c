"""OncePerId: one send per client order id inside a plugin (issue 11)."""

from __future__ import annotations

import asyncio
import gc
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import DuplicateClientOrderId, ExecutionResult, Order, OrderStatus
from fks_exec._once import OncePerId


class Broker:
    """Counts sends and answers with a chosen status, optionally after a gate opens."""

    def __init__(self, status: OrderStatus = OrderStatus.FILLED, *, sent: bool | None = True):
        self.status, self.sent_flag = status, sent
        self.sends: list[str] = []
        self.reconciles = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def send(self, order: Order) -> ExecutionResult:
        self.sends.append(order.client_order_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.answer(order, self.status)

    def answer(self, order: Order, status: OrderStatus) -> ExecutionResult:
        fields: dict[str, Any] = {}
        if status is OrderStatus.FILLED:
            fields = {"filled_quantity": order.quantity, "average_price": Decimal(1)}
        if status is OrderStatus.REJECTED:
            fields["sent"] = self.sent_flag
        return ExecutionResult.for_order(order, plugin="t", status=status, **fields)

    async def reconcile(self, result: ExecutionResult) -> ExecutionResult:
        self.reconciles += 1
        return result.model_copy(update={"status": OrderStatus.ACCEPTED, "error_code": None})

    def interrupted(self, order: Order) -> ExecutionResult:
        return ExecutionResult.for_order(order, plugin="t", status=OrderStatus.UNKNOWN)


async def _run(once: OncePerId, broker: Broker, order: Order) -> ExecutionResult:
    return await once.run(order, broker.send, broker.reconcile, broker.interrupted)


def test_remember_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        OncePerId(0)
    assert len(OncePerId(1)) == 0


async def test_the_oldest_id_is_forgotten_first_and_exactly_past_the_bound() -> None:
    once, broker = OncePerId(2), Broker()
    a, b, c = (Order.market("X", "buy", 1) for _ in range(3))
    for order in (a, b):
        await _run(once, broker, order)
    await _run(once, broker, a)  # remembered: not sent again
    assert broker.sends == [a.client_order_id, b.client_order_id]
    await _run(once, broker, c)  # a, the oldest, goes
    await _run(once, broker, b)  # b is still remembered
    assert broker.sends == [a.client_order_id, b.client_order_id, c.client_order_id]
    await _run(once, broker, a)
    assert broker.sends[-1] == a.client_order_id and len(once) == 2


async def test_the_default_memory_holds_ten_thousand_ids() -> None:
    once, broker = OncePerId(), Broker()
    orders = [Order.market("X", "buy", 1) for _ in range(10_001)]
    for order in orders[:10_000]:
        await _run(once, broker, order)
    await _run(once, broker, orders[0])
    assert len(broker.sends) == 10_000  # the first is still remembered
    await _run(once, broker, orders[10_000])
    await _run(once, broker, orders[0])
    assert len(broker.sends) == 10_002  # now it was forgotten


async def test_a_repeat_is_answered_from_memory_and_a_different_order_refused() -> None:
    once, broker = OncePerId(), Broker()
    order = Order.market("X", "buy", 1)
    first = await _run(once, broker, order)
    same = Order.market("X", "buy", 1, client_order_id=order.client_order_id)
    assert await _run(once, broker, order) is first
    assert await _run(once, broker, same) is first
    other = Order.market("X", "sell", 1, client_order_id=order.client_order_id)
    with pytest.raises(DuplicateClientOrderId, match="different order"):
        await _run(once, broker, other)
    assert broker.sends == [order.client_order_id]


async def test_concurrent_calls_are_one_send_and_a_different_order_is_refused_in_flight() -> None:
    once, broker = OncePerId(), Broker()
    broker.gate = asyncio.Event()
    order = Order.market("X", "buy", 1)
    calls = [asyncio.create_task(_run(once, broker, order)) for _ in range(3)]
    await asyncio.sleep(0)
    other = Order.market("X", "sell", 1, client_order_id=order.client_order_id)
    with pytest.raises(DuplicateClientOrderId):
        await _run(once, broker, other)
    broker.gate.set()
    results = await asyncio.gather(*calls)
    assert len({id(r) for r in results}) == 1 and broker.sends == [order.client_order_id]


async def test_a_failed_send_fails_every_joined_call_and_is_sent_on_retry() -> None:
    once, broker = OncePerId(), Broker()
    broker.gate, broker.error = asyncio.Event(), ConnectionRefusedError("down")
    order = Order.market("X", "buy", 1)
    calls = [asyncio.create_task(_run(once, broker, order)) for _ in range(2)]
    await asyncio.sleep(0)
    broker.gate.set()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, ConnectionRefusedError) for o in outcomes)
    broker.gate, broker.error = None, None
    assert (await _run(once, broker, order)).status is OrderStatus.FILLED
    assert len(broker.sends) == 2


async def test_not_sent_is_sent_again_and_sent_is_not() -> None:
    once = OncePerId()
    refused = Broker(OrderStatus.REJECTED, sent=False)
    order = Order.market("X", "buy", 1)
    await _run(once, refused, order)
    await _run(once, refused, order)
    assert len(refused.sends) == 2
    taken = Broker(OrderStatus.REJECTED, sent=True)
    other = Order.market("X", "buy", 1)
    await _run(once, taken, other)
    await _run(once, taken, other)
    assert len(taken.sends) == 1


async def test_a_remembered_unknown_is_reconciled_once_then_answered_from_memory() -> None:
    once, broker = OncePerId(), Broker(OrderStatus.UNKNOWN)
    order = Order.market("X", "buy", 1)
    assert (await _run(once, broker, order)).status is OrderStatus.UNKNOWN
    assert (await _run(once, broker, order)).status is OrderStatus.ACCEPTED
    assert (await _run(once, broker, order)).status is OrderStatus.ACCEPTED
    assert broker.reconciles == 1 and len(broker.sends) == 1


async def test_a_cancelled_send_leaves_an_unknown_that_joined_calls_get() -> None:
    once, broker = OncePerId(), Broker()
    broker.gate = asyncio.Event()
    order = Order.market("X", "buy", 1)
    sender = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    joined = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
    assert (await joined).status is OrderStatus.UNKNOWN
    assert (await _run(once, broker, order)).status is OrderStatus.ACCEPTED  # reconciled
    assert broker.sends == [order.client_order_id]


async def test_a_failure_nobody_waits_for_any_more_is_not_reported_as_lost() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    once, broker = OncePerId(), Broker()
    broker.gate, broker.error = asyncio.Event(), ConnectionRefusedError("down")
    order = Order.market("X", "buy", 1)
    sender = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    joined = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    joined.cancel()  # the joined caller gives up; its shielded future stays
    broker.gate.set()
    with pytest.raises(ConnectionRefusedError):
        await sender
    with pytest.raises(asyncio.CancelledError):
        await joined
    error, broker.error = broker.error, None
    assert error is not None
    error.__traceback__ = None  # its frames held the failed future alive past the test
    del sender, joined, error
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    assert reported == []


async def test_a_cancelled_send_nobody_joined_is_cancelled_and_remembered_unknown() -> None:
    once, broker = OncePerId(), Broker()
    broker.gate = asyncio.Event()
    order = Order.market("X", "buy", 1)
    sender = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
    assert len(once) == 1
    broker.gate = None
    assert (await _run(once, broker, order)).status is OrderStatus.ACCEPTED  # reconciled
    assert broker.sends == [order.client_order_id]


async def _interrupt(once: OncePerId, broker: Broker, order: Order) -> None:
    broker.gate = asyncio.Event()
    sender = asyncio.create_task(_run(once, broker, order))
    await asyncio.sleep(0)
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
    broker.gate = None


async def test_an_interrupted_send_is_kept_within_the_bound_and_forgets_the_oldest() -> None:
    once, broker = OncePerId(2), Broker()
    a, b, c = (Order.market("X", "buy", 1) for _ in range(3))
    await _run(once, broker, a)
    await _interrupt(once, broker, b)  # two kept: a and b's unknown
    assert len(once) == 2
    await _run(once, broker, a)
    assert broker.sends == [a.client_order_id, b.client_order_id]  # a still remembered
    await _interrupt(once, broker, c)  # a, the oldest, goes; b and c stay
    await _run(once, broker, b)
    await _run(once, broker, c)
    assert broker.sends == [a.client_order_id, b.client_order_id, c.client_order_id]
    await _run(once, broker, a)
    assert broker.sends[-1] == a.client_order_id and len(once) == 2
