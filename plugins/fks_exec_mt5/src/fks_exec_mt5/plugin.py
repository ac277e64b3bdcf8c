"""The ``mt5`` plugin: MetaTrader 5 through the MetaTrader5 package (or our bridge)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from fks_exec.errors import BrokerUnavailable, OrderDenied, OutcomeUnknown
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    Order,
    OrderStatus,
)
from fks_exec.plugin import Capability
from fks_exec_mt5 import constants as c
from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.connection import derived_magic, import_module
from fks_exec_mt5.exposure import Ticket, net
from fks_exec_mt5.history import filled_before_cancel
from fks_exec_mt5.mapping import comment_for, rounded_volume
from fks_exec_mt5.numbers import BadBrokerNumber, decimal_of, int_of
from fks_exec_mt5.prechecks import check_freeze
from fks_exec_mt5.reads import Mt5Reads
from fks_exec_mt5.results import from_send
from fks_exec_mt5.retcodes import Fate, last_error_of, retcode_of
from fks_exec_mt5.session import NotSent, PairsCut, Refused, retcode_or_none

__all__ = ["Mt5Plugin", "derived_magic", "import_module"]


class Mt5Plugin(Mt5Reads):
    """Trades through a MetaTrader 5 terminal; every call runs on one worker thread.

    ``Mt5Plugin(mt5=module)`` uses the given module or API-compatible object (the
    bridge client, or :class:`fks_exec_mt5.testing.reference.FakeMetaTrader5`);
    otherwise ``init`` imports the MetaTrader5 package (or the bridge the config names).
    Netting and hedging accounts: see docs/plugins/mt5.md. Start-up and reconnects are
    in :mod:`fks_exec_mt5.connection`, reads in :mod:`fks_exec_mt5.reads`.
    """

    name: ClassVar[str] = "mt5"
    config_model: ClassVar[type[Mt5Config]] = Mt5Config
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    order_params: ClassVar[frozenset[str] | None] = frozenset()
    """No ``Order.params``: the request's fields come from the order and the config
    (docs/plugins/mt5.md, *What each order becomes*); an order with any is refused."""

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        self._check_account(order)
        try:
            placed = await self._job(self.session.place, order)
        except NotSent as exc:
            meaning = last_error_of(exc.code)
            if meaning.fate is Fate.UNAVAILABLE:
                self._stale = True
                raise BrokerUnavailable(
                    f"MetaTrader 5 IPC failed before sending ({exc.code}, {exc.text}): "
                    f"{meaning.hint}; nothing was sent"
                ) from None
            raise OrderDenied(
                f"order_send refused it ({exc.code}, {exc.text}): {meaning.hint}",
                meaning.code.value,
            ) from None
        # A lookup finds only the legs sent, and a leg that closed a whole position may
        # have been the first of several: it needs the order's lots, one leg or many.
        self._remember_lots(order.client_order_id, placed.volume)
        answers = placed.answers
        if len(answers) == 1:  # the usual order, read without a pass over the legs
            first = answers[0].sent
            if first is None:
                if answers[0].lost is not None:
                    self._stale = True
            elif (
                first.retcode == c.TRADE_RETCODE_CONNECTION
                and retcode_or_none(first) == c.TRADE_RETCODE_CONNECTION
                and not first.deal
            ):
                raise BrokerUnavailable(
                    f"{first.retcode} {first.comment}: the terminal is not connected to the "
                    "trade server; nothing was sent"
                )
        elif any(a.lost is not None for a in answers):
            self._stale = True
        return from_send(answers, order, placed.volume, build=self.result_for, legs=placed.legs)

    def _check_account(self, order: Order) -> None:
        wanted = order.__dict__["account"]  # a pydantic attribute read costs twice as much
        if wanted is None:
            return
        mine = self.config.account if isinstance(self.config, Mt5Config) else None
        if wanted not in {str(self.login), mine}:
            raise OrderDenied(
                f"order names account {wanted!r} but this plugin is connected to account "
                f"{self.login}; route it to the instance of that account"
            )

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        """One reduce-only market order for this program's net position (or ``quantity``).

        On hedging it closes tickets by number, oldest first; it never opens or grows
        exposure. Returns [] when this program holds nothing in ``symbol``.
        """
        session = self.session
        mine = session.mine(await self._job(session.tickets, symbol))
        held = net(mine)
        if held == 0:
            return await self._close_pairs(symbol) if quantity is None and mine else []
        side = "sell" if held > 0 else "buy"
        order = Order.market(symbol, side, quantity or abs(held), reduce_only=True)
        if quantity is not None:
            rules = await self._job(session.rules, symbol)
            try:
                exact = rounded_volume(quantity, rules) == quantity
            except OrderDenied as exc:
                return [self._denied(order, ErrorCode.INVALID_ORDER, f"{exc}; nothing was sent")]
            if not exact:
                return [
                    self._denied(
                        order,
                        ErrorCode.INVALID_ORDER,
                        f"{quantity} is not a multiple of the volume step {rules.step} of "
                        f"{symbol}; close_position closes exactly what it is asked: "
                        "nothing was sent",
                    )
                ]
        result = await self.execute_order(order)
        if quantity is None and result.status is OrderStatus.FILLED:
            try:
                return [result, *await self._close_pairs(symbol)]
            except BrokerUnavailable as exc:  # the net close went: not "nothing sent"
                raise OutcomeUnknown(
                    f"{symbol}: the net position was closed, then {exc}: hedged pairs "
                    "left, if any, were not closed; check positions() before trying again",
                    [result],
                ) from None
            except OutcomeUnknown as exc:
                raise OutcomeUnknown(str(exc), [result, *exc.results]) from None
        return [result]

    async def _close_pairs(self, symbol: str) -> list[ExecutionResult]:
        """Hedged pairs left after the net is closed: closed by each other. Raises
        :class:`OutcomeUnknown`, with the pairs' results, when the tickets could not be
        read again after some were closed (the rest were not tried)."""
        if not self.session.hedging:
            return []
        pair_id = uuid.uuid4().hex  # the close-by's own client order id
        try:
            pairs = await self._job(self.session.close_pairs, symbol, comment_for(pair_id))
        except PairsCut as cut:
            self._stale = True
            done = [self._close_by_result(symbol, pair_id, *pair) for pair in cut.done]
            raise OutcomeUnknown(
                f"{symbol}: {len(done)} hedged pair(s) closed, then MetaTrader 5: "
                f"{cut.text}: pairs left, if any, were not closed and nothing more was "
                "sent; check positions() before trying again",
                done,
            ) from None
        return [self._close_by_result(symbol, pair_id, *pair) for pair in pairs]

    def _close_by_result(
        self, symbol: str, pair_id: str, first: Ticket, second: Ticket, answer: Any
    ) -> ExecutionResult:
        volume = min(first.volume, second.volume)
        side = "sell" if first.buy else "buy"
        order = Order.market(symbol, side, volume, reduce_only=True, client_order_id=pair_id)
        what = f"close-by of {first.ticket} and {second.ticket}"
        if isinstance(answer, Refused):
            return self._denied(
                order, ErrorCode.REJECTED, f"{what}: {answer.text}; nothing was sent"
            )
        if isinstance(answer, tuple) and not hasattr(answer, "retcode"):
            # no answer: last_error()'s (code, text)
            code, text = answer
            meaning = last_error_of(code)
            if meaning.fate is Fate.MAYBE_SENT:
                self._stale = True
                return self._unknown(
                    order, ErrorCode.NETWORK, f"{what}: no answer ({code}, {text})"
                )
            return self._denied(order, meaning.code, f"{what} failed ({code}, {text})")
        try:
            retcode = int_of(answer.retcode, "order_send retcode")
            ticket = int_of(answer.order, "order_send order")
        except BadBrokerNumber as exc:
            self.log.warning("%s: %s; its fate is unknown", what, exc)
            return self._unknown(order, ErrorCode.UNKNOWN, f"{what}: {exc}")
        if retcode == c.TRADE_RETCODE_DONE:
            return self.result_for(
                order,
                OrderStatus.FILLED,
                order_id=str(ticket),
                filled_quantity=volume,
                average_price=second.price_open,
                raw={"close_by": [first.ticket, second.ticket], "retcode": retcode},
            )
        # As for an order: 10012 unknown, 10027 not sent; 10008 and 10010 (queued, part
        # done) leave the pair's fate to be seen.
        said = retcode_of(retcode)
        text = f"{what}: {retcode} {answer.comment}"
        if said.status is not OrderStatus.REJECTED:
            return self._unknown(order, said.code or ErrorCode.UNKNOWN, text)
        return self.result_for(
            order,
            OrderStatus.REJECTED,
            sent=said.sent,
            error_code=said.code or ErrorCode.REJECTED,
            error=text + ("" if said.sent else "; nothing was sent"),
        )

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        try:
            ticket = int(order_id)
        except ValueError:
            raise ValueError(f"MT5 order ids are ticket numbers, not {order_id!r}") from None
        outcome, record, answer, deals = await self._job(self._cancel_on_worker, ticket, symbol)
        where = symbol or (record.symbol if record is not None else "?")

        def result(status: OrderStatus, **fields: Any) -> ExecutionResult:
            if "quantity" in fields:  # what filled before the cancel: a known order
                return ExecutionResult.build(
                    plugin=self.name,
                    status=status,
                    order_id=order_id,
                    symbol=where,
                    client_order_id=None,
                    **fields,
                )
            return ExecutionResult.for_cancel(
                plugin=self.name, status=status, order_id=order_id, symbol=where, **fields
            )

        if outcome == "missing":
            return result(
                OrderStatus.REJECTED,
                sent=False,
                error_code=ErrorCode.INVALID_ORDER,
                error=f"no working order {order_id} (filled, canceled or unknown); "
                "nothing was sent",
            )
        if outcome == "other symbol":
            return result(
                OrderStatus.REJECTED,
                sent=False,
                error_code=ErrorCode.INVALID_ORDER,
                error=f"order {order_id} is a {record.symbol} order, not {symbol}; check the "
                "order id (or leave the symbol out); nothing was sent",
            )
        if outcome == "lost":
            code, text = answer
            meaning = last_error_of(code)
            if meaning.fate is Fate.UNAVAILABLE:
                self._stale = True
                raise BrokerUnavailable(f"MetaTrader 5 IPC failed before sending ({code}, {text})")
            if meaning.fate is Fate.DENIED:
                return result(
                    OrderStatus.REJECTED,
                    sent=False,
                    error_code=meaning.code,
                    error=f"{code} {text}: {meaning.hint}",
                )
            self._stale = True
            return result(
                OrderStatus.UNKNOWN,
                error_code=ErrorCode.NETWORK,
                error=f"no answer to the cancel ({code}, {text}); check the order with get_order",
            )
        retcode = retcode_or_none(answer)
        if retcode is None:
            self.log.warning(
                "cancel of %s: MetaTrader 5 answered retcode %.20r; its fate is unknown",
                order_id,
                answer.retcode,
            )
            return result(
                OrderStatus.UNKNOWN,
                error_code=ErrorCode.UNKNOWN,
                error="MetaTrader 5: order_send retcode is not a number; check the order "
                "with get_order",
            )
        if retcode == c.TRADE_RETCODE_DONE:
            return result(OrderStatus.CANCELED, **self._filled_before_cancel(record, deals))
        meaning_r = retcode_of(retcode)
        if retcode == c.TRADE_RETCODE_CONNECTION:  # as for an order: nothing left the PC
            raise BrokerUnavailable(
                f"{retcode} {answer.comment}: the terminal is not connected to the trade "
                "server; nothing was sent"
            )
        if meaning_r.status is not OrderStatus.REJECTED:  # 10012 timeout; 10008, 10010
            return result(
                OrderStatus.UNKNOWN,
                error_code=meaning_r.code or ErrorCode.UNKNOWN,
                error=f"{retcode} {answer.comment}; check the order with get_order",
            )
        return result(
            OrderStatus.REJECTED,
            sent=meaning_r.sent,
            error_code=meaning_r.code or ErrorCode.REJECTED,
            error=f"{retcode} {answer.comment}" + ("" if meaning_r.sent else "; nothing was sent"),
        )

    def _cancel_on_worker(self, ticket: int, symbol: str | None) -> tuple[str, Any, Any, Any]:
        session = self.session
        record = session.find_working(ticket)
        if record is None:
            return "missing", None, None, None
        if symbol is not None and str(record.symbol) != symbol:
            return "other symbol", record, None, None
        try:
            self._check_cancel(ticket, record)
        except BadBrokerNumber as exc:
            raise OrderDenied(
                f"{exc}: the terminal's data cannot be trusted for this cancel", "rejected"
            ) from None
        mt5 = session.mt5
        sent = mt5.order_send({"action": c.TRADE_ACTION_REMOVE, "order": ticket})
        if sent is None:
            return "lost", record, mt5.last_error(), None
        deals = None  # REMOVE deletes only the rest: what filled before stays dealt
        if retcode_or_none(sent) == c.TRADE_RETCODE_DONE:
            deals = mt5.history_deals_get(ticket=ticket)  # a read: None when it failed
        return "sent", record, sent, deals

    def _filled_before_cancel(self, record: Any, deals: Any) -> dict[str, Any]:
        """:func:`~fks_exec_mt5.history.filled_before_cancel`; a number it cannot trust
        leaves the fill out, with a warning, and says so in ``error``."""
        try:
            return filled_before_cancel(record, deals)
        except BadBrokerNumber as exc:
            ticket = record.ticket
            self.log.warning("cancel of %s done; what filled before it is unknown: %s", ticket, exc)
            return {
                "error": f"canceled; what filled before the cancel is not known ({exc}): "
                "look it up with get_order"
            }

    def _check_cancel(self, ticket: int, record: Any) -> None:
        """On the worker: may this plugin delete ``record`` now? Raises OrderDenied."""
        session = self.session
        magic = int_of(record.magic, f"order {ticket} magic")
        if magic != session.magic and not session.cfg.manage_other_positions:
            raise OrderDenied(
                f"order {ticket} carries magic {magic}, not this plugin's "
                f"{session.magic}: it belongs to another program or a manual trade",
                "rejected",
            )
        symbol = str(record.symbol)
        rules = session.rules(symbol)
        tick = session.tick(symbol)
        bid = decimal_of(tick.bid, f"tick {symbol} bid")
        check_freeze(rules, record, bid, decimal_of(tick.ask, f"tick {symbol} ask"))
