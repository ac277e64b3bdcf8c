"""The ``ninja`` plugin: NinjaTrader 8 over a TCP socket to its AT Interface."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
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
from fks_exec_ninja import account, lookups
from fks_exec_ninja.brackets import Brackets
from fks_exec_ninja.codec import COMMAND, SUBSCRIBE
from fks_exec_ninja.config import NinjaConfig
from fks_exec_ninja.connection import AtiConnection
from fks_exec_ninja.mapping import (
    check_name,
    order_id_for,
    place_line,
    quantity_denial,
    whole_and_day_or_gtc,
    wire_number,
)
from fks_exec_ninja.states import answer, result_for
from fks_exec_ninja.tracking import AGREED, DISAGREED, LOST, Waiters

__all__ = ["NinjaPlugin"]

_remember_new = OrderedDict.__setitem__  # BoundedDict's own [] would look the id up first


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
    order_params: ClassVar[frozenset[str] | None] = frozenset()
    """No ``Order.params``: an ATI PLACE has only the fields the order maps to
    (docs/plugins/ninja.md); an order with any is refused."""

    def __init__(self, *, transcript: list[str] | None = None) -> None:
        super().__init__()
        self._transcript = transcript
        self.connection: AtiConnection | None = None
        self._orders: BoundedDict[str, Order] = BoundedDict(10_000)  # order id -> order
        self._subscribed: set[str] = set()
        self._good_names: set[str] = set()
        """Account and instrument names :func:`check_name` accepted (bounded)."""
        self._order_lists = account.OrderLists()
        """The ids of the accounts' ``Orders|<account>`` lists, for a look-up per order."""
        self._waiters = Waiters({})
        self._brackets = Brackets({}, self._send_line, self._remember)

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self, config: NinjaConfig) -> None:
        self._settings = config
        # read per order: plain attributes (the frozen config's are a pydantic lookup each)
        self._account, self._symbols = config.account, config.symbols
        self._timeout_s, self._agree_s = config.order_timeout_s, config.fill_agreement_s
        self._strategy = config.strategy
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
        self._brackets = Brackets(
            connection.values,
            self._send_line,
            self._remember,
            self._order_lists,
            self._orders,
            grace_s=config.fill_agreement_s,
        )
        self._waiters.followed = self._brackets.watched
        self._waiters.follow = self._brackets.on_order_value
        connection.on_values = self._waiters.on_values
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
        self._brackets.close()
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

    async def _after_reconnect(self) -> None:
        for instrument in sorted(self._subscribed):
            self.ati.send_now(SUBSCRIBE, instrument, "1")
        brackets = self._brackets
        brackets.reconnected()
        for where in sorted(brackets.accounts()):  # exits lost in the drop show there
            await lookups.order_list(self, where)
        if brackets.accounts():
            brackets.refresh()
            await asyncio.sleep(self._agree_s)  # the values NinjaTrader re-pushes come now
            for bracket in brackets.not_pushed_again():
                self.log.warning(
                    "NinjaTrader has pushed nothing of bracket entry %s or its exits since "
                    "reconnecting: what filled while the connection was down is not known "
                    "here until it changes (its exits cover %s); check the position in "
                    "NinjaTrader",
                    bracket.entry_id,
                    bracket.open_quantity,
                )

    def _send_line(self, line: str) -> None:
        self.ati.send_now(COMMAND, line)

    def _remember(self, order_id: str, order: Order) -> None:
        self._orders[order_id] = order  # bounded: the oldest are forgotten first

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        fields = order.__dict__  # the frozen model's values: no pydantic lookup per field
        size = wire_number(fields["quantity"])
        if not whole_and_day_or_gtc(size, fields["time_in_force"]):
            denial = quantity_denial(order)
            assert denial is not None  # the same rules
            raise OrderDenied(denial[1], denial[0].value)
        bracket = fields["stop_loss"] is not None or fields["take_profit"] is not None
        if bracket and self._strategy:
            raise OrderDenied(
                "stop_loss/take_profit with an ATM strategy template: the template places "
                "its own exits; use one or the other. Nothing was sent"
            )
        where = fields["account"] or self._account
        symbol = fields["symbol"]
        instrument = self._symbols.get(symbol, symbol)
        good_names = self._good_names
        if where not in good_names or instrument not in good_names:
            check_name("account", where)
            check_name("instrument", instrument)
            if len(good_names) > 1_000:
                good_names.clear()
            good_names.update((where, instrument))
        ati = self.connection
        if ati is None or not (ati.connected and ati.values.get("ATI", "").lower() == "true"):
            raise BrokerUnavailable("NinjaTrader's AT Interface is not up (ATI is not True)")
        order_id = order_id_for(fields["client_order_id"])
        status_key = "OrderStatus|" + order_id
        brackets = self._brackets  # an exit's id is its, not a lookup's: refused first
        if brackets.watched and brackets.exit_of(order_id) is not None:
            raise OrderDenied(
                f"client order id {fields['client_order_id']!r} gives order id {order_id}, "
                "the id of a bracket exit this plugin keeps; use another client_order_id. "
                "Nothing was sent"
            )
        values = ati.values
        listing = values.get("Orders|" + where)
        if listing is None or status_key in values:
            existing = await lookups.already_at_ninjatrader(self, order, order_id, where)
        elif order_id in self._orders or self._order_lists.has(where, listing, order_id):
            existing = lookups.known_here(self, order, order_id, listing, where)
        else:
            existing = None
        if existing is not None:
            return existing
        if bracket:
            refusal = brackets.refusal(order, where)
            if refusal is not None:
                raise OrderDenied(refusal)
        line = place_line(
            fields, size, where, instrument, order_id, "", "" if bracket else self._strategy
        )
        if bracket:
            self._brackets.add(order, order_id, where, instrument)
        waiters = self._waiters
        waiter = waiters.start(
            order_id,
            None,
            fields["quantity"],
            self._timeout_s,
            self._agree_s,
            fields["type"] is OrderType.MARKET,
            status_key,
        )
        try:
            # Written with the commands of the other orders placed in this loop pass
            # when some are waiting (one write for all of them), else at once.
            ati.send_command(line, gather=waiters.waiting > 1)
            orders = self._orders
            _remember_new(orders, order_id, order)  # new here: known_here said so
            if len(orders) > orders.maxlen:  # bounded: the oldest are forgotten first
                orders.popitem(last=False)
            how = AGREED if waiters.arm(waiter) else await waiter.future
        except BrokerUnavailable:
            self._brackets.forget(order_id)
            raise
        finally:
            waiters.finish(waiter)
        seen = waiter.seen if how == AGREED else None
        if seen is not None and seen.state is not None:  # the common answer
            keys = (status_key, waiter.filled_key, waiter.average_key)
            return answer(values, keys, order_id, seen, self.name, order, agreed=not seen.bad)
        if how == LOST:
            return self._unknown(
                order, ErrorCode.NETWORK, "the connection dropped before NinjaTrader answered"
            )
        if how == DISAGREED and waiter.stale:  # a later fill, no average pushed after it
            return self._stale_average(order, order_id, values)
        result = result_for(values, order_id, plugin=self.name, order=order, seen=seen)
        if result is None and seen is not None and seen.bad:  # answered, with no state
            self.log.warning("order %s: %s; its fate is unknown", order_id, seen.bad)
            return self._unknown(
                order,
                ErrorCode.UNKNOWN,
                f"the PLACE of order id {order_id} was written to NinjaTrader, which pushed "
                f"a number no real order has before any order state ({seen.bad}): the "
                "order may be working there. Look it up with get_order (or in "
                "NinjaTrader's Orders tab) before anything else; never send it again "
                "under a new client order id",
            )
        if result is None:
            return self._unknown(
                order,
                ErrorCode.TIMEOUT,
                f"the PLACE of order id {order_id} was written to NinjaTrader, but it pushed "
                f"no order state in {self._timeout_s}s: the order may be working "
                "there. Look it up with get_order (or in NinjaTrader's Orders tab) before "
                "anything else; never send it again under a new client order id",
            )
        if how == DISAGREED and result.status is OrderStatus.UNKNOWN:
            self.log.warning("order %s: %s", order_id, result.error)
        return result

    def _stale_average(
        self, order: Order, order_id: str, values: Mapping[str, str]
    ) -> ExecutionResult:
        """``unknown``: NinjaTrader pushed a later fill of the order but no average price
        after it in ``fill_agreement_s``; the average it shows may be the earlier fills'
        (or unchanged: the two cannot be told apart), so no definite fill is answered."""
        filled, average = values.get("Filled|" + order_id), values.get("AvgFillPrice|" + order_id)
        message = (
            f"NinjaTrader pushed a later fill of order {order_id} (Filled {filled!r}) but "
            f"no average price after it in {self._agree_s}s: the average it shows "
            f"({average!r}) may be the earlier fills'. Not a definite answer; the order "
            "is at NinjaTrader: look it up again with get_order"
        )
        self.log.warning("order %s: %s", order_id, message)
        self._waiters.mark_stale(order_id)  # lookups answer no fill from it either
        return ExecutionResult.for_order(
            order,
            plugin=self.name,
            status=OrderStatus.UNKNOWN,
            order_id=order_id,
            sent=True,
            error=message,
            error_code=ErrorCode.UNKNOWN,
        )

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        return await lookups.cancel(self, order_id, symbol)

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await lookups.find(self, client_order_id, {})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        return await lookups.find(self, client_order_id, hints)

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
