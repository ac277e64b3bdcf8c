"""Regular orders on the fake OKX: resting, matching against a one-level quote, filling.

Order types as https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order
defines them: ``limit``; ``market``; ``post_only`` ("If the order would have executed on
placement, it will be canceled instead"); ``fok`` ("If the order cannot be fully filled,
the order will be canceled. The order would not be partially filled"); ``ioc``
(remainder canceled); ``optimal_limit_ioc`` (market with ioc, contracts only). States are
OKX's: ``live``, ``partially_filled``, ``filled``, ``canceled``.

The book is one price level deep: :meth:`Book.set_quote` sets bid/ask and, optionally,
the size available at each (``None``: unlimited). An order that crosses takes what is
there, at the touch (taker) when it arrives or at its own price (maker) when it rests
and the market comes to it; a size smaller than the order makes a partial fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from fks_exec_ccxt.testing.okx.account import Account
from fks_exec_ccxt.testing.okx.markets import Instrument
from fks_exec_ccxt.testing.okx.rules import Rules

__all__ = ["Book", "Order", "Quote"]

ZERO = Decimal(0)
TAKER_ONLY = frozenset({"market", "optimal_limit_ioc", "ioc", "fok"})


@dataclass
class Quote:
    """Best bid and ask, their sizes (None: unlimited) and the last trade price."""

    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_sz: Decimal | None = None
    ask_sz: Decimal | None = None


@dataclass
class Order:
    """A regular order as the venue holds it."""

    ord_id: str
    cl_ord_id: str
    tag: str
    inst: Instrument
    side: str
    ord_type: str
    sz: Decimal
    px: Decimal | None
    td_mode: str
    pos_side: str
    reduce_only: bool
    tgt_ccy: str
    c_time: int
    u_time: int = 0
    state: str = "live"
    acc_fill_sz: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO
    fee_ccy: str = ""
    pnl: Decimal = ZERO
    fill_px: Decimal | None = None
    fill_sz: Decimal = ZERO
    fill_time: int | None = None
    trade_id: str = ""
    algo_id: str = ""
    algo_cl_ord_id: str = ""
    cancel_source: str = ""
    attach_algo_ords: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sz_in_quote(self) -> bool:
        """A spot market buy sized in quote currency (``tgtCcy=quote_ccy``)."""
        return (
            not self.inst.is_contract and self.ord_type == "market" and self.tgt_ccy == "quote_ccy"
        )

    @property
    def remaining(self) -> Decimal:
        """What is left to fill, in the unit of ``sz``."""
        done = self.notional if self.sz_in_quote else self.acc_fill_sz
        return max(self.sz - done, ZERO)

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price."""
        return self.notional / self.acc_fill_sz if self.acc_fill_sz else None

    @property
    def is_open(self) -> bool:
        """Still working: ``live`` or ``partially_filled``."""
        return self.state in ("live", "partially_filled")


FillListener = Callable[[Order, Decimal, Decimal, bool], None]
"""Called on each fill with (order, quantity, price, maker)."""


class Book:
    """Open and finished regular orders, and the matching of them against quotes."""

    def __init__(self, account: Account, rules: Rules, clock: Callable[[], int]) -> None:
        self.account = account
        self.rules = rules
        self.clock = clock
        self.quotes: dict[str, Quote] = {}
        self.orders: dict[str, Order] = {}
        self._trade_ids = iter(range(38_002_016, 10**12))
        self.on_fill: list[FillListener] = []

    # ------------------------------------------------------------------ queries
    def find(self, inst_id: str, ord_id: str | None, cl_ord_id: str | None) -> Order | None:
        """An order of ``inst_id`` by ``ordId``, else by ``clOrdId`` (newest first)."""
        if ord_id:
            found = self.orders.get(ord_id)
            return found if found and found.inst.inst_id == inst_id else None
        for order in reversed(list(self.orders.values())):
            if order.cl_ord_id == cl_ord_id and order.inst.inst_id == inst_id:
                return order
        return None

    def pending_with_client_id(self, cl_ord_id: str) -> bool:
        """Whether ``clOrdId`` is taken (by a pending order, or any: see :class:`Rules`)."""
        pending_only = self.rules.client_id_unique_among == "pending"
        return any(
            o.cl_ord_id == cl_ord_id and (o.is_open or not pending_only)
            for o in self.orders.values()
        )

    def frozen(self, ccy: str) -> Decimal:
        """What open orders hold of ``ccy``: spot cost or contract margin."""
        total = ZERO
        for order in self.orders.values():
            if not order.is_open or order.px is None:
                continue
            inst = order.inst
            if inst.is_contract:
                if inst.settle == ccy and not self.closes(order):
                    total += self.account.margin(
                        inst, order.remaining, order.px, self.rules.leverage
                    )
            elif order.side == "buy" and inst.quote == ccy:
                total += order.remaining * order.px
            elif order.side == "sell" and inst.base == ccy:
                total += order.remaining
        return total

    def closes(self, order: Order) -> bool:
        """Whether a contract order reduces a position rather than opening one."""
        if order.pos_side == "long":
            return order.side == "sell"
        if order.pos_side == "short":
            return order.side == "buy"
        return order.reduce_only

    def pending_closing(self, inst: Instrument, pos_side: str, exclude: str = "") -> Decimal:
        """Contracts of open orders that close the ``pos_side`` position of ``inst``."""
        return sum(
            (
                o.remaining
                for o in self.orders.values()
                if o.is_open
                and o.inst is inst
                and o.pos_side == pos_side
                and self.closes(o)
                and o.ord_id != exclude
            ),
            ZERO,
        )

    # ------------------------------------------------------------------ changes
    def add(self, order: Order) -> None:
        """Accept a validated order and match it at once."""
        order.u_time = order.c_time
        self.orders[order.ord_id] = order
        self._match(order, resting=False)
        keep_market = order.ord_type == "market" and not self.rules.cancel_market_remainder
        if order.is_open and order.ord_type in TAKER_ONLY and not keep_market:
            self._finish(order, "canceled")

    def cancel(self, order: Order, source: str = "1") -> None:
        """Cancel an open order (``cancelSource`` 1: canceled by the user)."""
        order.cancel_source = source
        self._finish(order, "canceled")

    def set_quote(self, inst_id: str, quote: Quote) -> None:
        """A new quote; resting orders it crosses fill, oldest first."""
        self.quotes[inst_id] = quote
        for order in [o for o in self.orders.values() if o.inst.inst_id == inst_id and o.is_open]:
            self._match(order, resting=True)

    def _match(self, order: Order, *, resting: bool) -> None:
        quote = self.quotes.get(order.inst.inst_id)
        if quote is None:
            return
        buy = order.side == "buy"
        touch = quote.ask if buy else quote.bid
        marketable = order.px is None or (touch <= order.px if buy else touch >= order.px)
        if not marketable:
            return
        if order.ord_type == "post_only" and not resting:
            order.cancel_source = "31"  # inferred: OKX's "post only order would take liquidity"
            self._finish(order, "canceled")
            return
        available = quote.ask_sz if buy else quote.bid_sz
        wanted = self._wanted(order, touch)
        qty = wanted if available is None else min(wanted, available)
        qty = _floor(qty, order.inst.lot_sz)
        if order.ord_type == "fok" and qty < wanted:
            self._finish(order, "canceled")
            return
        if qty <= 0:
            return
        if available is not None:
            if buy:
                quote.ask_sz = available - qty
            else:
                quote.bid_sz = available - qty
        price = order.px if resting and order.px is not None else touch
        self._fill(order, qty, price, maker=resting)

    def _wanted(self, order: Order, price: Decimal) -> Decimal:
        if order.sz_in_quote:
            return _floor(order.remaining / price, order.inst.lot_sz)
        wanted = order.remaining
        if order.inst.is_contract and self.closes(order) and order.pos_side == "net":
            wanted = min(wanted, abs(self.account.held(order.inst, "net")))  # never flips
        return wanted

    def _fill(self, order: Order, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        inst = order.inst
        rate = inst.maker_fee if maker else inst.taker_fee
        now = self.clock()
        if inst.is_contract:
            fee, pnl = self.account.fill_contract(
                inst, order.side, order.pos_side, qty, price, rate, now
            )
            order.fee_ccy = inst.settle
            order.pnl += pnl
        else:
            fee, order.fee_ccy = self.account.fill_spot(inst, order.side, qty, price, rate)
        order.fee += fee
        order.acc_fill_sz += qty
        order.notional += qty * price
        order.fill_px, order.fill_sz, order.fill_time = price, qty, now
        order.trade_id = str(next(self._trade_ids))
        order.u_time = now
        order.state = "filled" if order.remaining == 0 else "partially_filled"
        dust = order.sz_in_quote and order.remaining < price * inst.lot_sz
        if order.state == "partially_filled" and dust:
            order.state = "filled"  # less than one lot's worth of quote left to spend
        for listener in self.on_fill:
            listener(order, qty, price, maker)

    def _finish(self, order: Order, state: str) -> None:
        order.state = state
        order.u_time = self.clock()


def _floor(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_DOWN) * step
