"""Netting-account rules checked before an order is sent (no I/O).

On a netting account (``ACCOUNT_MARGIN_MODE_RETAIL_NETTING``) a symbol has one position,
shared by everyone who trades it. Every order that fills, market or pending, changes it.
MetaQuotes' "Rules of Stop Loss and Take Profit inheritance" (MetaTrader 5 help): an
order that increases (or reverses) the position replaces its SL/TP with the order's,
and an order *without* them deletes them. So:

- :func:`refuse_foreign` refuses any order on a position another magic holds;
- :func:`stops_conflict` refuses an order that, together with this program's working
  pending orders on the same side, would let a fill delete a stop loss or take profit
  another of them sets (the fills' order is the market's, not ours).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from fks_exec.errors import OrderDenied
from fks_exec_mt5 import constants as c
from fks_exec_mt5.exposure import Ticket
from fks_exec_mt5.numbers import decimal_of, int_of

__all__ = ["refuse_foreign", "stops_conflict"]

_BUY_PENDING = frozenset(
    {c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT}
)
_SELL_PENDING = frozenset(
    {c.ORDER_TYPE_SELL_LIMIT, c.ORDER_TYPE_SELL_STOP, c.ORDER_TYPE_SELL_STOP_LIMIT}
)
_LEVELS = (("stop loss", "stop_loss", 0), ("take profit", "take_profit", 1))


def refuse_foreign(symbol: str, position: Ticket | None, magic: int) -> None:
    """Raise :class:`OrderDenied` when the netting ``position`` of ``symbol`` carries
    another magic than ``magic``: any order, market or pending, would change it when it
    fills (a pending order too: it joins, reduces or reverses that position)."""
    if position is None or position.magic == magic:
        return
    raise OrderDenied(
        f"on this netting account the {symbol} position belongs to magic "
        f"{position.magic} (another program or a manual trade); this order would "
        "change it when it fills. Set manage_other_positions=True to allow that",
        "rejected",
    )


def stops_conflict(
    symbol: str,
    buy: bool,
    stops: tuple[Decimal | None, Decimal | None],
    *,
    pending: bool,
    working: Iterable[Any],
    magic: int | None,
) -> None:
    """Raise :class:`OrderDenied` when an order on ``buy``'s side of a netting
    ``symbol`` that sends ``stops`` (SL, TP; None for none) and this program's working
    pending orders on that side (``working``: TradeOrder records; ``magic`` None means
    every magic) disagree on whether a level is set.

    A working order without a level this order sets deletes it when it fills later; a
    pending order without a level a working one sets deletes it if it fills after that
    one (a market order fills now, before any of them, so only the first case applies).
    """
    side = _BUY_PENDING if buy else _SELL_PENDING
    for record in working:
        ticket = int_of(record.ticket, "order ticket")
        if int_of(record.type, f"order {ticket} type") not in side:
            continue
        if magic is not None and int_of(record.magic, f"order {ticket} magic") != magic:
            continue
        theirs = (
            decimal_of(record.sl, f"order {ticket} sl"),
            decimal_of(record.tp, f"order {ticket} tp"),
        )
        what = f"pending order {ticket} ({'buy' if buy else 'sell'} at {record.price_open})"
        for name, field, index in _LEVELS:
            mine = stops[index]
            if mine is not None and not theirs[index]:
                raise OrderDenied(
                    f"this order sets a {name} on the {symbol} position, but {what} "
                    f"carries none: on a netting account, when that order fills MetaTrader "
                    f"replaces the position's SL/TP with its own and a missing {name} is "
                    f"deleted (SL/TP inheritance). Cancel order {ticket} and place it again "
                    f"with {field}={mine}, then send this order"
                )
            if pending and mine is None and theirs[index]:
                raise OrderDenied(
                    f"this pending order carries no {name}, but {what} sets "
                    f"{theirs[index]}: on a netting account, if that one fills first this "
                    f"one deletes the position's {name} when it fills (SL/TP inheritance). "
                    f"Give this order {field} too, or cancel order {ticket}"
                )
