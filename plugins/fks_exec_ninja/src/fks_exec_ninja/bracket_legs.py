"""What one bracket is made of: its entry, its exits (legs) and their ids (no I/O).

A bracket's exits come in *generations*: one stop-loss and/or one take-profit sharing
an OCO id. The first generation's ids are derived from the entry's client order id
(``-sl``, ``-tp``, ``-oco``), so a new process recognises exits an earlier one placed.
A later generation (``-sl.2``, ``-tp.2``, ``-oco.2``, ...) is placed only when the
previous one can no longer carry the position: one of its exits filled (NinjaTrader's
OCO then cancelled or reduced the other) and the entry has filled more since, or the
OCO cancelled the other exit after a partial fill.

The quantity the exits protect is ``open_quantity``: what the entry has filled, less
what earlier generations' exits filled (and what a partial ``close_position`` took
away), less what the current generation's exits filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec.models import Order, TimeInForce
from fks_exec_ninja.mapping import order_id_for

__all__ = ["Bracket", "Leg", "exit_ids", "legs_for"]

_ZERO = Decimal(0)


@dataclass
class Leg:
    """One exit order of a bracket's current generation."""

    order: Order
    order_id: str
    total: Decimal = _ZERO
    """The quantity last written for it (PLACE or CHANGE; NinjaTrader's quantity is the
    order's whole quantity, filled part included); 0 before that, and for an exit
    adopted from an earlier process (its size there is not known here)."""
    filled: Decimal = _ZERO
    """The most NinjaTrader has said filled of it."""
    others: Decimal = _ZERO
    """What the other exits of its pair had filled when :attr:`total` was set (what
    they fill after that, NinjaTrader's OCO takes off its quantity)."""
    state: str | None = None
    """Its latest pushed state (lower case, as :func:`~fks_exec_ninja.states.parse_state`)."""
    at_ninjatrader: bool = False
    """Written by this process, adopted, or shown by NinjaTrader: never placed again,
    except after a reconnect when NinjaTrader's fresh order list shows it never came."""
    cancelled_here: bool = False
    """This process sent its CANCEL (a retired exit)."""
    fills_known: bool = True
    """False for an exit a new process found at NinjaTrader (adopted, or of an earlier
    pair) until NinjaTrader has pushed its state and its ``Filled`` (or its state, and
    the bracket's grace has passed without a ``Filled``): what it filled is not known,
    so nothing is sized meanwhile."""
    epoch: int = 0
    """The connection (counted by :meth:`~fks_exec_ninja.brackets.Brackets.reconnected`) on
    which it was written."""


@dataclass
class Bracket:
    """An entry with ``stop_loss``/``take_profit``, awaiting (or holding) its exits."""

    entry: Order
    entry_id: str
    account: str
    instrument: str
    legs: list[Leg] = field(default_factory=list)
    oco: str = ""
    generation: int = 1
    filled: Decimal = _ZERO
    """The most NinjaTrader has said filled of the entry."""
    spent: Decimal = _ZERO
    """Closed by a partial close_position (not by the exits)."""
    placed: bool = False
    """The current generation's exits were written (or adopted)."""
    entry_final: bool = False
    """The entry will not fill more (NinjaTrader said so, or the journal did)."""
    retired: list[Leg] = field(default_factory=list)
    """Exits of earlier generations (cancelled here when still working); their fills
    count, also those NinjaTrader pushes late."""

    sized: Decimal = _ZERO
    """:attr:`base` when the current exits were last written."""
    graced: bool = False
    """Its values have had their moment (``fill_agreement_s``) to agree since they first
    did not, or to bring a fill after a final state: taken as they stand from now on,
    until a look at them decides something without waiting."""

    @property
    def base(self) -> Decimal:
        """What the current exits are for: the entry's fills less what left the
        position otherwise than through them."""
        retired = sum((leg.filled for leg in self.retired), _ZERO)
        return self.filled - self.spent - retired

    @property
    def exited(self) -> Decimal:
        """Filled by the current generation's exits."""
        return sum((leg.filled for leg in self.legs), _ZERO)

    @property
    def open_quantity(self) -> Decimal:
        """What the exits must cover now: filled, less what left the position."""
        return self.base - self.exited

    def ids(self) -> list[str]:
        """The entry's id and its current exits' ids."""
        return [self.entry_id, *(leg.order_id for leg in self.legs)]


def exit_ids(client_order_id: str, generation: int) -> tuple[str, str, str]:
    """The stop-loss, take-profit and OCO ids of an entry's ``generation`` of exits."""
    tail = "" if generation == 1 else f".{generation}"
    return (
        order_id_for(client_order_id, "-sl" + tail),
        order_id_for(client_order_id, "-tp" + tail),
        order_id_for(client_order_id, "-oco" + tail),
    )


def legs_for(entry: Order, generation: int) -> tuple[list[Leg], str]:
    """The exit legs of ``entry``'s ``generation`` (quantity: the entry's; the wire
    quantity is written per command) and their OCO id ("" for a single exit).

    Exits are good till cancelled whatever the entry's time in force: the entry's says
    how long it may wait to fill, not how long its position is protected (a DAY exit
    would expire at the session's end and leave an overnight position without a stop:
    NinjaTrader cancels a DAY order not filled by the close of the trading day, its blog
    page "What is Time in Force (TIF)"; the ATI takes DAY or GTC, help "Commands and
    Valid Parameters")."""
    stop_id, target_id, oco = exit_ids(entry.client_order_id, generation)
    side, tif = entry.side.opposite, TimeInForce.GTC
    legs = []
    if entry.stop_loss is not None:
        stop = Order.stop(entry.symbol, side, entry.quantity, entry.stop_loss, time_in_force=tif)
        legs.append(Leg(stop, stop_id))
    if entry.take_profit is not None:
        target = Order.limit(
            entry.symbol, side, entry.quantity, entry.take_profit, time_in_force=tif
        )
        legs.append(Leg(target, target_id))
    return legs, oco if len(legs) == 2 else ""
