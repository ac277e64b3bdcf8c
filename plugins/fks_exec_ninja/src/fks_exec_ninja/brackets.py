"""Bracket exits: protect what an entry has filled, from its first fill on.

An entry with ``stop_loss``/``take_profit`` gets a STOPMARKET and a LIMIT exit sharing
one OCO id as soon as NinjaTrader reports any fill of it, sized to what has filled; each
later fill grows both exits with ``CHANGE`` (help page "Commands and Valid Parameters":
CHANGE takes a new quantity, ``0`` prices leave them as they are). An entry that part
fills and is then cancelled keeps exits for what filled. Exits never carry an ATM
template (a template on an exit would start a strategy of its own when it fills).

Exit ids are derived from the entry's client order id, so a new process that resumes
an entry (:meth:`Brackets.resume`, after a restart) recognises exits an earlier process
placed -- in NinjaTrader's pushed values or its ``Orders|<account>`` list -- and adopts
them (``CHANGE`` to what filled) instead of placing them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import Order
from fks_exec_ninja.account import OrderLists
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
    """The quantity the exits were placed (or changed) for (0: not yet, or adopted
    exits whose size this process does not know)."""
    placed: set[str] = field(default_factory=set)
    """Exit ids known to be at NinjaTrader (placed here or adopted): never placed again."""


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
        order_lists: OrderLists | None = None,
    ) -> None:
        self._values, self._send, self._remember = values, send, remember
        self._lists = OrderLists() if order_lists is None else order_lists
        """The accounts' order lists as sets (the plugin's own, shared)."""
        self._entries: dict[str, Bracket] = {}
        self.watched: Mapping[str, Bracket] = self._entries
        """The entries being followed, by order id (read-only)."""

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: Order, entry_id: str, account: str, instrument: str) -> Bracket:
        """Watch ``entry`` (placed under ``entry_id``) for fills."""
        exits = exits_for(entry)
        oco = order_id_for(entry.client_order_id, "-oco") if len(exits) == 2 else ""
        bracket = Bracket(entry, entry_id, account, instrument, exits, oco)
        self._entries[entry_id] = bracket
        return bracket

    def resume(
        self,
        entry: Order,
        entry_id: str,
        account: str,
        instrument: str,
        *,
        filled: Decimal,
        final: bool,
    ) -> str:
        """Protect ``entry`` again in a new process (it was placed by an earlier one,
        ``filled`` of it is known to have filled, ``final``: it will not fill more);
        returns what was done, for the log.

        Exits NinjaTrader already knows (their ids in its values or in the account's
        ``Orders|`` list) are adopted and sized with ``CHANGE``; missing ones are placed
        for what filled. When an exit is already final (it filled, or was cancelled at
        NinjaTrader) the bracket has done its work or was ended by hand: nothing is sent.
        An entry still working is followed from then on as a live one is."""
        if entry_id in self._entries:
            return "already followed"
        bracket = self.add(entry, entry_id, account, instrument)
        known = [i for _, i in bracket.exits if self._at_ninjatrader(bracket, i)]
        bracket.placed.update(known)
        ended = [i for i in known if observe(self._values, i).final]
        if ended:
            del self._entries[entry_id]
            return f"exit {ended[0]} is already final at NinjaTrader; nothing sent"
        for exit_order, exit_id in bracket.exits:
            self._remember(exit_id, exit_order)
        self._follow(bracket, at_least=min(filled, entry.quantity))
        if final:
            self._entries.pop(entry_id, None)
        still = "; following the entry" if entry_id in self._entries else ""
        return f"{len(known)} exit(s) adopted, {len(bracket.exits) - len(known)} to place{still}"

    def forget(self, entry_id: str) -> None:
        """Stop watching ``entry_id`` (its PLACE was not sent)."""
        self._entries.pop(entry_id, None)

    def on_order_value(self, order_id: str) -> None:
        """``OrderStatus`` or ``Filled`` of ``order_id`` was pushed: follow it if it is
        a watched entry."""
        bracket = self._entries.get(order_id)
        if bracket is not None:
            self._follow(bracket)

    def refresh(self) -> None:
        """Look at every watched entry again (after a reconnect)."""
        for bracket in list(self._entries.values()):
            self._follow(bracket)

    def _follow(self, bracket: Bracket, at_least: Decimal = Decimal(0)) -> None:
        seen = observe(self._values, bracket.entry_id)
        quantity = bracket.entry.quantity
        filled = quantity if seen.state == "filled" else min(seen.filled, quantity)
        filled = max(filled, at_least)
        if filled > bracket.protected:
            try:
                self._protect(bracket, filled)
            except BrokerUnavailable as exc:
                logger.error("bracket exits of %s not sent yet: %s", bracket.entry_id, exc)
                return
        if seen.final:
            del self._entries[bracket.entry_id]

    def _at_ninjatrader(self, bracket: Bracket, exit_id: str) -> bool:
        """The exit was written by this process, or NinjaTrader shows it (its values, or
        the account's order list)."""
        if exit_id in bracket.placed or f"OrderStatus|{exit_id}" in self._values:
            return True
        listing = self._values.get("Orders|" + bracket.account)
        return listing is not None and self._lists.has(bracket.account, listing, exit_id)

    def _protect(self, bracket: Bracket, filled: Decimal) -> None:
        for exit_order, exit_id in bracket.exits:
            if not self._at_ninjatrader(bracket, exit_id):
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
                bracket.placed.add(exit_id)  # written: never placed again, whatever follows
            else:
                self._send(change_quantity_command(exit_id, filled))
        bracket.protected = filled
