"""The JSON the fake Kraken answers with: order, position, trade and ticker shapes.

Field names follow https://docs.kraken.com/api/docs/rest-api/get-open-orders (order
info: ``refid``, ``userref``, ``cl_ord_id``, ``status``, ``opentm``, ``starttm``,
``expiretm``, ``descr``, ``vol``, ``vol_exec``, ``cost``, ``fee``, ``price``,
``stopprice``, ``limitprice``, ``trigger``, ``margin``, ``misc``, ``oflags``, ``trades``,
plus ``closetm`` and ``reason`` for closed orders), get-open-positions and get-ticker-
information. ``descr.order`` is the sentence Kraken writes, e.g.
``sell 0.10000000 LTCUSDT @ stop loss 55.00000 -> limit 54.00000 with 5:1 leverage``
(the shape of the examples in those pages and in ccxt's recorded answers). Numbers are
strings, as Kraken sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.kraken.account import Position
from fks_exec_ccxt.testing.kraken.orders import Order, Quote, Trade
from fks_exec_ccxt.testing.kraken.params import OrderSpec
from fks_exec_ccxt.testing.kraken.rules import Rules

__all__ = [
    "description",
    "fee_currency",
    "order_json",
    "position_json",
    "ticker_json",
    "trade_json",
]


def _fixed(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def fee_currency(spec: OrderSpec, rules: Rules) -> str:
    """``base`` or ``quote``: where this order's fee is charged."""
    if "fcib" in spec.oflags:
        return "base"
    if "fciq" in spec.oflags or rules.default_fee_currency == "quote":
        return "quote"
    return "base" if spec.side == "sell" else "quote"


def _oflags(spec: OrderSpec, rules: Rules) -> str:
    flags = set(spec.oflags)
    if not flags & {"fcib", "fciq"}:
        flags.add("fciq" if fee_currency(spec, rules) == "quote" else "fcib")
    order = ("post", "fcib", "fciq", "nompp", "viqc")
    return ",".join(f for f in order if f in flags)


def description(spec: OrderSpec) -> str:
    """Kraken's ``descr.order`` sentence for an order."""
    pair, places = spec.pair, spec.pair.pair_decimals
    volume = _fixed(spec.volume, 8)
    price = _fixed(spec.price or Decimal(0), places)
    kind = spec.ordertype
    if kind == "market":
        text = f"{spec.side} {volume} {pair.altname} @ market"
    elif kind == "limit":
        text = f"{spec.side} {volume} {pair.altname} @ limit {price}"
    else:
        words = kind.replace("-limit", "").replace("-", " ")
        text = f"{spec.side} {volume} {pair.altname} @ {words} {price}"
        if spec.price2 is not None:
            text += f" -> limit {_fixed(spec.price2, places)}"
    if spec.leverage is not None:
        text += f" with {spec.leverage}:1 leverage"
    return text


def _descr(spec: OrderSpec) -> dict[str, Any]:
    places = spec.pair.pair_decimals
    return {
        "pair": spec.pair.altname,
        "type": spec.side,
        "ordertype": spec.ordertype,
        "price": "0" if spec.price is None else _fixed(spec.price, places),
        "price2": "0" if spec.price2 is None else _fixed(spec.price2, places),
        "leverage": f"{spec.leverage}:1" if spec.leverage is not None else "none",
        "order": description(spec),
        "close": "",
    }


def order_json(order: Order, rules: Rules, *, with_trades: bool) -> dict[str, Any]:
    """One order's info, as QueryOrders / OpenOrders / ClosedOrders give it."""
    spec, pair = order.spec, order.spec.pair
    cost_places = pair.cost_decimals
    body: dict[str, Any] = {
        "refid": None,
        "userref": spec.userref if spec.userref is not None else rules.unset_userref,
        "status": order.status,
        "opentm": order.opentm,
        "starttm": 0,
        "expiretm": spec.expiretm or 0,
        "descr": _descr(spec),
        "vol": _fixed(spec.volume, 8),
        "vol_exec": _fixed(order.vol_exec, 8),
        "cost": _fixed(order.cost, cost_places),
        "fee": _fixed(order.fee, cost_places),
        "price": _fixed(order.average, pair.pair_decimals + 3),
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "trigger": spec.trigger,
        "margin": spec.is_margin,
        "misc": "",
        "oflags": _oflags(spec, rules),
        "reason": order.reason,
    }
    if spec.reduce_only:
        body["reduce_only"] = True
    if spec.cl_ord_id is not None:
        body["cl_ord_id"] = spec.cl_ord_id
    if order.closetm is not None:
        body["closetm"] = order.closetm
    if with_trades and order.trades:
        body["trades"] = list(order.trades)
    return body


def trade_json(trade: Trade) -> dict[str, Any]:
    """One trade, as QueryTrades / TradesHistory give it."""
    body: dict[str, Any] = {
        "ordertxid": trade.ordertxid,
        "pair": trade.pair_id,
        "time": trade.time,
        "type": trade.side,
        "ordertype": trade.ordertype,
        "price": str(trade.price),
        "cost": str(trade.cost),
        "fee": str(trade.fee),
        "vol": str(trade.vol),
        "margin": str(trade.margin),
        "maker": trade.maker,
        "misc": "",
    }
    if trade.postxid is not None:
        body["postxid"] = trade.postxid
    return body


def _calcs(position: Position, quote: Quote | None) -> dict[str, str]:
    if quote is None:
        return {}
    mark = quote.bid if position.side == "buy" else quote.ask
    direction = 1 if position.side == "buy" else -1
    net = (mark - position.entry_price) * position.open_vol * direction
    return {"value": str(mark * position.open_vol), "net": str(net)}


def position_json(position: Position, quote: Quote | None, docalcs: bool) -> dict[str, Any]:
    """One position, as OpenPositions gives it without consolidation."""
    body: dict[str, Any] = {
        "ordertxid": position.ordertxid,
        "posstatus": "open",
        "pair": position.pair.pair_id,
        "time": position.time,
        "type": position.side,
        "ordertype": "market",
        "cost": str(position.cost),
        "fee": str(position.fee),
        "vol": _fixed(position.vol, 8),
        "vol_closed": _fixed(position.vol_closed, 8),
        "margin": str(position.margin),
        "leverage": str(position.leverage),
        "terms": "0.0200% per 4 hours",
        "rollovertm": str(int(position.time) + 4 * 3600),
        "misc": "",
        "oflags": "",
    }
    return {**body, **(_calcs(position, quote) if docalcs else {})}


def ticker_json(quote: Quote) -> dict[str, Any]:
    """One pair's entry in a Ticker answer (``a`` ask, ``b`` bid, ``c`` last trade)."""
    ask_size = str(quote.ask_left if quote.ask_left is not None else 1000)
    bid_size = str(quote.bid_left if quote.bid_left is not None else 1000)
    last = str(quote.last)
    return {
        "a": [str(quote.ask), ask_size.split(".")[0] or "0", ask_size],
        "b": [str(quote.bid), bid_size.split(".")[0] or "0", bid_size],
        "c": [last, "0"],
        "v": ["0", "0"],
        "p": [last, last],
        "t": [0, 0],
        "l": [last, last],
        "h": [last, last],
        "o": last,
    }
