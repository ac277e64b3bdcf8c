"""Symbol specifications the fake trades, and the ``SymbolInfo`` records built from them.

Properties and their meaning: https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants
(SYMBOL_TRADE_EXEMODE, SYMBOL_FILLING_MODE, SYMBOL_EXPIRATION_MODE, SYMBOL_ORDER_MODE,
SYMBOL_ORDER_GTC_MODE, SYMBOL_TRADE_STOPS_LEVEL, SYMBOL_TRADE_FREEZE_LEVEL,
SYMBOL_VOLUME_MIN/MAX/STEP/LIMIT, SYMBOL_TRADE_TICK_SIZE).

The flag values below exist in MQL5 but are *not* constants of the Python package (the
5.0.6231 wheel has no ``SYMBOL_FILLING_FOK``), so they are defined here, from
https://www.mql5.com/en/book/automation/symbols/symbols_execution_filling and
https://www.mql5.com/en/book/automation/symbols/symbols_expiration.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.records import Record, SymbolInfo, Tick

__all__ = [
    "SYMBOL_EXPIRATION_DAY",
    "SYMBOL_EXPIRATION_GTC",
    "SYMBOL_EXPIRATION_SPECIFIED",
    "SYMBOL_EXPIRATION_SPECIFIED_DAY",
    "SYMBOL_FILLING_BOC",
    "SYMBOL_FILLING_FOK",
    "SYMBOL_FILLING_IOC",
    "SYMBOL_ORDER_CLOSEBY",
    "SYMBOL_ORDER_LIMIT",
    "SYMBOL_ORDER_MARKET",
    "SYMBOL_ORDER_SL",
    "SYMBOL_ORDER_STOP",
    "SYMBOL_ORDER_STOP_LIMIT",
    "SYMBOL_ORDER_TP",
    "Quote",
    "SymbolSpec",
    "default_symbols",
    "symbol_info_record",
    "tick_record",
]

SYMBOL_FILLING_FOK: Final = 1
SYMBOL_FILLING_IOC: Final = 2
SYMBOL_FILLING_BOC: Final = 4
SYMBOL_EXPIRATION_GTC: Final = 1
SYMBOL_EXPIRATION_DAY: Final = 2
SYMBOL_EXPIRATION_SPECIFIED: Final = 4
SYMBOL_EXPIRATION_SPECIFIED_DAY: Final = 8
# https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants#symbol_order_mode
SYMBOL_ORDER_MARKET: Final = 1
SYMBOL_ORDER_LIMIT: Final = 2
SYMBOL_ORDER_STOP: Final = 4
SYMBOL_ORDER_STOP_LIMIT: Final = 8
SYMBOL_ORDER_SL: Final = 16
SYMBOL_ORDER_TP: Final = 32
SYMBOL_ORDER_CLOSEBY: Final = 64
_ALL_ORDERS: Final = 127
_ALL_EXPIRATIONS: Final = 15


@dataclass(frozen=True)
class SymbolSpec:
    """A symbol's trading rules as the broker sets them. Prices and volumes are Decimal.

    ``stops_level_points`` / ``freeze_level_points`` are in points (``point``), as
    SYMBOL_TRADE_STOPS_LEVEL / SYMBOL_TRADE_FREEZE_LEVEL are. ``volume_limit`` 0 means
    no limit. ``liquidity`` (fake only) caps the volume one market order can fill, to
    exercise FOK/IOC; ``None`` fills everything.

    ``return_for_market_orders`` (fake only): MetaQuotes' two texts disagree on Return
    for *market* orders on Market execution — the terminal help's table forbids it ("used
    only in the Exchange Execution mode"), the MQL5 reference of ENUM_ORDER_TYPE_FILLING
    allows it ("only for the symbols with Market or Exchange execution"). False (the
    default) follows the table; True the reference.
    """

    name: str
    digits: int = 5
    point: Decimal = Decimal("0.00001")
    tick_size: Decimal = Decimal("0.00001")
    contract_size: Decimal = Decimal(100000)
    volume_min: Decimal = Decimal("0.01")
    volume_max: Decimal = Decimal(100)
    volume_step: Decimal = Decimal("0.01")
    volume_limit: Decimal = Decimal(0)
    stops_level_points: int = 0
    freeze_level_points: int = 0
    execution_mode: int = C.SYMBOL_TRADE_EXECUTION_MARKET
    filling_flags: int = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC
    expiration_flags: int = _ALL_EXPIRATIONS
    order_flags: int = _ALL_ORDERS
    order_gtc_mode: int = C.SYMBOL_ORDERS_GTC
    trade_mode: int = C.SYMBOL_TRADE_MODE_FULL
    calc_mode: int = C.SYMBOL_CALC_MODE_FOREX
    currency_base: str = "EUR"
    currency_profit: str = "USD"
    currency_margin: str = "EUR"
    description: str = ""
    path: str = ""
    liquidity: Decimal | None = None
    return_for_market_orders: bool = False


@dataclass
class Quote:
    """The symbol's live state in the fake: prices (Decimal), tick time, selection."""

    bid: Decimal = Decimal(0)
    ask: Decimal = Decimal(0)
    last: Decimal = Decimal(0)
    time_msc: int = 0
    selected: bool = True
    market_open: bool = True

    @property
    def has_prices(self) -> bool:
        """Whether a tick with both sides arrived (no tick: 'No prices')."""
        return self.bid > 0 and self.ask > 0


def default_symbols() -> tuple[SymbolSpec, ...]:
    """A small retail-forex universe: EURUSD (market execution), USDJPY (instant
    execution, stops/freeze levels), XAUUSD (volume limit), GER40 (exchange execution).
    """
    return (
        SymbolSpec("EURUSD", description="Euro vs US Dollar", path="Forex\\EURUSD"),
        SymbolSpec(
            "USDJPY",
            digits=3,
            point=Decimal("0.001"),
            tick_size=Decimal("0.001"),
            execution_mode=C.SYMBOL_TRADE_EXECUTION_INSTANT,
            filling_flags=SYMBOL_FILLING_FOK,
            stops_level_points=50,
            freeze_level_points=20,
            currency_base="USD",
            currency_profit="JPY",
            currency_margin="USD",
            description="US Dollar vs Yen",
            path="Forex\\USDJPY",
        ),
        SymbolSpec(
            "XAUUSD",
            digits=2,
            point=Decimal("0.01"),
            tick_size=Decimal("0.01"),
            contract_size=Decimal(100),
            volume_limit=Decimal(5),
            expiration_flags=SYMBOL_EXPIRATION_GTC | SYMBOL_EXPIRATION_SPECIFIED,
            currency_base="XAU",
            currency_margin="XAU",
            description="Gold vs US Dollar",
            path="Metals\\XAUUSD",
        ),
        SymbolSpec(
            "GER40",
            digits=1,
            point=Decimal("0.1"),
            tick_size=Decimal("0.5"),
            contract_size=Decimal(1),
            volume_min=Decimal(1),
            volume_step=Decimal(1),
            execution_mode=C.SYMBOL_TRADE_EXECUTION_EXCHANGE,
            filling_flags=SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC | SYMBOL_FILLING_BOC,
            expiration_flags=SYMBOL_EXPIRATION_GTC | SYMBOL_EXPIRATION_DAY,
            calc_mode=C.SYMBOL_CALC_MODE_EXCH_FUTURES,
            currency_base="EUR",
            currency_profit="EUR",
            currency_margin="EUR",
            description="Germany 40 future",
            path="Exchange\\GER40",
        ),
    )


def symbol_info_record(spec: SymbolSpec, quote: Quote, server_time_s: int) -> Record:
    """The ``SymbolInfo`` struct sequence ``symbol_info()`` returns for ``spec``."""
    spread = int((quote.ask - quote.bid) / spec.point) if quote.has_prices else 0
    values: dict[str, object] = {
        "custom": False,
        "chart_mode": C.SYMBOL_CHART_MODE_BID,
        "select": quote.selected,
        "visible": quote.selected,
        "time": server_time_s if quote.has_prices else 0,
        "digits": spec.digits,
        "spread": spread,
        "spread_float": True,
        "trade_calc_mode": spec.calc_mode,
        "trade_mode": spec.trade_mode,
        "trade_stops_level": spec.stops_level_points,
        "trade_freeze_level": spec.freeze_level_points,
        "trade_exemode": spec.execution_mode,
        "expiration_mode": spec.expiration_flags,
        "filling_mode": spec.filling_flags,
        "order_mode": spec.order_flags,
        "order_gtc_mode": spec.order_gtc_mode,
        "bid": float(quote.bid),
        "ask": float(quote.ask),
        "last": float(quote.last),
        "point": float(spec.point),
        "trade_tick_value": float(spec.tick_size * spec.contract_size),
        "trade_tick_value_profit": float(spec.tick_size * spec.contract_size),
        "trade_tick_value_loss": float(spec.tick_size * spec.contract_size),
        "trade_tick_size": float(spec.tick_size),
        "trade_contract_size": float(spec.contract_size),
        "volume_min": float(spec.volume_min),
        "volume_max": float(spec.volume_max),
        "volume_step": float(spec.volume_step),
        "volume_limit": float(spec.volume_limit),
        "currency_base": spec.currency_base,
        "currency_profit": spec.currency_profit,
        "currency_margin": spec.currency_margin,
        "description": spec.description,
        "name": spec.name,
        "path": spec.path,
    }
    return SymbolInfo(values.get(name, _zero_for(name)) for name in SymbolInfo._names)


_TEXT_FIELDS: Final = frozenset(
    {"basis", "category", "bank", "exchange", "formula", "isin", "page"}
)
_FLOAT_PREFIXES: Final = ("price_", "session_", "swap_", "margin_", "option_", "trade_")


def _zero_for(name: str) -> object:
    if name in _TEXT_FIELDS:
        return ""
    if name == "margin_hedged_use_leg":
        return False
    if name.startswith(_FLOAT_PREFIXES) or name.endswith(("high", "low", "_real")):
        return 0.0
    return 0


def tick_record(quote: Quote) -> Record:
    """The ``Tick`` struct sequence of the last quote (times in server time)."""
    return Tick(
        (
            quote.time_msc // 1000,
            float(quote.bid),
            float(quote.ask),
            float(quote.last),
            0,
            quote.time_msc,
            C.TICK_FLAG_BID | C.TICK_FLAG_ASK,
            0.0,
        )
    )
