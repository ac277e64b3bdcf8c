"""A netting reversal too big for one deal, as legs: :func:`split_reversal`.

On a netting account an order against the position closes it and opens the rest in
one deal; above the symbol's ``volume_max`` (SYMBOL_VOLUME_MAX, per deal) it cannot, so
it goes as closes of the whole position, then one opening leg.
"""

from __future__ import annotations

from decimal import Decimal

from fks_exec.errors import OrderDenied
from fks_exec_mt5.exposure import Leg, Ticket
from fks_exec_mt5.prechecks import SymbolRules

__all__ = ["split_reversal"]


def split_reversal(rules: SymbolRules, position: Ticket, volume: Decimal) -> list[Leg]:
    """A netting reversal above ``volume_max`` (one deal cannot carry it) as two legs:
    close the whole ``position`` (``position`` named; :func:`split_closes` then cuts it
    into deals of at most ``volume_max``), then open the rest. The next leg goes only
    after the one before filled whole (:func:`leg_done`), so a failure leaves a position
    the result describes: flat or still partly open, never reversed by half.

    Raises :class:`OrderDenied` (nothing sent) when the rest cannot go in one deal of
    at least ``volume_min`` and at most ``volume_max``: opening more than a deal takes is
    refused for every order, and a rest below the minimum cannot be opened alone."""
    rest = volume - position.volume
    if rest > rules.volume_max:
        raise OrderDenied(
            f"{_reversal(rules, position, volume, rest)}, and {_plain(rest)} lots is more "
            "than one deal may open. Close the position first (close_position), then open "
            f"the new side in orders of at most {_plain(rules.volume_max)} lots"
        )
    if rest < rules.volume_min:
        least = _plain(rules.volume_min)
        raise OrderDenied(
            f"{_reversal(rules, position, volume, rest)}, and {_plain(rest)} lots is below "
            f"the minimum volume {least}. Close the position first (close_position), then "
            f"open at least {least} lots"
        )
    return [Leg(position.volume, position.ticket), Leg(rest)]


def _reversal(rules: SymbolRules, position: Ticket, volume: Decimal, rest: Decimal) -> str:
    """What a split reversal would do, for its refusals."""
    return (
        f"reversing the {rules.name} position ({_plain(position.volume)} lots "
        f"{'long' if position.buy else 'short'}) with {_plain(volume)} lots closes it and "
        f"then opens {_plain(rest)} lots; {_plain(volume)} lots is above the maximum "
        f"{_plain(rules.volume_max)} of one deal (SYMBOL_VOLUME_MAX, per deal), so the "
        "order would go as closes, then one opening deal"
    )


def _plain(lots: Decimal) -> str:
    """``lots`` without a trailing ``.0`` (150, not 150.0) and never as 1E+2."""
    return format(lots.normalize(), "f")
