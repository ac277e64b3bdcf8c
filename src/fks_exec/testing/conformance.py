"""The contract every plugin keeps, as tests a plugin's own test module subclasses.

Subclass :class:`PluginConformance` and write one async method, ``make_target``, that
starts your plugin against your fake broker and describes how to drive it::

    from fks_exec.testing import ConformanceTarget, PluginConformance

    class TestMyPluginConformance(PluginConformance):
        async def make_target(self) -> ConformanceTarget:
            fake = FakeBroker()
            plugin = MyPlugin(client=fake)
            await plugin.init({"api_key": "test"})
            return ConformanceTarget(
                plugin=plugin,
                symbol="BTC/USDT",
                quantity=Decimal("0.01"),
                resting_limit_price=lambda side: Decimal("1") if side == "buy" else Decimal("1e6"),
                stop_price=lambda side: Decimal("1e6") if side == "buy" else Decimal("1"),
                rejected_order=lambda: Order.market("BTC/USDT", "buy", "1e9"),
                expected_rejection=ErrorCode.INSUFFICIENT_FUNDS,
            )

Each test runs in its own event loop (``asyncio.run``), so no async pytest plugin is
needed and loop-bound resources (sockets, worker threads) start and stop in that loop.
The target is closed after every test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fks_exec.errors import BrokerUnavailable, NotSupported
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    OrderStatus,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec.testing.faults import FaultInjection

__all__ = ["ConformanceTarget", "PluginConformance"]

_WORKING = {OrderStatus.ACCEPTED, OrderStatus.PENDING}
_EXECUTED = {OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED, OrderStatus.ACCEPTED}


@dataclass
class ConformanceTarget:
    """A started plugin and what the suite needs to know to drive its fake broker."""

    plugin: ExecutionPlugin
    """The plugin, already ``init``-ed against the fake."""
    symbol: str
    """A tradable symbol with a quote."""
    quantity: Decimal
    """A quantity the fake accepts and can fill."""
    resting_limit_price: Callable[[OrderSide], Decimal]
    """A limit price far enough from the market to rest unfilled, per side."""
    stop_price: Callable[[OrderSide], Decimal]
    """A stop trigger far enough from the market not to trigger, per side."""
    rejected_order: Callable[[], Order]
    """Builds an order the fake broker refuses (e.g. too large for the account)."""
    expected_rejection: ErrorCode
    """The ``error_code`` that refusal must map to."""
    cleanup: Callable[[], Awaitable[None]] | None = None
    """Extra teardown (stop a fake server); the plugin itself is closed by the suite."""
    faults: FaultInjection | None = None
    """The fake broker's fault controls; the fault cases are skipped without them."""
    extra: dict[str, Any] = field(default_factory=dict)


class PluginConformance:
    """Tests of the plugin contract. Subclass it and implement :meth:`make_target`."""

    async def make_target(self) -> ConformanceTarget:
        """Start the plugin against its fake broker. Subclasses must override this."""
        raise NotImplementedError("implement make_target() in your conformance subclass")

    # ------------------------------------------------------------------ harness

    def _run(self, scenario: Callable[[ConformanceTarget], Awaitable[None]]) -> None:
        async def main() -> None:
            target = await self.make_target()
            try:
                await scenario(target)
            finally:
                await target.plugin.close()
                if target.cleanup is not None:
                    await target.cleanup()

        asyncio.run(main())

    @staticmethod
    def _check(result: ExecutionResult, plugin: ExecutionPlugin, order: Order | None) -> None:
        # Every result survives re-validation: no impossible fill, consistent success.
        ExecutionResult.model_validate(result.model_dump())
        assert result.plugin == plugin.name, f"result.plugin {result.plugin!r} != {plugin.name!r}"
        if order is not None:
            assert result.client_order_id == order.client_order_id
            assert result.symbol == order.symbol

    # ------------------------------------------------------------------ the contract

    def test_init_and_health(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            assert t.plugin.is_initialized
            health = await t.plugin.health_check()
            assert health.healthy, f"a freshly started plugin is unhealthy: {health.detail}"
            assert health.latency_ms is not None

        self._run(scenario)

    def test_fetch_data(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            quote = await t.plugin.fetch_data(t.symbol)
            assert isinstance(quote, MarketData)
            assert quote.bid is not None or quote.ask is not None or quote.last is not None

        self._run(scenario)

    def test_market_order_executes(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            order = Order.market(t.symbol, "buy", t.quantity)
            result = await t.plugin.execute_order(order)
            self._check(result, t.plugin, order)
            assert result.success, f"market order failed: {result.error_code}: {result.error}"
            assert result.status in _EXECUTED
            assert result.order_id, "a confirmed order needs the broker's order id"

        self._run(scenario)

    def test_resting_limit_order_found_and_canceled(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            price = t.resting_limit_price(OrderSide.BUY)
            order = Order.limit(t.symbol, "buy", t.quantity, price)
            result = await t.plugin.execute_order(order)
            self._check(result, t.plugin, order)
            assert result.status in _WORKING, f"a far limit should rest, got {result.status}"
            assert result.filled_quantity == 0
            if t.plugin.supports(Capability.GET_ORDER):
                found = await t.plugin.get_order(order.client_order_id)
                assert found is not None, "get_order must find a working order by client id"
                self._check(found, t.plugin, order)
                assert found.order_id == result.order_id
            if t.plugin.supports(Capability.CANCEL_ORDER):
                assert result.order_id is not None
                canceled = await t.plugin.cancel_order(result.order_id, t.symbol)
                self._check(canceled, t.plugin, None)
                assert canceled.status is OrderStatus.CANCELED, canceled.error
                if t.plugin.supports(Capability.GET_ORDER):
                    after = await t.plugin.get_order(order.client_order_id)
                    assert after is not None and after.status is OrderStatus.CANCELED

        self._run(scenario)

    def test_stop_order_accepted_or_denied_before_sending(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            order = Order.stop(t.symbol, "buy", t.quantity, t.stop_price(OrderSide.BUY))
            result = await t.plugin.execute_order(order)
            self._check(result, t.plugin, order)
            if t.plugin.supports(Capability.STOP_ORDERS):
                assert result.status in _WORKING, f"{result.status}: {result.error}"
            else:
                assert result.error_code is ErrorCode.NOT_SUPPORTED

        self._run(scenario)

    def test_rejection_maps_to_error_code(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            order = t.rejected_order()
            result = await t.plugin.execute_order(order)
            self._check(result, t.plugin, order)
            assert result.status is OrderStatus.REJECTED
            assert result.success is False
            assert result.error_code is t.expected_rejection, (result.error_code, result.error)
            assert result.error, "a rejection says why"
            assert result.sent is not None, "a rejection says whether the order was sent"

        self._run(scenario)

    def test_reused_client_order_id_never_makes_a_second_order(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            order = Order.limit(t.symbol, "buy", t.quantity, t.resting_limit_price(OrderSide.BUY))
            first = await t.plugin.execute_order(order)
            second = await t.plugin.execute_order(order)
            self._check(second, t.plugin, order)
            assert not (second.success and second.order_id != first.order_id), (
                "the broker accepted a second order under the same client order id"
            )

        self._run(scenario)

    def test_get_order_of_unknown_id_is_none(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            if not t.plugin.supports(Capability.GET_ORDER):
                try:
                    await t.plugin.get_order("never-sent")
                except NotSupported:
                    return
                raise AssertionError("get_order without the capability must raise NotSupported")
            assert await t.plugin.get_order("neversent0000000000000000000000000") is None

        self._run(scenario)

    def test_close_stops_trading(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            await t.plugin.close()
            assert not t.plugin.is_initialized
            assert not (await t.plugin.health_check()).healthy
            try:
                await t.plugin.execute_order(Order.market(t.symbol, "buy", t.quantity))
            except BrokerUnavailable:
                return
            raise AssertionError("a closed plugin must raise BrokerUnavailable, not send")

        self._run(scenario)

    # ------------------------------------------------------------------ faults

    @staticmethod
    def _faults(t: ConformanceTarget) -> FaultInjection:
        if t.faults is None:
            import pytest

            pytest.skip("the target names no fake broker faults (ConformanceTarget.faults)")
        assert isinstance(t.faults, FaultInjection), "faults must implement FaultInjection"
        return t.faults

    @staticmethod
    def _new_arrivals(faults: FaultInjection, before: dict[str, int]) -> list[int]:
        after = faults.order_arrivals()
        return [n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)]

    def test_refused_then_retried_is_sent_once(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            faults = self._faults(t)
            before = dict(faults.order_arrivals())
            order = Order.market(t.symbol, "buy", t.quantity)
            faults.refuse_next()
            try:
                await t.plugin.execute_order(order)
            except BrokerUnavailable:
                pass
            else:
                raise AssertionError("a refused connection must raise BrokerUnavailable")
            assert self._new_arrivals(faults, before) == [], "a refused order reached the book"
            retried = await t.plugin.execute_order(order)
            self._check(retried, t.plugin, order)
            assert retried.success, f"the retry was not sent: {retried.error}"
            assert self._new_arrivals(faults, before) == [1]

        self._run(scenario)

    def test_concurrent_calls_with_one_id_send_once(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            faults = self._faults(t)
            before = dict(faults.order_arrivals())
            order = Order.limit(t.symbol, "buy", t.quantity, t.resting_limit_price(OrderSide.BUY))
            faults.set_latency(0.05)
            try:
                results = await asyncio.gather(*(t.plugin.execute_order(order) for _ in range(3)))
            finally:
                faults.set_latency(0)
            for result in results:
                self._check(result, t.plugin, order)
            assert len({r.order_id for r in results}) == 1, [r.order_id for r in results]
            assert self._new_arrivals(faults, before) == [1]

        self._run(scenario)

    def test_answer_lost_after_placing_is_unknown_then_found_never_resent(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            faults = self._faults(t)
            before = dict(faults.order_arrivals())
            order = Order.limit(t.symbol, "buy", t.quantity, t.resting_limit_price(OrderSide.BUY))
            faults.lose_next_answer(after_broker_acted=True)
            lost = await t.plugin.execute_order(order)
            self._check(lost, t.plugin, order)
            assert lost.status is OrderStatus.UNKNOWN or lost.order_id, lost
            assert lost.sent is not False, "an answer lost after the broker acted is not 'not sent'"
            if t.plugin.supports(Capability.GET_ORDER):
                found = await t.plugin.get_order(order.client_order_id)
                assert found is not None and found.status in _WORKING, found
            again = await t.plugin.execute_order(order)
            self._check(again, t.plugin, order)
            assert self._new_arrivals(faults, before) == [1], "the order was sent twice"

        self._run(scenario)

    def test_answer_lost_before_the_broker_acted_is_never_resent(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            faults = self._faults(t)
            before = dict(faults.order_arrivals())
            order = Order.limit(t.symbol, "buy", t.quantity, t.resting_limit_price(OrderSide.BUY))
            faults.lose_next_answer(after_broker_acted=False)
            lost = await t.plugin.execute_order(order)
            self._check(lost, t.plugin, order)
            assert lost.status is OrderStatus.UNKNOWN, "a lost answer must not be assumed"
            if t.plugin.supports(Capability.GET_ORDER):
                assert await t.plugin.get_order(order.client_order_id) is None
            again = await t.plugin.execute_order(order)  # a blind retry of an unknown
            self._check(again, t.plugin, order)
            assert again.status is OrderStatus.UNKNOWN and again.sent is None, again
            assert self._new_arrivals(faults, before) == [], "an unknown order was resent"

        self._run(scenario)

    # ------------------------------------------------------------------ positions

    def test_close_position_closes_what_it_holds(self) -> None:
        async def scenario(t: ConformanceTarget) -> None:
            if not t.plugin.supports(Capability.CLOSE_POSITION):
                try:
                    await t.plugin.close_position(t.symbol)
                except NotSupported:
                    return
                raise AssertionError("close_position without the capability must raise")
            opened = await t.plugin.execute_order(Order.market(t.symbol, "buy", t.quantity))
            assert opened.success, opened.error
            held = await self._held(t)
            assert held > 0, "a filled buy must show as a long position"
            results = await t.plugin.close_position(t.symbol)
            assert results and all(r.success for r in results), results
            for result in results:
                self._check(result, t.plugin, None)
                assert result.side is OrderSide.SELL
            assert await self._held(t) == 0
            assert await t.plugin.close_position(t.symbol) == [], "flat: nothing to send"

        self._run(scenario)

    @staticmethod
    async def _held(t: ConformanceTarget) -> Decimal:
        if not t.plugin.supports(Capability.POSITIONS):
            return Decimal(0)
        positions = await t.plugin.positions()
        return sum((p.quantity for p in positions if p.symbol == t.symbol), Decimal(0))
