"""Orders NinjaTrader already has, found by id: placing none twice, looking one up,
cancelling one. Everything here is judged from the values NinjaTrader pushed since
connecting and its ``Orders|<account>`` list (the ATI wire cannot ask for a value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.models import ErrorCode, ExecutionResult, Order, OrderStatus
from fks_exec_ninja.codec import COMMAND
from fks_exec_ninja.mapping import cancel_command, order_id_for
from fks_exec_ninja.states import Observed, observe, result_for, value_keys
from fks_exec_ninja.tracking import AGREED, LOST

if TYPE_CHECKING:
    from fks_exec_ninja.plugin import NinjaPlugin

__all__ = ["already_at_ninjatrader", "cancel", "find", "known_here", "order_list"]


async def already_at_ninjatrader(
    plugin: NinjaPlugin, order: Order, order_id: str, where: str
) -> ExecutionResult | None:
    """The order's result when NinjaTrader (or this process) already has its id."""
    values = plugin.ati.values
    if f"OrderStatus|{order_id}" in values:  # NinjaTrader has it: never place it twice
        await _average_settled(plugin, order_id)
        return result_for(values, order_id, plugin=plugin.name, order=order)
    return known_here(plugin, order, order_id, await order_list(plugin, where), where)


def known_here(
    plugin: NinjaPlugin, order: Order, order_id: str, listing: str, where: str
) -> ExecutionResult | None:
    """``unknown`` when NinjaTrader lists ``order_id`` in ``listing`` (the value of
    ``Orders|<where>``) or this process sent it, but has pushed none of its values; None
    when the id is new. The list is looked up in the plugin's set of its ids, never
    searched (it holds every order of the account)."""
    if order_id in plugin._orders or plugin._order_lists.has(where, listing, order_id):
        return ExecutionResult.for_order(
            order,
            plugin=plugin.name,
            status=OrderStatus.UNKNOWN,
            order_id=order_id,
            sent=True,
            error_code=ErrorCode.UNKNOWN,
            error=f"NinjaTrader already has order id {order_id} but has pushed none of "
            "its values since connecting; not placed again: check it in NinjaTrader",
        )
    return None


async def order_list(plugin: NinjaPlugin, where: str) -> str:
    """The value of ``Orders|<account>`` (pushed since connecting). Raises
    :class:`BrokerUnavailable` when it has not come in ``order_list_wait_s``."""
    ati, key = plugin.ati, f"Orders|{where}"
    if key not in ati.values and plugin.config.require_order_list:
        await plugin._waiters.key([key], lambda: key in ati.values, plugin.config.order_list_wait_s)
        if key not in ati.values:
            raise BrokerUnavailable(
                f"NinjaTrader has not pushed the order list of account {where!r} since "
                "connecting, so this order could not be checked against the orders it "
                "already has; nothing was sent (is the account name right and connected "
                "in NinjaTrader? set require_order_list=false to skip this check)"
            )
    return ati.values.get(key, "")


async def cancel(plugin: NinjaPlugin, order_id: str, symbol: str | None) -> ExecutionResult:
    """Send ``CANCEL`` for ``order_id`` and wait for a final state: ``canceled``, with
    what filled before (its average price); ``rejected`` when the order ended otherwise
    (it filled first); ``unknown`` when NinjaTrader reported no final state in
    ``order_timeout_s`` (it sends no answer to a CANCEL but the order's state, so none
    may mean it does not know the id, or has not acted yet), when the connection
    dropped first, or when the fill values of the cancelled order do not agree
    ``fill_agreement_s`` later. Raises :class:`OrderDenied` for an order already final
    and :class:`BrokerUnavailable` when not connected."""
    ati = plugin.ati
    order = plugin._orders.get(order_id)
    name = symbol or (order.symbol if order else "?")
    cid = order.client_order_id if order else None
    values, waiters = ati.values, plugin._waiters
    before = observe(values, order_id)
    if before.final:
        raise OrderDenied(f"order {order_id} is already {before.state}", "invalid_order")
    # A final state answers a cancel at once, whatever its fill values say (agree_s 0).
    waiter = waiters.start(order_id, _final, None, plugin.config.order_timeout_s, 0.0)
    try:
        ati.send_now(COMMAND, cancel_command(order_id))
        how = AGREED if waiters.arm(waiter) else await waiter.future
    finally:
        waiters.finish(waiter)
    seen = observe(values, order_id)
    if seen.state in ("cancelled", "canceled"):
        return await _cancelled(plugin, order_id, name, cid, waiter.stale)
    if seen.final:
        return ExecutionResult.for_cancel(
            plugin=plugin.name,
            status=OrderStatus.REJECTED,
            client_order_id=cid,
            order_id=order_id,
            symbol=name,
            error_code=ErrorCode.INVALID_ORDER,
            error=f"order {order_id} is {seen.state}",
        )
    if how == LOST:
        code, why = ErrorCode.NETWORK, "the connection dropped before NinjaTrader answered"
    elif seen.state is None:
        code, why = (
            ErrorCode.TIMEOUT,
            (
                f"NinjaTrader pushed no state of order {order_id} in "
                f"{plugin.config.order_timeout_s}s (it may not know the id, or not have "
                "pushed it again since connecting)"
            ),
        )
    else:
        code, why = (
            ErrorCode.TIMEOUT,
            (f"cancel not confirmed in {plugin.config.order_timeout_s}s (order is {seen.state})"),
        )
    return ExecutionResult.for_cancel(
        plugin=plugin.name,
        status=OrderStatus.UNKNOWN,
        client_order_id=cid,
        order_id=order_id,
        symbol=name,
        error_code=code,
        error=f"the CANCEL of order {order_id} was written; {why}: check the order "
        "with get_order (or in NinjaTrader's Orders tab)",
    )


def _final(seen: Observed) -> bool:
    return seen.final


def _agree(seen: Observed) -> bool:
    return seen.agrees(None)


async def _cancelled(
    plugin: NinjaPlugin, order_id: str, name: str, cid: str | None, stale: bool
) -> ExecutionResult:
    """The answer of a cancel NinjaTrader reports ``Cancelled``: with what filled before
    it, once its fill values agree -- waiting up to ``fill_agreement_s`` for a fill read
    without its price, or (``stale``) for an average pushed after a later fill read
    while the cancel waited -- else ``unknown``."""
    values, waiters = plugin.ati.values, plugin._waiters
    seen = observe(values, order_id)
    if stale or not seen.agrees(None):
        wait = plugin.config.fill_agreement_s  # a grace no longer than the wait itself
        waiter = waiters.start(order_id, _agree, None, wait, wait)
        waiter.stale = stale  # an average pushed from now on is one after that fill
        try:
            agreed = waiters.arm(waiter) or await waiter.future == AGREED
        finally:
            waiters.finish(waiter)
        seen = observe(values, order_id)
        if not agreed:
            if waiter.stale:  # lookups answer no fill from that average either
                waiters.mark_stale(order_id)
            _, filled_key, average_key = value_keys(order_id)
            return ExecutionResult.for_cancel(
                plugin=plugin.name,
                status=OrderStatus.UNKNOWN,
                client_order_id=cid,
                order_id=order_id,
                symbol=name,
                error_code=ErrorCode.UNKNOWN,
                error=f"NinjaTrader reports order {order_id} cancelled, but what filled of "
                f"it before is not settled (Filled {values.get(filled_key)!r}, AvgFillPrice "
                f"{values.get(average_key)!r}): look it up again with get_order",
            )
    return ExecutionResult.for_cancel(
        plugin=plugin.name,
        status=OrderStatus.CANCELED,
        client_order_id=cid,
        order_id=order_id,
        symbol=name,
        filled_quantity=seen.filled,
        average_price=seen.average if seen.filled else None,
    )


async def _average_settled(plugin: NinjaPlugin, order_id: str) -> None:
    """For an order answered ``unknown`` because a later fill came with no average
    price after it (:meth:`~fks_exec_ninja.tracking.Waiters.mark_stale`): wait up to
    ``fill_agreement_s`` more for NinjaTrader to push its average, so that a lookup
    right after that answer (the executor's reconciliation makes one at once) does
    not make the earlier fills' average definite. After that wait the values are
    taken as they stand (an unchanged average is not pushed again, and that cannot be
    told from a late one), and later lookups do not wait."""
    waiters = plugin._waiters
    if not waiters.average_stale(order_id):
        return
    await waiters.key(
        ["AvgFillPrice|" + order_id],
        lambda: not waiters.average_stale(order_id),
        plugin.config.fill_agreement_s,
    )
    waiters.stale_averages.pop(order_id, None)


async def find(
    plugin: NinjaPlugin, client_order_id: str, hints: Mapping[str, str]
) -> ExecutionResult | None:
    """From the values pushed since connecting (waiting for a reconnect and the
    account's order list first, and for the values of a listed id until
    ``order_list_wait_s`` after connecting): the order's state; ``unknown`` when the
    id is listed (or was sent by this process) but has no values; None when the fresh
    order list of the account does not have it. Never ``sent=False``: an order list
    after a NinjaTrader restart may not prove that an order never arrived."""
    order_id = hints.get("order_id") or order_id_for(client_order_id)
    order = plugin._orders.get(order_id)
    where = hints.get("account") or (order.account if order else None) or plugin.config.account
    ati = plugin.ati
    if not ati.ati_up and not await ati.wait_connected(plugin.config.connect_timeout_s):
        raise BrokerUnavailable("not connected to NinjaTrader; cannot look the order up")
    listed = plugin._order_lists.has(where, await order_list(plugin, where), order_id)
    key = f"OrderStatus|{order_id}"
    if listed and key not in ati.values:
        # NinjaTrader may re-push an order's values a moment after the list: wait
        # for them, but only up to order_list_wait_s after connecting in all.
        grace = plugin.config.order_list_wait_s - ati.up_for
        if grace > 0:
            await plugin._waiters.key([key], lambda: key in ati.values, grace)
    await _average_settled(plugin, order_id)
    found = result_for(
        ati.values, order_id, plugin=plugin.name, order=order, client_order_id=client_order_id
    )
    if found is not None:
        return found
    if not listed and (order is None or f"Orders|{where}" in ati.values):
        return None
    return ExecutionResult(
        client_order_id=client_order_id,
        symbol=order.symbol if order else "?",
        side=order.side if order else None,
        quantity=order.quantity if order else None,
        plugin=plugin.name,
        status=OrderStatus.UNKNOWN,
        order_id=order_id,
        error_code=ErrorCode.UNKNOWN,
        error=f"order {order_id} is {'listed' if listed else 'sent'} but NinjaTrader has "
        "pushed none of its values since connecting",
    )
