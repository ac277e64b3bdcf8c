"""The ``ninja`` plugin: NinjaTrader 8 over a TCP socket to its AT Interface."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from fks_exec.errors import BrokerUnavailable, OrderDenied, PluginInitError
from fks_exec.kit import BoundedDict
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    OrderType,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec_ninja import account
from fks_exec_ninja.brackets import Brackets
from fks_exec_ninja.codec import COMMAND, SUBSCRIBE
from fks_exec_ninja.config import NinjaConfig
from fks_exec_ninja.connection import AtiConnection
from fks_exec_ninja.mapping import (
    cancel_command,
    check_name,
    order_id_for,
    place_command,
    quantity_denial,
)
from fks_exec_ninja.states import FINAL_STATES, Observed, observe, result_for
from fks_exec_ninja.tracking import DISAGREED, LOST, ORDER_KEYS, Waiters

__all__ = ["NinjaPlugin"]


class NinjaPlugin(ExecutionPlugin[NinjaConfig]):
    """Trades through NinjaTrader 8's Automated Trading Interface, over TCP.

    A stock NinjaTrader 8 with "AT Interface" enabled (Tools > Options > Automated
    trading interface) needs nothing installed inside it.
    """

    name: ClassVar[str] = "ninja"
    config_model: ClassVar[type[NinjaConfig]] = NinjaConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CANCEL_ORDER,
            Capability.GET_ORDER,
            Capability.POSITIONS,
            Capability.CLOSE_POSITION,
            Capability.STOP_ORDERS,
            Capability.BRACKET_ORDERS,
        }
    )

    def __init__(self, *, transcript: list[str] | None = None) -> None:
        super().__init__()
        self._transcript = transcript
        self.connection: AtiConnection | None = None
        self._orders: BoundedDict[str, Order] = BoundedDict(10_000)  # order id -> order
        self._subscribed: set[str] = set()
        self._good_names: set[str] = set()
        """Account and instrument names :func:`check_name` accepted (bounded)."""
        self._waiters = Waiters({})
        self._brackets = Brackets({}, self._send_line, self._remember)

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self, config: NinjaConfig) -> None:
        self._orders.maxlen = config.max_tracked_orders
        connection = AtiConnection(
            config.host,
            config.port,
            max_values=4 * config.max_tracked_orders + 10_000,  # their orders' values, and more
            connect_timeout_s=config.connect_timeout_s,
            confirm_orders=config.confirm_orders,
            reconnect_min_s=config.reconnect_min_s,
            reconnect_max_s=config.reconnect_max_s,
            on_reconnect=self._after_reconnect,
        )
        connection.transcript = self._transcript
        self._waiters = Waiters(connection.values)
        self._brackets = Brackets(connection.values, self._send_line, self._remember)
        connection.on_value = self._on_value
        connection.on_batch = self._waiters.on_batch
        connection.on_lost = self._waiters.lost
        try:
            await connection.open()
        except (OSError, asyncio.TimeoutError) as exc:  # distinct classes on 3.10
            await connection.close()
            raise PluginInitError(
                f"no ready AT Interface at {config.host}:{config.port} ({type(exc).__name__}): "
                "enable it in NinjaTrader (Tools > Options > Automated trading interface > "
                "AT Interface), check FKS_EXEC_NINJA_HOST/FKS_EXEC_NINJA_PORT (default 36973) "
                "and that NinjaTrader is running"
            ) from None
        self.connection = connection

    async def _close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            for instrument in sorted(self._subscribed):
                if connection.connected:
                    try:
                        connection.send_now(SUBSCRIBE, instrument, "0")
                    except BrokerUnavailable:
                        break
            self._waiters.lost()
            await connection.close()

    def _broker_says_paper(self) -> bool | None:
        return account.is_simulation(self.config.account)

    @property
    def ati(self) -> AtiConnection:
        """The connection. Raises :class:`BrokerUnavailable` before init."""
        if self.connection is None:
            raise BrokerUnavailable("plugin 'ninja' is not initialized; call init()")
        return self.connection

    def instrument(self, symbol: str) -> str:
        """NinjaTrader's name for ``symbol`` (the symbol map, else the symbol itself)."""
        return self.config.symbols.get(symbol, symbol)

    def _on_value(self, key: str, value: str) -> None:
        waiters = self._waiters
        waiters.on_key(key)
        kind, _, order_id = key.partition("|")
        if kind in ORDER_KEYS:
            waiters.on_order_value(kind, order_id, value)
            if self._brackets.watched and kind != "AvgFillPrice":
                self._brackets.on_order_value(order_id)

    async def _after_reconnect(self) -> None:
        for instrument in sorted(self._subscribed):
            self.ati.send_now(SUBSCRIBE, instrument, "1")
        self._brackets.refresh()

    def _send_line(self, line: str) -> None:
        self.ati.send_now(COMMAND, line)

    def _remember(self, order_id: str, order: Order) -> None:
        self._orders[order_id] = order  # bounded: the oldest are forgotten first

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        config = self.config
        denial = quantity_denial(order)
        if denial is not None:
            raise OrderDenied(denial[1], denial[0].value)
        bracket = order.has_bracket
        if bracket and config.strategy:
            raise OrderDenied(
                "stop_loss/take_profit with an ATM strategy template: the template places "
                "its own exits; use one or the other. Nothing was sent"
            )
        where = order.account or config.account
        instrument = config.symbols.get(order.symbol, order.symbol)
        if where not in self._good_names or instrument not in self._good_names:
            check_name("account", where)
            check_name("instrument", instrument)
            if len(self._good_names) > 1_000:
                self._good_names.clear()
            self._good_names.update((where, instrument))
        ati = self.ati
        if not ati.ati_up:
            raise BrokerUnavailable("NinjaTrader's AT Interface is not up (ATI is not True)")
        order_id = order_id_for(order.client_order_id)
        values = ati.values
        listing = values.get(f"Orders|{where}")
        if listing is None or f"OrderStatus|{order_id}" in values:
            existing = await self._already_at_ninjatrader(order, order_id, where)
        else:
            existing = self._known_here(order, order_id, listing)
        if existing is not None:
            return existing
        line = place_command(
            order,
            account=where,
            instrument=instrument,
            order_id=order_id,
            strategy="" if bracket else config.strategy,
        )
        if bracket:
            self._brackets.add(order, order_id, where, instrument)
        market = order.type is OrderType.MARKET
        quantity = order.quantity

        def settled(seen: Observed) -> bool:
            return seen.settled(quantity, market=market)

        def send() -> None:
            ati.send_now(COMMAND, line)
            self._orders[order_id] = order  # bounded: the oldest are forgotten first

        try:
            how, seen = await self._waiters.order(
                order_id,
                settled,
                quantity=quantity,
                timeout_s=config.order_timeout_s,
                agree_s=config.fill_agreement_s,
                sent=send,
            )
        except BrokerUnavailable:
            self._brackets.forget(order_id)
            raise
        if how == LOST:
            return self._unknown(
                order, ErrorCode.NETWORK, "the connection dropped before NinjaTrader answered"
            )
        result = result_for(values, order_id, plugin=self.name, order=order, seen=seen)
        if result is None:
            return self._unknown(
                order,
                ErrorCode.TIMEOUT,
                f"no order state from NinjaTrader in {config.order_timeout_s}s",
            )
        if how == DISAGREED and result.status is OrderStatus.UNKNOWN:
            self.log.warning("order %s: %s", order_id, result.error)
        return result

    async def _already_at_ninjatrader(
        self, order: Order, order_id: str, where: str
    ) -> ExecutionResult | None:
        """The order's result when NinjaTrader (or this process) already has its id."""
        values = self.ati.values
        if f"OrderStatus|{order_id}" in values:  # NinjaTrader has it: never place it twice
            return result_for(values, order_id, plugin=self.name, order=order)
        return self._known_here(order, order_id, await self._order_list(where))

    def _known_here(self, order: Order, order_id: str, listing: str) -> ExecutionResult | None:
        """``unknown`` when NinjaTrader lists ``order_id`` in ``listing`` (or this
        process sent it) but has pushed none of its values; None when the id is new."""
        if order_id in self._orders or account.listed(listing, order_id):
            return ExecutionResult.for_order(
                order,
                plugin=self.name,
                status=OrderStatus.UNKNOWN,
                order_id=order_id,
                sent=True,
                error_code=ErrorCode.UNKNOWN,
                error=f"NinjaTrader already has order id {order_id} but has pushed none of "
                "its values since connecting; not placed again: check it in NinjaTrader",
            )
        return None

    async def _order_list(self, where: str) -> str:
        """The value of ``Orders|<account>`` (pushed since connecting). Raises
        :class:`BrokerUnavailable` when it has not come in ``order_list_wait_s``."""
        ati, key = self.ati, f"Orders|{where}"
        if key not in ati.values and self.config.require_order_list:
            await self._waiters.key([key], lambda: key in ati.values, self.config.order_list_wait_s)
            if key not in ati.values:
                raise BrokerUnavailable(
                    f"NinjaTrader has not pushed the order list of account {where!r} since "
                    "connecting, so this order could not be checked against the orders it "
                    "already has; nothing was sent (is the account name right and connected "
                    "in NinjaTrader? set require_order_list=false to skip this check)"
                )
        return ati.values.get(key, "")

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        ati = self.ati
        order = self._orders.get(order_id)
        name = symbol or (order.symbol if order else "?")
        cid = order.client_order_id if order else None
        before = observe(ati.values, order_id)
        if before.final:
            raise OrderDenied(f"order {order_id} is already {before.state}", "invalid_order")
        await self._waiters.order(
            order_id,
            lambda seen: seen.final,
            quantity=None,
            timeout_s=self.config.order_timeout_s,
            agree_s=0.0,  # a final state answers a cancel, whatever its fill values say
            sent=lambda: ati.send_now(COMMAND, cancel_command(order_id)),
        )
        state = observe(ati.values, order_id).state
        if state in ("cancelled", "canceled"):
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.CANCELED,
                client_order_id=cid,
                order_id=order_id,
                symbol=name,
            )
        final = state in FINAL_STATES
        if state is None or final:
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=OrderStatus.REJECTED,
                order_id=order_id,
                symbol=name,
                error_code=ErrorCode.INVALID_ORDER,
                error=f"order {order_id} is {state}"
                if final
                else "NinjaTrader did not "
                f"report order {order_id} cancelled (it may not know the id)",
            )
        return ExecutionResult.for_cancel(
            plugin=self.name,
            status=OrderStatus.UNKNOWN,
            order_id=order_id,
            symbol=name,
            error_code=ErrorCode.TIMEOUT,
            error=f"cancel not confirmed in {self.config.order_timeout_s}s (order is {state})",
        )

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await self._find_order(client_order_id, {})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        """From the values pushed since connecting (waiting for a reconnect and the
        account's order list first, and for the values of a listed id until
        ``order_list_wait_s`` after connecting): the order's state; ``unknown`` when the
        id is listed (or was sent by this process) but has no values; None when the fresh
        order list of the account does not have it. Never ``sent=False``: an order list
        after a NinjaTrader restart may not prove that an order never arrived."""
        order_id = hints.get("order_id") or order_id_for(client_order_id)
        order = self._orders.get(order_id)
        where = hints.get("account") or (order.account if order else None) or self.config.account
        ati = self.ati
        if not ati.ati_up and not await ati.wait_connected(self.config.connect_timeout_s):
            raise BrokerUnavailable("not connected to NinjaTrader; cannot look the order up")
        listed = account.listed(await self._order_list(where), order_id)
        key = f"OrderStatus|{order_id}"
        if listed and key not in ati.values:
            # NinjaTrader may re-push an order's values a moment after the list: wait
            # for them, but only up to order_list_wait_s after connecting in all.
            grace = self.config.order_list_wait_s - ati.up_for
            if grace > 0:
                await self._waiters.key([key], lambda: key in ati.values, grace)
        found = result_for(
            ati.values, order_id, plugin=self.name, order=order, client_order_id=client_order_id
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
            plugin=self.name,
            status=OrderStatus.UNKNOWN,
            order_id=order_id,
            error_code=ErrorCode.UNKNOWN,
            error=f"order {order_id} is {'listed' if listed else 'sent'} but NinjaTrader has "
            "pushed none of its values since connecting",
        )

    async def resume_order(self, order: Order, result: ExecutionResult) -> None:
        """Re-arm the bracket exits of an entry an earlier process placed (the journal
        calls this after start-up reconciliation found ``order`` at NinjaTrader with
        ``result``): exits NinjaTrader already shows under their ids are adopted and
        sized to what filled with ``CHANGE``, missing ones are placed, never twice; an
        entry still working gets its exits at its next fill, as a live one does.
        Orders without ``stop_loss``/``take_profit`` are left alone. Raises
        :class:`BrokerUnavailable` before :meth:`init`; a failed write is logged and
        retried after the next reconnect."""
        if not order.has_bracket:
            return
        if self.connection is None:
            raise BrokerUnavailable("plugin 'ninja' is not initialized; call init()")
        where = order.account or self.config.account
        entry_id = result.order_id or order_id_for(order.client_order_id)
        done = self._brackets.resume(
            order,
            entry_id,
            where,
            self.instrument(order.symbol),
            filled=result.filled_quantity,
            final=result.status.is_final,
        )
        self.log.info("bracket of order %s resumed: %s", entry_id, done)

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        return {
            "order_id": order_id_for(order.client_order_id),
            "account": order.account or self.config.account,
        }

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        return await account.close_position(self, symbol, quantity)

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        instrument = self.instrument(symbol)
        check_name("instrument", instrument)
        if instrument not in self._subscribed:
            self.ati.send_now(SUBSCRIBE, instrument, "1")
            self._subscribed.add(instrument)
        return await account.market_data(self, symbol, instrument)

    async def _health_check(self) -> HealthStatus:
        return account.health(self)

    async def _positions(self) -> list[Position]:
        return account.positions(self)
