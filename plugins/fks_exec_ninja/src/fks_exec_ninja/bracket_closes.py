"""Partial ``close_position`` orders and what they take off the brackets' exits (no I/O).

A partial close is an opposite market order. NinjaTrader pushes its fill as its own
values whenever it comes (DLL ``Client.Filled``/``OrderStatus``: one value per key; no
order or timing is documented): with the order's answer, or after it -- past
``order_timeout_s`` the answer is ``unknown`` and the fill still comes. So the close is
followed by its id (:class:`Closes`) and each fill pushed of it, whenever it is read,
cuts the exits of the instrument's brackets to what is left of the position the close
began from (:func:`cut_to_position`): the exits never cover more than is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from fks_exec_ninja.bracket_legs import Bracket
from fks_exec_ninja.states import observe

__all__ = ["MAX_CLOSES", "Closes", "cut_to_position"]

_ZERO = Decimal(0)
MAX_CLOSES = 64
"""Partial closes followed at once (the oldest forgotten first): a bound on memory."""


@dataclass
class _Close:
    account: str
    instrument: str
    held: Decimal
    """The signed position when the close went out."""
    quantity: Decimal
    counted: Decimal = _ZERO
    """What of its fill has cut the exits already."""


class Closes:
    """The partial closes being followed, by NinjaTrader order id; ``cut(account,
    instrument, position)`` cuts the exits of the brackets there to ``position``."""

    def __init__(self, values: Mapping[str, str], cut: Callable[[str, str, Decimal], None]) -> None:
        self._values, self._cut = values, cut
        self._closes: dict[str, _Close] = {}

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._closes

    def __len__(self) -> int:
        return len(self._closes)

    def add(
        self, order_id: str, account: str, instrument: str, held: Decimal, quantity: Decimal
    ) -> None:
        """Follow the close ``order_id`` of ``quantity``, sent while ``held`` (signed)
        of ``instrument`` was in ``account``."""
        if len(self._closes) >= MAX_CLOSES:
            del self._closes[next(iter(self._closes))]
        self._closes[order_id] = _Close(account, instrument, held, quantity)

    def forget(self, order_id: str) -> None:
        """Follow ``order_id`` no more (it was not sent)."""
        self._closes.pop(order_id, None)

    def filled(self, order_id: str) -> None:
        """A value of the close ``order_id`` was pushed: what it filled since last
        counted cuts the exits (its ``Filled`` number only: a state without it cuts
        nothing yet); once it has filled its quantity it is followed no more."""
        close = self._closes.get(order_id)
        if close is None:
            return
        filled = min(observe(self._values, order_id).filled, close.quantity)
        if filled > close.counted:
            close.counted = filled
            left = close.held - filled.copy_sign(close.held)  # toward flat
            self._cut(close.account, close.instrument, left)
        if close.counted >= close.quantity:
            del self._closes[order_id]


def cut_to_position(
    brackets: Iterable[Bracket],
    account: str,
    instrument: str,
    position: Decimal,
    follow: Callable[[Bracket], None],
) -> None:
    """Take off the open quantity of ``brackets`` in ``account`` and ``instrument`` what
    their exits cover beyond ``position`` (signed) in their direction, the oldest
    brackets first; ``follow`` writes each cut bracket's exits."""
    there = [b for b in brackets if (b.account, b.instrument) == (account, instrument)]
    for sign in (1, -1):
        held = max(position * sign, _ZERO)
        same = [b for b in there if (1 if b.entry.side.value == "buy" else -1) == sign]
        excess = sum((max(b.open_quantity, _ZERO) for b in same), _ZERO) - held
        for bracket in same:
            if excess <= 0:
                break
            cut = min(excess, max(bracket.open_quantity, _ZERO))
            bracket.spent += cut
            excess -= cut
            follow(bracket)
