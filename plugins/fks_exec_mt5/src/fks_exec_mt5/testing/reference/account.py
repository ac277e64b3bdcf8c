"""The trading account and the terminal the fake stands for, and their info records.

Account properties: https://www.mql5.com/en/docs/constants/environment_state/accountinformation
- ACCOUNT_MARGIN_MODE: netting, exchange or hedging (ENUM_ACCOUNT_MARGIN_MODE).
- ACCOUNT_TRADE_MODE: demo, contest or real.
- ACCOUNT_TRADE_ALLOWED: false e.g. when logged in with the investor password
  (https://www.mql5.com/en/book/automation/account/account_limits_and_restrictions).
- ACCOUNT_TRADE_EXPERT: the broker forbids trading by programs.
- ACCOUNT_FIFO_CLOSE: positions close oldest first; "for accounts with the non-hedging
  position accounting mode ... the property value is always false" — the fake enforces that.
- ACCOUNT_LIMIT_ORDERS: maximum number of active pending orders (0: no limit).

Terminal properties (``terminal_info()``):
- ``trade_allowed``: the terminal's Algo Trading button
  (https://www.mql5.com/en/docs/runtime/tradepermission, TERMINAL_TRADE_ALLOWED); off, a
  request is answered 10027 TRADE_RETCODE_CLIENT_DISABLES_AT (mt5linux
  docs/issues/51-order-send-autotrading-disabled.md).
- ``tradeapi_disabled``: "Disable automatic trading via external Python API" in the
  terminal's options; on, trading calls fail with last_error -8
  RES_E_AUTO_TRADING_DISABLED (https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.records import AccountInfo, Record, TerminalInfo

__all__ = ["AccountSpec", "TerminalSpec", "account_info_record", "terminal_info_record"]


@dataclass(frozen=True)
class AccountSpec:
    """The account: login and credentials, accounting mode, permissions, money (Decimal).

    ``netting_magic_follows_last_order`` (fake only, **inferred**): on netting, whether a
    position's ``magic`` becomes that of the latest order that changed it (True) or stays
    that of the order that opened it (False, the default).
    ``freeze_blocks_close`` (fake only): a position whose SL/TP is inside the freeze
    level cannot be closed (10029) — the published MQL4 rule ("Market orders can not be
    closed if the StopLoss and TakeProfit values violate the FreezeLevel parameter
    requirements", https://book.mql4.com/appendix/limits), **inferred** to hold on MT5.
    ``pending_answer_retcode`` (fake only): what a placed pending order is answered —
    10009 TRADE_RETCODE_DONE, as a real server was captured answering (default), or 10008
    TRADE_RETCODE_PLACED ("Order placed" in the return-code table), to test code that
    must accept both.
    ``fifo_scope`` (fake only, **inferred**): ``"symbol"`` — FIFO ranks all positions of
    the symbol, as the documentation's wording says — or ``"symbol_and_direction"``.
    """

    login: int = 5_000_001
    password: str = "fake-password"
    server: str = "MetaQuotes-Demo"
    name: str = "Reference Fake"
    company: str = "MetaQuotes Ltd."
    currency: str = "USD"
    margin_mode: int = C.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    trade_mode: int = C.ACCOUNT_TRADE_MODE_DEMO
    fifo_close: bool = False
    trade_allowed: bool = True
    trade_expert: bool = True
    leverage: int = 100
    limit_orders: int = 0
    balance: Decimal = Decimal(10000)
    netting_magic_follows_last_order: bool = False
    freeze_blocks_close: bool = True
    pending_answer_retcode: int = C.TRADE_RETCODE_DONE
    fifo_scope: str = "symbol"

    def __post_init__(self) -> None:
        """Reject settings a real server never reports; raises ``ValueError``."""
        if self.fifo_close and not self.is_hedging:
            raise ValueError(
                "fifo_close is always false unless margin_mode is "
                "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING (MQL5 ACCOUNT_FIFO_CLOSE)"
            )
        if self.pending_answer_retcode not in (C.TRADE_RETCODE_DONE, C.TRADE_RETCODE_PLACED):
            raise ValueError("pending_answer_retcode must be 10009 (DONE) or 10008 (PLACED)")
        if self.fifo_scope not in ("symbol", "symbol_and_direction"):
            raise ValueError("fifo_scope must be 'symbol' or 'symbol_and_direction'")

    @property
    def is_hedging(self) -> bool:
        """Whether positions are kept per ticket (ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)."""
        return self.margin_mode == C.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING

    def with_changes(self, **changes: object) -> AccountSpec:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TerminalSpec:
    """The terminal: trading switches, connection, build and paths."""

    trade_allowed: bool = True
    tradeapi_disabled: bool = False
    connected: bool = True
    build: int = 4755
    company: str = "MetaQuotes Ltd."
    name: str = "MetaTrader 5"
    path: str = "C:\\Program Files\\MetaTrader 5"
    ping_last_us: int = 25_000

    def with_changes(self, **changes: object) -> TerminalSpec:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]


def account_info_record(
    spec: AccountSpec, balance: Decimal, profit: Decimal, margin: Decimal
) -> Record:
    """The ``AccountInfo`` struct sequence for the account's current money."""
    equity = balance + profit
    free = equity - margin
    level = float(equity / margin * 100) if margin else 0.0
    values: dict[str, object] = {
        "login": spec.login,
        "trade_mode": spec.trade_mode,
        "leverage": spec.leverage,
        "limit_orders": spec.limit_orders,
        "margin_so_mode": C.ACCOUNT_STOPOUT_MODE_PERCENT,
        "trade_allowed": spec.trade_allowed,
        "trade_expert": spec.trade_expert,
        "margin_mode": spec.margin_mode,
        "currency_digits": 2,
        "fifo_close": spec.fifo_close,
        "balance": float(balance),
        "credit": 0.0,
        "profit": float(profit),
        "equity": float(equity),
        "margin": float(margin),
        "margin_free": float(free),
        "margin_level": level,
        "margin_so_call": 50.0,
        "margin_so_so": 30.0,
        "margin_initial": 0.0,
        "margin_maintenance": 0.0,
        "assets": 0.0,
        "liabilities": 0.0,
        "commission_blocked": 0.0,
        "name": spec.name,
        "server": spec.server,
        "currency": spec.currency,
        "company": spec.company,
    }
    return AccountInfo(values[name] for name in AccountInfo._names)


def terminal_info_record(spec: TerminalSpec, connected: bool) -> Record:
    """The ``TerminalInfo`` struct sequence; ``connected`` is the trade server link."""
    values: dict[str, object] = {
        "community_account": False,
        "community_connection": False,
        "connected": connected and spec.connected,
        "dlls_allowed": False,
        "trade_allowed": spec.trade_allowed,
        "tradeapi_disabled": spec.tradeapi_disabled,
        "email_enabled": False,
        "ftp_enabled": False,
        "notifications_enabled": False,
        "mqid": False,
        "build": spec.build,
        "maxbars": 100000,
        "codepage": 0,
        "ping_last": spec.ping_last_us,
        "community_balance": 0.0,
        "retransmission": 0.0,
        "company": spec.company,
        "name": spec.name,
        "language": "English",
        "path": spec.path,
        "data_path": spec.path,
        "commondata_path": spec.path,
    }
    return TerminalInfo(values[name] for name in TerminalInfo._names)
