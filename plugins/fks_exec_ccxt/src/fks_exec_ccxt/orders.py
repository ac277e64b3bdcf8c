"""Sending a create or cancel through ccxt and reading what became of it.

The error contract of the plugin base applies: certainly-not-sent raises
:class:`BrokerUnavailable`; refused before anything left (or a refused key) is a
rejected result with ``sent=False``; a refusal by the venue is ``rejected``; anything
that may have reached the venue without an answer is ``unknown``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ccxt.async_support as ccxt_async

from fks_exec.errors import BrokerUnavailable
from fks_exec.kit import BadBrokerNumber
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus
from fks_exec_ccxt.client_ids import echoed_client_id
from fks_exec_ccxt.errors import classify, probing, refused_before_sending, reset
from fks_exec_ccxt.lookup import trigger_flags
from fks_exec_ccxt.mapping import Request, to_result
from fks_exec_ccxt.okx_algo import never_fired, read_fired
from fks_exec_ccxt.raw_body import UnsafeNumber, order_evidence
from fks_exec_ccxt.venues import venue

if TYPE_CHECKING:
    from fks_exec_ccxt.plugin import CcxtPlugin

__all__ = ["cancel", "send"]


async def send(plugin: CcxtPlugin, order: Order, request: Request) -> ExecutionResult:
    """``create_order`` once, and the result (never retried)."""
    exchange = plugin.exchange
    probe, token = probing()
    try:
        raw = await exchange.create_order(
            request.symbol,
            request.type,
            request.side,
            request.amount,
            request.price,
            request.params,
        )
    except ccxt_async.BaseError as exc:
        return await _failed(plugin, order, request, exc, refused_before_sending(exc, probe), probe)
    except Exception as exc:
        if not refused_before_sending(exc, probe):
            raise  # after a request began: the plugin base reports it unknown
        return plugin._denied(
            order,
            ErrorCode.REJECTED,
            f"{exchange.id} (ccxt, before sending): {type(exc).__name__}: {exc}",
        )
    finally:
        reset(token)
    if not isinstance(raw, dict) or raw.get("id") is None:
        # No order id, no confirmation (a garbled answer): reconciled, never resent.
        return plugin._unknown(
            order, ErrorCode.UNKNOWN, f"{exchange.id} answered without an order id"
        )
    if raw.get("status") is None:
        # Only acknowledged (ids, no state: OKX, Kraken): the venue has the order and it
        # may already have filled. Its state is read once; unread, it is unknown (the
        # ids-only answer says nothing of a fill), never ``accepted`` with 0 filled.
        order_id = str(raw["id"])
        found = await _read_back(plugin, order, request, order_id)
        if isinstance(found, ExecutionResult):
            return found
        return _unread(plugin, order, order_id, found)
    try:
        return to_result(
            raw,
            plugin=plugin.name,
            order=order,
            symbol=request.symbol,
            venue=exchange.id,
            quote_cost=request.quote_cost,
        )
    except BadBrokerNumber as exc:
        return _no_answer(plugin, order, str(exc))


async def _read_back(
    plugin: CcxtPlugin, order: Order, request: Request, order_id: str
) -> ExecutionResult | str:
    """The order's state by its id (one read), else by its client id; why not, if unread."""
    exchange = plugin.exchange
    why = f"{exchange.id} has no fetchOrder"
    if exchange.has.get("fetchOrder"):
        params = _read_flags(plugin, request.symbol, order.stop_price is not None)
        try:
            raw = await exchange.fetch_order(order_id, request.symbol, params)
            raw = await read_fired(exchange, raw, request.symbol)  # an OKX stop that fired
            return to_result(
                raw,
                plugin=plugin.name,
                order=order,
                symbol=request.symbol,
                venue=exchange.id,
                quote_cost=request.quote_cost,
            )
        except (UnsafeNumber, BadBrokerNumber) as exc:
            return _no_answer(plugin, order, str(exc))
        except Exception as exc:  # e.g. bybit wants an acknowledgement flag: search instead
            plugin.log.debug("read-back of %s by id failed (%s); searching", order_id, exc)
            why = f"reading it by id failed ({type(exc).__name__})"
    try:
        found = await plugin._find_order(order.client_order_id, {"symbol": request.symbol})
    except Exception as exc:
        return f"{why}; searching by client id failed ({type(exc).__name__}: {exc})"
    return found if found is not None else f"{why}; searching by client id did not find it"


def _unread(plugin: CcxtPlugin, order: Order, order_id: str, why: str) -> ExecutionResult:
    """``unknown`` (sent: the venue gave an order id) for an order whose state is unread."""
    exchange = plugin.exchange
    message = (
        f"{exchange.id} took the order (order id {order_id}) and answered with its ids only; "
        f"its state could not be read back: {why}. It may have filled: look it up with "
        f"get_order({order.client_order_id!r}) before acting, do not resend"
    )
    plugin.log.warning("order %s: %s", order.client_order_id, message)
    return ExecutionResult.for_order(
        order,
        plugin=plugin.name,
        status=OrderStatus.UNKNOWN,
        sent=True,
        order_id=order_id,
        error=message,
        error_code=ErrorCode.UNKNOWN,
    )


def _read_flags(plugin: CcxtPlugin, symbol: str, stop: bool) -> dict[str, Any]:
    # fetch_order's params for an order on ``symbol``: derived from ccxt's features once
    # per market and kept (they never change while the markets are loaded).
    key = (symbol, stop)
    cached = plugin._read_flags.get(key)
    if cached is None:
        flags = trigger_flags(
            plugin.exchange, plugin.exchange.markets[symbol], "fetchOrder", search=False
        )
        cached = plugin._read_flags[key] = flags[-1] if stop else flags[0]
    return dict(cached)


async def _failed(
    plugin: CcxtPlugin,
    order: Order,
    request: Request,
    exc: BaseException,
    nothing_left: bool,
    probe: Any,
) -> ExecutionResult:
    exchange = plugin.exchange
    if isinstance(exc, UnsafeNumber):
        return _no_answer(plugin, order, str(exc))
    verdict = classify(exc, probe, str(exchange.id))
    message = f"{type(exc).__name__}: {exc}" + (f" ({verdict.why})" if verdict.why else "")
    if nothing_left:
        # ccxt refused it itself (a missing argument, a rule it checks) before the order's
        # own request: nothing of the order left, whatever ccxt sent before it.
        return plugin._denied(
            order, verdict.code, f"{exchange.id} (ccxt, before sending): {message}"
        )
    if verdict.sent is False:
        if verdict.code in (ErrorCode.NETWORK, ErrorCode.TIMEOUT):
            raise BrokerUnavailable(f"{exchange.id}: {message}; nothing was sent") from exc
        return plugin._denied(order, verdict.code, f"{exchange.id}: {message}; nothing was taken")
    if verdict.sent is None:
        return plugin._unknown(order, verdict.code, message)
    evidence = order_evidence(probe.last_body)
    if evidence is not None:
        # A refusal beside an order id, a fill or a live state is no definite answer.
        return _no_answer(plugin, order, f"{exchange.id} refused ({message}) beside {evidence}")
    if isinstance(exc, ccxt_async.InvalidOrder) or type(exc) is ccxt_async.ExchangeError:
        # A reused client id is answered with InvalidOrder ("duplicate") on most venues,
        # and with a text ccxt does not know (a bare ExchangeError: Kraken's
        # "EOrder:Duplicate ...") on others: if the venue already holds this very order,
        # that is the answer, not a rejection (the order exists and may fill).
        try:
            existing = await plugin._find_order(order.client_order_id, {"symbol": request.symbol})
        except Exception as lookup:
            return plugin._unknown(
                order,
                ErrorCode.INVALID_ORDER,
                f"{message}; looking for an order with this client id failed "
                f"({type(lookup).__name__}: {lookup})",
            )
        if existing is not None:
            return existing
    return ExecutionResult.for_order(
        order,
        plugin=plugin.name,
        status=OrderStatus.REJECTED,
        error=message,
        error_code=verdict.code,
    )


def _no_answer(plugin: CcxtPlugin, order: Order, why: str) -> ExecutionResult:
    """``unknown`` for an answer that cannot be taken as definite, with a warning."""
    plugin.log.warning("order %s: %s; its fate is unknown", order.client_order_id, why)
    return plugin._unknown(order, ErrorCode.UNKNOWN, f"{why}: not a definite answer")


async def cancel(
    plugin: CcxtPlugin,
    order_id: str,
    market: dict[str, Any] | None,
    symbol: str | None,
    stop: bool,
) -> ExecutionResult:
    """Cancel ``order_id``; a trigger order (placed as a stop, or not found among regular
    orders where ccxt keeps trigger orders apart) is cancelled with ccxt's ``trigger`` flag.
    """
    exchange = plugin.exchange
    unified = market["symbol"] if market else symbol
    where = unified or "?"
    flags = trigger_flags(exchange, market, "fetchOpenOrders", search=False) if market else [{}]
    if stop and len(flags) > 1:
        flags.reverse()
    for attempt, params in enumerate(flags):
        probe, token = probing()
        try:
            raw = await exchange.cancel_order(order_id, unified, params)
            break
        except ccxt_async.ArgumentsRequired:
            raise ValueError(
                f"cancel_order({order_id!r}) on {exchange.id} needs symbol=: this plugin "
                "did not place it"
            ) from None
        except ccxt_async.OrderNotFound as exc:
            if attempt + 1 < len(flags):
                continue
            return _cancel_failed(plugin, order_id, where, exc, probe)
        except ccxt_async.BaseError as exc:
            return _cancel_failed(plugin, order_id, where, exc, probe)
        finally:
            reset(token)
    raw, unread = await _what_filled(plugin, order_id, unified, params, raw)
    try:
        result = to_result(
            {**raw, "id": raw.get("id") or order_id},
            plugin=plugin.name,
            symbol=where,
            venue=exchange.id,
        )
    except BadBrokerNumber as exc:
        plugin.log.warning("cancel of %s: %s; its outcome is unknown", order_id, exc)
        return plugin.cancel_result_for(
            order_id, where, OrderStatus.UNKNOWN, error=f"{exc}: not a definite answer"
        )
    if unread is not None or result.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
        # An acknowledged cancel is not a done one (OKX, cancel-order: sCode 0 "only
        # means that your cancellation request has been accepted"; Kraken's answer has a
        # ``pending`` count): the order may still fill until the venue shows it ended.
        why = unread or (
            f"{exchange.id} still shows the order {result.status.value} "
            f"(filled {result.filled_quantity}); it may still fill: look it up with get_order"
        )
        result = ExecutionResult.model_validate(
            {
                **result.model_dump(),
                "status": OrderStatus.UNKNOWN,
                "success": False,
                "error": f"cancel acknowledged but not confirmed: {why}",
                "error_code": ErrorCode.UNKNOWN,
            }
        )
    return result


async def _what_filled(
    plugin: CcxtPlugin,
    order_id: str,
    symbol: str | None,
    params: dict[str, Any],
    raw: dict[str, Any],
) -> tuple[dict[str, Any], str | None]:
    """The cancelled order as the venue now reports it (what filled before the cancel),
    when the cancel's answer says nothing of a fill (OKX and Kraken answer with ids or a
    count); else ``raw``. The second value says why the fill is not known, if it is not.
    """
    exchange = plugin.exchange
    if raw.get("filled") is not None:
        return raw, None
    why = f"{exchange.id} has no fetchOrder"
    if exchange.has.get("fetchOrder") and symbol is not None:
        try:
            read = await _read_order(exchange, order_id, symbol, params)
            if isinstance(read, dict) and exchange.id == "okx":
                read = await read_fired(exchange, read, symbol)  # the order a stop placed
                if read.get("filled") is None and never_fired(read):
                    read = {**read, "filled": 0.0}  # an algo order that placed none
        except Exception as exc:  # a read: the cancel itself was acknowledged
            why = f"reading the order failed ({type(exc).__name__}: {exc})"
        else:
            if isinstance(read, dict) and read.get("filled") is not None:
                rule = venue(str(exchange.id)).client_id
                return {**read, "clientOrderId": echoed_client_id(read, rule)}, None
            why = "the venue did not say what filled"
    elif symbol is None:
        why = "no symbol to read the order by"
    plugin.log.warning("cancel of %s acknowledged; its fill is not known: %s", order_id, why)
    return (
        raw,
        f"whether it ended, and what filled, is not known ({why}): look it up with get_order",
    )


async def _read_order(exchange: Any, order_id: str, symbol: str, params: dict[str, Any]) -> Any:
    """``fetch_order``; where ccxt refuses it for want of an argument (bybit's unified
    accounts: "can only access an order if it is in last 500 orders ... we suggest to use
    fetchOpenOrder or fetchClosedOrder", ccxt bybit.py fetch_order), the order is read with
    ``fetch_closed_order`` (a cancelled order is closed), then ``fetch_open_order``."""
    try:
        return await exchange.fetch_order(order_id, symbol, dict(params))
    except ccxt_async.ArgumentsRequired:
        readers = [
            getattr(exchange, name)
            for name, has in (
                ("fetch_closed_order", "fetchClosedOrder"),
                ("fetch_open_order", "fetchOpenOrder"),
            )
            if exchange.has.get(has)
        ]
        if not readers:
            raise
    *first, last = readers
    for read in first:
        try:
            return await read(order_id, symbol, dict(params))
        except ccxt_async.OrderNotFound:
            pass  # not closed (yet): read it among the open ones
    return await last(order_id, symbol, dict(params))


def _cancel_failed(
    plugin: CcxtPlugin, order_id: str, symbol: str, exc: BaseException, probe: Any
) -> ExecutionResult:
    verdict = classify(exc, probe, str(plugin.exchange.id))
    message = f"{type(exc).__name__}: {exc}"
    if verdict.sent is False and verdict.code in (ErrorCode.NETWORK, ErrorCode.TIMEOUT):
        raise BrokerUnavailable(f"{plugin.exchange.id}: {message}") from exc
    status = OrderStatus.UNKNOWN if verdict.sent is None else OrderStatus.REJECTED
    return ExecutionResult.for_cancel(
        plugin=plugin.name,
        status=status,
        order_id=order_id,
        symbol=symbol,
        sent=None if verdict.sent is None else True,
        error=message,
        error_code=verdict.code,
    )
