"""Bracket exits: protect what an entry has filled, from its first fill on.

An entry with ``stop_loss``/``take_profit`` gets a STOPMARKET and a LIMIT exit sharing
one OCO id as soon as NinjaTrader reports any fill of it, sized to what has filled; each
later fill grows both exits with ``CHANGE`` (help page "Commands and Valid Parameters":
CHANGE takes a new quantity, ``0`` prices leave them as they are). An entry that part
fills and is then cancelled keeps exits for what filled. Exits never carry an ATM
template (a template on an exit would start a strategy of its own when it fills).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import Order
from fks_exec_ninja.mapping import change_quantity_command, order_id_for, place_command
from fks_exec_ninja.states import observe

__all__ = ["Bracket", "Brackets"]

logger = logging.getLogger("fks_exec.plugins.ninja")


@dataclass
class Bracket:
    """An entry awaiting (or holding) its exits."""

    entry: Order
    entry_id: str
    account: str
    instrument: str
    exits: list[tuple[Order, str]] = field(default_factory=list)
    oco: str = ""
    protected: Decimal = Decimal(0)
    """The quantity the exits were placed (or changed) for."""


def exits_for(entry: Order) -> list[tuple[Order, str]]:
    """The exit orders of ``entry`` and their order ids (quantity: the entry's)."""
    side, tif = entry.side.opposite, entry.time_in_force
    exits = []
    if entry.stop_loss is not None:
        stop = Order.stop(entry.symbol, side, entry.quantity, entry.stop_loss, time_in_force=tif)
        exits.append((stop, order_id_for(entry.client_order_id, "-sl")))
    if entry.take_profit is not None:
        target = Order.limit(
            entry.symbol, side, entry.quantity, entry.take_profit, time_in_force=tif
        )
        exits.append((target, order_id_for(entry.client_order_id, "-tp")))
    return exits


class Brackets:
    """Entries with exits to keep in step with their fills; ``send`` writes a command."""

    def __init__(
        self,
        values: Mapping[str, str],
        send: Callable[[str], None],
        remember: Callable[[str, Order], None],
    ) -> None:
        self._values, self._send, self._remember = values, send, remember
        self._entries: dict[str, Bracket] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: Order, entry_id: str, account: str, instrument: str) -> None:
        """Watch ``entry`` (placed under ``entry_id``) for fills."""
        exits = exits_for(entry)
        oco = order_id_for(entry.client_order_id, "-oco") if len(exits) == 2 else ""
        self._entries[entry_id] = Bracket(entry, entry_id, account, instrument, exits, oco)

    def forget(self, entry_id: str) -> None:
        """Stop watching ``entry_id`` (its PLACE was not sent)."""
        self._entries.pop(entry_id, None)

    def on_value(self, key: str, value: str) -> None:
        """Follow the entry's fills (called by the reader for every value)."""
        kind, _, order_id = key.partition("|")
        if kind in ("OrderStatus", "Filled"):
            bracket = self._entries.get(order_id)
            if bracket is not None:
                self._follow(bracket)

    def refresh(self) -> None:
        """Look at every watched entry again (after a reconnect)."""
        for bracket in list(self._entries.values()):
            self._follow(bracket)

    def _follow(self, bracket: Bracket) -> None:
        seen = observe(self._values, bracket.entry_id)
        quantity = bracket.entry.quantity
        filled = quantity if seen.state == "filled" else min(seen.filled, quantity)
        if filled > bracket.protected:
            try:
                self._protect(bracket, filled)
            except BrokerUnavailable as exc:
                logger.error("bracket exits of %s not sent yet: %s", bracket.entry_id, exc)
                return
        if seen.final:
            del self._entries[bracket.entry_id]

    def _protect(self, bracket: Bracket, filled: Decimal) -> None:
        first = bracket.protected == 0
        for exit_order, exit_id in bracket.exits:
            if first and f"OrderStatus|{exit_id}" not in self._values:
                self._remember(exit_id, exit_order)
                self._send(
                    place_command(
                        exit_order,
                        account=bracket.account,
                        instrument=bracket.instrument,
                        order_id=exit_id,
                        oco=bracket.oco,
                        quantity=filled,
                    )
                )
            else:
                self._send(change_quantity_command(exit_id, filled))
        bracket.protected = filled
