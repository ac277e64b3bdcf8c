"""The fake OKX's objects as OKX writes them in its JSON answers.

Field names and meanings follow the response tables of "Get order details"
(https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-details), "Get algo
order details" (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-get-algo-order-details),
"Get positions" (https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-positions),
"Get balance" (https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-balance) and
"Get ticker" (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-ticker);
the recorded answers in ccxt's static tests (``ts/src/test/static/response/okx.json``)
show the same shapes. Every number is a string; an absent value is ``""``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.okx.account import Position
from fks_exec_ccxt.testing.okx.algo import AlgoOrder
from fks_exec_ccxt.testing.okx.book import Order, Quote

__all__ = ["algo_json", "balance_detail", "num", "order_json", "position_json", "ticker_json"]


def num(value: Decimal | int | None) -> str:
    """A number as OKX writes it: plain decimal string, ``""`` for none."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def order_json(order: Order, leverage: Decimal) -> dict[str, Any]:
    """A regular order as the order endpoints list it."""
    inst = order.inst
    return {
        "accFillSz": num(order.acc_fill_sz),
        "algoClOrdId": order.algo_cl_ord_id,
        "algoId": order.algo_id,
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": order.attach_algo_ords,
        "avgPx": num(order.avg_px),
        "cTime": str(order.c_time),
        "cancelSource": order.cancel_source,
        "cancelSourceReason": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": order.cl_ord_id,
        "fee": num(order.fee),
        "feeCcy": order.fee_ccy or inst.margin_ccy,
        "fillPx": num(order.fill_px),
        "fillSz": num(order.fill_sz),
        "fillTime": "" if order.fill_time is None else str(order.fill_time),
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "lever": num(leverage) if inst.is_contract else "",
        "ordId": order.ord_id,
        "ordType": order.ord_type,
        "pnl": num(order.pnl),
        "posSide": order.pos_side or "net",
        "px": num(order.px),
        "rebate": "0",
        "rebateCcy": inst.quote if not inst.is_contract else inst.settle,
        "reduceOnly": "true" if order.reduce_only else "false",
        "side": order.side,
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": order.state,
        "stpMode": "cancel_maker",
        "sz": num(order.sz),
        "tag": order.tag,
        "tdMode": order.td_mode,
        "tgtCcy": order.tgt_ccy if not inst.is_contract else "",
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": order.trade_id,
        "uTime": str(order.u_time),
    }


def algo_json(algo: AlgoOrder, last: Decimal | None, leverage: Decimal) -> dict[str, Any]:
    """An algo order as the algo endpoints list it."""
    inst = algo.inst
    trigger = algo.ord_type == "trigger"
    return {
        "activePx": "",
        "actualPx": num(algo.actual_px),
        "actualSide": algo.actual_side,
        "actualSz": num(algo.actual_sz) if algo.actual_sz is not None else "0",
        "algoClOrdId": algo.algo_cl_ord_id,
        "algoId": algo.algo_id,
        "attachAlgoOrds": [],
        "cTime": str(algo.c_time),
        "callbackRatio": "",
        "callbackSpread": "",
        "ccy": "",
        "clOrdId": algo.algo_cl_ord_id,
        "closeFraction": algo.close_fraction,
        "failCode": algo.fail_code or ("0" if algo.state != "order_failed" else ""),
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "last": num(last),
        "lever": num(leverage) if inst.is_contract else "",
        "moveTriggerPx": "",
        "ordId": algo.ord_id,
        "ordIdList": [algo.ord_id] if algo.ord_id else [],
        "ordPx": num(algo.order_px) if trigger else "",
        "ordType": algo.ord_type,
        "posSide": algo.pos_side or "net",
        "reduceOnly": "true" if algo.reduce_only else "false",
        "side": algo.side,
        "slOrdPx": num(algo.sl_ord_px),
        "slTriggerPx": num(algo.sl_trigger_px),
        "slTriggerPxType": "last" if algo.sl_trigger_px is not None else "",
        "state": algo.state,
        "sz": num(algo.sz),
        "tag": algo.tag,
        "tdMode": algo.td_mode,
        "tgtCcy": algo.tgt_ccy,
        "tpOrdPx": num(algo.tp_ord_px),
        "tpTriggerPx": num(algo.tp_trigger_px),
        "tpTriggerPxType": "last" if algo.tp_trigger_px is not None else "",
        "triggerPx": num(algo.trigger_px),
        "triggerPxType": "last" if trigger else "",
        "triggerTime": "" if algo.trigger_time is None else str(algo.trigger_time),
        "uTime": str(algo.u_time),
    }


def position_json(
    position: Position, mark: Decimal, leverage: Decimal, mgn_mode: str
) -> dict[str, Any]:
    """A position as ``GET /api/v5/account/positions`` lists it (``pos`` in contracts)."""
    inst = position.inst
    upl = position.unrealized(mark)
    margin = position.value(position.avg_px) / leverage if position.avg_px else Decimal(0)
    notional_usd = abs(position.pos) * inst.ct_val * (Decimal(1) if inst.inverse else mark)
    return {
        "adl": "1",
        "availPos": "",
        "avgPx": num(position.avg_px),
        "cTime": str(position.c_time),
        "ccy": inst.settle,
        "closeOrderAlgo": [],
        "fee": num(position.fee),
        "imr": num(margin) if mgn_mode == "cross" else "",
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "last": num(mark),
        "lever": num(leverage),
        "liqPx": "",
        "margin": num(margin) if mgn_mode == "isolated" else "",
        "markPx": num(mark),
        "mgnMode": mgn_mode,
        "mgnRatio": "",
        "mmr": num(margin / 10),
        "notionalUsd": num(notional_usd),
        "pnl": num(position.realized_pnl - position.fee),
        "pos": num(position.pos),
        "posCcy": "",
        "posId": position.pos_id,
        "posSide": position.pos_side,
        "realizedPnl": num(position.realized_pnl),
        "uTime": str(position.u_time),
        "upl": num(upl),
        "uplRatio": num(upl / margin) if margin else "0",
    }


def balance_detail(
    ccy: str, cash: Decimal, frozen: Decimal, upl: Decimal, now_ms: int
) -> dict[str, Any]:
    """One currency of ``GET /api/v5/account/balance`` ``details``."""
    equity = cash + upl
    available = cash - frozen
    return {
        "availBal": num(available),
        "availEq": num(available + min(upl, Decimal(0))),
        "cashBal": num(cash),
        "ccy": ccy,
        "eq": num(equity),
        "eqUsd": "",
        "frozenBal": num(frozen),
        "ordFrozen": num(frozen),
        "uTime": str(now_ms),
        "upl": num(upl),
    }


def ticker_json(inst_id: str, inst_type: str, quote: Quote, now_ms: int) -> dict[str, Any]:
    """A ticker as ``GET /api/v5/market/ticker`` gives it."""
    return {
        "instType": inst_type,
        "instId": inst_id,
        "last": num(quote.last),
        "lastSz": "0",
        "askPx": num(quote.ask),
        "askSz": num(quote.ask_sz) if quote.ask_sz is not None else "1000000",
        "bidPx": num(quote.bid),
        "bidSz": num(quote.bid_sz) if quote.bid_sz is not None else "1000000",
        "open24h": num(quote.last),
        "high24h": num(quote.last),
        "low24h": num(quote.last),
        "volCcy24h": "0",
        "vol24h": "0",
        "ts": str(now_ms),
        "sodUtc0": num(quote.last),
        "sodUtc8": num(quote.last),
    }
