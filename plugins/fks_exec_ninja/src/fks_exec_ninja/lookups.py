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
from fks_exec_ninja.states import FINAL_STATES, observe, result_for

if TYPE_CHECKING:
    from fks_exec_ninja.plugin import NinjaPlugin

__all__ = ["already_at_ninjatrader", "cancel", "find", "known_here", "order_list"]


async def already_at_ninjatrader(
    plugin: NinjaPlugin, order: Order, order_id: str, where: str
) -> ExecutionResult | None:
    """The order's result when NinjaTrader (or this process) already has its id."""
    values = plugin.ati.values
    if f"OrderStatus|{order_id}" in values:  # NinjaTrader has it: never place it twice
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
    """Send ``CANCEL`` for ``order_id`` and wait for a final state: ``canceled``;
    ``rejected`` when the order ended otherwise or NinjaTrader reported no state;
    ``unknown`` after ``order_timeout_s``. Raises :class:`OrderDenied` for an order
    already final and :class:`BrokerUnavailable` when not connected."""
    ati = plugin.ati
    order = plugin._orders.get(order_id)
    name = symbol or (order.symbol if order else "?")
    cid = order.client_order_id if order else None
    before = observe(ati.values, order_id)
    if before.final:
        raise OrderDenied(f"order {order_id} is already {before.state}", "invalid_order")
    await plugin._waiters.order(
        order_id,
        lambda seen: seen.final,
        quantity=None,
        timeout_s=plugin.config.order_timeout_s,
        agree_s=0.0,  # a final state answers a cancel, whatever its fill values say
        sent=lambda: ati.send_now(COMMAND, cancel_command(order_id)),
    )
    state = observe(ati.values, order_id).state
    if state in ("cancelled", "canceled"):
        return ExecutionResult.for_cancel(
            plugin=plugin.name,
            status=OrderStatus.CANCELED,
            client_order_id=cid,
            order_id=order_id,
            symbol=name,
        )
    final = state in FINAL_STATES
    if state is None or final:
        return ExecutionResult.for_cancel(
            plugin=plugin.name,
            status=OrderStatus.REJECTED,
            order_id=order_id,
            symbol=name,
            error_code=ErrorCode.INVALID_ORDER,
            error=f"order {order_id} is {state}"
            if final
            else f"NinjaTrader did not report order {order_id} cancelled (it may not know the id)",
        )
    return ExecutionResult.for_cancel(
        plugin=plugin.name,
        status=OrderStatus.UNKNOWN,
        order_id=order_id,
        symbol=name,
        error_code=ErrorCode.TIMEOUT,
        error=f"cancel not confirmed in {plugin.config.order_timeout_s}s (order is {state})",
    )


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
