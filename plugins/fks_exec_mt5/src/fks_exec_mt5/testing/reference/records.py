"""Result types shaped like the real package's: struct sequences that do not pickle.

The MetaTrader5 package returns its results (``TradePosition``, ``OrderSendResult``...)
as C-extension struct sequences: tuples with named fields and ``_asdict()``, but no
``_fields``, defined where pickle cannot find them, so ``pickle.dumps`` fails with
``PicklingError: Can't pickle <class 'TerminalInfo'>: attribute lookup TerminalInfo on
builtins failed``. That is what breaks mt5linux's rpyc bridge on real terminals
(mt5linux docs/issues/57-rpyc-serialization-errors.md, lucas-campagna/mt5linux; issue 17
of this project). The types here behave the same: each is a ``tuple`` subclass whose
class claims to live in ``builtins``, so pickling raises exactly that error, while
``copy.copy``, indexing, unpacking, ``==`` and ``_asdict()`` work as on the real ones.

Field names and their order are those of the real types (checked against the identifiers
extracted from the 5.0.6231 wheel by ``tests/test_reference_terminal.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

__all__ = [
    "AccountInfo",
    "OrderCheckResult",
    "OrderSendResult",
    "Record",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
]


class Record(tuple):  # type: ignore[type-arg]
    """A tuple with named read-only fields, ``_asdict()``, and no pickling (see module)."""

    __slots__ = ()
    _names: tuple[str, ...] = ()

    def __new__(cls, values: Iterable[Any]) -> Record:
        """Build from the field values in declaration order; raises ``TypeError`` on a
        wrong count (as ``os.stat_result`` does)."""
        items = tuple(values)
        if len(items) != len(cls._names):
            raise TypeError(f"{cls.__name__}() takes a {len(cls._names)}-sequence")
        return super().__new__(cls, items)

    def _asdict(self) -> dict[str, Any]:
        """Field name to value, like the real result types' ``_asdict()``."""
        return dict(zip(self._names, self, strict=True))

    def __repr__(self) -> str:
        """``Name(field=value, ...)``, as the real types print."""
        body = ", ".join(f"{name}={value!r}" for name, value in zip(self._names, self, strict=True))
        return f"{type(self).__name__}({body})"

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


def _record_type(name: str, fields: str) -> type[Record]:
    names = tuple(fields.split())
    namespace: dict[str, Any] = {
        "__slots__": (),
        "_names": names,
        "__doc__": f"Fake of the MetaTrader5 package's ``{name}`` (fields: {', '.join(names)}).",
        # Where the real C types claim to live: pickle's lookup of the class fails there.
        "__module__": "builtins",
        "__qualname__": name,
    }
    for index, field in enumerate(names):
        namespace[field] = property(itemgetter(index), doc=f"Field ``{field}``.")
    return type(name, (Record,), namespace)


TradeRequest = _record_type(
    "TradeRequest",
    "action magic order symbol volume price stoplimit sl tp deviation type type_filling"
    " type_time expiration comment position position_by",
)
OrderSendResult = _record_type(
    "OrderSendResult",
    "retcode deal order volume price bid ask comment request_id retcode_external request",
)
OrderCheckResult = _record_type(
    "OrderCheckResult",
    "retcode balance equity profit margin margin_free margin_level comment request",
)
TradePosition = _record_type(
    "TradePosition",
    "ticket time time_msc time_update time_update_msc type magic identifier reason volume"
    " price_open sl tp price_current swap profit symbol comment external_id",
)
TradeOrder = _record_type(
    "TradeOrder",
    "ticket time_setup time_setup_msc time_done time_done_msc time_expiration type type_time"
    " type_filling state magic position_id position_by_id reason volume_initial"
    " volume_current price_open sl tp price_current price_stoplimit symbol comment"
    " external_id",
)
TradeDeal = _record_type(
    "TradeDeal",
    "ticket order time time_msc type entry magic position_id reason volume price commission"
    " swap profit fee symbol comment external_id",
)
Tick = _record_type("Tick", "time bid ask last volume time_msc flags volume_real")
AccountInfo = _record_type(
    "AccountInfo",
    "login trade_mode leverage limit_orders margin_so_mode trade_allowed trade_expert"
    " margin_mode currency_digits fifo_close balance credit profit equity margin margin_free"
    " margin_level margin_so_call margin_so_so margin_initial margin_maintenance assets"
    " liabilities commission_blocked name server currency company",
)
TerminalInfo = _record_type(
    "TerminalInfo",
    "community_account community_connection connected dlls_allowed trade_allowed"
    " tradeapi_disabled email_enabled ftp_enabled notifications_enabled mqid build maxbars"
    " codepage ping_last community_balance retransmission company name language path"
    " data_path commondata_path",
)
SymbolInfo = _record_type(
    "SymbolInfo",
    "custom chart_mode select visible session_deals session_buy_orders session_sell_orders"
    " volume volumehigh volumelow time digits spread spread_float ticks_bookdepth"
    " trade_calc_mode trade_mode start_time expiration_time trade_stops_level"
    " trade_freeze_level trade_exemode swap_mode swap_rollover3days margin_hedged_use_leg"
    " expiration_mode filling_mode order_mode order_gtc_mode option_mode option_right bid"
    " bidhigh bidlow ask askhigh asklow last lasthigh lastlow volume_real volumehigh_real"
    " volumelow_real option_strike point trade_tick_value trade_tick_value_profit"
    " trade_tick_value_loss trade_tick_size trade_contract_size trade_accrued_interest"
    " trade_face_value trade_liquidity_rate volume_min volume_max volume_step volume_limit"
    " swap_long swap_short margin_initial margin_maintenance session_volume"
    " session_turnover session_interest session_buy_orders_volume"
    " session_sell_orders_volume session_open session_close session_aw"
    " session_price_settlement session_price_limit_min session_price_limit_max"
    " margin_hedged price_change price_volatility price_theoretical price_greeks_delta"
    " price_greeks_theta price_greeks_gamma price_greeks_vega price_greeks_rho"
    " price_greeks_omega price_sensitivity basis category currency_base currency_profit"
    " currency_margin bank description exchange formula isin name page path",
)
