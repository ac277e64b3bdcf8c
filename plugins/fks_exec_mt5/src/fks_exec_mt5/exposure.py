"""Which positions an order may touch, and how an exit is split over tickets (no I/O).

On a hedging account (``ACCOUNT_MARGIN_MODE_RETAIL_HEDGING``) every deal opens its own
position ticket unless the request names ``position``, which it then closes
(https://www.mql5.com/en/articles/2299). So an exit is planned here as closes of named
tickets, oldest first (``time_msc``, then ticket), the order FIFO accounts require
(``ACCOUNT_FIFO_CLOSE``: "positions can only be closed by FIFO rule",
https://www.mql5.com/en/docs/constants/environment_state/accountinformation). A close
by ticket can only reduce that ticket, so it can never open or grow exposure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.errors import OrderDenied
from fks_exec_mt5 import constants as c
from fks_exec_mt5.numbers import (
    BROKER,
    FLOAT_LIMIT,
    INT_LIMIT,
    LATEST_MS,
    BadBrokerNumber,
    decimal_of,
    float_decimal,
    int_of,
    price_or_none,
    time_ms_of,
)

__all__ = [
    "Leg",
    "Ticket",
    "fifo_blocker",
    "net",
    "owned",
    "plan_hedging_exit",
    "split_closes",
]


class Ticket(NamedTuple):
    """One open position as the terminal reports it (a TradePosition), in Decimals."""

    ticket: int
    symbol: str
    buy: bool
    volume: Decimal
    price_open: Decimal
    sl: Decimal | None
    tp: Decimal | None
    magic: int
    time_msc: int
    profit: Decimal

    @classmethod
    def of(cls, record: Any) -> Ticket:
        """From a TradePosition, each number through :mod:`fks_exec_mt5.numbers`.

        Raises :class:`~fks_exec.kit.BadBrokerNumber` naming the field for a number no
        position can have (a volume of 0, a negative price). The usual record is read
        in one pass with the same bounds (a test holds it equal to :meth:`checked`).
        """
        ticket, kind, magic, stamp = record.ticket, record.type, record.magic, record.time_msc
        volume, price_open, sl, tp, profit = (
            record.volume,
            record.price_open,
            record.sl,
            record.tp,
            record.profit,
        )
        if (
            type(ticket) is int
            and type(kind) is int
            and type(magic) is int
            and type(stamp) is int
            and type(volume) is float
            and type(price_open) is float
            and type(sl) is float
            and type(tp) is float
            and type(profit) is float
            and 0 <= ticket < INT_LIMIT
            and 0 <= kind < INT_LIMIT
            and 0 <= magic < INT_LIMIT
            and 0 <= stamp < LATEST_MS
            and 0.0 < volume < FLOAT_LIMIT
            and 0.0 <= price_open < FLOAT_LIMIT
            and 0.0 <= sl < FLOAT_LIMIT
            and 0.0 <= tp < FLOAT_LIMIT
            and -FLOAT_LIMIT < profit < FLOAT_LIMIT
        ):
            return cls(
                ticket,
                str(record.symbol),
                kind == c.POSITION_TYPE_BUY,
                float_decimal(volume),
                float_decimal(price_open),
                float_decimal(sl) if sl else None,
                float_decimal(tp) if tp else None,
                magic,
                stamp,
                float_decimal(profit),
            )
        return cls.checked(record)

    @classmethod
    def checked(cls, record: Any) -> Ticket:
        """What :meth:`of` reads, field by field (and raises as it does)."""
        ticket = int_of(record.ticket, "position ticket")
        where = f"position {ticket} "
        volume = decimal_of(record.volume, where + "volume")
        if not volume:
            raise BadBrokerNumber(f"{BROKER}: {where}volume is 0")
        return cls(
            ticket=ticket,
            symbol=str(record.symbol),
            buy=int_of(record.type, where + "type") == c.POSITION_TYPE_BUY,
            volume=volume,
            price_open=decimal_of(record.price_open, where + "price_open"),
            sl=price_or_none(record.sl, where + "sl"),
            tp=price_or_none(record.tp, where + "tp"),
            magic=int_of(record.magic, where + "magic"),
            time_msc=time_ms_of(record.time_msc, where + "time_msc"),
            profit=decimal_of(record.profit, where + "profit", negative=True),
        )

    @property
    def signed(self) -> Decimal:
        """Volume with its sign: positive long, negative short."""
        return self.volume if self.buy else -self.volume

    @property
    def age_key(self) -> tuple[int, int]:
        """Sorts oldest first."""
        return (self.time_msc, self.ticket)


class Leg(NamedTuple):
    """One ``order_send`` of an order: ``volume`` lots, closing ``position`` if set."""

    volume: Decimal
    position: int | None = None


def owned(tickets: Iterable[Ticket], magic: int, *, others_too: bool) -> list[Ticket]:
    """The tickets this plugin may touch: its own ``magic`` (all with ``others_too``)."""
    return [t for t in tickets if others_too or t.magic == magic]


def net(tickets: Iterable[Ticket]) -> Decimal:
    """Signed sum of the tickets' volumes."""
    return sum((t.signed for t in tickets), Decimal(0))


def plan_hedging_exit(
    mine: Sequence[Ticket], buy: bool, quantity: Decimal, *, reduce_only: bool
) -> list[Leg]:
    """Legs for a ``buy`` (or sell) of ``quantity`` on a hedging account.

    The order first closes the tickets on the other side, oldest first; what is left
    opens a new ticket, unless ``reduce_only`` (then a quantity beyond what is held is
    refused with :class:`OrderDenied`, nothing sent).
    """
    legs: list[Leg] = []
    left = quantity
    for ticket in sorted((t for t in mine if t.buy != buy), key=lambda t: t.age_key):
        if left <= 0:
            break
        size = min(left, ticket.volume)
        legs.append(Leg(size, ticket.ticket))
        left -= size
    if left > 0:
        if reduce_only:
            held = quantity - left
            raise OrderDenied(
                f"reduce_only {'buy' if buy else 'sell'} {quantity}: only {held} lots are held "
                "on the other side by this program's positions"
            )
        legs.append(Leg(left))
    return legs


def split_closes(legs: Sequence[Leg], most: Decimal, step: Decimal) -> list[Leg]:
    """``legs`` with each close (a leg naming a position) above ``most`` lots split into
    closes of that position of nearly equal size, each at most ``most`` and on the
    ``step`` grid: SYMBOL_VOLUME_MAX is "maximal volume for a deal" (MQL5
    marketinfoconstants), so a holding above it closes in several deals. ``most`` 0 is
    no limit; opening legs, and closes off the grid, are left as they are (the per-deal
    check refuses them)."""
    split: list[Leg] = []
    per = max(1, int(most / step))  # whole steps in one deal
    for leg in legs:
        steps = int(leg.volume / step)
        if not most or leg.position is None or leg.volume <= most or steps * step != leg.volume:
            split.append(leg)
            continue
        count = -(-steps // per)
        base, extra = divmod(steps, count)
        split.extend(Leg((base + (i < extra)) * step, leg.position) for i in range(count))
    return split


def fifo_blocker(everyone: Sequence[Ticket], legs: Sequence[Leg]) -> Ticket | None:
    """On a FIFO account, an open position that must be closed before one the legs close.

    Every position of the symbol counts (any direction, any program), the strictest
    reading of MetaQuotes' rule; None when the legs may go in their order.
    """
    closing = [leg.position for leg in legs if leg.position is not None]
    by_ticket = {t.ticket: t for t in everyone}
    done: set[int] = set()
    for number in closing:
        target = by_ticket.get(number)
        if target is None:
            continue
        for other in everyone:
            if (
                other.ticket not in done
                and other.ticket != number
                and other.age_key < target.age_key
            ):
                return other
        done.add(number)
    return None
