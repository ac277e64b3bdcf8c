"""Records for positions, orders and deals, and the filters of the ``*_get`` functions.

- positions_get / orders_get (https://www.mql5.com/en/docs/python_metatrader5/mt5positionsget_py,
  .../mt5ordersget_py): all, or by ``symbol``, ``group`` (comma-separated patterns with
  ``*``, ``!`` excludes: "group="*,!*EUR*"") or ``ticket``.
- history_orders_get / history_deals_get (.../mt5historyordersget_py,
  .../mt5historydealsget_py): ``(date_from, date_to, group=...)``, or ``ticket=``, or
  ``position=``. Dates are compared with the records' times, which are **trade server
  time** (see state.py): pass the server clock's reading, not UTC. Orders are selected
  by their setup time, deals by their time (**inferred** for orders).
All times in the records are server time: ``time`` in seconds, ``*_msc`` in ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TypeVar

from fks_exec_mt5.testing.reference.records import Record, TradeDeal, TradeOrder, TradePosition
from fks_exec_mt5.testing.reference.requests import RequestError, seconds_arg
from fks_exec_mt5.testing.reference.rules import BUY_TYPES
from fks_exec_mt5.testing.reference.server import TradeServer
from fks_exec_mt5.testing.reference.state import Deal, Order, Position

__all__ = [
    "deal_record",
    "history_deals",
    "history_orders",
    "matches_group",
    "order_record",
    "position_record",
    "select",
]

T = TypeVar("T", Position, Order, Deal)


def matches_group(symbol: str, group: str) -> bool:
    """Whether ``symbol`` passes a MetaTrader group filter (later patterns win)."""
    selected = False
    for raw in group.split(","):
        pattern = raw.strip()
        if not pattern:
            continue
        if pattern.startswith("!"):
            if fnmatchcase(symbol, pattern[1:]):
                selected = False
        elif fnmatchcase(symbol, pattern):
            selected = True
    return selected


def select(items: Iterable[T], *, symbol: str | None = None, group: str | None = None) -> list[T]:
    """Items of ``symbol`` or matching ``group`` (both None: all), by ticket."""
    chosen = [
        item
        for item in items
        if (symbol is None or item.symbol == symbol)
        and (group is None or matches_group(item.symbol, group))
    ]
    return sorted(chosen, key=lambda item: item.ticket)


def position_record(server: TradeServer, position: Position) -> Record:
    """The ``TradePosition`` struct sequence of ``position`` at current prices."""
    current = server.close_price(position.type, position.symbol)
    return TradePosition(
        (
            position.ticket,
            position.time_msc // 1000,
            position.time_msc,
            position.time_update_msc // 1000,
            position.time_update_msc,
            position.type,
            position.magic,
            position.identifier,
            position.reason,
            float(position.volume),
            float(position.price_open),
            float(position.sl),
            float(position.tp),
            float(current),
            0.0,
            float(server.position_profit(position)),
            position.symbol,
            position.comment,
            position.external_id,
        )
    )


def order_record(server: TradeServer, order: Order) -> Record:
    """The ``TradeOrder`` struct sequence of an active or historical order."""
    quote = server.quotes.get(order.symbol)
    buy = order.type in BUY_TYPES
    current = 0.0 if quote is None else float(quote.ask if buy else quote.bid)
    return TradeOrder(
        (
            order.ticket,
            order.time_setup_msc // 1000,
            order.time_setup_msc,
            order.time_done_msc // 1000,
            order.time_done_msc,
            order.time_expiration,
            order.type,
            order.type_time,
            order.type_filling,
            order.state,
            order.magic,
            order.position_id,
            order.position_by_id,
            order.reason,
            float(order.volume_initial),
            float(order.volume_current),
            float(order.price_open),
            float(order.sl),
            float(order.tp),
            current,
            float(order.price_stoplimit),
            order.symbol,
            order.comment,
            order.external_id,
        )
    )


def deal_record(deal: Deal) -> Record:
    """The ``TradeDeal`` struct sequence of ``deal``."""
    return TradeDeal(
        (
            deal.ticket,
            deal.order,
            deal.time_msc // 1000,
            deal.time_msc,
            deal.type,
            deal.entry,
            deal.magic,
            deal.position_id,
            deal.reason,
            float(deal.volume),
            float(deal.price),
            0.0,
            0.0,
            float(deal.profit),
            0.0,
            deal.symbol,
            deal.comment,
            deal.external_id,
        )
    )


def history_orders(
    server: TradeServer,
    date_from: object,
    date_to: object,
    group: str | None,
    ticket: int | None,
    position: int | None,
) -> tuple[Record, ...]:
    """``history_orders_get``: by order ``ticket``, by ``position``, or by setup time in
    the [date_from, date_to] window of server time; raises ``RequestError`` without any."""
    orders = server.book.history_orders.values()
    if ticket is not None:
        chosen = [o for o in orders if o.ticket == ticket]
    elif position is not None:
        chosen = [o for o in orders if o.position_id == position]
    else:
        start, end = _window(date_from, date_to)
        chosen = [
            o for o in select(orders, group=group) if start <= o.time_setup_msc // 1000 <= end
        ]
    return tuple(order_record(server, o) for o in sorted(chosen, key=lambda o: o.ticket))


def history_deals(
    server: TradeServer,
    date_from: object,
    date_to: object,
    group: str | None,
    ticket: int | None,
    position: int | None,
) -> tuple[Record, ...]:
    """``history_deals_get``: by the deal's order ``ticket``, by ``position``, or by deal
    time in the [date_from, date_to] window of server time."""
    deals = server.book.deals.values()
    if ticket is not None:
        chosen = [d for d in deals if d.order == ticket]
    elif position is not None:
        chosen = [d for d in deals if d.position_id == position]
    else:
        start, end = _window(date_from, date_to)
        chosen = [d for d in select(deals, group=group) if start <= d.time_msc // 1000 <= end]
    return tuple(deal_record(d) for d in sorted(chosen, key=lambda d: d.ticket))


def _window(date_from: object, date_to: object) -> tuple[int, int]:
    if date_from is None or date_to is None:
        raise RequestError("Invalid arguments")
    return seconds_arg(date_from), seconds_arg(date_to)
