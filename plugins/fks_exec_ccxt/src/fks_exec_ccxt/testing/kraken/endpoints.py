"""The fake Kraken's REST endpoints: one function per route, payload in, ``result`` out.

Routes are those of https://docs.kraken.com/api/ (``/0/public/<Name>`` by GET,
``/0/private/<Name>`` by POST), in the shapes ccxt's ``kraken`` sends. Each function
takes the :class:`~.trading.Trading` state and the decoded query or body, and returns
the answer's ``result`` or raises :class:`~.errors.KrakenError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.kraken import errors, wire
from fks_exec_ccxt.testing.kraken.errors import KrakenError
from fks_exec_ccxt.testing.kraken.orders import ZERO, Order
from fks_exec_ccxt.testing.kraken.pairs import assets_json, pair_json
from fks_exec_ccxt.testing.kraken.params import parse_bool
from fks_exec_ccxt.testing.kraken.trading import Trading

__all__ = ["ORDER_PLACEMENT", "PRIVATE", "PUBLIC", "Route"]

Route = Callable[[Trading, dict[str, Any]], Any]
ORDER_PLACEMENT = frozenset({"/0/private/AddOrder"})


# ---------------------------------------------------------------------- public
def server_time(trading: Trading, query: dict[str, Any]) -> Any:
    """GET Time: ``unixtime`` and ``rfc1123``."""
    now = trading.clock()
    moment = datetime.fromtimestamp(now, timezone.utc)
    return {"unixtime": int(now), "rfc1123": moment.strftime("%a, %d %b %y %H:%M:%S +0000")}


def system_status(trading: Trading, query: dict[str, Any]) -> Any:
    """GET SystemStatus: ``online``."""
    moment = datetime.fromtimestamp(trading.clock(), timezone.utc)
    return {"status": "online", "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


def assets(trading: Trading, query: dict[str, Any]) -> Any:
    """GET Assets: every asset the pairs trade."""
    return assets_json(trading.pairs.values())


def asset_pairs(trading: Trading, query: dict[str, Any]) -> Any:
    """GET AssetPairs (``pair`` optional, comma-delimited)."""
    wanted = [trading.pair(p) for p in str(query["pair"]).split(",")] if query.get("pair") else None
    listed = wanted if wanted is not None else list(trading.pairs.values())
    return {p.pair_id: pair_json(p) for p in listed}


def ticker(trading: Trading, query: dict[str, Any]) -> Any:
    """GET Ticker?pair= (comma-delimited); pairs never quoted are left out (inferred)."""
    names = str(query.get("pair", "")).split(",") if query.get("pair") else list(trading.pairs)
    listed = [trading.pair(n) for n in names]
    return {p.pair_id: wire.ticker_json(trading.quotes[p.pair_id]) for p in listed
            if p.pair_id in trading.quotes}  # fmt: skip


# ---------------------------------------------------------------------- account
def balance(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST Balance: cash per asset id."""
    return {a: f"{v:.10f}" for a, v in trading.account.cash.items()}


def balance_ex(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST BalanceEx: ``balance`` and ``hold_trade`` (what open orders reserve)."""
    orders = trading.orders.values()
    return {
        a: {"balance": f"{v:.10f}", "hold_trade": f"{trading.account.held_by(orders, a):.10f}"}
        for a, v in trading.account.cash.items()
    }


def trade_balance(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST TradeBalance (``asset``, default ``ZUSD``), counted in that asset only (inferred)."""
    asset = str(payload.get("asset", "ZUSD"))
    cash = trading.account.cash.get(asset, ZERO)
    positions = [p for p in trading.account.positions if p.pair.quote == asset]
    net = sum((Decimal(_net(trading, p)) for p in positions), ZERO)
    used = trading.account.margin_used(asset)
    equity = cash + net
    level = f"{equity / used * 100:.2f}" if used else None
    body = {"eb": str(cash), "tb": str(cash), "m": str(used), "n": str(net),
            "c": str(sum((p.cost for p in positions), ZERO)), "e": str(equity),
            "mf": str(equity - used), "uv": "0"}  # fmt: skip
    return {**body, **({"ml": level} if level else {})}


def _net(trading: Trading, position: Any) -> str:
    calcs = wire.position_json(position, trading.quotes.get(position.pair.pair_id), True)
    return str(calcs.get("net", "0"))


# ---------------------------------------------------------------------- orders
def _flag(payload: dict[str, Any], name: str) -> bool:
    try:
        return parse_bool(payload.get(name, False))
    except ValueError as exc:
        raise errors.invalid_argument(name) from exc


def _filtered(orders: list[Order], payload: dict[str, Any]) -> list[Order]:
    if payload.get("userref") is not None:
        ref = str(payload["userref"])
        orders = [o for o in orders if str(o.spec.userref) == ref]
    if payload.get("cl_ord_id") is not None:
        orders = [o for o in orders if o.spec.cl_ord_id == str(payload["cl_ord_id"])]
    return orders


def _as_json(trading: Trading, orders: list[Order], payload: dict[str, Any]) -> dict[str, Any]:
    trades = _flag(payload, "trades")
    return {o.txid: wire.order_json(o, trading.rules, with_trades=trades) for o in orders}


def add_order(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST AddOrder."""
    return trading.place(payload)


def cancel_order(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST CancelOrder."""
    return trading.cancel(payload)


def query_orders(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST QueryOrders: ``txid`` (comma-delimited, 50 at most), ``userref`` filter, ``trades``."""
    raw = payload.get("txid")
    if not raw:
        raise errors.invalid_argument("txid")
    wanted = str(raw).split(",")
    if len(wanted) > 50:
        raise errors.invalid_argument("txid")
    unknown = [t for t in wanted if t not in trading.orders]
    if unknown and trading.rules.query_unknown_txid == "error":
        raise KrakenError("EOrder:Invalid order")
    found = [trading.orders[t] for t in wanted if t in trading.orders]
    return _as_json(trading, _filtered(found, payload), payload)


def open_orders(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST OpenOrders (``trades``, ``userref``, ``cl_ord_id``)."""
    live = [o for o in trading.orders.values() if o.is_open]
    return {"open": _as_json(trading, _filtered(live, payload), payload)}


def closed_orders(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST ClosedOrders: newest first, 50 a page from ``ofs``, with the total ``count``.

    Filters: ``userref``, ``cl_ord_id``, and ``start`` / ``end`` (Unix seconds, compared
    with the open time, the close time or either, as ``closetime`` says: ``open``,
    ``close`` or ``both``, the default).
    """
    done = [o for o in trading.orders.values() if not o.is_open]
    which = str(payload.get("closetime", "both"))
    if which not in ("open", "close", "both"):
        raise errors.invalid_argument("closetime")
    for bound, keep in (("start", lambda t, b: t >= b), ("end", lambda t, b: t <= b)):
        if payload.get(bound) is not None:
            limit = float(payload[bound])
            done = [o for o in done if _in_window(o, which, limit, keep)]
    done = _filtered(done, payload)[::-1]
    offset = int(payload.get("ofs", 0) or 0)
    page = done[offset : offset + 50]
    return {"closed": _as_json(trading, page, payload), "count": len(done)}


def _in_window(
    order: Order, which: str, bound: float, keep: Callable[[float, float], bool]
) -> bool:
    times = {"open": [order.opentm], "close": [order.closetm or order.opentm]}
    chosen = times.get(which, times["open"] + times["close"])
    return any(keep(t, bound) for t in chosen)


def open_positions(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST OpenPositions (``txid``, ``docalcs``, ``consolidation=market``)."""
    positions = trading.account.positions
    if payload.get("txid"):
        wanted = set(str(payload["txid"]).split(","))
        positions = [p for p in positions if p.postxid in wanted]
    calcs = _flag(payload, "docalcs")
    rows = {p.postxid: wire.position_json(p, trading.quotes.get(p.pair.pair_id), calcs)
            for p in positions}  # fmt: skip
    if payload.get("consolidation") != "market":
        return rows
    return _consolidated(trading, positions, rows)


def _consolidated(trading: Trading, positions: list[Any], rows: dict[str, Any]) -> list[Any]:
    groups: dict[tuple[str, str], list[Any]] = {}
    for p in positions:
        groups.setdefault((p.pair.pair_id, p.side), []).append(p)
    out = []
    for (pair_id, side), group in groups.items():
        vol = sum((p.vol for p in group), ZERO)
        closed = sum((p.vol_closed for p in group), ZERO)
        net = sum((Decimal(rows[p.postxid].get("net", "0")) for p in group), ZERO)
        out.append({"pair": pair_id, "positions": str(len(group)), "type": side,
                    "leverage": f"{group[0].leverage:.5f}",
                    "cost": str(sum((p.cost for p in group), ZERO)),
                    "fee": str(sum((p.fee for p in group), ZERO)), "vol": f"{vol:.8f}",
                    "vol_closed": f"{closed:.8f}", "net": str(net),
                    "margin": str(sum((p.margin for p in group), ZERO))})  # fmt: skip
    return out


def query_trades(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST QueryTrades: ``txid`` comma-delimited trade ids."""
    wanted = str(payload.get("txid", "")).split(",")
    return {t: wire.trade_json(trading.trades[t]) for t in wanted if t in trading.trades}


def trades_history(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST TradesHistory (``start`` filter): newest first, 50 a page, with ``count``."""
    trades = list(trading.trades.values())
    if payload.get("start") is not None:
        trades = [t for t in trades if t.time >= float(payload["start"])]
    newest = trades[::-1]
    return {"trades": {t.trade_id: wire.trade_json(t) for t in newest[:50]}, "count": len(newest)}


def cancel_all(trading: Trading, payload: dict[str, Any]) -> Any:
    """POST CancelAll: every open order; ``count`` of them."""
    live = [o for o in trading.orders.values() if o.is_open]
    for order in live:
        order.close("canceled", trading.clock(), "User requested")
    return {"count": len(live)}


PUBLIC: dict[str, Route] = {
    "/0/public/Time": server_time,
    "/0/public/SystemStatus": system_status,
    "/0/public/Assets": assets,
    "/0/public/AssetPairs": asset_pairs,
    "/0/public/Ticker": ticker,
}
PRIVATE: dict[str, Route] = {
    "/0/private/Balance": balance,
    "/0/private/BalanceEx": balance_ex,
    "/0/private/TradeBalance": trade_balance,
    "/0/private/AddOrder": add_order,
    "/0/private/CancelOrder": cancel_order,
    "/0/private/QueryOrders": query_orders,
    "/0/private/OpenOrders": open_orders,
    "/0/private/ClosedOrders": closed_orders,
    "/0/private/OpenPositions": open_positions,
    "/0/private/QueryTrades": query_trades,
    "/0/private/TradesHistory": trades_history,
    "/0/private/CancelAll": cancel_all,
}
