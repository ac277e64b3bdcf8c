"""The mock broker driven from another thread while a SyncExecutor sends orders."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

from fks_exec import Order, OrderStatus, PluginRegistry, SyncExecutor
from fks_exec.mock import MockBroker, MockPlugin

FINAL = {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}


class WhereBroker(MockBroker):
    """A mock broker that can say which thread runs its methods."""

    def running_thread(self) -> int:
        """The id of the thread this call runs on."""
        return threading.get_ident()


def _sync(broker: MockBroker) -> SyncExecutor:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=broker)
    plugin.use_env = False
    broker.set_price("X", bid=100, ask=100.5)
    registry.register("mock", plugin)
    return SyncExecutor(registry, default="mock", journal="memory")


def test_calls_from_another_thread_run_on_the_loop_thread() -> None:
    broker = WhereBroker()
    assert broker.running_thread() == threading.get_ident()  # not bound before connecting
    with _sync(broker) as sync:
        loop_thread = sync.call_in_loop(threading.get_ident)
        assert broker.running_thread() == loop_thread
        seen: list[int] = []
        worker = threading.Thread(target=lambda: seen.append(broker.running_thread()))
        worker.start()
        worker.join(timeout=10)
        assert seen == [loop_thread]
        error: list[BaseException] = []

        def crossed() -> None:
            try:
                broker.set_price("X", bid=101, ask=100)
            except ValueError as exc:
                error.append(exc)

        worker = threading.Thread(target=crossed)
        worker.start()
        worker.join(timeout=10)
        assert len(error) == 1 and "crossed" in str(error[0])  # exceptions reach the caller
    assert broker.running_thread() == threading.get_ident()  # the loop is gone: direct


def test_quotes_moved_from_a_thread_never_contradict_the_answers() -> None:
    broker = MockBroker()
    with _sync(broker) as sync:
        stop = threading.Event()

        def move_quotes() -> None:
            rnd = random.Random(7)
            while not stop.is_set():
                mid = Decimal(100) + Decimal(rnd.randint(-20, 20)) / 10
                broker.set_price("X", bid=mid, ask=mid + Decimal("0.5"), size=1)

        mover = threading.Thread(target=move_quotes)
        mover.start()
        try:
            results = [
                sync.execute(Order.market("X", "buy" if i % 2 else "sell", 1)) for i in range(200)
            ]
            results += [
                sync.execute(Order.limit("X", "buy" if i % 2 else "sell", 1, Decimal(100)))
                for i in range(200)
            ]
        finally:
            stop.set()
            mover.join(timeout=10)
        arrivals = sync.call_in_loop(broker.order_arrivals)
        records = {
            r.client_order_id: sync.call_in_loop(broker.find, r.client_order_id) for r in results
        }
        now = {cid: sync.call_in_loop(broker.result, rec) for cid, rec in records.items()}
        net = sync.call_in_loop(broker.position, "X")
    assert sorted(arrivals.values()) == [1] * 400
    for result in results:
        later = now[result.client_order_id]
        assert result.filled_quantity <= later.filled_quantity
        if result.status in FINAL:
            assert later.status is result.status, (result, later)
    signed = sum(
        (r.filled_quantity if r.side == "buy" else -r.filled_quantity for r in now.values()),
        Decimal(0),
    )
    assert net == signed
