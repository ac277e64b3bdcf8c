"""Placing and canceling orders on the fake OKX: the request rules, then the book.

Parameter rules are those of "Place order"
(https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order) and "Place
algo order" (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order):

* ``clOrdId`` / ``algoClOrdId``: "A combination of case-sensitive alphanumerics, all
  numbers, or all letters of up to 32 characters"; ``tag`` the same, up to 16. A
  malformed one is refused with 51000 "Parameter clOrdId error" (inferred code: the
  docs give the format, not the code for breaking it).
* ``tdMode``: ``cash`` for spot, ``cross``/``isolated`` for contracts.
* ``posSide``: in ``net`` mode absent or ``net``; in ``long/short`` mode required, ``long``
  or ``short`` — "Open long: buy and open long ... Close long: sell and close long".
* ``reduceOnly``: only for contracts in ``net`` mode (long/short closing orders are
  always reduce-only); spot cash refuses it (51139).
* ``sz``: contracts for FUTURES/SWAP, base currency for spot (a spot market order's
  unit is set by ``tgtCcy``, "Default is quote_ccy for buy, base_ccy for sell"); a
  multiple of ``lotSz`` (51121) and at least ``minSz`` (51020).
* ``px``: required by ``limit``/``post_only``/``fok``/``ioc`` (51000 "Parameter px
  error"); it must be a multiple of ``tickSz`` (inferred: same code).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.okx import errors, params
from fks_exec_ccxt.testing.okx.account import Account
from fks_exec_ccxt.testing.okx.algo import AlgoDesk, AlgoOrder, check_trigger_sides
from fks_exec_ccxt.testing.okx.book import Book, Order, Quote
from fks_exec_ccxt.testing.okx.markets import Instrument
from fks_exec_ccxt.testing.okx.rules import Rules

__all__ = ["Trading"]

ORDER_TYPES = frozenset({"market", "limit", "post_only", "fok", "ioc", "optimal_limit_ioc"})
PRICED = frozenset({"limit", "post_only", "fok", "ioc"})
ALGO_TYPES = frozenset({"conditional", "oco", "trigger"})
"""Modelled algo types; ``move_order_stop``, ``twap``, ``chase``, ``smart_iceberg`` are
refused with 51000 "Parameter ordType error" (not modelled, not OKX's behaviour)."""
ZERO = Decimal(0)


class Trading:
    """Placing and canceling orders over an Account, a Book and an AlgoDesk."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        account: Account,
        rules: Rules,
        clock: Callable[[], int],
    ) -> None:
        self.instruments = instruments
        self.account = account
        self.rules = rules
        self.clock = clock
        self.book = Book(account, rules, clock)
        self.desk = AlgoDesk(rules, clock, self._place_child)
        self.arrivals: Counter[str] = Counter()
        self._ord_ids = itertools.count(2_896_576_259_728_695_296)
        self._algo_ids = itertools.count(2_017_146_754_403_004_416)
        self.book.on_fill.append(self._attach_on_fill)

    # ------------------------------------------------------------------ prices
    def set_price(self, inst_id: str, quote: Quote) -> None:
        """Move the market: resting orders fill, then algo orders fire."""
        self.instrument(inst_id)
        self.book.set_quote(inst_id, quote)
        self.desk.on_price(inst_id, quote.last)

    # ------------------------------------------------------------------ regular orders
    def place(self, body: Mapping[str, Any], algo: AlgoOrder | None = None) -> Order:
        """Validate and place one regular order; raises :class:`~.errors.OkxError`."""
        inst = self.instrument(body.get("instId"))
        side = params.choice(body, "side", {"buy", "sell"})
        ord_type = params.choice(body, "ordType", ORDER_TYPES)
        if ord_type == "optimal_limit_ioc" and not inst.is_contract:
            raise errors.parameter("ordType")
        td_mode = params.choice(
            body, "tdMode", {"cross", "isolated"} if inst.is_contract else {"cash"}
        )
        cl_ord_id = self._client_id(body.get("clOrdId"), "clOrdId")
        if cl_ord_id and self.book.pending_with_client_id(cl_ord_id):
            raise errors.duplicate_client_id()
        tag = params.tag(body.get("tag"))
        sz = params.positive(body.get("sz"), "sz")
        px = params.tick_price(body.get("px"), inst) if ord_type in PRICED else None
        if ord_type in PRICED and px is None:
            raise errors.parameter("px")
        pos_side = self._pos_side(inst, body.get("posSide"))
        reduce_only = params.flag(body.get("reduceOnly"))
        if reduce_only and not inst.is_contract:
            raise errors.spot_reduce_only()
        tgt_ccy = self._tgt_ccy(inst, body, side, ord_type)
        order = Order(
            ord_id="",
            cl_ord_id=cl_ord_id,
            tag=tag,
            inst=inst,
            side=side,
            ord_type=ord_type,
            sz=sz,
            px=px,
            td_mode=td_mode,
            pos_side=pos_side,
            reduce_only=reduce_only and pos_side == "net",
            tgt_ccy=tgt_ccy,
            c_time=self.clock(),
        )
        if not order.sz_in_quote:
            params.check_size(inst, sz)
        quote = self.book.quotes.get(inst.inst_id)
        if quote is None and px is None:
            raise errors.no_offers()
        if inst.is_contract:
            self._check_position(order)
        self._check_funds(order, quote)
        order.ord_id = str(next(self._ord_ids))
        order.attach_algo_ords = list(body.get("attachAlgoOrds") or [])
        if algo is not None:
            order.algo_id, order.algo_cl_ord_id = algo.algo_id, algo.algo_cl_ord_id
        self.arrivals[cl_ord_id or order.ord_id] += 1
        self.book.add(order)
        return order

    def cancel(self, body: Mapping[str, Any]) -> Order:
        """Cancel one regular order by ``ordId`` or ``clOrdId``; raises ``OkxError``."""
        inst = self.instrument(body.get("instId"))
        ord_id, cl_ord_id = body.get("ordId"), body.get("clOrdId")
        if not ord_id and not cl_ord_id:
            raise errors.id_required()
        order = self.book.find(inst.inst_id, ord_id, cl_ord_id)
        if order is None:
            raise errors.cancel_failed("unknown")
        if not order.is_open:
            raise errors.cancel_failed(order.state)
        self.book.cancel(order)
        return order

    # ------------------------------------------------------------------ algo orders
    def place_algo(self, body: Mapping[str, Any]) -> AlgoOrder:
        """Validate and place one algo order; raises :class:`~.errors.OkxError`."""
        inst = self.instrument(body.get("instId"))
        side = params.choice(body, "side", {"buy", "sell"})
        ord_type = params.choice(body, "ordType", ALGO_TYPES)
        modes = {"cross", "isolated"} if inst.is_contract else {"cash", "cross"}
        if not inst.is_contract and ord_type != "trigger":
            # ccxt okx.create_order_request: "for some reason tdMode = cash throws
            # {... "sCode":"51000","sMsg":"Parameter tdMode error "}" for spot TP/SL
            modes = {"cross"}
        td_mode = params.choice(body, "tdMode", modes)
        # ccxt sends the algo client id as ``clOrdId``; OKX echoes it as both
        # ``algoClOrdId`` and ``clOrdId`` (ccxt static response "type2 & type3 together")
        algo_cl = self._client_id(body.get("algoClOrdId") or body.get("clOrdId"), "algoClOrdId")
        if algo_cl and self.desk.client_id_taken(algo_cl):
            raise errors.duplicate_algo_client_id()
        algo = AlgoOrder(
            str(next(self._algo_ids)),
            algo_cl,
            params.tag(body.get("tag")),
            inst,
            side,
            ord_type,
            None,
            td_mode,
            self._pos_side(inst, body.get("posSide")),
            params.flag(body.get("reduceOnly")),
            str(body.get("tgtCcy") or ""),
            self.clock(),
        )
        self._algo_size(algo, body)
        self._algo_prices(algo, body)
        quote = self.book.quotes.get(inst.inst_id)
        if quote is None:
            raise errors.no_offers()
        check_trigger_sides(algo, quote.last)
        self.arrivals[algo_cl or algo.algo_id] += 1
        self.desk.add(algo, quote.last)
        return algo

    def cancel_algo(self, entry: Mapping[str, Any]) -> AlgoOrder:
        """Cancel one live algo order by ``algoId`` or ``algoClOrdId``."""
        inst = self.instrument(entry.get("instId"))
        algo = self.desk.find(entry.get("algoId"), entry.get("algoClOrdId"))
        if algo is None or algo.inst is not inst:
            raise errors.cancel_failed("unknown")  # inferred: the regular-order code
        if not algo.is_live:
            raise errors.cancel_failed("canceled" if algo.state == "canceled" else "filled")
        self.desk.cancel(algo)
        return algo

    # ------------------------------------------------------------------ helpers
    def instrument(self, inst_id: Any) -> Instrument:
        """The instrument ``inst_id``; raises 51001 (unknown) or 50014 (missing)."""
        if not inst_id:
            raise errors.empty_parameter("instId")
        if inst_id not in self.instruments:
            raise errors.unknown_instrument()
        return self.instruments[str(inst_id)]

    def available(self, ccy: str) -> Decimal:
        """Cash not held by open orders or position margin."""
        cash = self.account.cash.get(ccy, ZERO)
        return cash - self.book.frozen(ccy) - self.account.position_margin(ccy, self.rules.leverage)

    def _client_id(self, value: Any, name: str) -> str:
        if value in (None, ""):
            return ""
        if not isinstance(value, str) or not params.CLIENT_ID.fullmatch(value):
            raise errors.parameter(name)
        return value

    def _pos_side(self, inst: Instrument, value: Any) -> str:
        if not inst.is_contract:
            return ""
        if self.account.pos_mode == "net_mode":
            if value not in (None, "", "net"):
                raise errors.parameter("posSide")
            return "net"
        if value not in ("long", "short"):
            raise errors.parameter("posSide")
        return str(value)

    def _tgt_ccy(self, inst: Instrument, body: Mapping[str, Any], side: str, ord_type: str) -> str:
        if inst.is_contract:
            return ""
        default = "quote_ccy" if (side == "buy" and ord_type == "market") else "base_ccy"
        value = body.get("tgtCcy") or default
        if value not in ("base_ccy", "quote_ccy"):
            raise errors.parameter("tgtCcy")
        return str(value)

    def _check_position(self, order: Order) -> None:
        if not self.book.closes(order):
            return
        held = self.account.held(order.inst, order.pos_side)
        if held == 0:
            raise errors.nothing_to_reduce()
        if order.pos_side == "net" and (held > 0) == (order.side == "buy"):
            raise errors.reduce_same_direction()
        closing = self.book.pending_closing(order.inst, order.pos_side) + order.sz
        if closing > abs(held) and self.rules.reduce_only_overflow == "reject":
            raise errors.close_exceeds_position()

    def _check_funds(self, order: Order, quote: Quote | None) -> None:
        inst = order.inst
        buy = order.side == "buy"
        if order.px is not None:
            reference = order.px
        else:
            assert quote is not None  # place() refuses a market order without a quote
            reference = quote.ask if buy else quote.bid
        if inst.is_contract:
            if self.book.closes(order):
                return
            need = self.account.margin(inst, order.sz, reference, self.rules.leverage)
            if self.available(inst.settle) < need:
                raise errors.insufficient(inst.settle, margin=True)
            return
        if not buy:
            if self.available(inst.base) < order.sz:
                raise errors.insufficient(inst.base, margin=False)
            return
        freeze = 1 + self.rules.market_buy_freeze if order.px is None else Decimal(1)
        need = order.sz * freeze if order.sz_in_quote else order.sz * reference * freeze
        if self.available(inst.quote) < need:
            raise errors.insufficient(inst.quote, margin=False)

    def _algo_size(self, algo: AlgoOrder, body: Mapping[str, Any]) -> None:
        fraction = body.get("closeFraction")
        if fraction not in (None, ""):
            net = algo.pos_side == "net"
            if (
                fraction != "1"
                or not algo.inst.is_contract
                or algo.ord_type == "trigger"
                or (net and not algo.reduce_only)
            ):
                raise errors.parameter("closeFraction")
            algo.close_fraction = "1"
            return
        algo.sz = params.positive(body.get("sz"), "sz")
        if algo.inst.is_contract or algo.tgt_ccy != "quote_ccy":
            params.check_size(algo.inst, algo.sz)

    def _algo_prices(self, algo: AlgoOrder, body: Mapping[str, Any]) -> None:
        inst = algo.inst
        if algo.ord_type == "trigger":
            algo.trigger_px = params.required_price(body, "triggerPx", inst)
            algo.order_px = params.order_price(body, "orderPx", inst)
            return
        if body.get("slTriggerPx") not in (None, ""):
            algo.sl_trigger_px = params.required_price(body, "slTriggerPx", inst)
            algo.sl_ord_px = params.order_price(body, "slOrdPx", inst)
        if body.get("tpTriggerPx") not in (None, ""):
            algo.tp_trigger_px = params.required_price(body, "tpTriggerPx", inst)
            algo.tp_ord_px = params.order_price(body, "tpOrdPx", inst)
        both = algo.sl_trigger_px is not None and algo.tp_trigger_px is not None
        if algo.ord_type == "oco" and not both:
            raise errors.parameter("slTriggerPx" if algo.sl_trigger_px is None else "tpTriggerPx")
        if algo.sl_trigger_px is None and algo.tp_trigger_px is None:
            raise errors.parameter("slTriggerPx")

    def _place_child(self, algo: AlgoOrder, size: Decimal, limit: Decimal | None) -> str:
        if algo.close_fraction:
            size = abs(self.account.held(algo.inst, algo.pos_side))
            if size == 0:
                raise errors.nothing_to_reduce()
        body: dict[str, Any] = {
            "instId": algo.inst.inst_id,
            "side": algo.side,
            "sz": str(size),
            "ordType": "market" if limit is None else "limit",
            "tdMode": algo.td_mode if algo.inst.is_contract else "cash",
            "posSide": algo.pos_side,
            "reduceOnly": algo.reduce_only or bool(algo.close_fraction),
        }
        if limit is not None:
            body["px"] = str(limit)
        if not algo.inst.is_contract and limit is None:
            body["tgtCcy"] = algo.tgt_ccy or "base_ccy"
        return self.place(body, algo=algo).ord_id

    def _attach_on_fill(self, order: Order, qty: Decimal, price: Decimal, maker: bool) -> None:
        if order.state != "filled" or not order.attach_algo_ords:
            return
        last = self.book.quotes[order.inst.inst_id].last
        for attached in order.attach_algo_ords:
            sl, tp = attached.get("slTriggerPx"), attached.get("tpTriggerPx")
            algo = AlgoOrder(
                str(next(self._algo_ids)),
                str(attached.get("attachAlgoClOrdId") or ""),
                "",
                order.inst,
                "sell" if order.side == "buy" else "buy",
                "oco" if sl and tp else "conditional",
                order.acc_fill_sz,
                order.td_mode,
                order.pos_side,
                self.rules.algo_child_reduce_only and order.inst.is_contract,
                "",
                self.clock(),
            )
            if sl:
                algo.sl_trigger_px, algo.sl_ord_px = (
                    Decimal(sl),
                    Decimal(attached.get("slOrdPx", "-1")),
                )
            if tp:
                algo.tp_trigger_px, algo.tp_ord_px = (
                    Decimal(tp),
                    Decimal(attached.get("tpOrdPx", "-1")),
                )
            self.desk.add(algo, last)
