"""The plugin's reads: quotes, health, positions and tickets, order lookups."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.kit import BoundedDict
from fks_exec.models import ExecutionResult, HealthStatus, MarketData, Order, Position
from fks_exec_mt5 import constants as c
from fks_exec_mt5.connection import Mt5Connection
from fks_exec_mt5.exposure import Ticket, net
from fks_exec_mt5.history import from_history
from fks_exec_mt5.mapping import comment_for, rounded_volume
from fks_exec_mt5.numbers import BadBrokerNumber, decimal_of, int_of
from fks_exec_mt5.session_reads import LinkDown

__all__ = ["Mt5Reads"]

_MARKET_ORDERS = (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL)
"""The order types of a market order's legs (a split order is a market order)."""

_LOTS_KEPT = 10_000
"""Client order ids whose lots (over all legs) this process remembers."""


class _Found(NamedTuple):
    """What the worker found of one client order id in the terminal."""

    records: list[Any]
    deals: list[Any]
    lots: Decimal | None
    """The order's lots from a ``quantity`` hint, rounded to the volume step now."""
    maybe_more: bool
    """Hedging: the last leg found closed a whole ticket, so more legs may have been
    planned after it (only the order's lots can tell)."""


class Mt5Reads(Mt5Connection):
    """The read half of :class:`~fks_exec_mt5.plugin.Mt5Plugin` (see there)."""

    def __init__(self, mt5: Any = None) -> None:
        """``mt5``: the module or API-compatible object (see the plugin)."""
        super().__init__(mt5)
        self._lots: BoundedDict[str, Decimal] = BoundedDict(_LOTS_KEPT)
        """client order id -> the lots its legs asked for, of orders sent here."""

    def _remember_lots(self, client_order_id: str, lots: Decimal) -> None:
        """Remember the lots ``client_order_id`` asked for over all its legs (a lookup
        then compares its fills with them, not with the legs it finds)."""
        self._lots[client_order_id] = lots  # bounded: the oldest are forgotten first

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await self._find_order(client_order_id, {})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        """Find the order by its comment (and magic) among working and past orders.

        Never answers ``sent=False``: the terminal's history is bounded by
        ``history_days``, so absence proves nothing. The fills are compared with the
        order's lots (remembered here, or the ``lots``/``quantity`` hint), not with the
        legs found: legs never sent are not in the history.
        """
        comment = hints.get("comment") or comment_for(client_order_id)
        lots = self._lots.get(client_order_id)
        if lots is None and hints.get("lots"):
            lots = Decimal(hints["lots"])
        quantity = None if lots is not None else hints.get("quantity")
        found = await self._job(self._history_on_worker, comment, quantity, lots is None)
        if not found.records:
            return None
        return from_history(
            found.records,
            found.deals,
            plugin=self.name,
            client_order_id=client_order_id,
            clock=self.session.clock,
            lots=lots if lots is not None else found.lots,
            maybe_more=found.maybe_more,
        )

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        hints = {"comment": comment_for(order.client_order_id), "login": str(self.login)}
        if self._session is not None:
            hints["magic"] = str(self._session.magic)
        if result is not None and result.order_id:
            hints["ticket"] = result.order_id
        lots = self._lots.get(order.client_order_id)
        if lots is not None:
            hints["lots"] = str(lots)
        else:
            hints["quantity"] = str(order.quantity)
        return hints

    def _history_on_worker(
        self, comment: str, quantity: str | None = None, shape: bool = True
    ) -> _Found:
        """The records and deals of ``comment``; ``quantity`` (a hint) rounded to lots,
        and, when ``shape`` (the order's lots are not known), whether more legs may have
        been planned than the records show."""
        records, deals = self._records_on_worker(comment)
        session = self.session
        if not records:
            return _Found(records, deals, None, False)
        symbol = str(records[-1].symbol)
        if not session.clock.known:
            # A tick first: the history's stamps are server time. Without one the
            # result's timestamp is left out (history.from_history).
            with contextlib.suppress(LinkDown, BadBrokerNumber):
                session.tick(symbol)
        lots = None
        if quantity is not None:
            try:
                lots = rounded_volume(Decimal(quantity), session.rules(symbol))
            except (OrderDenied, LinkDown, ArithmeticError, ValueError, BadBrokerNumber):
                lots = None
        maybe_more = shape and lots is None and self._maybe_more(records[-1])
        return _Found(records, deals, lots, maybe_more)

    def _maybe_more(self, last: Any) -> bool:
        """Whether ``last`` (the newest leg found) may have had legs after it, never sent
        (the order's lots not known). Plans put what opens last (hedging: closes of
        whole tickets oldest first, then part of one or an opening leg; netting: one leg,
        or a split close, or a split reversal's closes then its opening leg), and split
        a close above ``volume_max`` into nearly equal deals of at least half of it:

        - a pending order (never split), a leg that opened a position (or never
          filled), or one that added to a position in its own direction: no;
        - a leg that closed a whole position: more may follow (the next ticket, or a
          reversal's opening leg): yes;
        - a leg that closed part of a position still open: yes when it may be one deal
          of a split close (at least half of ``volume_max``), else no.

        A read that fails answers yes (the lookup is then ``unknown``, never a guess)."""
        session = self.session
        ticket = int_of(last.ticket, "order ticket")
        kind = int_of(last.type, f"order {ticket} type")
        if kind not in _MARKET_ORDERS:
            return False  # a pending order is never split: one leg
        position = int_of(getattr(last, "position_id", 0), f"order {ticket} position_id")
        if not position or position == ticket:
            return False  # it opened a position (or never filled)
        still = session.mt5.positions_get(ticket=position)
        if not still:
            return True  # it closed that position whole
        held = still[0]
        buy = kind == c.ORDER_TYPE_BUY
        if buy == (int_of(held.type, f"position {position} type") == c.POSITION_TYPE_BUY):
            return False  # in the position's direction: it added (or reversed in one deal)
        try:
            most = session.rules(str(last.symbol)).volume_max
        except (OrderDenied, LinkDown, BadBrokerNumber):
            return True
        volume = decimal_of(last.volume_initial, f"order {ticket} volume_initial")
        return bool(most) and volume * 2 >= most

    def _records_on_worker(self, comment: str) -> tuple[list[Any], list[Any]]:
        session = self.session
        mt5 = session.mt5
        others = session.cfg.manage_other_positions

        def ours(record: Any) -> bool:
            if record.comment != comment:
                return False
            return others or int_of(record.magic, f"order {record.ticket} magic") == session.magic

        working = mt5.orders_get()
        if working is None:
            raise session.fail("orders_get")
        found = {int_of(r.ticket, "order ticket"): r for r in working if ours(r)}
        since, until = session.history_window()
        past = mt5.history_orders_get(since, until)
        if past is None:
            code, _ = mt5.last_error()
            if code != c.RES_S_OK:
                raise session.fail("history_orders_get")
            past = ()
        for record in past:
            if ours(record):
                found.setdefault(int_of(record.ticket, "order ticket"), record)
        deals: list[Any] = []
        for ticket in sorted(found):
            dealt = mt5.history_deals_get(ticket=ticket)
            if dealt is None:  # none found, or a failed read: last_error tells
                code, _ = mt5.last_error()
                if code not in (c.RES_S_OK, c.RES_E_NOT_FOUND):
                    raise session.fail("history_deals_get")  # a fill may be unread
                dealt = ()
            deals.extend(dealt)
        return [found[t] for t in sorted(found)], deals

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        """The symbol's last tick; one hop. Raises :class:`BrokerUnavailable` for a
        symbol the broker lacks or a tick with a number no tick can have (named)."""
        try:
            return await self._job(self._quote_on_worker, symbol)
        except OrderDenied as exc:
            raise BrokerUnavailable(str(exc)) from None

    def _quote_on_worker(self, symbol: str) -> MarketData:
        session = self.session
        session.rules(symbol)  # the symbol exists (and is selected into Market Watch)
        tick = session.tick(symbol)
        where = f"tick {symbol} "

        def price(value: Any, name: str) -> Decimal | None:
            return decimal_of(value, where + name) or None

        return MarketData(
            symbol=symbol,
            bid=price(tick.bid, "bid"),
            ask=price(tick.ask, "ask"),
            last=price(tick.last, "last"),
            volume=price(tick.volume_real, "volume_real"),
            timestamp=session.clock.to_utc(int(tick.time_msc) / 1000),
        )

    async def _health_check(self) -> HealthStatus:
        terminal, account = await self._job(self._health_on_worker)
        try:
            ping = int_of(terminal.ping_last, "terminal_info ping_last")
        except BadBrokerNumber as exc:
            return HealthStatus(healthy=False, detail=f"{exc}: the terminal's answer is broken")
        latency = ping / 1000 if ping else None
        problems = []
        if not terminal.connected:
            problems.append("terminal not connected to the trade server")
        if not terminal.trade_allowed:
            problems.append("Algo Trading is off in the terminal")
        if getattr(terminal, "tradeapi_disabled", False):
            problems.append("trading through the Python API is disabled in the terminal options")
        if not account.trade_allowed:
            problems.append(f"account {account.login} may not trade (investor password?)")
        if not getattr(account, "trade_expert", True):
            problems.append(f"account {account.login} may not trade from programs")
        checked = (
            "checked: terminal connected, terminal trade_allowed, tradeapi_disabled, "
            "account trade_allowed, account trade_expert"
        )
        if problems:
            return HealthStatus(
                healthy=False, latency_ms=latency, detail="; ".join(problems) + f" ({checked})"
            )
        mode = "hedging" if self.session.hedging else "netting"
        return HealthStatus(
            healthy=True,
            latency_ms=latency,
            detail=f"{terminal.company}, build {terminal.build}, account {account.login} "
            f"({mode}); {checked}",
        )

    def _health_on_worker(self) -> tuple[Any, Any]:
        mt5 = self.session.mt5
        terminal = mt5.terminal_info()
        if terminal is None:
            raise self.session.fail("terminal_info")
        account = mt5.account_info()
        if account is None:
            raise self.session.fail("account_info")
        return terminal, account

    async def tickets(self, symbol: str | None = None) -> list[Ticket]:
        """This program's open position tickets (all programs' with
        ``manage_other_positions``), oldest first. On netting, at most one per symbol.

        Raises :class:`BrokerUnavailable` when the terminal cannot be asked.
        """
        self._require_initialized()
        session = self.session
        found = await self._read(self._job(session.tickets, symbol), "read tickets")
        return sorted(session.mine(found), key=lambda t: t.age_key)

    async def _positions(self) -> list[Position]:
        """One net position per symbol, of this program's tickets (see ``tickets``)."""
        session = self.session
        grouped: dict[str, list[Ticket]] = defaultdict(list)
        for ticket in session.mine(await self._job(session.tickets, None)):
            grouped[ticket.symbol].append(ticket)
        result = []
        for symbol, items in sorted(grouped.items()):
            quantity = net(items)
            if quantity == 0:
                continue
            side = [t for t in items if t.buy == (quantity > 0)]
            size = sum((t.volume for t in side), Decimal(0))
            average = sum((t.volume * t.price_open for t in side), Decimal(0)) / size
            result.append(
                Position(
                    symbol=symbol,
                    quantity=quantity,
                    average_price=average,
                    unrealized_pnl=sum((t.profit for t in items), Decimal(0)),
                    account=str(self.login),
                )
            )
        return result

    async def symbol_info(self, name: str) -> Any:
        """The broker's SymbolInfo for ``name`` (selected into Market Watch if needed),
        or None when the broker has no such symbol.

        Raises :class:`BrokerUnavailable` when the terminal cannot be asked.
        """
        self._require_initialized()
        try:
            rules = await self._job(self.session.rules, name)
        except OrderDenied:
            return None
        return rules.info
