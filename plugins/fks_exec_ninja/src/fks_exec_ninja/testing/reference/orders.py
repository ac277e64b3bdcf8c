"""Orders, positions and the updates the book emits for the server to push.

Order states are the names of NinjaTrader 8's ``OrderState`` enum (help pages "Order
State Definitions", https://ninjatrader.com/support/helpGuides/nt8/order_state_definitions.htm,
and "IsTerminalState()", https://ninjatrader.com/support/helpGuides/nt8/isterminalstate.htm:
Cancelled, Filled, Rejected and Unknown are terminal). That ``OrderStatus|<id>`` carries
the enum name (``PartFilled``, not "Partially filled") is inferred.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "ORDER_TYPES",
    "TERMINAL_STATES",
    "Event",
    "Order",
    "OrderUpdate",
    "Position",
    "Step",
    "ValueUpdate",
    "new_internal_id",
]

TERMINAL_STATES = frozenset({"Cancelled", "Filled", "Rejected", "Unknown"})

ORDER_TYPES = {
    "MARKET": "MARKET",
    "LIMIT": "LIMIT",
    "MIT": "MIT",
    "STOPMARKET": "STOPMARKET",
    "STOPLIMIT": "STOPLIMIT",
    "STOP": "STOPMARKET",
}
"""ATI order type -> the type the book works with. NinjaTrader 8's ``OrderType`` is
Market, Limit, MIT, StopMarket, StopLimit; ``STOP`` is the NT6/NT7 help pages' name
(https://ninjatrader.com/support/helpGuides/nt7/commands_and_valid_parameters.htm),
accepted as StopMarket (inferred)."""


def new_internal_id() -> str:
    """An id for an order NinjaTrader made itself (no ATI order id): 32 hex digits.

    The DLL's own ``Client.NewOrderId`` is ``Guid.NewGuid().ToString("N")`` upper-cased;
    NinjaTrader's internal ids are inferred to look alike.
    """
    return uuid.uuid4().hex.upper()


@dataclass
class Order:
    """One order as NinjaTrader holds it."""

    order_id: str
    account: str
    instrument: str
    action: str
    quantity: int
    order_type: str
    limit_price: Decimal
    stop_price: Decimal
    tif: str
    oco: str = ""
    strategy: str = ""
    strategy_id: str = ""
    via_ati: bool = True
    state: str = "Initialized"
    filled: int = 0
    avg_fill_price: Decimal = Decimal(0)
    triggered: bool = False
    fill_pieces_done: int = 0

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL."""
        return 1 if self.action == "BUY" else -1

    @property
    def remaining(self) -> int:
        """Quantity not yet filled."""
        return self.quantity - self.filled

    @property
    def is_terminal(self) -> bool:
        """True once the order can no longer change (IsTerminalState())."""
        return self.state in TERMINAL_STATES


@dataclass
class Position:
    """A signed position of one account in one instrument."""

    quantity: int = 0
    avg_price: Decimal = Decimal(0)

    def apply(self, signed_qty: int, price: Decimal) -> Decimal:
        """Add a fill; return the realized PnL in price points times quantity."""
        realized = Decimal(0)
        if self.quantity == 0 or (self.quantity > 0) == (signed_qty > 0):
            total = abs(self.quantity) + abs(signed_qty)
            self.avg_price = (self.avg_price * abs(self.quantity) + price * abs(signed_qty)) / total
            self.quantity += signed_qty
            return realized
        closed = min(abs(signed_qty), abs(self.quantity))
        direction = 1 if self.quantity > 0 else -1
        realized = (price - self.avg_price) * closed * direction
        self.quantity += signed_qty
        if self.quantity == 0:
            self.avg_price = Decimal(0)
        elif (self.quantity > 0) != (direction > 0):
            self.avg_price = price
        return realized


@dataclass(frozen=True)
class OrderUpdate:
    """An order's three values after a change, and which of them changed."""

    order_id: str
    status: str
    filled: int
    avg_fill_price: Decimal
    changed: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ValueUpdate:
    """Any other value: positions, account values, order lists, ATM strategy values."""

    key: str
    value: str


Event = OrderUpdate | ValueUpdate
Step = list[Event]
