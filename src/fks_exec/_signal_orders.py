"""Signals into orders: the ticker table (:class:`SignalMapping`), the order a signal asks
for (:func:`to_order`), and sending it once per signal id (:func:`execute_signal`), exits
sized from the open position.

Import these from :mod:`fks_exec.signals`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from fks_exec._signal_model import Signal, SignalError, SignalSkipped
from fks_exec.models import ExecutionResult, Order, OrderSide, OrderType

if TYPE_CHECKING:
    from fks_exec.models import Position
    from fks_exec.plugin import ExecutionPlugin

__all__ = ["OrderRouter", "SignalMapping", "execute_signal", "to_order"]


class OrderRouter(Protocol):
    """What signals need of an executor: :class:`~fks_exec.Executor` is one.

    Signals sit on top of the executor through this protocol, so neither module
    imports the other.
    """

    def route(self, symbol: str, plugin: str | None = None) -> str:
        """The plugin an order for ``symbol`` goes to."""
        ...

    async def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Send ``order`` (once per client order id)."""
        ...

    async def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions at ``plugin``."""
        ...

    async def plugin(self, name: str) -> ExecutionPlugin:
        """The named plugin, started."""
        ...

    async def spent_result(self, client_order_id: str) -> ExecutionResult | None:
        """The recorded result of a client order id that was sent, else None."""
        ...


@dataclass
class SignalMapping:
    """How signals become orders: a ticker table, and the weakest signal acted on.

    ``symbols`` maps a sender's ticker to ``"plugin:symbol"`` (or just ``"symbol"``),
    e.g. ``{"BINANCE:BTCUSDT": "ccxt:BTC/USDT", "CME_MINI:ES1!": "ninja:ES 12-25"}``.
    A ticker not in the table loses its ``EXCHANGE:`` prefix and goes to the routed
    plugin (or the signal's ``plugin``).
    """

    symbols: dict[str, str] = field(default_factory=dict)
    min_confidence: float | None = None

    def resolve(self, signal: Signal) -> tuple[str, str | None]:
        """``(symbol, plugin or None)`` for ``signal``."""
        target = self.symbols.get(signal.ticker)
        if target is None:
            return signal.ticker.split(":", 1)[-1], signal.plugin
        plugin, sep, symbol = target.partition(":")
        return (symbol, plugin) if sep else (plugin, signal.plugin)


def to_order(
    signal: Signal,
    symbol: str,
    quantity: Decimal | None = None,
    side: OrderSide | None = None,
    reduce_only: bool = False,
) -> Order:
    """The :class:`Order` a buy or sell signal asks for. Raises :class:`SignalError`."""
    fields: dict[str, Any] = {
        "symbol": symbol,
        "side": side or signal.action,
        "type": signal.order_type,
        "quantity": quantity if quantity is not None else signal.quantity,
        "reduce_only": reduce_only,
    }
    if signal.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["price"] = signal.price
    if signal.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields["stop_price"] = signal.price
    if not reduce_only:
        fields.update(stop_loss=signal.stop_loss, take_profit=signal.take_profit)
    if signal.client_order_id:
        fields["client_order_id"] = signal.client_order_id
    try:
        return Order.model_validate(fields)
    except ValueError as exc:
        raise SignalError(f"the signal does not make a valid order: {exc}") from None


async def execute_signal(
    executor: OrderRouter, signal: Signal, mapping: SignalMapping | None = None
) -> ExecutionResult:
    """Execute ``signal`` through ``executor``; a spent signal id sends nothing.

    A signal id is spent when its order was sent (or may have been): a replay returns
    the recorded result, also after a restart when the executor's journal is a file
    (see :meth:`Executor.spent_result`). An id whose order was not sent is sent again.
    ``exit`` closes the position in the symbol with a reduce-only market order (all of
    it, or ``quantity``). Raises :class:`SignalSkipped` for a signal below
    ``min_confidence`` or an exit when flat, :class:`SignalError` for a signal that
    makes no valid order, and what :meth:`Executor.execute` raises.
    """
    mapping = mapping or SignalMapping()
    if (
        mapping.min_confidence is not None
        and signal.confidence is not None
        and signal.confidence < mapping.min_confidence
    ):
        raise SignalSkipped(
            f"confidence {signal.confidence} is below the minimum {mapping.min_confidence}"
        )
    cid = signal.client_order_id
    spent = await executor.spent_result(cid) if cid is not None else None
    if spent is not None:  # an exit's order depends on the position: never rebuild it
        return spent
    symbol, plugin = mapping.resolve(signal)
    if signal.action != "exit":
        return await executor.execute(to_order(signal, symbol), plugin=plugin)
    name = plugin or executor.route(symbol)
    held = next(
        (p.quantity for p in await executor.positions(name) if p.symbol == symbol), Decimal(0)
    )
    if held == 0:
        raise SignalSkipped(f"exit signal for {symbol}: no open position")
    quantity = min(abs(held), signal.quantity) if signal.quantity else abs(held)
    side = OrderSide.SELL if held > 0 else OrderSide.BUY
    from fks_exec.plugin import Capability

    reduce_only = (await executor.plugin(name)).supports(Capability.REDUCE_ONLY)
    order = to_order(signal, symbol, quantity=quantity, side=side, reduce_only=reduce_only)
    return await executor.execute(order, plugin=name)
