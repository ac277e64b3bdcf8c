"""What the bracket exits tell the user: the warnings and errors of :mod:`brackets`."""

from __future__ import annotations

import logging

from fks_exec_ninja.bracket_legs import Bracket, Leg

__all__ = ["ended_at_ninjatrader", "logger", "placed_again", "unknown_fills"]

logger = logging.getLogger("fks_exec.plugins.ninja")


def ended_at_ninjatrader(bracket: Bracket, leg: Leg) -> None:
    """Error: ``leg`` ended at NinjaTrader while none of its pair filled (cancelled by
    hand, or refused), so the bracket is no longer kept; says what may be unprotected."""
    kind = "stop-loss" if leg.order.stop_price is not None else "take-profit"
    logger.error(
        "the %s exit %s of entry %s is %s at NinjaTrader, and none of its exits "
        "filled: the bracket is no longer kept by this plugin; %s of %s in %s may "
        "be open without it: check the position in NinjaTrader",
        kind,
        leg.order_id,
        bracket.entry_id,
        leg.state,
        bracket.open_quantity,
        bracket.entry.symbol,
        bracket.account,
    )


def unknown_fills(bracket: Bracket, order_ids: list[str]) -> None:
    """Warning: NinjaTrader shows the resumed ``bracket``'s exits but has pushed nothing
    of ``order_ids`` (when there are any), so they are not sized yet."""
    if order_ids:
        logger.warning(
            "bracket of %s: NinjaTrader shows its exits of pair %s, but has pushed "
            "nothing of the exits %s, so what they filled is not known; its exits are "
            "left as NinjaTrader has them until it pushes those: check the position "
            "and the exits in NinjaTrader",
            bracket.entry_id,
            bracket.generation,
            ", ".join(order_ids),
        )


def placed_again(bracket: Bracket, leg: Leg) -> None:
    """Warning: ``leg``'s PLACE never reached NinjaTrader before a drop; placed again."""
    logger.warning(
        "exit %s of entry %s never reached NinjaTrader before the connection "
        "dropped (its fresh order list does not show it): placing it again",
        leg.order_id,
        bracket.entry_id,
    )
