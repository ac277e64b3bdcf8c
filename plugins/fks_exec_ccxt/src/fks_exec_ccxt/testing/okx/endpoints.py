"""The fake OKX's REST endpoints: one function per route, request in, JSON out.

Each takes the :class:`~.trading.Trading` state, the decoded query or body, and returns
the answer's JSON, or raises :class:`~.errors.OkxError`. Routes and parameters are the
v5 REST API's (https://www.okx.com/docs-v5/en/), in the shapes ccxt's ``okx`` sends
(``ccxt/async_support/okx.py``: ``create_order`` posts a one-element array to
``trade/batch-orders`` by default, ``cancel_order(..., {'trigger': True})`` posts an
array to ``trade/cancel-algos``, ``fetch_open_orders(..., {'trigger': True})`` reads
``trade/orders-algo-pending?ordType=trigger``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.okx import errors, wire
from fks_exec_ccxt.testing.okx.errors import OkxError
from fks_exec_ccxt.testing.okx.markets import instrument_json
from fks_exec_ccxt.testing.okx.order_endpoints import (
    algos_history,
    algos_pending,
    cancel_algos,
    cancel_order,
    get_algo,
    get_order,
    orders_history,
    orders_pending,
    place_algo,
    place_order,
)
from fks_exec_ccxt.testing.okx.trading import Trading

__all__ = ["ORDER_PLACEMENT", "PRIVATE_PREFIXES", "ROUTES", "Route"]

Route = Callable[[Trading, Any], dict[str, Any]]
PRIVATE_PREFIXES = ("/api/v5/account/", "/api/v5/trade/", "/api/v5/asset/")
ORDER_PLACEMENT = frozenset(
    {
        ("POST", "/api/v5/trade/order"),
        ("POST", "/api/v5/trade/batch-orders"),
        ("POST", "/api/v5/trade/order-algo"),
    }
)


def _ok(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


# ---------------------------------------------------------------------- public
def server_time(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/public/time (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time)."""
    return _ok([{"ts": str(trading.clock())}])


def instruments(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/public/instruments?instType= (instType required)."""
    inst_type = query.get("instType")
    if not inst_type:
        raise errors.empty_parameter("instType")
    listed = [i for i in trading.instruments.values() if i.inst_type == inst_type]
    wanted = query.get("instId")
    return _ok([instrument_json(i) for i in listed if not wanted or i.inst_id == wanted])


def system_status(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/system/status: no maintenance planned."""
    return _ok([])


def ticker(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/market/ticker?instId=."""
    inst = trading.instrument(query.get("instId"))
    quote = trading.book.quotes.get(inst.inst_id)
    return _ok(
        [wire.ticker_json(inst.inst_id, inst.inst_type, quote, trading.clock())] if quote else []
    )


def tickers(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/market/tickers?instType=."""
    inst_type = query.get("instType")
    if not inst_type:
        raise errors.empty_parameter("instType")
    return _ok(
        [
            wire.ticker_json(
                i.inst_id, i.inst_type, trading.book.quotes[i.inst_id], trading.clock()
            )
            for i in trading.instruments.values()
            if i.inst_type == inst_type and i.inst_id in trading.book.quotes
        ]
    )


# ---------------------------------------------------------------------- account
def currencies(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/asset/currencies: one chain per currency the instruments use."""
    codes = sorted(
        {c for i in trading.instruments.values() for c in (i.base, i.quote, i.settle) if c}
    )
    return _ok(
        [
            {
                "ccy": c,
                "chain": f"{c}-{c}",
                "name": c,
                "canDep": True,
                "canWd": True,
                "canInternal": True,
                "minWd": "0.001",
                "maxWd": "1000000",
                "wdTickSz": "8",
                "fee": "0",
                "minFee": "0",
                "maxFee": "0",
            }
            for c in codes
        ]
    )


def balance(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/account/balance(?ccy=A,B)."""
    wanted = set(filter(None, str(query.get("ccy") or "").split(",")))
    now = trading.clock()
    details = []
    for ccy in sorted(trading.account.cash):
        if wanted and ccy not in wanted:
            continue
        held = trading.book.frozen(ccy) + trading.account.position_margin(
            ccy, trading.rules.leverage
        )
        upl = sum(
            (
                p.unrealized(trading.book.quotes[p.inst.inst_id].last)
                for p in trading.account.positions.values()
                if p.inst.settle == ccy and p.inst.inst_id in trading.book.quotes
            ),
            start=Decimal(0),
        )
        details.append(wire.balance_detail(ccy, trading.account.cash[ccy], held, upl, now))
    return _ok(
        [{"adjEq": "", "details": details, "imr": "", "mmr": "", "totalEq": "", "uTime": str(now)}]
    )


def positions(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/account/positions(?instType=&instId=A,B).

    "If the instrument ever had position and its open interest is 0, it will return
    the position information with specific instId" — so a flat position is listed (with
    ``pos`` "0") only when its ``instId`` is asked for.
    """
    wanted = set(filter(None, str(query.get("instId") or "").split(",")))
    inst_type = query.get("instType")
    rows = []
    for position in trading.account.positions.values():
        inst = position.inst
        if (wanted and inst.inst_id not in wanted) or (inst_type and inst.inst_type != inst_type):
            continue
        if position.pos == 0 and inst.inst_id not in wanted:
            continue
        quote = trading.book.quotes.get(inst.inst_id)
        mark = quote.last if quote else (position.avg_px or Decimal(1))
        rows.append(wire.position_json(position, mark, trading.rules.leverage, "cross"))
    return _ok(rows)


def account_config(trading: Trading, query: Any) -> dict[str, Any]:
    """GET /api/v5/account/config: ``posMode`` is ``net_mode`` or ``long_short_mode``."""
    return _ok(
        [
            {
                "acctLv": "2",
                "posMode": trading.account.pos_mode,
                "uid": "44705892343619584",
                "mainUid": "44705892343619584",
                "autoLoan": False,
                "level": "Lv1",
                "perm": "read_only,trade",
                "label": "fks-exec fake",
            }
        ]
    )


def set_position_mode(trading: Trading, body: Any) -> dict[str, Any]:
    """POST /api/v5/account/set-position-mode; refused while positions or orders are open.

    The refusal code is inferred (59000 "Settings failed. Close any open positions or
    orders before modifying settings.").
    """
    mode = body.get("posMode") if isinstance(body, dict) else None
    if mode not in ("net_mode", "long_short_mode"):
        raise errors.parameter("posMode")
    busy = any(p.pos for p in trading.account.positions.values()) or any(
        o.is_open for o in trading.book.orders.values()
    )
    if busy and mode != trading.account.pos_mode:
        raise OkxError(
            "59000",
            "Settings failed. Close any open positions or orders before modifying settings.",
        )
    trading.account.pos_mode = mode
    return _ok([{"posMode": mode}])


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/api/v5/public/time"): server_time,
    ("GET", "/api/v5/public/instruments"): instruments,
    ("GET", "/api/v5/system/status"): system_status,
    ("GET", "/api/v5/market/ticker"): ticker,
    ("GET", "/api/v5/market/tickers"): tickers,
    ("GET", "/api/v5/asset/currencies"): currencies,
    ("GET", "/api/v5/account/balance"): balance,
    ("GET", "/api/v5/account/positions"): positions,
    ("GET", "/api/v5/account/config"): account_config,
    ("POST", "/api/v5/account/set-position-mode"): set_position_mode,
    ("POST", "/api/v5/trade/order"): place_order,
    ("POST", "/api/v5/trade/batch-orders"): place_order,
    ("POST", "/api/v5/trade/cancel-order"): cancel_order,
    ("POST", "/api/v5/trade/cancel-batch-orders"): cancel_order,
    ("POST", "/api/v5/trade/order-algo"): place_algo,
    ("POST", "/api/v5/trade/cancel-algos"): cancel_algos,
    ("GET", "/api/v5/trade/order"): get_order,
    ("GET", "/api/v5/trade/orders-pending"): orders_pending,
    ("GET", "/api/v5/trade/orders-history"): orders_history,
    ("GET", "/api/v5/trade/orders-history-archive"): orders_history,
    ("GET", "/api/v5/trade/order-algo"): get_algo,
    ("GET", "/api/v5/trade/orders-algo-pending"): algos_pending,
    ("GET", "/api/v5/trade/orders-algo-history"): algos_history,
}
