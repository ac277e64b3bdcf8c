"""ATM strategies started by a PLACE that names a strategy template.

From the references: PLACE takes an optional STRATEGY (template name, "must exist in
NinjaTrader") and STRATEGY ID; CANCEL and CHANGE accept an ATM order *name* (ENTRY*,
EXIT*, STOP*, SIMSTOP*, TARGET*, e.g. ``TARGET1``) when a strategy id is given;
CLOSESTRATEGY closes one (help page "Commands and Valid Parameters"). The DLL reads
``Strategies|<account>``, ``StrategyPosition|<strategy id>``, ``StopOrders|<strategy id>``
and ``TargetOrders|<strategy id>`` (``Client.Strategies``/``StrategyPosition``/
``StopOrders``/``TargetOrders`` in Client.cs); the help describes the lists as ids
separated by ``|``. An ATM template "will initiate ... submission of stops and targets
once filled or part filled" (help page "ATM Strategy Selection Mode",
https://ninjatrader.com/support/helpGuides/nt8/en-us/atm_strategy_selection_mode.htm).

Inferred: one stop (StopMarket) and one target (Limit) per strategy, an OCO pair with
internal ids, placed at the entry's first fill and grown with each later fill to the
strategy's position; names ``STOP1``/``TARGET1``/``ENTRY1``; the strategy ends when its
position is flat and nothing is working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from .commands import CommandError
from .orders import Order, new_internal_id

if TYPE_CHECKING:
    from .book import Book

__all__ = ["AtmBook", "AtmStrategy"]


@dataclass
class AtmStrategy:
    """One running ATM strategy."""

    strategy_id: str
    account: str
    instrument: str
    template: str
    entry: Order
    position: int = 0
    stop: Order | None = None
    target: Order | None = None
    active: bool = True
    exits: list[str] = field(default_factory=list)


class AtmBook:
    """The ATM strategies of a :class:`~.book.Book`."""

    def __init__(self, book: Book) -> None:
        self._book = book
        self.strategies: dict[str, AtmStrategy] = {}
        self._by_order: dict[str, AtmStrategy] = {}

    def exists(self, strategy_id: str) -> bool:
        """True if ``strategy_id`` names a strategy (running or ended)."""
        return bool(strategy_id) and strategy_id in self.strategies

    def start(self, entry: Order) -> None:
        """Start the strategy of ``entry`` (a PLACE with a template)."""
        strategy = AtmStrategy(
            entry.strategy_id, entry.account, entry.instrument, entry.strategy, entry
        )
        self.strategies[strategy.strategy_id] = strategy
        self._by_order[entry.order_id] = strategy
        self._emit_list(entry.account)
        self._emit(strategy)

    def strategy_list(self, account: str) -> str:
        """``Strategies|<account>``: running strategy ids joined by ``|``."""
        return "|".join(
            s.strategy_id for s in self.strategies.values() if s.account == account and s.active
        )

    def by_name(self, strategy_id: str, name: str) -> Order | None:
        """The order called ``name`` (ENTRY1, STOP1, TARGET1) in ``strategy_id``."""
        strategy = self.strategies.get(strategy_id)
        if strategy is None:
            return None
        return {"ENTRY1": strategy.entry, "STOP1": strategy.stop, "TARGET1": strategy.target}.get(
            name.upper()
        )

    def on_fill(self, order: Order, quantity: int) -> None:
        """Track a fill of any order; entries place or grow the exits."""
        strategy = self._by_order.get(order.order_id)
        if strategy is None or not strategy.active:
            return
        strategy.position += order.sign * quantity
        if order is strategy.entry:
            self._size_exits(strategy)
        self._emit(strategy)
        self._end_if_done(strategy)

    def on_cancel(self, order: Order) -> None:
        """Track a cancel; a strategy with nothing left ends."""
        strategy = self._by_order.get(order.order_id)
        if strategy is not None and strategy.active:
            self._emit(strategy)
            self._end_if_done(strategy)

    def on_close_position(self, account: str, instrument: str) -> None:
        """CLOSEPOSITION flattened ``instrument``: its strategies end flat."""
        for strategy in self.strategies.values():
            if strategy.active and (strategy.account, strategy.instrument) == (account, instrument):
                strategy.position = 0
                self._emit(strategy)
                self._end_if_done(strategy)

    def close(self, strategy_id: str) -> None:
        """CLOSESTRATEGY: cancel its orders and flatten its position."""
        strategy = self.strategies.get(strategy_id)
        if strategy is None or not strategy.active:
            raise CommandError(f"no running ATM strategy {strategy_id!r}")
        for order in (strategy.entry, strategy.stop, strategy.target):
            if order is not None:
                self._book.cancel(order)
        if strategy.position:
            closer = self._book.market_order(
                strategy.account, strategy.instrument, -strategy.position
            )
            if not closer.is_terminal:
                self._by_order[closer.order_id] = strategy
            else:
                strategy.position = 0
                self._emit(strategy)
        self._end_if_done(strategy)

    def snapshot(self) -> None:
        """Emit the values of every running strategy (for a connecting client)."""
        for strategy in self.strategies.values():
            if strategy.active:
                self._emit(strategy)

    # -- internals --------------------------------------------------------------------

    def _size_exits(self, strategy: AtmStrategy) -> None:
        book, entry = self._book, strategy.entry
        size = abs(strategy.position)
        if strategy.stop is None or strategy.target is None:
            spec = book.settings.instrument(entry.instrument)
            template = book.settings.atm_templates[strategy.template]
            avg = (entry.avg_fill_price / spec.tick_size).to_integral_value() * spec.tick_size
            away = Decimal(template.stop_ticks) * spec.tick_size * entry.sign
            gain = Decimal(template.target_ticks) * spec.tick_size * entry.sign
            side = "SELL" if entry.sign > 0 else "BUY"
            oco = new_internal_id()
            strategy.stop = self._exit(
                strategy, side, size, "STOPMARKET", Decimal(0), avg - away, oco
            )
            strategy.target = self._exit(strategy, side, size, "LIMIT", avg + gain, Decimal(0), oco)
            return
        for exit_order in (strategy.stop, strategy.target):
            if not exit_order.is_terminal and exit_order.quantity != size:
                book.change(
                    exit_order,
                    exit_order.filled + size,
                    exit_order.limit_price,
                    exit_order.stop_price,
                )

    def _exit(
        self,
        strategy: AtmStrategy,
        side: str,
        size: int,
        kind: str,
        limit: Decimal,
        stop: Decimal,
        oco: str,
    ) -> Order:
        book = self._book
        order = Order(
            new_internal_id(),
            strategy.account,
            strategy.instrument,
            side,
            size,
            kind,
            limit,
            stop,
            "GTC",
            oco,
            "",
            strategy.strategy_id,
            via_ati=False,
        )
        self._by_order[order.order_id] = strategy
        strategy.exits.append(order.order_id)
        book.step()
        book.register(order)
        book.set_order(order, "Submitted")
        book.step()
        book.set_order(order, "Working")
        order.triggered = kind == "LIMIT"
        return order

    def _emit(self, strategy: AtmStrategy) -> None:
        sid, book = strategy.strategy_id, self._book
        book.emit_value(f"StrategyPosition|{sid}", str(strategy.position))
        stops = [strategy.stop.order_id] if strategy.stop else []
        targets = [strategy.target.order_id] if strategy.target else []
        book.emit_value(f"StopOrders|{sid}", "|".join(stops))
        book.emit_value(f"TargetOrders|{sid}", "|".join(targets))

    def _emit_list(self, account: str) -> None:
        self._book.emit_value(f"Strategies|{account}", self.strategy_list(account))

    def _end_if_done(self, strategy: AtmStrategy) -> None:
        working = [
            o
            for o in (strategy.entry, strategy.stop, strategy.target)
            if o is not None and not o.is_terminal
        ]
        if strategy.position == 0 and (not working or strategy.entry.is_terminal):
            strategy.active = False
            for order in working:
                self._book.cancel(order)
            self._emit_list(strategy.account)
