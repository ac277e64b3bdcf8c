"""The fake Kraken's matching: orders meet quotes, fills move the account.

One level of book per pair (:class:`~.orders.Quote`), whose sizes bound what it fills
until the next quote: that is how partial fills are made. An order that crosses the
quote on arrival trades at the quote as taker; a resting limit that a later quote
crosses trades at its own price as maker. Conditional orders fire when their reference
price (``last`` or ``index``, AddOrder's ``trigger``) reaches the trigger, as
https://docs.kraken.com/api/docs/rest-api/add-order describes each kind: stop-loss from
the unfavourable side (a sell when the price falls to it, a buy when it rises to it),
take-profit from the favourable side; a ``-limit`` kind then rests as a limit at
``price2``. Inferred choices are in :class:`~.rules.Rules`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

from fks_exec_ccxt.testing.kraken import errors, wire
from fks_exec_ccxt.testing.kraken.account import Account, Position
from fks_exec_ccxt.testing.kraken.errors import KrakenError
from fks_exec_ccxt.testing.kraken.orders import ZERO, IdMaker, Order, Quote, Trade
from fks_exec_ccxt.testing.kraken.pairs import Pair
from fks_exec_ccxt.testing.kraken.params import OrderSpec, read_order
from fks_exec_ccxt.testing.kraken.rules import Rules

__all__ = ["Trading", "arrival_key"]


def arrival_key(spec: OrderSpec, txid: str) -> str:
    """The client id the venue sees: ``cl_ord_id``, else ``userref``, else the txid."""
    if spec.cl_ord_id is not None:
        return spec.cl_ord_id
    return str(spec.userref) if spec.userref is not None else txid


def _down(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


class Trading:
    """Orders, trades, quotes and the account of one fake Kraken venue."""

    def __init__(
        self, pairs: dict[str, Pair], account: Account, rules: Rules, clock: Callable[[], float]
    ) -> None:
        self.pairs = pairs
        self.account = account
        self.rules = rules
        self.clock = clock
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}
        self.quotes: dict[str, Quote] = {}
        self.ids = IdMaker()
        self.arrivals: Counter[str] = Counter()

    def pair(self, name: str) -> Pair:
        """A pair by id, altname or wsname; raises ``EQuery:Unknown asset pair``."""
        found = next((p for p in self.pairs.values() if name in p.names()), None)
        if found is None:
            raise KrakenError(errors.UNKNOWN_PAIR)
        return found

    # ------------------------------------------------------------------ placing
    def place(self, payload: dict[str, Any]) -> dict[str, Any]:
        """AddOrder: check, then book the order; the answer's ``result``."""
        spec = read_order(payload, self.pairs, self.rules, self.clock())
        self._check_market_state(spec)
        self._check_unique(spec)
        self._check_open_orders_limit()
        self._check_triggers_and_post(spec)
        self._check_reduce_only(spec)
        self._check_funds(spec)
        descr = {"order": wire.description(spec)}
        if spec.validate:
            return {"descr": descr}  # documented: validate only, nothing is placed
        order = Order(self.ids.make("O"), spec, self.clock())
        self.orders[order.txid] = order
        self.arrivals[arrival_key(spec, order.txid)] += 1
        self._on_arrival(order)
        return {"descr": descr, "txid": [order.txid]}

    def _check_market_state(self, spec: OrderSpec) -> None:
        status = spec.pair.status
        if status == "cancel_only":
            raise KrakenError(errors.CANCEL_ONLY)
        if status == "post_only" and "post" not in spec.oflags:
            raise KrakenError("EService:Market in post_only mode")
        if status not in ("online", "post_only"):
            raise KrakenError(errors.UNAVAILABLE)

    def _check_unique(self, spec: OrderSpec) -> None:
        if spec.cl_ord_id is None:
            return
        among = list(self.orders.values())
        if self.rules.cl_ord_id_unique_among == "open":
            among = [o for o in among if o.is_open]
        if any(o.spec.cl_ord_id == spec.cl_ord_id for o in among):
            raise KrakenError(self.rules.duplicate_cl_ord_id_error)

    def _check_open_orders_limit(self) -> None:
        limit = self.rules.max_open_orders
        if limit is not None and sum(o.is_open for o in self.orders.values()) >= limit:
            raise KrakenError(errors.ORDERS_LIMIT)

    def _check_triggers_and_post(self, spec: OrderSpec) -> None:
        quote = self.quotes.get(spec.pair.pair_id)
        if quote is None:
            return
        reject_reached = self.rules.trigger_already_reached == "reject"
        if reject_reached and spec.is_conditional and _reached(spec, quote.reference(spec.trigger)):
            raise KrakenError(errors.INVALID_PRICE)
        reject_post = self.rules.post_only_crossing == "reject" and "post" in spec.oflags
        if reject_post and _crosses(spec.side, spec.price, quote):
            raise KrakenError(errors.POST_ONLY)

    def _check_reduce_only(self, spec: OrderSpec) -> None:
        if not spec.reduce_only:
            return
        held = self.account.net_volume(spec.pair, _opposite(spec.side))
        if held <= 0:
            raise KrakenError(errors.REDUCE_ONLY_NO_POSITION)
        if spec.volume > held and self.rules.reduce_only_overflow == "reject":
            raise KrakenError(errors.REDUCE_ONLY_EXCEEDED)

    def _estimate_price(self, spec: OrderSpec) -> Decimal | None:
        if spec.ordertype == "limit":
            return spec.price
        if spec.price2 is not None:
            return spec.price2
        if spec.is_conditional:
            return spec.price
        quote = self.quotes.get(spec.pair.pair_id)
        if quote is None:
            return None
        return quote.ask if spec.side == "buy" else quote.bid

    def _check_funds(self, spec: OrderSpec) -> None:
        """Documented errors (``EOrder:Insufficient funds`` / ``margin``); the sums are inferred."""
        price = self._estimate_price(spec)
        pair = spec.pair
        if spec.is_margin:
            closable = self.account.net_volume(pair, _opposite(spec.side))
            opening = (
                spec.volume
                if not self.rules.opposite_margin_closes_first
                else max(ZERO, spec.volume - closable)
            )
            if spec.reduce_only or opening <= 0 or price is None or spec.leverage is None:
                return
            need = opening * price * (1 / Decimal(spec.leverage) + pair.taker_fee_pct / 100)
            if need > self._free(pair.quote):
                raise KrakenError(errors.MARGIN_LEVEL_TOO_LOW)
            return
        if spec.side == "sell":
            if spec.volume > self._free(pair.base):
                raise KrakenError(errors.INSUFFICIENT_FUNDS)
            return
        cost = spec.volume if "viqc" in spec.oflags else None
        if cost is None and price is not None:
            cost = spec.volume * price
        if cost is not None and cost * (1 + pair.taker_fee_pct / 100) > self._free(pair.quote):
            raise KrakenError(errors.INSUFFICIENT_FUNDS)

    def _free(self, asset: str) -> Decimal:
        held = self.account.held_by(self.orders.values(), asset)
        cash = self.account.cash.get(asset, ZERO)
        return cash - held - self.account.margin_used(asset)

    def _on_arrival(self, order: Order) -> None:
        quote = self.quotes.get(order.spec.pair.pair_id)
        spec = order.spec
        if spec.is_conditional:
            if quote is not None and _reached(spec, quote.reference(spec.trigger)):
                self._fire(order, quote)
            return
        if "post" in spec.oflags and quote is not None and _crosses(spec.side, spec.price, quote):
            order.close("canceled", self.clock(), "Post only order")
            return
        self._go_live(order, quote)

    def _fire(self, order: Order, quote: Quote) -> None:
        order.triggered = True
        self._go_live(order, quote)

    def _go_live(self, order: Order, quote: Quote | None) -> None:
        """Trade what the quote allows as taker, then rest, cancel or expire the rest."""
        if quote is not None:
            self._execute(order, quote, maker=False)
        if not order.is_open:
            return
        is_market = order.limit_price is None
        if order.spec.timeinforce == "IOC" or (
            is_market and self.rules.market_remainder == "cancel"
        ):
            order.close("canceled", self.clock(), "Insufficient liquidity" if is_market else "IOC")

    # ------------------------------------------------------------------ matching
    def set_price(self, pair_id: str, quote: Quote) -> None:
        """A new quote: expire GTD orders, fill crossed resting limits, fire reached triggers."""
        pair = self.pair(pair_id)
        self.quotes[pair.pair_id] = quote
        now = self.clock()
        for order in list(self._working(pair)):
            if order.spec.expiretm is not None and order.spec.expiretm <= now:
                order.close("expired", now)
        for order in list(self._working(pair)):
            if order.spec.is_conditional and not order.triggered:
                continue
            if order.limit_price is None:
                self._execute(order, quote, maker=False)  # a market remainder left to rest
            elif _crosses(order.spec.side, order.limit_price, quote):
                self._execute(order, quote, maker=True)
        for order in list(self._working(pair)):
            spec = order.spec
            waiting = spec.is_conditional and not order.triggered
            if waiting and _reached(spec, quote.reference(spec.trigger)):
                self._fire(order, quote)

    def _working(self, pair: Pair) -> Iterator[Order]:
        return (o for o in self.orders.values() if o.is_open and o.spec.pair == pair)

    def _execute(self, order: Order, quote: Quote, *, maker: bool) -> None:
        spec = order.spec
        buy = spec.side == "buy"
        limit = order.limit_price
        if not maker and limit is not None and not _crosses(spec.side, limit, quote):
            return
        price = limit if maker and limit is not None else (quote.ask if buy else quote.bid)
        qty = order.remaining / price if order.by_quote else order.remaining
        left = quote.ask_left if buy else quote.bid_left
        qty = min(qty, left) if left is not None else qty
        qty = _down(min(qty, self._capacity(order, price)), spec.pair.lot_decimals)
        if qty <= 0:
            if self._capacity(order, price) <= 0:
                reason = "Position closed" if spec.reduce_only else "Insufficient funds"
                order.close("canceled", self.clock(), reason)
            return
        if left is not None:
            if buy:
                quote.ask_left = left - qty
            else:
                quote.bid_left = left - qty
        self._fill(order, qty, price, maker)

    def _capacity(self, order: Order, price: Decimal) -> Decimal:
        """The most this fill may be: the position for reduce-only, the cash for spot."""
        spec = order.spec
        if spec.reduce_only:
            return self.account.net_volume(spec.pair, _opposite(spec.side))
        if spec.is_margin:
            return order.remaining
        if spec.side == "sell":
            base = self.account.cash.get(spec.pair.base, ZERO)
            if wire.fee_currency(spec, self.rules) == "base":
                return base / (1 + spec.pair.taker_fee_pct / 100)
            return base
        cash = self.account.cash.get(spec.pair.quote, ZERO)
        return cash / (price * (1 + spec.pair.taker_fee_pct / 100))

    def _fill(self, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        spec, pair, now = order.spec, order.spec.pair, self.clock()
        cost = qty * price
        rate = (pair.maker_fee_pct if maker else pair.taker_fee_pct) / 100
        fee = _down(cost * rate, pair.cost_decimals)
        trade = Trade(self.ids.make("T"), order.txid, pair.pair_id, now, spec.side,
                      spec.ordertype, price, qty, cost, fee, maker)  # fmt: skip
        if spec.is_margin:
            self._fill_margin(order, trade)
        else:
            self._fill_spot(order, trade)
        self.trades[trade.trade_id] = trade
        order.vol_exec += qty
        order.cost += cost
        order.fee += trade.fee
        order.spent_quote += cost
        order.trades.append(trade.trade_id)
        step = Decimal(1).scaleb(-pair.lot_decimals)
        done = order.remaining < price * step if order.by_quote else order.remaining <= 0
        if done:
            order.close("closed", now)

    def _fill_spot(self, order: Order, trade: Trade) -> None:
        pair, buy = order.spec.pair, order.spec.side == "buy"
        sign = 1 if buy else -1
        self.account.credit(pair.base, sign * trade.vol)
        self.account.credit(pair.quote, -sign * trade.cost)
        if wire.fee_currency(order.spec, self.rules) == "base":
            trade.fee = _down(trade.vol * trade.fee / trade.cost, pair.lot_decimals)
            self.account.credit(pair.base, -trade.fee)
        else:
            self.account.credit(pair.quote, -trade.fee)

    def _fill_margin(self, order: Order, trade: Trade) -> None:
        spec, account = order.spec, self.account
        left = trade.vol
        if self.rules.opposite_margin_closes_first or spec.reduce_only:
            for position in account.open_positions(spec.pair, _opposite(spec.side)):
                closing = min(position.open_vol, left)
                direction = 1 if position.side == "buy" else -1
                pnl = (trade.price - position.entry_price) * closing * direction
                account.credit(spec.pair.quote, pnl)
                position.vol_closed += closing
                left -= closing
                if left <= 0:
                    break
            account.positions = [p for p in account.positions if p.open_vol > 0]
        if left > 0 and not spec.reduce_only and spec.leverage is not None:
            position = Position(
                self.ids.make("T"), order.txid, spec.pair, spec.side, left,
                left * trade.price, trade.fee, spec.leverage, trade.time,
            )  # fmt: skip
            account.positions.append(position)
            trade.postxid = position.postxid
            trade.margin = position.margin
        account.credit(spec.pair.quote, -trade.fee)

    # ------------------------------------------------------------------ cancel
    def cancel(self, payload: dict[str, Any]) -> dict[str, Any]:
        """CancelOrder by ``txid`` (a txid or a userref) or ``cl_ord_id``."""
        cl_ord_id, txid = payload.get("cl_ord_id"), payload.get("txid")
        if cl_ord_id is not None:
            hits = [
                o for o in self.orders.values() if o.is_open and o.spec.cl_ord_id == str(cl_ord_id)
            ]
        elif txid is not None and str(txid).lstrip("-").isdigit():
            ref = int(str(txid))
            hits = [o for o in self.orders.values() if o.is_open and o.spec.userref == ref]
        elif txid is not None:
            order = self.orders.get(str(txid))
            hits = [order] if order is not None and order.is_open else []
        else:
            raise errors.invalid_argument("txid")
        if not hits:
            raise KrakenError(errors.UNKNOWN_ORDER)  # inferred for a userref matching nothing
        for order in hits:
            order.close("canceled", self.clock(), "User requested")
        return {"count": len(hits), "pending": False}


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


def _crosses(side: str, price: Decimal | None, quote: Quote) -> bool:
    if price is None:
        return True
    return quote.ask <= price if side == "buy" else quote.bid >= price


def _reached(spec: OrderSpec, reference: Decimal) -> bool:
    """Whether ``reference`` has reached the trigger of a stop-loss / take-profit."""
    trigger = spec.price
    assert trigger is not None
    rises_to = (spec.side == "buy") == spec.ordertype.startswith("stop-loss")
    return reference >= trigger if rises_to else reference <= trigger
