"""What NinjaTrader does with each ATI command: validation, then the book's operations.

Valid values are those of the help page "Commands and Valid Parameters"
(https://ninjatrader.com/support/helpGuides/nt8/commands_and_valid_parameters.htm):
ACTION BUY or SELL, TIF DAY or GTC, STRATEGY a template that "must exist", ORDER ID
"must be unique", quantity "any integer value" (we require >= 1), prices in US decimal
format. What NinjaTrader does with a command that breaks them is not documented: the
outcomes here (a ``Rejected`` order, or nothing) are inferred and set by
``ServerSettings.invalid_command`` / ``duplicate_order_id`` / ``off_tick_price``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .commands import AtiCommand, CommandError
from .orders import ORDER_TYPES, Order, OrderUpdate, Step, new_internal_id
from .settings import DuplicateOrderId, InstrumentSpec, OffTickPrice, OrderFate

if TYPE_CHECKING:
    from .book import Book

__all__ = ["Dispatcher"]


class Dispatcher:
    """Carries out :class:`~.commands.AtiCommand` objects on a :class:`~.book.Book`."""

    def __init__(self, book: Book) -> None:
        self.book = book

    def handle(self, cmd: AtiCommand) -> list[Step]:
        """Carry out one command; raises :class:`CommandError` if it cannot be."""
        self.book.begin()
        handlers = {
            "PLACE": self._place,
            "REVERSEPOSITION": self._reverse,
            "CANCEL": self._cancel_cmd,
            "CHANGE": self._change_cmd,
            "CLOSEPOSITION": self._close_position_cmd,
            "CLOSESTRATEGY": self._close_strategy_cmd,
            "CANCELALLORDERS": self._cancel_all,
            "FLATTENEVERYTHING": self._flatten_everything,
        }
        handler = handlers.get(cmd.command)
        if handler is None:
            raise CommandError(f"unknown command {cmd.command[:40]!r}")
        handler(cmd)
        return self.book.take()

    def reject(self, order_id: str, account: str, instrument: str) -> list[Step]:
        """The steps of a PLACE refused by validation: the order exists, ``Rejected``."""
        self.book.begin()
        known = order_id in self.book.orders
        if known and self.book.settings.duplicate_order_id is DuplicateOrderId.IGNORE:
            return []
        if known:  # REJECT of a duplicate: the value is pushed, the first order is kept
            self.book.current_step().append(
                OrderUpdate(order_id, "Rejected", 0, Decimal(0), frozenset({"OrderStatus"}))
            )
            return self.book.take()
        order = Order(
            order_id or new_internal_id(),
            account,
            instrument,
            "BUY",
            0,
            "MARKET",
            Decimal(0),
            Decimal(0),
            "DAY",
        )
        self.book.register(order)
        self.book.set_order(order, "Rejected")
        return self.book.take()

    # -- PLACE ------------------------------------------------------------------------

    def _validate(self, cmd: AtiCommand) -> tuple[str, InstrumentSpec, str]:
        oid = cmd.order_id
        account = cmd.account or self.book.settings.default_account
        if account not in self.book.account_orders:
            raise CommandError(f"unknown account {account!r}", oid)
        try:
            spec = self.book.settings.instrument(cmd.instrument)
        except KeyError:
            raise CommandError(f"unknown instrument {cmd.instrument!r}", oid) from None
        if oid and oid in self.book.orders:
            raise CommandError(f"order id {oid!r} is not unique", oid)
        if cmd.action not in ("BUY", "SELL"):
            raise CommandError(f"action must be BUY or SELL, not {cmd.action!r}", oid)
        if cmd.quantity < 1:
            raise CommandError("quantity must be a positive integer", oid)
        if cmd.order_type not in ORDER_TYPES:
            raise CommandError(f"unknown order type {cmd.order_type!r}", oid)
        if cmd.tif not in ("DAY", "GTC"):
            raise CommandError(f"TIF must be DAY or GTC, not {cmd.tif!r}", oid)
        if cmd.strategy and cmd.strategy not in self.book.settings.atm_templates:
            raise CommandError(f"no ATM strategy template {cmd.strategy!r}", oid)
        if cmd.strategy and self.book.atm.exists(cmd.strategy_id):
            raise CommandError(f"strategy id {cmd.strategy_id!r} is not unique", oid)
        if cmd.oco and self.book.settings.reject_reused_oco:
            members = [o for o in self.book.orders.values() if o.oco == cmd.oco]
            if members and all(o.is_terminal for o in members):
                raise CommandError(f"OCO id {cmd.oco!r} was used already", oid)
        return account, spec, ORDER_TYPES[cmd.order_type]

    def _price(self, value: Decimal, spec: InstrumentSpec, what: str, oid: str) -> Decimal:
        if value <= 0:
            raise CommandError(f"{what} must be positive", oid)
        ticks = value / spec.tick_size
        if ticks != ticks.to_integral_value():
            if self.book.settings.off_tick_price is OffTickPrice.REJECT:
                raise CommandError(f"{what} {value} is off the {spec.tick_size} tick grid", oid)
            value = ticks.to_integral_value() * spec.tick_size
        return value

    def _place(self, cmd: AtiCommand) -> None:
        account, spec, kind = self._validate(cmd)
        oid = cmd.order_id
        limit = stop = Decimal(0)
        if kind in ("LIMIT", "STOPLIMIT"):
            limit = self._price(cmd.limit_price, spec, "limit price", oid)
        if kind in ("STOPMARKET", "STOPLIMIT", "MIT"):
            stop = self._price(cmd.stop_price, spec, "stop price", oid)
            # A buy stop sits above the market, a buy MIT below it (and the reverse for
            # sells); one on the wrong side is rejected (inferred: NinjaTrader's sim does).
            wants_above = (cmd.action == "BUY") == (kind != "MIT")
            if (stop > self.book.last[spec.name]) != wants_above:
                raise CommandError(f"{cmd.order_type} price {stop} is on the wrong side", oid)
        order = Order(
            oid or new_internal_id(),
            account,
            spec.name,
            cmd.action,
            cmd.quantity,
            kind,
            limit,
            stop,
            cmd.tif,
            cmd.oco,
            cmd.strategy,
            cmd.strategy_id,
        )
        if order.strategy and not order.strategy_id:
            order.strategy_id = new_internal_id()
        self.book.register(order)
        self.book.set_order(order, "Submitted")
        self.book.step()
        fate = self.book.settings.fate
        if fate is not OrderFate.FILL:
            self.book.set_order(order, "Rejected" if fate is OrderFate.REJECT else "Unknown")
            return
        if order.strategy:
            self.book.atm.start(order)
        self.book.set_order(order, "Accepted")
        self.book.step()
        self.book.set_order(order, "Working")
        order.triggered = kind in ("MARKET", "LIMIT")
        self.book.evaluate(order)

    def _cancel_cmd(self, cmd: AtiCommand) -> None:
        self.book.cancel(self.book.resolve(cmd.order_id, cmd.strategy_id))

    def _change_cmd(self, cmd: AtiCommand) -> None:
        order = self.book.resolve(cmd.order_id, cmd.strategy_id)
        if order.is_terminal:
            raise CommandError(f"order {order.order_id!r} is {order.state}")
        spec = self.book.settings.instrument(order.instrument)
        quantity = cmd.quantity or order.quantity
        if quantity <= order.filled:
            raise CommandError(f"quantity {quantity} is not above the filled {order.filled}")
        limit, stop = order.limit_price, order.stop_price
        if cmd.limit_price and order.order_type in ("LIMIT", "STOPLIMIT"):
            limit = self._price(cmd.limit_price, spec, "limit price", "")
        if cmd.stop_price and order.order_type in ("STOPMARKET", "STOPLIMIT", "MIT"):
            stop = self._price(cmd.stop_price, spec, "stop price", "")
        self.book.change(order, quantity, limit, stop)

    def _close_position_cmd(self, cmd: AtiCommand) -> None:
        account = cmd.account or self.book.settings.default_account
        if account not in self.book.account_orders or cmd.instrument not in self.book.last:
            raise CommandError(f"no position {cmd.instrument!r} in {account!r}")
        self.book.close_position(account, cmd.instrument)

    def _close_strategy_cmd(self, cmd: AtiCommand) -> None:
        self.book.atm.close(cmd.strategy_id)

    def _cancel_all(self, cmd: AtiCommand | None = None) -> None:
        for order in list(self.book.orders.values()):
            self.book.cancel(order)

    def _flatten_everything(self, cmd: AtiCommand | None = None) -> None:
        self._cancel_all()
        for account, instrument in list(self.book.positions):
            self.book.close_position(account, instrument)

    def _reverse(self, cmd: AtiCommand) -> None:
        account, spec, _ = self._validate(cmd)
        self.book.close_position(account, spec.name)
        self.book.step()
        self._place(cmd)
