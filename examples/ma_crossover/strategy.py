"""A moving-average crossover strategy with a protective stop loss.

It goes long when the fast average crosses above the slow one, with a stop loss a
fixed fraction below the entry, and closes the position when the fast average
crosses back below. It talks only to an ``Executor``, so the same code trades on
the mock in tests and on a real broker in production.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from fks_exec import ExecutionResult, Executor, Order


class MovingAverageCrossover:
    """Trades ``quantity`` of ``symbol`` on crossovers of two simple moving averages."""

    def __init__(
        self,
        executor: Executor,
        symbol: str,
        quantity: Decimal,
        *,
        fast: int = 3,
        slow: int = 6,
        stop_loss_fraction: Decimal = Decimal("0.02"),
    ) -> None:
        if not 0 < fast < slow:
            raise ValueError("need 0 < fast < slow")
        self.executor = executor
        self.symbol = symbol
        self.quantity = quantity
        self.fast = fast
        self.slow = slow
        self.stop_loss_fraction = stop_loss_fraction
        self.prices: deque[Decimal] = deque(maxlen=slow)
        self.was_above: bool | None = None
        self.results: list[ExecutionResult] = []

    def _averages(self) -> tuple[Decimal, Decimal]:
        prices = list(self.prices)
        fast = sum(prices[-self.fast :], Decimal(0)) / self.fast
        slow = sum(prices, Decimal(0)) / self.slow
        return fast, slow

    async def held(self) -> Decimal:
        """The position the broker reports for ``symbol``."""
        for position in await self.executor.positions():
            if position.symbol == self.symbol:
                return position.quantity
        return Decimal(0)

    async def on_price(self, price: Decimal) -> ExecutionResult | None:
        """Feed one closing price; returns the order result when it traded."""
        self.prices.append(price)
        if len(self.prices) < self.slow:
            return None
        fast, slow = self._averages()
        above = fast > slow
        crossed_up = self.was_above is False and above
        crossed_down = self.was_above is True and not above
        self.was_above = above
        if crossed_up and await self.held() == 0:
            stop = (price * (1 - self.stop_loss_fraction)).quantize(Decimal("0.01"))
            order = Order.market(self.symbol, "buy", self.quantity, stop_loss=stop)
        elif crossed_down and (held := await self.held()) > 0:
            order = Order.market(self.symbol, "sell", held, reduce_only=True)
        else:
            return None
        result = await self.executor.execute(order)
        self.results.append(result)
        return result
