"""The fake OKX's order endpoints: placing, canceling and reading orders and algo orders.

Order endpoints answer per order (``sCode``/``sMsg`` in ``data``, see :mod:`.errors`);
reads refuse unknown orders with 51603. Shapes as ccxt's ``okx`` sends them
(``ccxt/async_support/okx.py``): ``create_order`` posts a one-element array to
``trade/batch-orders`` by default; ``cancel_order(id, symbol, {'trigger': True})`` posts
``[{algoId, instId}]`` to ``trade/cancel-algos``; ``fetch_order(..., {'trigger': True})``
reads ``trade/order-algo``; ``fetch_open_orders(..., {'trigger': True})`` reads
``trade/orders-algo-pending?ordType=trigger`` unless ``ordType`` is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fks_exec_ccxt.testing.okx import errors, wire
from fks_exec_ccxt.testing.okx.algo import AlgoOrder
from fks_exec_ccxt.testing.okx.errors import OkxError
from fks_exec_ccxt.testing.okx.trading import Trading

__all__ = [
    "algos_history",
    "algos_pending",
    "cancel_algos",
    "cancel_order",
    "get_algo",
    "get_order",
    "orders_history",
    "orders_pending",
    "place_algo",
    "place_order",
]


def _ok(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _entries(items: Any) -> list[Mapping[str, Any]]:
    entries = items if isinstance(items, list) else [items]
    if not entries or not all(isinstance(e, dict) for e in entries):
        raise OkxError("50002", "JSON syntax error", 400)
    return entries


def _placed(trading: Trading, entry: Mapping[str, Any]) -> dict[str, Any]:
    try:
        order = trading.place(entry)
    except OkxError as refusal:
        return {
            "clOrdId": str(entry.get("clOrdId") or ""),
            "ordId": "",
            "tag": str(entry.get("tag") or ""),
            "ts": str(trading.clock()),
            "sCode": refusal.code,
            "sMsg": refusal.msg,
        }
    return {
        "clOrdId": order.cl_ord_id,
        "ordId": order.ord_id,
        "tag": order.tag,
        "ts": str(trading.clock()),
        "sCode": "0",
        "sMsg": "Order placed",
    }


def place_order(trading: Trading, body: Any) -> dict[str, Any]:
    """POST /api/v5/trade/order (one object) and /trade/batch-orders (an array)."""
    return errors.order_answer_body([_placed(trading, e) for e in _entries(body)])


def cancel_order(trading: Trading, body: Any) -> dict[str, Any]:
    """POST /api/v5/trade/cancel-order (object) and /trade/cancel-batch-orders (array)."""
    results = []
    for entry in _entries(body):
        try:
            order = trading.cancel(entry)
            results.append(
                {"clOrdId": order.cl_ord_id, "ordId": order.ord_id, "sCode": "0", "sMsg": ""}
            )
        except OkxError as refusal:
            results.append(
                {
                    "clOrdId": str(entry.get("clOrdId") or ""),
                    "ordId": str(entry.get("ordId") or ""),
                    "sCode": refusal.code,
                    "sMsg": refusal.msg,
                }
            )
    return errors.order_answer_body(results)


def place_algo(trading: Trading, body: Any) -> dict[str, Any]:
    """POST /api/v5/trade/order-algo (one object)."""
    (entry,) = _entries(body)[:1]
    try:
        algo = trading.place_algo(entry)
    except OkxError as refusal:
        cl = str(entry.get("algoClOrdId") or entry.get("clOrdId") or "")
        return errors.order_answer_body(
            [
                {
                    "algoClOrdId": cl,
                    "algoId": "",
                    "clOrdId": cl,
                    "sCode": refusal.code,
                    "sMsg": refusal.msg,
                    "tag": str(entry.get("tag") or ""),
                }
            ]
        )
    return errors.order_answer_body(
        [
            {
                "algoClOrdId": algo.algo_cl_ord_id,
                "algoId": algo.algo_id,
                "clOrdId": algo.algo_cl_ord_id,
                "sCode": "0",
                "sMsg": "",
                "tag": algo.tag,
            }
        ]
    )


def cancel_algos(trading: Trading, body: Any) -> dict[str, Any]:
    """POST /api/v5/trade/cancel-algos (an array of ``{algoId|algoClOrdId, instId}``)."""
    results = []
    for entry in _entries(body):
        try:
            algo = trading.cancel_algo(entry)
            results.append(
                {
                    "algoClOrdId": algo.algo_cl_ord_id,
                    "algoId": algo.algo_id,
                    "sCode": "0",
                    "sMsg": "",
                }
            )
        except OkxError as refusal:
            results.append(
                {
                    "algoClOrdId": str(entry.get("algoClOrdId") or ""),
                    "algoId": str(entry.get("algoId") or ""),
                    "sCode": refusal.code,
                    "sMsg": refusal.msg,
                }
            )
    return errors.order_answer_body(results)


def get_order(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/order?instId=&ordId=|clOrdId= (51603 when unknown)."""
    inst = trading.instrument(query.get("instId"))
    if not query.get("ordId") and not query.get("clOrdId"):
        raise errors.id_required()
    order = trading.book.find(inst.inst_id, query.get("ordId"), query.get("clOrdId"))
    if order is None:
        raise errors.order_not_found()
    return _ok([wire.order_json(order, trading.rules.leverage)])


def _orders(trading: Trading, query: Any, *, open_: bool) -> dict[str, Any]:
    if not open_ and not query.get("instType"):
        raise errors.empty_parameter("instType")
    state = query.get("state")
    types = set(filter(None, str(query.get("ordType") or "").split(",")))
    rows = [
        o
        for o in reversed(list(trading.book.orders.values()))
        if o.is_open == open_
        and (not query.get("instId") or o.inst.inst_id == query["instId"])
        and (not query.get("instType") or o.inst.inst_type == query["instType"])
        and (not state or o.state == state)
        and (not types or o.ord_type in types)
    ]
    limit = int(query.get("limit") or 100)
    return _ok([wire.order_json(o, trading.rules.leverage) for o in rows[:limit]])


def orders_pending(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/orders-pending: ``live`` and ``partially_filled``, newest first."""
    return _orders(trading, query, open_=True)


def orders_history(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/orders-history(-archive)?instType=: finished orders, newest first."""
    return _orders(trading, query, open_=False)


def get_algo(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/order-algo?algoId=|algoClOrdId= (51603 when unknown: inferred)."""
    if not query.get("algoId") and not query.get("algoClOrdId"):
        raise errors.parameter("algoId")
    algo = trading.desk.find(query.get("algoId"), query.get("algoClOrdId"))
    if algo is None:
        raise errors.order_not_found()
    return _ok([_algo_row(trading, algo)])


def _algo_row(trading: Trading, algo: AlgoOrder) -> dict[str, Any]:
    quote = trading.book.quotes.get(algo.inst.inst_id)
    return wire.algo_json(algo, quote.last if quote else None, trading.rules.leverage)


def _algos(trading: Trading, query: Any, *, live: bool) -> dict[str, Any]:
    """``ordType`` is required; ``conditional,oco`` may be asked together (inferred from
    the docs' "conditional and oco ... separated with comma")."""
    types = set(filter(None, str(query.get("ordType") or "").split(",")))
    if not types:
        raise errors.empty_parameter("ordType")
    state = query.get("state")
    if not live and not state and not query.get("algoId"):
        raise OkxError("50015", "Either parameter state or algoId is required", 400)
    rows = [
        a
        for a in reversed(list(trading.desk.algos.values()))
        if a.is_live == live
        and a.ord_type in types
        and (not query.get("instId") or a.inst.inst_id == query["instId"])
        and (not query.get("algoId") or a.algo_id == query["algoId"])
        and (not query.get("algoClOrdId") or a.algo_cl_ord_id == query["algoClOrdId"])
        and (live or not state or a.state == state)
    ]
    return _ok([_algo_row(trading, a) for a in rows])


def algos_pending(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/orders-algo-pending?ordType=: live algo orders."""
    return _algos(trading, query, live=True)


def algos_history(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/trade/orders-algo-history?ordType=&state=: effective/canceled/order_failed."""
    return _algos(trading, query, live=False)
