"""Turning the book's updates into Value messages, in the order the settings choose.

Every value NinjaTrader sends the DLL is a Value message (``AtiSocket.Loop`` case 2) under
a key the DLL's getters read (NinjaTrader.Client/Client/Client.cs):

=====================================  ==========================================
key                                    read by
=====================================  ==========================================
``ATI``                                ``Connected`` (``== "True"``), ``SetUpNow``
``OrderStatus|<order id>``             ``OrderStatus``
``Filled|<order id>``                  ``Filled`` (``GetInt``)
``AvgFillPrice|<order id>``            ``AvgFillPrice`` (``GetDouble``)
``MarketPosition|<instrument>|<acct>`` ``MarketPosition`` (``GetInt``, signed)
``AvgEntryPrice|<instrument>|<acct>``  ``AvgEntryPrice``
``Orders|<account>``                   ``Orders``
``Strategies|<account>``               ``Strategies``
``StrategyPosition|<strategy id>``     ``StrategyPosition``
``StopOrders|`` / ``TargetOrders|``    ``StopOrders`` / ``TargetOrders``
``CashValue|`` ``BuyingPower|``        ``CashValue``, ``BuyingPower``,
``RealizedPnL|<account>``              ``RealizedPnL``
``MarketData|<instrument>|<type>``     ``MarketData`` (type: Ask 0, Bid 1, Last 2 --
                                       ``MarketDataType``; ``MarketData(i, 0)`` asks
                                       for Last, so for key type 2)
=====================================  ==========================================

The order of an order's three values within one update, and whether unchanged ones are
repeated, are not in the DLL (inferred): ``ServerSettings.push_order``/``repetition``.
"""

from __future__ import annotations

import random
from decimal import Decimal

from .orders import Event, OrderUpdate, Step
from .settings import Repetition, ServerSettings, ValueOrder
from .wire import encode_message, format_double, format_int, value_message

__all__ = [
    "MARKET_DATA_ASK",
    "MARKET_DATA_BID",
    "MARKET_DATA_LAST",
    "ati_message",
    "event_values",
    "market_data_values",
    "render_step",
    "render_writes",
    "skipped_messages",
]

MARKET_DATA_ASK, MARKET_DATA_BID, MARKET_DATA_LAST = 0, 1, 2


def ati_message(up: bool = True) -> bytes:
    """``ATI`` = ``True`` (``true.ToString(InvariantCulture)``, what ``Connected`` wants)."""
    return value_message("ATI", "True" if up else "False")


def event_values(event: Event, settings: ServerSettings) -> list[tuple[str, str]]:
    """The (key, value) pairs one update pushes."""
    if not isinstance(event, OrderUpdate):
        return [(event.key, event.value)]
    texts = {
        "OrderStatus": event.status,
        "Filled": format_int(event.filled),
        "AvgFillPrice": format_double(event.avg_fill_price),
    }
    every = settings.repetition is Repetition.ALL_VALUES
    return [
        (f"{name}|{event.order_id}", texts[name])
        for name in settings.push_order.value
        if every or name in event.changed
    ]


def render_step(step: Step, settings: ServerSettings) -> bytes:
    """One step as bytes on the wire (plus skippable noise if ``unknown_messages``)."""
    data = b"".join(value_message(k, v) for event in step for k, v in event_values(event, settings))
    if settings.unknown_messages and data:
        data += skipped_messages(settings)
    return data


def render_writes(
    steps: list[Step], settings: ServerSettings, rng: random.Random
) -> list[tuple[float, bytes]]:
    """The writes that push one operation's ``steps``, each with its delay from the
    operation's start, earliest first: one write per step as it happened, or one per key
    with its latest value (``settings.value_order``; ``rng`` draws a shuffled order),
    ``step_interval_s`` apart; an ``AvgFillPrice`` value ``average_lag_s`` after the
    rest of its write."""
    if settings.value_order is ValueOrder.AS_HAPPENED:
        groups = [
            [pair for event in step for pair in event_values(event, settings)] for step in steps
        ]
    else:
        latest: dict[str, str] = {}
        for step in steps:
            for event in step:
                for key, text in event_values(event, settings):
                    latest.pop(key, None)  # to the end: the keys in the order they last changed
                    latest[key] = text
        pairs = list(latest.items())
        if settings.value_order is ValueOrder.LATEST_REVERSED:
            pairs.reverse()
        elif settings.value_order is ValueOrder.LATEST_SHUFFLED:
            rng.shuffle(pairs)
        groups = [[pair] for pair in pairs]
    noise = skipped_messages(settings) if settings.unknown_messages else b""
    interval, lag = settings.step_interval_s, settings.average_lag_s
    writes: list[tuple[float, bytes]] = []
    for index, group in enumerate(groups):
        late = [pair for pair in group if lag and pair[0].startswith("AvgFillPrice|")]
        now = [pair for pair in group if pair not in late]
        for delay, part in ((index * interval, now), (index * interval + lag, late)):
            if part:
                writes.append((delay, b"".join(value_message(k, v) for k, v in part) + noise))
    writes.sort(key=lambda write: write[0])  # stable: same delays keep their order
    return writes


def skipped_messages(settings: ServerSettings) -> bytes:
    """Messages the DLL reads and drops: type 7 (one field) and a Data message.

    ``AtiSocket.Loop``'s default case reads one string; case 1 (Data) reads five fields
    and calls the data handler, which the DLL's client leaves null (``SetUpNow`` passes
    ``null`` for it), so nothing reaches the value cache.
    """
    instrument = settings.instruments[0]
    unknown = encode_message(7, "reference fake: a message type the DLL skips")
    data = encode_message(
        1, MARKET_DATA_LAST, instrument.name, format_double(instrument.last), 1, ""
    )
    return unknown + data


def market_data_values(instrument: str, quotes: tuple[Decimal, Decimal, Decimal]) -> bytes:
    """``MarketData|<instrument>|<type>`` for ask, bid and last."""
    ask, bid, last = quotes
    return b"".join(
        value_message(f"MarketData|{instrument}|{kind}", format_double(price))
        for kind, price in (
            (MARKET_DATA_ASK, ask),
            (MARKET_DATA_BID, bid),
            (MARKET_DATA_LAST, last),
        )
    )
