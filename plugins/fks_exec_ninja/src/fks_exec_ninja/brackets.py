"""Bracket exits: protect what an entry has filled, from its first fill on, never more.

An entry with ``stop_loss``/``take_profit`` gets a STOPMARKET and a LIMIT exit sharing
one OCO id as soon as NinjaTrader reports any fill of it. The exits always cover the
bracket's *open quantity* (:attr:`~fks_exec_ninja.bracket_legs.Bracket.open_quantity`):
what the entry filled, less what its exits filled, less what a partial
``close_position`` took away. A later fill of the entry grows the exits with ``CHANGE``
(help page "Commands and Valid Parameters": CHANGE takes a new quantity, ``0`` prices
leave them as they are); a partial fill of one exit shrinks the other to what is left
(NinjaTrader's OCO may have done so already: the CHANGE then matches it). NinjaTrader's
quantity is the order's whole quantity, so an exit that part filled is changed to its
fill plus the open quantity. Exits never carry an ATM template (a template on an exit
would start a strategy of its own when it fills).

When the exits can no longer carry the position -- one filled and the entry filled more
afterwards, or the OCO cancelled one after the other part filled -- what is left of them
is cancelled (``CANCEL`` per order) and a new generation of exits is placed for the open
quantity (:mod:`~fks_exec_ninja.bracket_legs`). An exit cancelled or rejected at
NinjaTrader while none of its generation filled was ended by hand (or could not be
placed): the bracket is no longer kept, and an error says what is unprotected.

Every decision is taken from the values NinjaTrader pushed, whatever order they came
in: nothing is decided while an exit said filled has no ``Filled`` number yet, and a
decision that something is over waits ``fill_agreement_s`` first
(:mod:`~fks_exec_ninja.bracket_graces`). A new process that resumes an entry
(:meth:`Brackets.resume`, after a restart) recognises the exits an earlier one placed
by their ids, adopts them, and sizes them once NinjaTrader has pushed what they filled.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from decimal import Decimal

from fks_exec.errors import BrokerUnavailable
from fks_exec.models import Order
from fks_exec_ninja import bracket_log
from fks_exec_ninja.account import OrderLists
from fks_exec_ninja.bracket_closes import Closes, cut_to_position
from fks_exec_ninja.bracket_graces import Graces
from fks_exec_ninja.bracket_ids import ExitIds
from fks_exec_ninja.bracket_legs import Bracket, legs_for
from fks_exec_ninja.mapping import cancel_command, change_quantity_command, place_command
from fks_exec_ninja.states import FINAL_STATES, observe

__all__ = ["Bracket", "Brackets"]

logger = bracket_log.logger
_FILLING = frozenset({"filled", "partfilled"})


class Brackets:
    """Entries with exits to keep in step with their fills; ``send`` writes a command,
    ``remember`` records an exit order under its id (so ``get_order`` finds it),
    ``remembered``: the ids this process placed (an exit id among them is taken);
    ``grace_s``: how long values that may be incomplete are waited for (on the running
    event loop) before a decision is taken from them; None: at once (no loop needed)."""

    def __init__(
        self,
        values: Mapping[str, str],
        send: Callable[[str], None],
        remember: Callable[[str, Order], None],
        order_lists: OrderLists | None = None,
        remembered: Container[str] = (),
        grace_s: float | None = None,
    ) -> None:
        self._values, self._send, self._remember = values, send, remember
        self._entries: dict[str, Bracket] = {}
        self._by_id: dict[str, Bracket] = {}
        lists = OrderLists() if order_lists is None else order_lists  # the plugin's own
        self._ids = ExitIds(values, lists, remembered, self._by_id)
        self.watched: Mapping[str, Bracket] = self._by_id
        """The brackets being followed, by the id of their entry and of each exit
        (read-only)."""
        self._epoch = 0
        self._graces = Graces(grace_s, self._follow)
        self._closes = Closes(values, self.cut_to_position)

    def __len__(self) -> int:
        return len(self._entries)

    # ------------------------------------------------------------------ entries

    def refusal(self, entry: Order, account: str) -> str | None:
        """Why ``entry`` cannot be placed as a bracket (its exit ids are taken by orders
        NinjaTrader or this process already has), else None."""
        return self._ids.refusal(entry, account)

    def exit_of(self, order_id: str) -> Bracket | None:
        """The bracket ``order_id`` is an exit of (None: no exit followed here)."""
        bracket = self._by_id.get(order_id)
        return None if bracket is None or bracket.entry_id == order_id else bracket

    def add(self, entry: Order, entry_id: str, account: str, instrument: str) -> Bracket:
        """Watch ``entry`` (placed under ``entry_id``) for fills."""
        legs, oco = legs_for(entry, 1)
        bracket = Bracket(entry, entry_id, account, instrument, legs, oco)
        self._entries[entry_id] = bracket
        for order_id in bracket.ids():
            self._by_id[order_id] = bracket
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
        ``Orders|`` list) are adopted and sized with ``CHANGE`` to the open quantity
        (what filled, less what they filled); missing ones are placed. When an exit is
        already final (it filled, or was cancelled at NinjaTrader) the bracket has done
        its work or was ended by hand: nothing is sent. The bracket is followed from
        then on as a live one is."""
        if entry_id in self._entries:
            return "already followed"
        bracket = self.add(entry, entry_id, account, instrument)
        self._resumed_generation(bracket)
        known = [leg for leg in bracket.legs if self._ids.at_ninjatrader(bracket, leg)]
        ended = [leg.order_id for leg in known if observe(self._values, leg.order_id).final]
        if ended:
            self._end(bracket)
            return f"exit {ended[0]} is already final at NinjaTrader; nothing sent"
        for leg in known:  # what an adopted exit filled is known once NinjaTrader says
            leg.at_ninjatrader = True
            leg.fills_known = f"Filled|{leg.order_id}" in self._values
        for leg in bracket.legs:
            self._remember(leg.order_id, leg.order)
        bracket_log.unknown_fills(bracket, self._ids.unpushed(bracket))
        bracket.entry_final = final
        bracket.filled = min(filled, entry.quantity)  # at least (the values may say more)
        self._follow(bracket)
        still = "" if final else "; following the entry"
        return f"{len(known)} exit(s) adopted, {len(bracket.legs) - len(known)} to place{still}"

    def _resumed_generation(self, bracket: Bracket) -> None:
        """Follow the newest pair of exits NinjaTrader shows (:meth:`ExitIds.resume_newest`)."""
        self._ids.resume_newest(bracket)
        for order_id in (*bracket.ids(), *(leg.order_id for leg in bracket.retired)):
            self._by_id[order_id] = bracket

    def forget(self, entry_id: str) -> None:
        """Stop watching ``entry_id`` (its PLACE was not sent)."""
        bracket = self._entries.get(entry_id)
        if bracket is not None:
            self._end(bracket)

    def on_order_value(self, order_id: str) -> None:
        """``OrderStatus`` or ``Filled`` of ``order_id`` was pushed: follow its bracket
        if it is a watched entry or exit, or cut the exits by its fill if it is a
        partial close followed (:meth:`closing_order`)."""
        bracket = self._by_id.get(order_id)
        if bracket is not None:
            self._follow(bracket)
        elif order_id in self._closes:
            self._closes.filled(order_id)

    def close(self) -> None:
        """Stop every wait in progress (the plugin closes): nothing is decided later."""
        self._graces.close()

    def reconnected(self) -> None:
        """The connection was made again: exits written before it that NinjaTrader's
        fresh order list does not show never reached it, and are placed again."""
        self._epoch += 1
        self.refresh()

    def refresh(self) -> None:
        """Look at every watched bracket again (after a reconnect, or a new order list)."""
        for bracket in list(self._entries.values()):
            self._follow(bracket)

    def not_pushed_again(self) -> list[Bracket]:
        """The brackets whose entry (not final) or a placed exit has had no value pushed
        since the connection was made again (:meth:`ExitIds.not_pushed_again`)."""
        return self._ids.not_pushed_again(self._entries.values())

    def accounts(self) -> set[str]:
        """The accounts of the watched brackets."""
        return {bracket.account for bracket in self._entries.values()}

    def cut_to_position(self, account: str, instrument: str, position: Decimal) -> None:
        """A partial ``close_position`` left ``position`` (signed) of ``instrument`` in
        ``account``: the exits of its brackets cover no more than that in their
        direction, the oldest brackets' exits cut first."""
        cut_to_position(list(self._entries.values()), account, instrument, position, self._follow)

    def closing_order(
        self, order_id: str, account: str, instrument: str, held: Decimal, quantity: Decimal
    ) -> None:
        """A partial ``close_position``'s market order of ``quantity`` goes out under
        ``order_id`` while ``held`` (signed) of ``instrument`` is in ``account``: each
        fill NinjaTrader pushes of it, whenever it comes (also after the order's answer),
        cuts the exits of the brackets there to what is left (:meth:`cut_to_position`).
        Nothing is followed when no bracket is in that account and instrument."""
        if any((b.account, b.instrument) == (account, instrument) for b in self._entries.values()):
            self._closes.add(order_id, account, instrument, held, quantity)

    def not_closing(self, order_id: str) -> None:
        """The partial close ``order_id`` was not sent: follow it no more."""
        self._closes.forget(order_id)

    def closing(self, account: str, instrument: str) -> None:
        """``CLOSEPOSITION`` goes out for ``instrument`` in ``account`` (it cancels the
        entries and exits there): its brackets are no longer kept."""
        for bracket in list(self._entries.values()):
            if (bracket.account, bracket.instrument) == (account, instrument):
                logger.info("bracket of %s ended: its position is closed", bracket.entry_id)
                self._end(bracket)

    # ------------------------------------------------------------------ following

    def _follow(self, bracket: Bracket) -> None:
        if self._entries.get(bracket.entry_id) is not bracket:
            return  # ended
        values = self._values
        seen = observe(values, bracket.entry_id)
        quantity = bracket.entry.quantity
        filled = quantity if seen.state == "filled" else min(seen.filled, quantity)
        bracket.filled = max(bracket.filled, filled)
        bracket.entry_final = bracket.entry_final or seen.final
        graces = self._graces
        graces.waited = None
        if not self._read_legs(bracket):
            return  # a fill whose number has not come yet: decide when it has
        try:
            self._cancel_retired(bracket)
            self._decide(bracket)
        except BrokerUnavailable as exc:
            logger.error("bracket exits of %s not sent yet: %s", bracket.entry_id, exc)
        if graces.waited is not bracket:
            graces.settled(bracket)

    def _read_legs(self, bracket: Bracket) -> bool:
        """Take in what NinjaTrader pushed of the exits, retired ones included (a fill of
        theirs pushed late still counts); False while one of them is said to have
        filled without its number, an exit found at a restart has not had its state and
        its ``Filled`` pushed (its state alone: taken as it is once the grace has
        passed), or a current one is filled with less than was written for it (its last
        ``Filled`` not read yet)."""
        values, agreed = self._values, True
        for leg in (*bracket.legs, *bracket.retired):
            seen = observe(values, leg.order_id)
            if seen.state is not None:
                leg.state = seen.state
                if not leg.fills_known:
                    leg.fills_known = f"Filled|{leg.order_id}" in values or self._graces.wait(
                        bracket
                    )
            leg.filled = max(leg.filled, seen.filled)
            if (seen.state in _FILLING and not seen.filled) or not leg.fills_known:
                agreed = False
        exited = bracket.exited
        for leg in bracket.legs:  # it fills what was written for it, less the OCO's cut
            if leg.state == "filled" and leg.filled < leg.total - (
                exited - leg.filled - leg.others
            ):
                agreed = False
        return agreed

    def _working(self, bracket: Bracket) -> bool:
        """A retired exit is still working at NinjaTrader (its CANCEL not through yet)."""
        return any(
            leg.state is not None and leg.state not in FINAL_STATES for leg in bracket.retired
        )

    def _decide(self, bracket: Bracket) -> None:
        open_quantity = bracket.open_quantity
        if not bracket.placed:
            if open_quantity > 0:
                self._place(bracket, open_quantity)
            elif bracket.entry_final and not self._working(bracket) and self._graces.wait(bracket):
                self._end(bracket)  # a fill read after the final state would have counted
            return
        for leg in bracket.legs:
            if self._ids.never_came(bracket, leg, self._epoch):
                bracket_log.placed_again(bracket, leg)
                leg.at_ninjatrader = False
                bracket.placed = False
        if not bracket.placed:  # an exit to place again
            if open_quantity > 0:
                self._place(bracket, open_quantity)
            return
        ended = [leg for leg in bracket.legs if leg.state in FINAL_STATES]
        if ended and not any(leg.filled for leg in bracket.legs):
            # Cancelled by hand -- or by NinjaTrader's OCO for a fill of the other exit
            # not read yet: that fill has its moment to come.
            if self._graces.wait(bracket):
                bracket_log.ended_at_ninjatrader(bracket, ended[0])
                self._end(bracket)
            return
        if ended or open_quantity <= 0:
            # The exits did their work (one filled: NinjaTrader's OCO ends the other),
            # or a partial close left nothing for them: a new generation covers what
            # the entry fills from now on.
            # What is still working of them is cancelled (NinjaTrader's OCO may have
            # done it already: a CANCEL of an ended order is ignored).
            self._retire(bracket)
            if open_quantity > 0:
                self._place(bracket, open_quantity)
            elif bracket.entry_final and not self._working(bracket) and self._graces.wait(bracket):
                self._end(bracket)
            return
        # All working: each covers the open quantity. A fill of one exit shrinks the
        # other at NinjaTrader by its OCO (or cancels it, and the pair is replaced
        # above): a CHANGE for that could land after a later fill and grow the exit
        # back. So a CHANGE goes only when what the exits cover changed otherwise (the
        # entry filled more, a partial close, a late fill of a replaced exit).
        # Each exit is changed then, even one whose last written size matches: the OCO
        # may have shrunk it meanwhile by a fill read in this same pass.
        base, exited = bracket.base, bracket.exited
        for leg in bracket.legs:
            total = leg.filled + open_quantity
            if base != bracket.sized:
                self._send(change_quantity_command(leg.order_id, total))
            # What NinjaTrader has (its OCO shrinks it the same way).
            leg.total, leg.others = total, exited - leg.filled
        bracket.sized = base

    def _place(self, bracket: Bracket, open_quantity: Decimal) -> None:
        for leg in bracket.legs:
            total = leg.filled + open_quantity
            if self._ids.at_ninjatrader(bracket, leg):
                leg.at_ninjatrader, leg.epoch = True, self._epoch
                if total != leg.total:
                    self._send(change_quantity_command(leg.order_id, total))
                    leg.total = total
                continue
            self._remember(leg.order_id, leg.order)
            self._send(
                place_command(
                    leg.order,
                    account=bracket.account,
                    instrument=bracket.instrument,
                    order_id=leg.order_id,
                    oco=bracket.oco,
                    quantity=total,
                )
            )
            leg.at_ninjatrader, leg.total, leg.epoch = True, total, self._epoch
        for leg in bracket.legs:
            leg.others = bracket.exited - leg.filled
        bracket.placed, bracket.sized = True, bracket.base

    def _retire(self, bracket: Bracket) -> None:
        """End the current generation: its working exits are cancelled and followed
        until they end; the next generation gets fresh ids."""
        bracket.retired.extend(bracket.legs)  # followed to the end: late fills count
        cid = bracket.entry.client_order_id
        generation = self._ids.free_generation(bracket.account, cid, bracket.generation)
        bracket.legs, bracket.oco = legs_for(bracket.entry, generation)
        bracket.generation, bracket.placed = generation, False
        for leg in bracket.legs:
            self._by_id[leg.order_id] = bracket
        self._cancel_retired(bracket)

    def _cancel_retired(self, bracket: Bracket) -> None:
        """Send the CANCEL of each retired exit that has not had one (sent again after
        a write failed, at the next look)."""
        for leg in bracket.retired:
            if not leg.cancelled_here and leg.state not in FINAL_STATES:
                self._send(cancel_command(leg.order_id))
                leg.cancelled_here = True

    def _end(self, bracket: Bracket) -> None:
        self._graces.cancel(bracket)
        self._entries.pop(bracket.entry_id, None)
        for order_id in (*bracket.ids(), *(leg.order_id for leg in bracket.retired)):
            if self._by_id.get(order_id) is bracket:
                del self._by_id[order_id]
