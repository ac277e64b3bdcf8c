"""Accounts, orders, positions and fills: what NinjaTrader does with each ATI command.

Command semantics are from the help page "Commands and Valid Parameters"
(https://ninjatrader.com/support/helpGuides/nt8/commands_and_valid_parameters.htm):
CANCEL needs an order id (or an ATM order name with a strategy id); CHANGE takes
quantity/prices where 0 means "leave as is"; CLOSEPOSITION "will cancel any working
orders and flatten the position" of one account and instrument; CANCELALLORDERS and
FLATTENEVERYTHING act "across all accounts and broker connections"; REVERSEPOSITION
takes PLACE's parameters. The sequence of states, fill prices (market at the touch,
one-tick spread), which validations reject, and OCO details are inferred; see
``settings.py`` for the knobs. Every method returns *steps*: lists of updates the server
pushes together, in order, with ``step_interval_s`` between them.
"""

from __future__ import annotations

from decimal import Decimal

from .atm import AtmBook
from .commands import AtiCommand, CommandError
from .dispatch import Dispatcher
from .orders import Order, OrderUpdate, Position, Step, ValueUpdate, new_internal_id
from .settings import (
    OcoPartialFill,
    ServerSettings,
)
from .wire import format_double

__all__ = ["Book"]


class Book:
    """NinjaTrader's trading state behind the ATI socket (synchronous, no I/O)."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.orders: dict[str, Order] = {}
        self.account_orders: dict[str, list[str]] = {a.name: [] for a in settings.accounts}
        self.positions: dict[tuple[str, str], Position] = {}
        self.realized: dict[str, Decimal] = {a.name: Decimal(0) for a in settings.accounts}
        self.last: dict[str, Decimal] = {i.name: i.last for i in settings.instruments}
        self.atm = AtmBook(self)
        self.dispatcher = Dispatcher(self)
        self._steps: list[Step] = [[]]
        self._last_pushed: dict[str, OrderUpdate] = {}
        for account in settings.accounts:
            for _ in range(settings.preexisting_orders):
                self._preexisting(account.name)

    # -- step recording ---------------------------------------------------------------

    def begin(self) -> None:
        """Start recording the steps of one operation."""
        self._steps = [[]]

    def step(self) -> None:
        """Start a new step (an update pushed after the previous one)."""
        if self._steps[-1]:
            self._steps.append([])

    def take(self) -> list[Step]:
        """The steps recorded since :meth:`begin` (empty ones dropped)."""
        steps, self._steps = [s for s in self._steps if s], []
        return steps

    def emit_value(self, key: str, value: str) -> None:
        """Record a value update in the current step."""
        self._steps[-1].append(ValueUpdate(key, value))

    def set_order(self, order: Order, state: str | None = None) -> None:
        """Record ``order``'s values (after a change of state or fills) in this step.

        ``changed`` says which of the three values differ from the last ones recorded;
        a new order starts from an implicit ``Filled`` 0 and ``AvgFillPrice`` 0.
        """
        if state is not None:
            order.state = state
        last = self._last_pushed.get(order.order_id)
        changed = set()
        if last is None or last.status != order.state:
            changed.add("OrderStatus")
        if (last.filled if last else 0) != order.filled:
            changed.add("Filled")
        if (last.avg_fill_price if last else Decimal(0)) != order.avg_fill_price:
            changed.add("AvgFillPrice")
        update = OrderUpdate(
            order.order_id, order.state, order.filled, order.avg_fill_price, frozenset(changed)
        )
        self._last_pushed[order.order_id] = update
        if changed:
            self._steps[-1].append(update)

    # -- public entry points ----------------------------------------------------------

    def handle(self, cmd: AtiCommand) -> list[Step]:
        """Carry out one command; raises :class:`CommandError` if it cannot be."""
        return self.dispatcher.handle(cmd)

    def reject(self, order_id: str, account: str, instrument: str) -> list[Step]:
        """The steps of a PLACE refused by validation (see ``Dispatcher.reject``)."""
        return self.dispatcher.reject(order_id, account, instrument)

    def current_step(self) -> Step:
        """The step being recorded."""
        return self._steps[-1]

    def set_last(self, instrument: str, price: Decimal) -> list[Step]:
        """Move the market of ``instrument`` to ``price``; fill what it reaches."""
        self.begin()
        self.last[instrument] = price
        for order in list(self.orders.values()):
            if order.instrument == instrument and not order.is_terminal:
                self.evaluate(order)
        return self.take()

    def quotes(self, instrument: str) -> tuple[Decimal, Decimal, Decimal]:
        """(ask, bid, last): the bid is the last price, the ask one tick above (inferred)."""
        last = self.last[instrument]
        return last + self.settings.instrument(instrument).tick_size, last, last

    def register(self, order: Order) -> None:
        self.orders[order.order_id] = order
        ids = self.account_orders.get(order.account)
        if ids is not None:
            ids.append(order.order_id)
            self.emit_value(f"Orders|{order.account}", "|".join(ids))

    def _preexisting(self, account: str) -> None:
        spec = self.settings.instruments[0]
        order = Order(
            new_internal_id(),
            account,
            spec.name,
            "BUY",
            1,
            "LIMIT",
            spec.last,
            Decimal(0),
            "DAY",
            via_ati=False,
            state="Cancelled",
        )
        self.orders[order.order_id] = order
        self.account_orders[account].append(order.order_id)

    # -- execution --------------------------------------------------------------------

    def evaluate(self, order: Order) -> None:
        """Fill (or trigger) ``order`` if the market reaches it."""
        ask, bid, last = self.quotes(order.instrument)
        buy = order.action == "BUY"
        if not order.triggered:
            if order.order_type == "MIT":
                reached = ask <= order.stop_price if buy else bid >= order.stop_price
            else:
                reached = last >= order.stop_price if buy else last <= order.stop_price
            if not reached:
                return
            order.triggered = True
        if order.order_type == "MARKET" or order.order_type in ("STOPMARKET", "MIT"):
            self.execute(order, ask if buy else bid)
        elif buy and ask <= order.limit_price:
            self.execute(order, min(ask, order.limit_price))
        elif not buy and bid >= order.limit_price:
            self.execute(order, max(bid, order.limit_price))

    def execute(self, order: Order, price: Decimal) -> None:
        """Fill the rest of ``order`` at ``price`` in ``fill_pieces`` pieces."""
        if order.remaining <= 0:
            return
        pieces = min(self.settings.fill_pieces, order.remaining)
        base, extra = divmod(order.remaining, pieces)
        for index in range(pieces):
            if order.is_terminal:
                return
            limit = self.settings.cancel_after_fills
            if order.via_ati and limit and order.fill_pieces_done >= limit:
                self.cancel(order)
                return
            self.step()
            self.fill(
                order, base + (1 if index < extra else 0), self._piece_price(order, price, index)
            )

    def _piece_price(self, order: Order, price: Decimal, index: int) -> Decimal:
        """The price of piece ``index`` of a fill at ``price``: market and stop-market
        pieces walk the book by ``piece_slippage_ticks`` each (limits fill at theirs)."""
        ticks = self.settings.piece_slippage_ticks * index
        if not ticks or order.order_type not in ("MARKET", "STOPMARKET", "MIT"):
            return price
        return price + order.sign * ticks * self.settings.instrument(order.instrument).tick_size

    def fill(self, order: Order, quantity: int, price: Decimal) -> None:
        """Fill ``quantity`` of ``order`` at ``price``: order, position, OCO and ATM."""
        quantity = min(quantity, order.remaining)
        total = order.filled + quantity
        order.avg_fill_price = (order.avg_fill_price * order.filled + price * quantity) / total
        order.filled = total
        order.fill_pieces_done += 1
        self.set_order(order, "Filled" if order.remaining == 0 else "PartFilled")
        self._position_fill(order, order.sign * quantity, price)
        self._oco_after_fill(order, quantity)
        self.atm.on_fill(order, quantity)

    def _position_fill(self, order: Order, signed: int, price: Decimal) -> None:
        key = (order.account, order.instrument)
        position = self.positions.setdefault(key, Position())
        spec = self.settings.instrument(order.instrument)
        realized = position.apply(signed, price) * spec.point_value
        self.realized[order.account] += realized
        self._emit_position(order.account, order.instrument)
        if realized:
            self._emit_account(order.account)

    def _emit_position(self, account: str, instrument: str) -> None:
        position = self.positions.get((account, instrument), Position())
        self.emit_value(f"MarketPosition|{instrument}|{account}", str(position.quantity))
        self.emit_value(f"AvgEntryPrice|{instrument}|{account}", format_double(position.avg_price))

    def _emit_account(self, account: str) -> None:
        spec = next(a for a in self.settings.accounts if a.name == account)
        cash = format_double(spec.cash + self.realized[account])
        self.emit_value(f"RealizedPnL|{account}", format_double(self.realized[account]))
        self.emit_value(f"CashValue|{account}", cash)
        self.emit_value(f"BuyingPower|{account}", cash)

    def _oco_after_fill(self, order: Order, quantity: int) -> None:
        if not order.oco:
            return
        for other in self._oco_siblings(order):
            if (
                order.remaining == 0
                or self.settings.oco_partial_fill is OcoPartialFill.CANCEL_OTHERS
            ) or other.quantity - quantity <= other.filled:
                self.cancel(other, siblings=False)
            else:
                other.quantity -= quantity
                self.set_order(other, "Working")

    def _oco_siblings(self, order: Order) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.oco == order.oco and o is not order and not o.is_terminal
        ]

    # -- cancel, change, close --------------------------------------------------------

    def cancel(self, order: Order, *, siblings: bool = True) -> None:
        """Cancel ``order`` (and its OCO siblings: cancelling one cancels the group)."""
        if order.is_terminal:
            return
        self.step()
        self.set_order(order, "CancelPending")
        self.step()
        self.set_order(order, "Cancelled")
        if siblings and order.oco:
            for other in self._oco_siblings(order):
                self.cancel(other, siblings=False)
        self.atm.on_cancel(order)

    def resolve(self, order_id: str, strategy_id: str) -> Order:
        """The order named ``order_id`` (an ATM name like ``STOP1`` with a strategy id)."""
        if strategy_id:
            named = self.atm.by_name(strategy_id, order_id)
            if named is not None:
                return named
        order = self.orders.get(order_id)
        if order is None:
            raise CommandError(f"no order {order_id!r}")
        return order

    def change(self, order: Order, quantity: int, limit: Decimal, stop: Decimal) -> None:
        """Change a working order, then fill it if the market now reaches it."""
        order.quantity, order.limit_price, order.stop_price = quantity, limit, stop
        self.step()
        self.set_order(order, "ChangeSubmitted")
        self.step()
        self.set_order(order, "Working")
        self.evaluate(order)

    def close_position(self, account: str, instrument: str) -> None:
        """Cancel the working orders of ``account`` in ``instrument``, then flatten it."""
        for order in list(self.orders.values()):
            if order.account == account and order.instrument == instrument:
                self.cancel(order)
        position = self.positions.get((account, instrument))
        if position is not None and position.quantity:
            self.market_order(account, instrument, -position.quantity)
        self.atm.on_close_position(account, instrument)

    def market_order(self, account: str, instrument: str, signed: int, **extra: str) -> Order:
        """Place and fill an internal market order (flatten, ATM close)."""
        order = Order(
            new_internal_id(),
            account,
            instrument,
            "BUY" if signed > 0 else "SELL",
            abs(signed),
            "MARKET",
            Decimal(0),
            Decimal(0),
            "DAY",
            via_ati=False,
            strategy_id=extra.get("strategy_id", ""),
        )
        self.step()
        self.register(order)
        self.set_order(order, "Submitted")
        self.step()
        self.set_order(order, "Working")
        order.triggered = True
        self.evaluate(order)
        return order

    # -- snapshots for a connecting client --------------------------------------------

    def account_snapshot(self) -> Step:
        """Order lists, ATM strategies, cash and positions of every account."""
        self.begin()
        for account, ids in self.account_orders.items():
            self.emit_value(f"Orders|{account}", "|".join(ids))
            self.emit_value(f"Strategies|{account}", self.atm.strategy_list(account))
            self._emit_account(account)
        for account, instrument in self.positions:
            self._emit_position(account, instrument)
        self.atm.snapshot()
        return [e for s in self.take() for e in s]

    def order_snapshot(self) -> Step:
        """The values of every order (all three of each: the client has none yet)."""
        events: Step = []
        for order in self.orders.values():
            every = frozenset({"OrderStatus", "Filled", "AvgFillPrice"})
            events.append(
                OrderUpdate(order.order_id, order.state, order.filled, order.avg_fill_price, every)
            )
        return events
