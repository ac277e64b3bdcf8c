"""Finding an order again by our client id: reads only, regular and trigger books.

ccxt keeps trigger (stop) orders of some venues behind separate endpoints reached with
a ``trigger`` flag (okx ``orders-algo-pending``, kucoin ``stop-order``); its
``features.fetchOpenOrders.trigger`` / ``fetchClosedOrders.trigger`` say where, and
every search here follows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ErrorCode, ExecutionResult, OrderStatus
from fks_exec_ccxt.client_ids import echoed_client_id, venue_client_id
from fks_exec_ccxt.mapping import to_result
from fks_exec_ccxt.okx_algo import read_fired
from fks_exec_ccxt.rules import MarketRules, features_of

__all__ = ["find_by_client_id", "trigger_flags"]

RECENT_ORDERS = 100


def trigger_flags(
    exchange: Any, market: dict[str, Any], method: str, *, search: bool = True
) -> list[dict[str, Any]]:
    """The params to try for ``method`` on ``market``: plain, then the trigger flags if
    ccxt keeps trigger orders apart there (the venue's search params, or ``trigger``)."""
    from fks_exec_ccxt.venues import venue

    section = features_of(exchange, market).get(method) or {}
    flags: list[dict[str, Any]] = [{}]
    if isinstance(section, dict) and section.get("trigger"):
        flags.append(dict(venue(str(exchange.id)).trigger_search) if search else {"trigger": True})
    return flags


async def find_by_client_id(
    exchange: Any,
    market: dict[str, Any] | None,
    rules: MarketRules | None,
    client_order_id: str,
    make_result: Callable[[dict[str, Any], str], ExecutionResult],
) -> ExecutionResult | None:
    """Search open, then recent closed orders of ``market`` for ``client_order_id``.

    Without a market (an order this process did not place and no hint), only open
    orders without a symbol are searched, where the exchange allows it. Raises what
    ccxt raises for a read (the caller maps it to BrokerUnavailable).
    """
    if market is None or rules is None:
        return await _search_without_symbol(exchange, client_order_id, make_result)
    wanted = venue_client_id(client_order_id, rules.client_id)
    symbol = rules.symbol
    import ccxt.async_support as ccxt

    for method, call in _methods(exchange):
        for flags in trigger_flags(exchange, market, method):
            try:
                orders = await call(symbol, None, RECENT_ORDERS, flags)
            except ccxt.ArgumentsRequired:
                continue  # ccxt refused this search itself: nothing was asked

            for raw in orders:
                if echoed_client_id(raw, rules.client_id) == wanted:
                    return make_result(await read_fired(exchange, raw, symbol), symbol)
    return None


async def _search_without_symbol(
    exchange: Any,
    client_order_id: str,
    make_result: Callable[[dict[str, Any], str], ExecutionResult],
) -> ExecutionResult | None:
    # Not placed by this process and no hint: only open orders can be searched without
    # a symbol, and some exchanges refuse even that. Not found is the honest answer.
    import ccxt.async_support as ccxt

    if not (exchange.has or {}).get("fetchOpenOrders"):
        return None
    try:
        orders = await exchange.fetch_open_orders()
    except (ccxt.ExchangeError, ccxt.NotSupported):
        return None
    from fks_exec_ccxt.venues import venue

    row = venue(str(exchange.id))
    rules = [r for r in (row.client_id, row.contract_client_id) if r is not None]
    for raw in orders:
        for rule in rules:
            if echoed_client_id(raw, rule) == venue_client_id(client_order_id, rule):
                symbol = str(raw.get("symbol") or "?")
                return make_result(await read_fired(exchange, raw, symbol), symbol)
    return None


def _methods(exchange: Any) -> list[tuple[str, Any]]:
    has = exchange.has or {}
    methods: list[tuple[str, Any]] = []
    if has.get("fetchOpenOrders"):
        methods.append(("fetchOpenOrders", exchange.fetch_open_orders))
    if has.get("fetchCanceledAndClosedOrders"):
        methods.append(("fetchClosedOrders", exchange.fetch_canceled_and_closed_orders))
    elif has.get("fetchClosedOrders") or has.get("fetchCanceledOrders"):
        if has.get("fetchClosedOrders"):
            methods.append(("fetchClosedOrders", exchange.fetch_closed_orders))
        if has.get("fetchCanceledOrders"):
            methods.append(("fetchClosedOrders", exchange.fetch_canceled_orders))
    elif has.get("fetchOrders"):
        methods.append(("fetchOrders", exchange.fetch_orders))
    return methods


def make_finder_result(
    plugin: str, client_order_id: str, venue: str = "the exchange"
) -> Callable[[dict[str, Any], str], Any]:
    """A ``make_result`` for :func:`find_by_client_id` that stamps our client id.

    An order whose numbers no real order has (see :func:`to_result`) is found but not
    read: its result is ``unknown``, naming the venue and the field.
    """

    def build(raw: dict[str, Any], symbol: str) -> ExecutionResult:
        try:
            result = to_result(raw, plugin=plugin, symbol=symbol, venue=venue)
        except BadBrokerNumber as exc:
            return ExecutionResult(
                plugin=plugin,
                status=OrderStatus.UNKNOWN,
                client_order_id=client_order_id,
                order_id=None if raw.get("id") is None else str(raw["id"]),
                symbol=symbol,
                side=raw.get("side") if raw.get("side") in ("buy", "sell") else None,
                quantity=None,
                error=f"{exc}: found, but not a definite answer",
                error_code=ErrorCode.UNKNOWN,
            )
        return result.model_copy(update={"client_order_id": client_order_id})

    return build
