"""Algo (stop) orders on the fake OKX: ``conditional``, ``oco`` and ``trigger``.

They live apart from regular orders, behind their own endpoints
(https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order):
an algo order has an ``algoId`` / ``algoClOrdId``, is ``live`` until it fires, then
places a regular order and becomes ``effective`` (``ordId`` names that order), or
``order_failed`` if the order is refused, or ``canceled``.

* ``conditional``: one TP or SL. "When placing net TP/SL order (ordType=conditional)
  and both take-profit and stop-loss parameters are sent, only stop-loss logic will be
  performed and take-profit logic will be ignored."
* ``oco``: TP and SL; the first to fire cancels the other.
* ``trigger``: ``triggerPx`` and ``orderPx`` (``-1``: market).

A sell SL fires when the last price falls to ``slTriggerPx``, a buy SL when it rises to
it; a TP the other way round. Placing one already on the wrong side of the last price
is refused with 51277-51280 (OKX error table: "SL trigger price cannot be higher than
the last price" and its three siblings). Which way a ``trigger`` order fires is not
documented: see :attr:`Rules.trigger_direction`. All triggers compare the last price
(``triggerPxType`` ``mark``/``index`` are taken as last: inferred, the fake has one price).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from fks_exec_ccxt.testing.okx import errors
from fks_exec_ccxt.testing.okx.errors import OkxError
from fks_exec_ccxt.testing.okx.markets import Instrument
from fks_exec_ccxt.testing.okx.rules import Rules

__all__ = ["AlgoDesk", "AlgoOrder", "check_trigger_sides"]

MARKET = Decimal(-1)


@dataclass
class AlgoOrder:
    """An algo order as the venue holds it."""

    algo_id: str
    algo_cl_ord_id: str
    tag: str
    inst: Instrument
    side: str
    ord_type: str
    sz: Decimal | None
    td_mode: str
    pos_side: str
    reduce_only: bool
    tgt_ccy: str
    c_time: int
    trigger_px: Decimal | None = None
    order_px: Decimal | None = None
    sl_trigger_px: Decimal | None = None
    sl_ord_px: Decimal | None = None
    tp_trigger_px: Decimal | None = None
    tp_ord_px: Decimal | None = None
    close_fraction: str = ""
    fires_on_rise: bool | None = None
    u_time: int = 0
    state: str = "live"
    ord_id: str = ""
    actual_sz: Decimal | None = None
    actual_px: Decimal | None = None
    actual_side: str = ""
    trigger_time: int | None = None
    fail_code: str = ""
    last_at_placement: Decimal | None = None

    @property
    def is_live(self) -> bool:
        """Waiting for its trigger."""
        return self.state == "live"


def check_trigger_sides(algo: AlgoOrder, last: Decimal) -> None:
    """Refuse a TP/SL already on the wrong side of ``last`` (51277-51280)."""
    sell = algo.side == "sell"
    sl, tp = algo.sl_trigger_px, algo.tp_trigger_px
    if sl is not None:
        if sell and sl > last:
            raise errors.trigger_vs_last("51280")
        if not sell and sl < last:
            raise errors.trigger_vs_last("51278")
    if tp is not None and (algo.ord_type == "oco" or sl is None):
        if sell and tp < last:
            raise errors.trigger_vs_last("51279")
        if not sell and tp > last:
            raise errors.trigger_vs_last("51277")


PlaceChild = Callable[[AlgoOrder, Decimal, Decimal | None], str]
"""Places the regular order of a fired algo: (algo, size, limit price or None) -> ordId."""


class AlgoDesk:
    """Live and finished algo orders; fires them as the last price moves."""

    def __init__(self, rules: Rules, clock: Callable[[], int], place_child: PlaceChild) -> None:
        self.rules = rules
        self.clock = clock
        self.place_child = place_child
        self.algos: dict[str, AlgoOrder] = {}

    def add(self, algo: AlgoOrder, last: Decimal) -> None:
        """Accept a validated algo order, fixing a ``trigger`` order's direction."""
        algo.u_time = algo.c_time
        algo.last_at_placement = last
        if algo.ord_type == "trigger":
            assert algo.trigger_px is not None
            if self.rules.trigger_direction == "by_side":
                algo.fires_on_rise = algo.side == "buy"
            else:
                algo.fires_on_rise = algo.trigger_px >= last
        self.algos[algo.algo_id] = algo

    def find(self, algo_id: str | None, algo_cl_ord_id: str | None) -> AlgoOrder | None:
        """An algo order by ``algoId``, else by ``algoClOrdId`` (newest first)."""
        if algo_id:
            return self.algos.get(algo_id)
        for algo in reversed(list(self.algos.values())):
            if algo_cl_ord_id and algo.algo_cl_ord_id == algo_cl_ord_id:
                return algo
        return None

    def client_id_taken(self, algo_cl_ord_id: str) -> bool:
        """Whether a live algo order (or any, per :class:`Rules`) has this id."""
        pending_only = self.rules.client_id_unique_among == "pending"
        return any(
            a.algo_cl_ord_id == algo_cl_ord_id and (a.is_live or not pending_only)
            for a in self.algos.values()
        )

    def cancel(self, algo: AlgoOrder) -> None:
        """Cancel a live algo order."""
        algo.state = "canceled"
        algo.u_time = self.clock()

    def on_price(self, inst_id: str, last: Decimal) -> None:
        """Fire every live algo order of ``inst_id`` that ``last`` reaches."""
        for algo in [a for a in self.algos.values() if a.is_live and a.inst.inst_id == inst_id]:
            leg = _leg_hit(algo, last)
            if leg is not None:
                self._fire(algo, leg, last)

    def _fire(self, algo: AlgoOrder, leg: str, last: Decimal) -> None:
        if leg == "sl":
            price = algo.sl_ord_px
        elif leg == "tp":
            price = algo.tp_ord_px
        else:
            price = algo.order_px
        limit = None if price is None or price == MARKET else price
        size = algo.sz if algo.sz is not None else Decimal(0)
        algo.trigger_time = self.clock()
        algo.u_time = algo.trigger_time
        algo.actual_side = leg if leg in ("sl", "tp") else ""
        algo.actual_px = limit if limit is not None else last
        try:
            algo.ord_id = self.place_child(algo, size, limit)
        except OkxError as refusal:
            algo.state = "order_failed"
            algo.fail_code = refusal.code
            return
        algo.actual_sz = size
        algo.state = "effective"


def _leg_hit(algo: AlgoOrder, last: Decimal) -> str | None:
    sell = algo.side == "sell"
    if algo.ord_type == "trigger":
        assert algo.trigger_px is not None
        rose = last >= algo.trigger_px
        fell = last <= algo.trigger_px
        return "trigger" if (rose if algo.fires_on_rise else fell) else None
    sl, tp = algo.sl_trigger_px, algo.tp_trigger_px
    if sl is not None and (last <= sl if sell else last >= sl):
        return "sl"
    use_tp = algo.ord_type == "oco" or sl is None
    if use_tp and tp is not None and (last >= tp if sell else last <= tp):
        return "tp"
    return None
