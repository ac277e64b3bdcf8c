"""Which bracket exit ids NinjaTrader knows: :class:`ExitIds` (no I/O).

An order id is *shown* when NinjaTrader has pushed a value of it or lists it in the
account's ``Orders|<account>`` list, and *taken* when this process also placed or
follows it. Exit ids come from the entry's client order id and a generation
(:func:`~fks_exec_ninja.bracket_legs.exit_ids`): a new generation takes the first ids
nobody has, and a new process resuming an entry follows the newest generation shown.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping

from fks_exec.models import Order
from fks_exec_ninja.account import OrderLists
from fks_exec_ninja.bracket_legs import Bracket, Leg, exit_ids, legs_for

__all__ = ["ExitIds"]


class ExitIds:
    """Answers about order ids from NinjaTrader's ``values`` and order ``lists``, this
    process's ``remembered`` ids and the ids of the brackets it follows
    (``followed``)."""

    def __init__(
        self,
        values: Mapping[str, str],
        lists: OrderLists,
        remembered: Container[str],
        followed: Container[str],
    ) -> None:
        self._values, self._lists = values, lists
        self._remembered, self._followed = remembered, followed

    def shown(self, account: str, order_id: str) -> bool:
        """NinjaTrader knows ``order_id`` (a value of it, or ``account``'s order list)."""
        if f"OrderStatus|{order_id}" in self._values:
            return True
        listing = self._values.get("Orders|" + account)
        return listing is not None and self._lists.has(account, listing, order_id)

    def taken(self, account: str, order_id: str) -> bool:
        """``order_id`` is shown, or this process placed or follows it."""
        if order_id in self._followed or order_id in self._remembered:
            return True
        return self.shown(account, order_id)

    def refusal(self, entry: Order, account: str) -> str | None:
        """Why ``entry`` cannot be placed as a bracket (its first exit ids are taken),
        else None."""
        for exit_id in exit_ids(entry.client_order_id, 1):
            if self.taken(account, exit_id):
                return (
                    f"the bracket exits of client order id {entry.client_order_id!r} would "
                    f"use order id {exit_id}, which an existing order already has (one "
                    f"whose client order id is {entry.client_order_id!r} followed by "
                    "'-sl', '-tp' or '-oco'?); use another client_order_id. Nothing was sent"
                )
        return None

    def unpushed(self, bracket: Bracket) -> list[str]:
        """The ids of ``bracket``'s exits (earlier pairs' first) whose fills are not
        known and of which NinjaTrader has pushed no state."""
        return [
            leg.order_id
            for leg in (*bracket.retired, *bracket.legs)
            if not leg.fills_known and f"OrderStatus|{leg.order_id}" not in self._values
        ]

    def not_pushed_again(self, brackets: Iterable[Bracket]) -> list[Bracket]:
        """The ``brackets`` whose entry (not final) or a placed exit has had no value
        pushed since the connection was made again: NinjaTrader did not re-push them, so
        what filled while the connection was down is not known until they change."""
        values = self._values
        return [
            bracket
            for bracket in brackets
            if any(
                f"OrderStatus|{order_id}" not in values
                for order_id in (
                    *(() if bracket.entry_final else (bracket.entry_id,)),
                    *(leg.order_id for leg in bracket.legs if leg.at_ninjatrader),
                )
            )
        ]

    def at_ninjatrader(self, bracket: Bracket, leg: Leg) -> bool:
        """The exit was written by this process, or NinjaTrader shows it."""
        return leg.at_ninjatrader or self.shown(bracket.account, leg.order_id)

    def never_came(self, bracket: Bracket, leg: Leg, epoch: int) -> bool:
        """Written on a connection before ``epoch``, and NinjaTrader's order list pushed
        since this one began does not show it (nor any value of it)."""
        if not leg.at_ninjatrader or leg.epoch >= epoch:
            return False
        if f"OrderStatus|{leg.order_id}" in self._values:
            return False
        listing = self._values.get("Orders|" + bracket.account)
        return listing is not None and not self._lists.has(bracket.account, listing, leg.order_id)

    def free_generation(self, account: str, client_order_id: str, after: int) -> int:
        """The first generation after ``after`` none of whose ids is taken."""
        generation = after + 1
        while any(self.taken(account, i) for i in exit_ids(client_order_id, generation)):
            generation += 1
        return generation

    def newest_shown(self, account: str, client_order_id: str) -> int:
        """The newest generation of exits NinjaTrader shows for an entry (1 when it
        shows no later one): generations follow each other, so the first one after 1
        that shows none of its ids ends the search."""
        generation = 1
        while any(self.shown(account, i) for i in exit_ids(client_order_id, generation + 1)):
            generation += 1
        return generation

    def resume_newest(self, bracket: Bracket) -> None:
        """Make the newest generation NinjaTrader shows of a resumed ``bracket``'s exits
        its current one, and retire the earlier generations' exits (their fills count):
        one NinjaTrader does not show is not cancelled, and what one filled is known
        only once NinjaTrader pushes it (``Leg.fills_known``)."""
        account, entry = bracket.account, bracket.entry
        generation = self.newest_shown(account, entry.client_order_id)
        for earlier in range(1, generation):
            for leg in legs_for(entry, earlier)[0]:
                shown = self.shown(account, leg.order_id)
                leg.at_ninjatrader, leg.cancelled_here = shown, not shown
                leg.fills_known = f"Filled|{leg.order_id}" in self._values
                bracket.retired.append(leg)
        bracket.legs, bracket.oco = legs_for(entry, generation)
        bracket.generation = generation
