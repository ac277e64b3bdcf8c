"""The server's rules for a request, each a small function returning a retcode (0: passes).

Sources (one per rule, cited again in docs/plugins/mt5-reference-fake.md):

- Fill policy per execution mode and order kind — MetaTrader 5 help "Fill Policy"
  (https://www.metatrader5.com/en/mobile-trading/iphone/help/trade/general_concept/fill_policy):
  Instant and Request execution: Fill or Kill only; Market execution: FOK, IOC, and
  Return for limit/stop-limit orders; Exchange execution: FOK, IOC, Return, and Book or
  Cancel for limit/stop-limit orders. "For market orders, the Return policy is used only
  in the Exchange Execution mode, while for limit and stop limit ones, it is applied in
  the Market Execution and Exchange Execution modes"; Return "is only used for market,
  limit and stop limit orders" (so never for stop orders); BOC "is only supported for
  limit and stop limit orders". On top of the table FOK/IOC/BOC need the symbol's
  SYMBOL_FILLING_FOK/IOC/BOC flag (https://mql5.com/en/book/automation/experts/experts_execution_filling:
  "The ability to use FOK orders is determined by the presence of the SYMBOL_FILLING_FOK
  permission"). Violations: 10030 TRADE_RETCODE_INVALID_FILL. The MQL5 reference of
  ENUM_ORDER_TYPE_FILLING (https://www.mql5.com/en/docs/constants/tradingconstants/orderproperties)
  allows Return for market orders on Market execution too: ``SymbolSpec.
  return_for_market_orders`` selects that reading.
- Expiration — SYMBOL_EXPIRATION_MODE flags and ENUM_ORDER_TYPE_TIME
  (https://www.mql5.com/en/book/automation/symbols/symbols_expiration): a type_time
  whose flag is absent, or a specified expiration not in the future: 10022.
- Stops level — minimum distance in points between the market and a pending order's
  price (10015 INVALID_PRICE) and between the reference price and SL/TP (10016
  INVALID_STOPS); table of "Requirements and Limitations in Making Trades"
  (https://book.mql4.com/appendix/limits), which MQL5's "The checks a trading robot must
  pass before publication" (https://www.mql5.com/en/articles/2555) repeats for MT5.
- Freeze level — a pending order whose price, or a position whose SL/TP, is within
  SYMBOL_TRADE_FREEZE_LEVEL points of the market cannot be modified or deleted: 10029
  TRADE_RETCODE_FROZEN (same tables; strict ">" as published).
  The MQL5 book states both levels against Ask for buys and Bid for sells
  (https://www.mql5.com/en/book/automation/symbols/symbols_spreads_levels).
- Volume — SYMBOL_VOLUME_MIN/MAX/STEP: 10014 INVALID_VOLUME; SYMBOL_VOLUME_LIMIT,
  "maximum allowable total volume of an open position and pending orders in one
  direction (buy or sell)" (https://www.mql5.com/en/book/automation/symbols/symbols_volume,
  with its 5-lot example): 10034 LIMIT_VOLUME.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.symbols import (
    SYMBOL_EXPIRATION_DAY,
    SYMBOL_EXPIRATION_GTC,
    SYMBOL_EXPIRATION_SPECIFIED,
    SYMBOL_EXPIRATION_SPECIFIED_DAY,
    SYMBOL_FILLING_BOC,
    SYMBOL_FILLING_FOK,
    SYMBOL_FILLING_IOC,
    SYMBOL_ORDER_LIMIT,
    SYMBOL_ORDER_MARKET,
    SYMBOL_ORDER_SL,
    SYMBOL_ORDER_STOP,
    SYMBOL_ORDER_STOP_LIMIT,
    SYMBOL_ORDER_TP,
    SymbolSpec,
)

__all__ = [
    "BUY_TYPES",
    "LIMIT_TYPES",
    "MARKET_TYPES",
    "PENDING_TYPES",
    "STOP_LIMIT_TYPES",
    "STOP_TYPES",
    "allowed_fillings",
    "check_expiration",
    "check_fill_policy",
    "check_order_mode",
    "check_pending_price",
    "check_stops",
    "check_volume",
    "frozen_order",
    "frozen_position",
    "on_grid",
]

MARKET_TYPES: Final = frozenset({C.ORDER_TYPE_BUY, C.ORDER_TYPE_SELL})
LIMIT_TYPES: Final = frozenset({C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_SELL_LIMIT})
STOP_TYPES: Final = frozenset({C.ORDER_TYPE_BUY_STOP, C.ORDER_TYPE_SELL_STOP})
STOP_LIMIT_TYPES: Final = frozenset({C.ORDER_TYPE_BUY_STOP_LIMIT, C.ORDER_TYPE_SELL_STOP_LIMIT})
PENDING_TYPES: Final = LIMIT_TYPES | STOP_TYPES | STOP_LIMIT_TYPES
BUY_TYPES: Final = frozenset(
    {C.ORDER_TYPE_BUY, C.ORDER_TYPE_BUY_LIMIT, C.ORDER_TYPE_BUY_STOP, C.ORDER_TYPE_BUY_STOP_LIMIT}
)

_FOK, _IOC, _RET, _BOC = (
    C.ORDER_FILLING_FOK,
    C.ORDER_FILLING_IOC,
    C.ORDER_FILLING_RETURN,
    C.ORDER_FILLING_BOC,
)
# (execution mode, order kind) -> policies the help page's table allows.
_TABLE: Final[dict[tuple[int, str], frozenset[int]]] = {
    (C.SYMBOL_TRADE_EXECUTION_INSTANT, "market"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_INSTANT, "limit"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_INSTANT, "stop"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_REQUEST, "market"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_REQUEST, "limit"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_REQUEST, "stop"): frozenset({_FOK}),
    (C.SYMBOL_TRADE_EXECUTION_MARKET, "market"): frozenset({_FOK, _IOC}),
    (C.SYMBOL_TRADE_EXECUTION_MARKET, "limit"): frozenset({_FOK, _IOC, _RET}),
    (C.SYMBOL_TRADE_EXECUTION_MARKET, "stop"): frozenset({_FOK, _IOC}),
    (C.SYMBOL_TRADE_EXECUTION_EXCHANGE, "market"): frozenset({_FOK, _IOC, _RET}),
    (C.SYMBOL_TRADE_EXECUTION_EXCHANGE, "limit"): frozenset({_FOK, _IOC, _RET, _BOC}),
    (C.SYMBOL_TRADE_EXECUTION_EXCHANGE, "stop"): frozenset({_FOK, _IOC}),
}
_FLAG_OF_POLICY: Final = {
    _FOK: SYMBOL_FILLING_FOK,
    _IOC: SYMBOL_FILLING_IOC,
    _BOC: SYMBOL_FILLING_BOC,
}
_EXPIRATION_FLAG: Final = {
    C.ORDER_TIME_GTC: SYMBOL_EXPIRATION_GTC,
    C.ORDER_TIME_DAY: SYMBOL_EXPIRATION_DAY,
    C.ORDER_TIME_SPECIFIED: SYMBOL_EXPIRATION_SPECIFIED,
    C.ORDER_TIME_SPECIFIED_DAY: SYMBOL_EXPIRATION_SPECIFIED_DAY,
}
_ORDER_MODE_FLAG: Final = {
    **dict.fromkeys(MARKET_TYPES, SYMBOL_ORDER_MARKET),
    **dict.fromkeys(LIMIT_TYPES, SYMBOL_ORDER_LIMIT),
    **dict.fromkeys(STOP_TYPES, SYMBOL_ORDER_STOP),
    **dict.fromkeys(STOP_LIMIT_TYPES, SYMBOL_ORDER_STOP_LIMIT),
}


def _kind(order_type: int) -> str:
    if order_type in MARKET_TYPES:
        return "market"
    if order_type in STOP_TYPES:
        return "stop"
    return "limit"


def allowed_fillings(spec: SymbolSpec, order_type: int) -> frozenset[int]:
    """The ORDER_FILLING_* policies the server accepts for this order type on ``spec``."""
    table = _TABLE.get((spec.execution_mode, _kind(order_type)), frozenset())
    market_execution = spec.execution_mode == C.SYMBOL_TRADE_EXECUTION_MARKET
    if spec.return_for_market_orders and market_execution and order_type in MARKET_TYPES:
        table = table | {_RET}
    return frozenset(
        policy for policy in table if policy == _RET or spec.filling_flags & _FLAG_OF_POLICY[policy]
    )


def check_fill_policy(spec: SymbolSpec, order_type: int, filling: int) -> int:
    """10030 unless ``filling`` is allowed for this order type, execution mode and flags."""
    return 0 if filling in allowed_fillings(spec, order_type) else C.TRADE_RETCODE_INVALID_FILL


def check_order_mode(spec: SymbolSpec, order_type: int, sl: Decimal, tp: Decimal) -> int:
    """10035 for an order type SYMBOL_ORDER_MODE forbids; 10016 for SL/TP it forbids."""
    flag = _ORDER_MODE_FLAG.get(order_type)
    if flag is None or not spec.order_flags & flag:
        return C.TRADE_RETCODE_INVALID_ORDER
    if (sl and not spec.order_flags & SYMBOL_ORDER_SL) or (
        tp and not spec.order_flags & SYMBOL_ORDER_TP
    ):
        return C.TRADE_RETCODE_INVALID_STOPS
    return 0


def check_expiration(spec: SymbolSpec, type_time: int, expiration: int, now_s: int) -> int:
    """10022 when the symbol's expiration flags forbid ``type_time`` or it is in the past."""
    flag = _EXPIRATION_FLAG.get(type_time)
    if flag is None or not spec.expiration_flags & flag:
        return C.TRADE_RETCODE_INVALID_EXPIRATION
    if type_time == C.ORDER_TIME_SPECIFIED and expiration <= now_s:
        return C.TRADE_RETCODE_INVALID_EXPIRATION
    if type_time == C.ORDER_TIME_SPECIFIED_DAY and expiration // 86400 < now_s // 86400:
        return C.TRADE_RETCODE_INVALID_EXPIRATION
    return 0


def on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``."""
    return step <= 0 or (value / step) % 1 == 0


def check_volume(spec: SymbolSpec, volume: Decimal) -> int:
    """10014 outside [volume_min, volume_max] or off the volume_step grid."""
    if volume < spec.volume_min or volume > spec.volume_max:
        return C.TRADE_RETCODE_INVALID_VOLUME
    return 0 if on_grid(volume, spec.volume_step) else C.TRADE_RETCODE_INVALID_VOLUME


def check_pending_price(
    spec: SymbolSpec,
    order_type: int,
    price: Decimal,
    stoplimit: Decimal,
    bid: Decimal,
    ask: Decimal,
) -> int:
    """10015 for a pending price off the tick grid, on the wrong side, or within stops level."""
    level = spec.stops_level_points * spec.point
    if price <= 0 or not on_grid(price, spec.tick_size):
        return C.TRADE_RETCODE_INVALID_PRICE
    distance = {
        C.ORDER_TYPE_BUY_LIMIT: ask - price,
        C.ORDER_TYPE_SELL_LIMIT: price - bid,
        C.ORDER_TYPE_BUY_STOP: price - ask,
        C.ORDER_TYPE_SELL_STOP: bid - price,
        C.ORDER_TYPE_BUY_STOP_LIMIT: price - ask,
        C.ORDER_TYPE_SELL_STOP_LIMIT: bid - price,
    }[order_type]
    if distance < level:
        return C.TRADE_RETCODE_INVALID_PRICE
    if order_type in STOP_LIMIT_TYPES:
        # The limit order placed on activation sits below (buy) / above (sell) the stop.
        if stoplimit <= 0 or not on_grid(stoplimit, spec.tick_size):
            return C.TRADE_RETCODE_INVALID_PRICE
        wrong_side = stoplimit > price if order_type in BUY_TYPES else stoplimit < price
        if wrong_side:
            return C.TRADE_RETCODE_INVALID_PRICE
    return 0


def check_stops(
    spec: SymbolSpec, order_type: int, reference: Decimal, sl: Decimal, tp: Decimal
) -> int:
    """10016 for SL/TP off the grid, on the wrong side, or closer than the stops level.

    ``reference`` is the price the stops are measured from: Bid for a buy position,
    Ask for a sell one, the open (or stop-limit) price for a pending order.
    """
    level = spec.stops_level_points * spec.point
    for value in (sl, tp):
        if value and not on_grid(value, spec.tick_size):
            return C.TRADE_RETCODE_INVALID_STOPS
    buy = order_type in BUY_TYPES
    if sl and (reference - sl if buy else sl - reference) < level:
        return C.TRADE_RETCODE_INVALID_STOPS
    if tp and (tp - reference if buy else reference - tp) < level:
        return C.TRADE_RETCODE_INVALID_STOPS
    if (sl and sl == reference) or (tp and tp == reference):
        return C.TRADE_RETCODE_INVALID_STOPS
    return 0


def frozen_order(
    spec: SymbolSpec, order_type: int, price: Decimal, bid: Decimal, ask: Decimal
) -> bool:
    """Whether a pending order is inside the freeze level (cannot be modified/deleted)."""
    freeze = spec.freeze_level_points * spec.point
    if freeze <= 0:
        return False
    distance = {
        C.ORDER_TYPE_BUY_LIMIT: ask - price,
        C.ORDER_TYPE_SELL_LIMIT: price - bid,
        C.ORDER_TYPE_BUY_STOP: price - ask,
        C.ORDER_TYPE_SELL_STOP: bid - price,
        C.ORDER_TYPE_BUY_STOP_LIMIT: price - ask,
        C.ORDER_TYPE_SELL_STOP_LIMIT: bid - price,
    }[order_type]
    return not distance > freeze


def frozen_position(
    spec: SymbolSpec, position_type: int, sl: Decimal, tp: Decimal, bid: Decimal, ask: Decimal
) -> bool:
    """Whether a position's current SL or TP is inside the freeze level (no modification)."""
    freeze = spec.freeze_level_points * spec.point
    if freeze <= 0:
        return False
    if position_type == C.POSITION_TYPE_BUY:
        return bool((tp and not tp - bid > freeze) or (sl and not bid - sl > freeze))
    return bool((tp and not ask - tp > freeze) or (sl and not sl - ask > freeze))
