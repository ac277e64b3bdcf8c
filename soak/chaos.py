"""A seeded chaos run: many concurrent orders through one Executor over every fake broker.

Orders go to the mock, a ccxt binance object on the fake venue, the fake MetaTrader 5
terminal and the fake NinjaTrader server, while faults are injected at random (seeded):
connections refused or dropped before and after a send, timeouts, answers lost, requotes,
rejections, slow answers; one plugin never starts (its orders fall back to the mock) and
one plugin's health check hangs. Afterwards every client order id is checked against the
broker's own record: at most one order reached the broker, and the caller's final answer
agrees with it. Used by tests/test_reliability.py (small) and ``make soak`` (large).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fks_exec import (
    BrokerUnavailable,
    Capability,
    ExecutionPlugin,
    ExecutionResult,
    Executor,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    PluginInitError,
    PluginRegistry,
)
from fks_exec.mock import MockPlugin

SYMBOLS = {
    "mock": "MOCK1",
    "ccxt": "BTC/USDT",
    "mt5": "EURUSD",
    "ninja": "ES 12-25",
    "broken": "BRK1",
}


class BrokenPlugin(ExecutionPlugin):
    """A plugin whose start always fails (its orders fall back to the mock)."""

    name: ClassVar[str] = "broken"

    async def _connect(self, config: Any) -> None:
        raise PluginInitError("the terminal crashed at start-up")

    async def _execute_order(self, order: Order) -> ExecutionResult:  # pragma: no cover
        raise AssertionError("never started")

    async def _fetch_data(self, symbol: str) -> MarketData:  # pragma: no cover
        raise AssertionError("never started")

    async def _health_check(self) -> HealthStatus:  # pragma: no cover
        raise AssertionError("never started")


class HangingPlugin(ExecutionPlugin):
    """A plugin that starts but whose health check never answers."""

    name: ClassVar[str] = "hanging"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    async def _connect(self, config: Any) -> None:
        return None

    async def _execute_order(self, order: Order) -> ExecutionResult:  # pragma: no cover
        raise BrokerUnavailable("hanging plugin takes no orders")

    async def _fetch_data(self, symbol: str) -> MarketData:  # pragma: no cover
        raise BrokerUnavailable("no data")

    async def _health_check(self) -> HealthStatus:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


@dataclass
class Report:
    """What a chaos run saw."""

    orders: int = 0
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reconciled: int = 0
    still_unknown: int = 0
    lost: int = 0
    duplicated: int = 0
    disagreements: list[str] = field(default_factory=list)
    seconds: float = 0.0
    health_seconds: float = 0.0

    def lines(self) -> list[str]:
        """The report as text."""
        return [
            f"orders {self.orders} in {self.seconds:.1f}s; reached a broker {self.sent}",
            "final outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
            f"unknown then reconciled {self.reconciled}; unknown with no order at the broker "
            f"{self.still_unknown}",
            f"lost {self.lost}, duplicated {self.duplicated}, disagreements "
            f"{len(self.disagreements)}",
            f"health with a hanging plugin answered in {self.health_seconds:.2f}s",
        ]


class Brokers:
    """The fakes, their fault injection and their records of client order ids."""

    def __init__(self, rng: random.Random) -> None:
        from fks_exec_ccxt import CcxtPlugin
        from fks_exec_ccxt.testing import FakeBinance, fake_exchange
        from fks_exec_mt5 import Mt5Plugin
        from fks_exec_mt5.testing import FakeMetaTrader5
        from fks_exec_ninja.testing import FakeNinjaTrader

        self.rng = rng
        self.mock = MockPlugin()
        self.mock.use_env = False
        self.mock.broker.set_price("MOCK1", bid=100, ask=100.5)
        self.mock.broker.set_latency(0, 0.002, seed=rng.randrange(1 << 30))
        self.venue = FakeBinance(balances={"USDT": "1000000000", "BTC": "1000000"})
        self.venue.set_price("BTCUSDT", "65000", "65001")
        self.ccxt = CcxtPlugin(exchange=fake_exchange(self.venue))
        self.terminal = FakeMetaTrader5(hedging=False, balance=1e12)
        self.mt5 = Mt5Plugin(mt5=self.terminal)
        self.mt5.use_env = False
        self.nt = FakeNinjaTrader(cash="1000000000")
        self.ninja_config: dict[str, Any] = {"order_timeout_s": 0.5, "reconnect_max_s": 0.1}

    async def start(self) -> PluginRegistry:
        from fks_exec_ninja import NinjaPlugin

        await self.nt.start()
        self.ninja = NinjaPlugin()
        self.ninja.use_env = False
        registry = PluginRegistry(discover=False)
        for name, plugin in (
            ("mock", self.mock),
            ("ccxt", self.ccxt),
            ("mt5", self.mt5),
            ("ninja", self.ninja),
            ("broken", BrokenPlugin()),
            ("hanging", HangingPlugin()),
        ):
            registry.register(name, plugin)
        self.ninja_config["port"] = self.nt.port
        return registry

    async def stop(self) -> None:
        await self.nt.stop()

    def inject(self, plugin: str) -> None:
        """Maybe arm a fault at ``plugin``'s fake (it hits whichever order comes next)."""
        r = self.rng.random()
        if r > 0.25:
            return
        if plugin == "mock":
            choice = self.rng.randrange(3)
            if choice == 0:
                self.mock.broker.reject_next("insufficient_funds", "chaos: margin")
            elif choice == 1:
                self.mock.broker.fail_next_with(TimeoutError("chaos: answer lost"), after_send=True)
            else:
                self.mock.broker.fail_next_with(BrokerUnavailable("chaos: link down"))
        elif plugin == "ccxt":
            kind = self.rng.choice(["refused", "timeout", "reset", "http429", "http503"])
            if kind == "http429":
                self.venue.fail_next(
                    "http",
                    status=429,
                    path="/api/v3/order",
                    body='{"code":-1003,"msg":"Too much request weight used"}',
                )
            elif kind == "http503":
                self.venue.fail_next("http", status=503, path="/api/v3/order")
            else:
                self.venue.fail_next(
                    kind,
                    after_processing=self.rng.random() < 0.5,  # type: ignore[arg-type]
                    path="/api/v3/order",
                )
        elif plugin == "mt5":
            choice = self.rng.randrange(3)
            if choice == 0:
                self.terminal.fail_next_ipc(-10001)
            elif choice == 1:
                self.terminal.fail_next_ipc(-10002, after_send=True)
            else:
                self.terminal.requote_next(self.rng.randrange(1, 6))
        elif plugin == "ninja":
            self.nt.drop_on_next_place(self.rng.choice(["before", "after"]))

    def reached(self, plugin: str, order: Order) -> int:
        """How many times an order with this client id reached the broker's books."""
        cid = order.client_order_id
        if plugin in ("mock", "broken"):
            return sum(
                1
                for o in self.mock.broker.orders
                if o.client_order_id == cid and "duplicate" not in (o.error or "")
            )
        if plugin == "ccxt":
            return sum(
                1
                for r in self.venue.requests_to("/api/v3/order", "POST")
                if r.params.get("newClientOrderId") == cid
            )
        if plugin == "mt5":
            from fks_exec_mt5.mapping import comment_for

            comment = comment_for(cid)
            state = self.terminal._state
            return sum(
                1
                for o in [*state.history_orders.values(), *state.orders.values()]
                if o.comment == comment
            )
        from fks_exec_ninja.mapping import order_id_for

        order_id = order_id_for(cid)
        return sum(1 for c in self.nt.commands if c.startswith("PLACE;") and f";{order_id};" in c)

    def live(self, plugin: str, order: Order) -> bool:
        """True when the broker holds a non-rejected order with this client id."""
        cid = order.client_order_id
        if plugin in ("mock", "broken"):
            record = self.mock.broker.find(cid)
            return record is not None and record.status is not OrderStatus.REJECTED
        if plugin == "ccxt":
            found = self.venue.engine.by_client.get(cid)
            return found is not None and found.status != "rejected"
        if plugin == "mt5":
            return self.reached(plugin, order) > 0
        from fks_exec_ninja.mapping import order_id_for

        found = self.nt.orders.get(order_id_for(cid))
        return found is not None and found.state != "Rejected"


async def run(seed: int = 7, orders: int = 600, concurrency: int = 24) -> Report:
    """One chaos run; returns its :class:`Report` (checks are the caller's)."""
    rng = random.Random(seed)
    brokers = Brokers(rng)
    registry = await brokers.start()
    routes = {symbol: name for name, symbol in SYMBOLS.items()}
    executor = Executor(
        registry,
        routes=routes,
        fallbacks={"broken": ["mock"]},
        allow_paper_fallback={"broken": ["mock"]},  # a test plugin, not real money
        configs={"ninja": brokers.ninja_config, "hanging": {}},
        reconcile_delay_s=0.05,
        reconcile_attempts=4,
        health_timeout_s=0.2,
    )
    report = Report(orders=orders)
    plan = []
    for i in range(orders):
        plugin = rng.choice(["mock", "mock", "ccxt", "mt5", "ninja", "broken"])
        side = "buy" if rng.random() < 0.5 else "sell"
        quantity = {"ccxt": "0.001", "mt5": "0.01", "ninja": "1"}.get(plugin, "1")
        plan.append(
            (
                plugin,
                Order.market(SYMBOLS[plugin], side, quantity, client_order_id=f"chaos-{seed}-{i}"),
            )
        )
    finals: dict[str, tuple[str, Order, str]] = {}
    queue: asyncio.Queue[tuple[str, Order]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    started = time.perf_counter()
    async with executor:

        async def worker() -> None:
            while not queue.empty():
                plugin, order = queue.get_nowait()
                brokers.inject(plugin)
                try:
                    result = await executor.execute(order)
                    outcome = result.status.value
                except BrokerUnavailable:
                    outcome = "not sent"
                finals[order.client_order_id] = (plugin, order, outcome)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        report.reconciled = executor.stats["reconciled"]
        began = time.perf_counter()
        health = await executor.health()
        report.health_seconds = time.perf_counter() - began
        assert not health["hanging"].healthy and not health["broken"].healthy
        await asyncio.sleep(1.0)  # let dropped connections come back before the final check
        for cid, (plugin, order, outcome) in finals.items():
            if outcome == "unknown":
                name = "mock" if plugin == "broken" else plugin
                try:
                    found = await executor.get_order(cid, plugin=name)
                except BrokerUnavailable:
                    found = None
                if found is not None and found.status is not OrderStatus.UNKNOWN:
                    report.reconciled += 1  # found by the final check
                    outcome = found.status.value
                else:
                    report.still_unknown += 1
            finals[cid] = (plugin, order, outcome)
    report.seconds = time.perf_counter() - started
    for cid, (plugin, order, outcome) in finals.items():
        count = brokers.reached(plugin, order)
        report.sent += min(count, 1)
        report.outcomes[outcome] += 1
        if count > 1:
            report.duplicated += 1
        live = brokers.live(plugin, order)
        if outcome in ("filled", "accepted", "partially_filled") and not live:
            report.lost += 1
            report.disagreements.append(
                f"{cid} on {plugin}: caller says {outcome}, broker has none"
            )
        elif outcome in ("not sent", "unknown") and live:
            report.disagreements.append(f"{cid} on {plugin}: caller says {outcome}, broker has it")
            report.lost += 1
    await brokers.stop()
    return report


if __name__ == "__main__":  # pragma: no cover
    import sys

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    result = asyncio.run(run(seed, count))
    print("\n".join(result.lines()))
    if result.disagreements:
        print("\n".join(result.disagreements[:20]))
    sys.exit(1 if (result.lost or result.duplicated) else 0)
