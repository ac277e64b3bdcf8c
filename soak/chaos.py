"""A seeded chaos run: many concurrent orders through one Executor over every fake broker.

Orders go to the mock, a ccxt okx object on the reference OKX fake, the reference
MetaTrader 5 fake and the reference NinjaTrader ATI server, while faults are injected at
random (seeded) through the one fault vocabulary every fake shares
(:class:`~fks_exec.testing.FaultInjection`): requests refused, answers lost before and
after the broker acted, slow answers. One plugin never starts (its orders fall back to
the mock) and one plugin's health check hangs. Afterwards the brokers' own arrival
counts show no client id reached a broker twice, and every caller's final answer is
checked against what the broker holds (asked through the plugin's ``get_order``).
Nothing here branches on which broker it drives. Used by tests/test_reliability.py
(small) and ``make soak`` (large).
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
from fks_exec.testing import FaultInjection, isolated_registry

SYMBOLS = {"broken": "BRK1"}
"""Routes of the plugins without a venue; the others route their venue's symbol."""


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


@dataclass
class Venue:
    """One plugin and its fake broker, seen only through the shared fault vocabulary."""

    plugin: ExecutionPlugin
    faults: FaultInjection
    symbol: str
    quantity: str
    config: dict[str, Any] = field(default_factory=dict)


class Brokers:
    """Every fake broker behind its plugin. Faults go through :class:`FaultInjection`
    and the final check asks each plugin's public ``get_order``, so nothing here knows
    how a broker spells a client order id."""

    def __init__(self, rng: random.Random) -> None:
        from fks_exec_ccxt import CcxtPlugin
        from fks_exec_ccxt.testing.okx import FakeOkx
        from fks_exec_mt5 import Mt5Plugin
        from fks_exec_mt5.testing.reference import FakeMetaTrader5
        from fks_exec_ninja.testing.reference import ReferenceAtiServer

        self.rng = rng
        mock = MockPlugin()
        mock.broker.set_price("MOCK1", bid=100, ask=100.5)
        mock.broker.set_latency(0, 0.002, seed=rng.randrange(1 << 30))
        okx = FakeOkx(balances={"USDT": "1000000000", "BTC": "1000000"})
        okx.set_price("BTC-USDT", "65000", "65001", "65000")
        terminal = FakeMetaTrader5.netting()
        self.nt = ReferenceAtiServer()
        self.venues = {
            "mock": Venue(mock, mock.broker, "MOCK1", "1"),
            "ccxt": Venue(CcxtPlugin(exchange=okx.exchange()), okx, "BTC/USDT", "0.001"),
            "mt5": Venue(Mt5Plugin(mt5=terminal), terminal, "EURUSD", "0.01"),
        }
        self._ninja_config: dict[str, Any] = {
            "order_timeout_s": 0.5,
            "connect_timeout_s": 1,
            "reconnect_min_s": 0.02,
            "reconnect_max_s": 0.1,
        }

    async def start(self) -> PluginRegistry:
        import datetime as dt

        from fks_exec_ninja import NinjaPlugin
        from fks_exec_ninja.testing.reference import front_month

        await self.nt.start()
        es = front_month("ES", dt.datetime.now(dt.timezone.utc).date())
        config = {**self._ninja_config, "port": self.nt.port, "symbols": {"ES": es}}
        self.venues["ninja"] = Venue(NinjaPlugin(), self.nt, "ES", "1", config)
        plugins = {name: venue.plugin for name, venue in self.venues.items()}
        return isolated_registry(**plugins, broken=BrokenPlugin(), hanging=HangingPlugin())

    def configs(self) -> dict[str, dict[str, Any]]:
        """Each plugin's config for the executor."""
        return {name: venue.config for name, venue in self.venues.items()} | {"hanging": {}}

    async def stop(self) -> None:
        await self.nt.stop()

    def venue_of(self, plugin: str) -> Venue:
        """Where an order routed to ``plugin`` ends up (the broken plugin's: the mock)."""
        return self.venues["mock" if plugin == "broken" else plugin]

    def inject(self, plugin: str) -> None:
        """Maybe arm a fault at ``plugin``'s fake (it hits whichever order comes next)."""
        if self.rng.random() > 0.25:
            return
        faults = self.venue_of(plugin).faults
        kind = self.rng.randrange(4)
        if kind == 0:
            faults.refuse_next()
        elif kind == 3:
            faults.set_latency(self.rng.choice([0.0, 0.001, 0.003]))
        else:
            faults.lose_next_answer(after_broker_acted=kind == 2)

    def arrivals(self) -> tuple[int, int]:
        """(client ids that reached a broker, ids that reached one more than once)."""
        counts = [n for v in self.venues.values() for n in v.faults.order_arrivals().values()]
        return sum(1 for n in counts if n), sum(1 for n in counts if n > 1)

    async def live(self, plugin: str, order: Order) -> bool:
        """True when the broker holds a non-rejected order with this client id."""
        venue = self.venue_of(plugin)
        for faults in (v.faults for v in self.venues.values()):
            faults.set_latency(0)
        try:
            # with the hints the plugin gave for it, as the executor's lookups ask (an MT5
            # order that closed a whole position may have had more legs: its lots tell)
            hints = venue.plugin.lookup_hints(order)
            found = await venue.plugin.find_order(order.client_order_id, hints)
        except BrokerUnavailable:
            return False
        return found is not None and found.status not in (
            OrderStatus.REJECTED,
            OrderStatus.UNKNOWN,
        )


async def run(seed: int = 7, orders: int = 600, concurrency: int = 24) -> Report:
    """One chaos run; returns its :class:`Report` (checks are the caller's)."""
    rng = random.Random(seed)
    brokers = Brokers(rng)
    registry = await brokers.start()
    routes = {v.symbol: name for name, v in brokers.venues.items()} | {"BRK1": "broken"}
    executor = Executor(
        registry,
        routes=routes,
        fallbacks={"broken": ["mock"]},
        allow_paper_fallback={"broken": ["mock"]},  # a test plugin, not real money
        configs=brokers.configs(),
        reconcile_delay_s=0.05,
        reconcile_attempts=4,
        health_timeout_s=0.2,
    )
    report = Report(orders=orders)
    plan = []
    for i in range(orders):
        plugin = rng.choice(["mock", "mock", "ccxt", "mt5", "ninja", "broken"])
        side = "buy" if rng.random() < 0.5 else "sell"
        venue = brokers.venue_of(plugin)
        symbol = SYMBOLS["broken"] if plugin == "broken" else venue.symbol
        cid = f"chaos-{seed}-{i}"
        plan.append((plugin, Order.market(symbol, side, venue.quantity, client_order_id=cid)))
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
        report.sent, report.duplicated = brokers.arrivals()
        for cid, (plugin, order, outcome) in finals.items():
            report.outcomes[outcome] += 1
            live = await brokers.live(plugin, order)
            if outcome in ("filled", "accepted", "partially_filled") and not live:
                report.lost += 1
                report.disagreements.append(
                    f"{cid} on {plugin}: caller says {outcome}, broker has none"
                )
            elif outcome in ("not sent", "unknown") and live:
                report.disagreements.append(
                    f"{cid} on {plugin}: caller says {outcome}, broker has it"
                )
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
