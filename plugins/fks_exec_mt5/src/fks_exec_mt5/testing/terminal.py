"""A fake MetaTrader5 module: the package's functions, constants and results, offline.

``FakeMetaTrader5()`` behaves like ``import MetaTrader5 as mt5`` connected to a demo
account: the same function names and signatures, the real constant values, named
tuples with the real field names, ``last_error()`` codes, netting or hedging accounts,
instruments with realistic specifications, market orders executed against quotes the
test sets, pending orders and stop loss / take profit triggering on price moves, and
the server's return codes. Test controls (not in the real package) are the methods
under "test controls" below: quotes, sessions, requotes, IPC failures, disconnection.

Every call must come from one thread (the real package holds one global connection);
a call from another thread raises ``AssertionError`` and is counted. Historical bars and
ticks (``copy_rates_*``, ``copy_ticks_*``) are not simulated.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque, namedtuple
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

__all__ = ["FakeMetaTrader5", "SymbolSpec", "default_symbols"]

BookInfo = namedtuple("BookInfo", "type price volume volume_dbl")

_REQUEST_KEYS = set(TradeRequest._fields)
_RETCODE_TEXT = {
    c.TRADE_RETCODE_REQUOTE: "Requote",
    c.TRADE_RETCODE_PLACED: "Request executed",
    c.TRADE_RETCODE_DONE: "Request executed",
    c.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
    c.TRADE_RETCODE_INVALID: "Invalid request",
    c.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
    c.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
    c.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
    c.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
    c.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
    c.TRADE_RETCODE_NO_MONEY: "No money",
    c.TRADE_RETCODE_PRICE_OFF: "Off quotes",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "AutoTrading disabled by client",
    c.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    c.TRADE_RETCODE_CONNECTION: "No connection",
    c.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
    c.TRADE_RETCODE_POSITION_CLOSED: "Position doesn't exist",
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Invalid close volume",
    c.TRADE_RETCODE_TIMEOUT: "Request timed out",
}
_IPC_TEXT = {
    c.RES_E_INTERNAL_FAIL: "Internal IPC general error",
    c.RES_E_INTERNAL_FAIL_SEND: "IPC send failed",
    c.RES_E_INTERNAL_FAIL_RECEIVE: "IPC recv failed",
    c.RES_E_INTERNAL_FAIL_INIT: "IPC initialize failed, MetaTrader 5 x64 not found",
    c.RES_E_INTERNAL_FAIL_CONNECT: "No IPC connection",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "IPC timeout",
}


@dataclass
class SymbolSpec:
    """An instrument as the fake broker offers it."""

    name: str
    digits: int
    tick_size: float
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    filling_mode: int
    bid: float
    ask: float
    trade_mode: int = c.SYMBOL_TRADE_MODE_FULL
    trade_exemode: int = c.SYMBOL_TRADE_EXECUTION_INSTANT
    stops_level: int = 0
    selected: bool = True
    session_open: bool = True
    usd_per_quote: float = 1.0
    """Converts profit and margin in the quote currency to the account's USD."""
    currency_base: str = "EUR"
    currency_profit: str = "USD"
    description: str = ""
    path: str = "Forex\\Majors"

    @property
    def point(self) -> float:
        """The price's smallest digit."""
        return float(10**-self.digits)


def default_symbols() -> list[SymbolSpec]:
    """EURUSD (FOK|IOC), XAUUSD (IOC, market execution), US500 (closed session, 0.25 tick),
    GBPJPY (not in Market Watch)."""
    return [
        SymbolSpec(
            "EURUSD",
            5,
            0.00001,
            100_000,
            0.01,
            0.01,
            500,
            3,
            1.08500,
            1.08512,
            description="Euro vs US Dollar",
        ),
        SymbolSpec(
            "XAUUSD",
            2,
            0.01,
            100,
            0.01,
            0.01,
            100,
            2,
            2650.10,
            2650.45,
            trade_exemode=c.SYMBOL_TRADE_EXECUTION_MARKET,
            stops_level=50,
            currency_base="XAU",
            description="Gold vs US Dollar",
            path="Metals",
        ),
        SymbolSpec(
            "US500",
            2,
            0.25,
            1,
            0.1,
            0.1,
            1000,
            3,
            5900.00,
            5900.50,
            trade_exemode=c.SYMBOL_TRADE_EXECUTION_MARKET,
            session_open=False,
            currency_base="USD",
            description="US 500 Cash CFD",
            path="Indices",
        ),
        SymbolSpec(
            "GBPJPY",
            3,
            0.001,
            100_000,
            0.01,
            0.01,
            500,
            3,
            191.200,
            191.230,
            selected=False,
            usd_per_quote=1 / 151.0,
            currency_base="GBP",
            currency_profit="JPY",
            description="Great Britain Pound vs Japanese Yen",
        ),
    ]


@dataclass
class _Order:
    ticket: int
    symbol: str
    type: int
    volume_initial: float
    volume_current: float
    price_open: float
    price_stoplimit: float
    sl: float
    tp: float
    type_time: int
    type_filling: int
    magic: int
    comment: str
    time_setup_msc: int
    state: int = c.ORDER_STATE_PLACED
    time_done_msc: int = 0
    position_id: int = 0
    reason: int = 3  # ORDER_REASON_EXPERT

    def record(self, price_current: float) -> TradeOrder:
        return TradeOrder(
            ticket=self.ticket,
            time_setup=self.time_setup_msc // 1000,
            time_setup_msc=self.time_setup_msc,
            time_done=self.time_done_msc // 1000,
            time_done_msc=self.time_done_msc,
            time_expiration=0,
            type=self.type,
            type_time=self.type_time,
            type_filling=self.type_filling,
            state=self.state,
            magic=self.magic,
            position_id=self.position_id,
            position_by_id=0,
            reason=self.reason,
            volume_initial=self.volume_initial,
            volume_current=self.volume_current,
            price_open=self.price_open,
            sl=self.sl,
            tp=self.tp,
            price_current=price_current,
            price_stoplimit=self.price_stoplimit,
            symbol=self.symbol,
            comment=self.comment,
            external_id="",
        )


@dataclass
class _Position:
    ticket: int
    symbol: str
    type: int
    volume: float
    price_open: float
    sl: float
    tp: float
    magic: int
    comment: str
    time_msc: int
    time_update_msc: int = 0


_BUY_TYPES = {
    c.ORDER_TYPE_BUY,
    c.ORDER_TYPE_BUY_LIMIT,
    c.ORDER_TYPE_BUY_STOP,
    c.ORDER_TYPE_BUY_STOP_LIMIT,
}


@dataclass
class _Fault:
    code: int
    after_send: bool
    function: str


@dataclass
class _State:
    balance: float
    leverage: int
    margin_mode: int
    trade_mode: int
    login: int
    password: str
    server: str
    symbols: dict[str, SymbolSpec]
    orders: dict[int, _Order] = field(default_factory=dict)
    positions: dict[int, _Position] = field(default_factory=dict)
    history_orders: dict[int, _Order] = field(default_factory=dict)
    deals: list[TradeDeal] = field(default_factory=list)


class FakeMetaTrader5:
    """An offline stand-in for the ``MetaTrader5`` module (see the module docstring)."""

    def __init__(
        self,
        *,
        hedging: bool = True,
        real_account: bool = False,
        balance: float = 10_000.0,
        leverage: int = 100,
        login: int = 5_001_234,
        password: str = "demo-password",
        server: str = "FakeBroker-Demo",
        symbols: list[SymbolSpec] | None = None,
        terminal_running: bool = True,
        algo_trading: bool = True,
    ) -> None:
        for name in dir(c):
            if name.isupper() and not name.startswith(("IPC_", "PACKAGE")):
                setattr(self, name, getattr(c, name))
        self.__version__ = c.PACKAGE_VERSION
        self._state = _State(
            balance=balance,
            leverage=leverage,
            margin_mode=(
                c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
                if hedging
                else c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
            ),
            trade_mode=c.ACCOUNT_TRADE_MODE_REAL if real_account else c.ACCOUNT_TRADE_MODE_DEMO,
            login=login,
            password=password,
            server=server,
            symbols={s.name: s for s in (symbols or default_symbols())},
        )
        self.terminal_running = terminal_running
        self.algo_trading = algo_trading
        self.server_connected = True
        self.account_trade_allowed = True
        self._initialized = False
        self._error: tuple[int, str] = (c.RES_S_OK, "Success")
        self._tickets = itertools.count(50_000_001)
        self._faults: deque[_Fault] = deque()
        self._requotes = 0
        self._broken = False
        self._thread: int | None = None
        self.thread_violations = 0
        self.calls: list[str] = []
        self.initialize_kwargs: dict[str, Any] = {}
        self.sent: list[dict[str, Any]] = []
        """Every request order_send received, as given."""

    # ------------------------------------------------------------------ plumbing

    def _enter(self, name: str) -> bool:
        ident = threading.get_ident()
        if self._thread is None:
            self._thread = ident
        elif ident != self._thread:
            self.thread_violations += 1
            raise AssertionError(f"MetaTrader5.{name} called from a second thread")
        self.calls.append(name)
        if name not in ("initialize", "last_error", "shutdown", "version") and (
            not self._initialized or self._broken
        ):
            self._error = (c.RES_E_INTERNAL_FAIL_CONNECT, _IPC_TEXT[c.RES_E_INTERNAL_FAIL_CONNECT])
            return False
        return True

    def _ok(self) -> None:
        self._error = (c.RES_S_OK, "Success")

    def _fail(self, code: int, text: str) -> None:
        self._error = (code, text)

    def _take_fault(self, function: str) -> _Fault | None:
        for fault in list(self._faults):
            if fault.function in (function, "*"):
                self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _now_msc() -> int:
        return int(time.time() * 1000)

    # ------------------------------------------------------------------ test controls

    def set_price(self, symbol: str, bid: float, ask: float) -> None:
        """Quote ``symbol``; pending orders and position stops that the quote reaches fire."""
        spec = self._state.symbols[symbol]
        spec.bid, spec.ask = bid, ask
        self._trigger(spec)

    def set_session(self, symbol: str, *, open: bool) -> None:
        """Open or close the symbol's trading session."""
        self._state.symbols[symbol].session_open = open

    def requote_next(self, times: int = 1) -> None:
        """Answer the next ``times`` market orders with 10004 (requote) and a moved price."""
        self._requotes += times

    def fail_next_ipc(
        self,
        code: int = c.RES_E_INTERNAL_FAIL_SEND,
        *,
        after_send: bool = False,
        function: str = "order_send",
    ) -> None:
        """Make the next call of ``function`` return None with IPC error ``code``.

        With ``after_send=True`` the request is processed first (an order is placed)
        and the answer is lost, as when the pipe breaks while reading the reply.
        """
        self._faults.append(_Fault(code, after_send, function))

    def break_connection(self) -> None:
        """Lose the IPC connection: every call fails with -10004 until initialize()."""
        self._broken = True

    # Inspection for tests: read the state without going through the module's API (whose
    # calls must all come from the plugin's worker thread).

    @property
    def account_balance(self) -> float:
        """The account's balance."""
        return self._state.balance

    @property
    def open_positions(self) -> list[_Position]:
        """Open positions (position records, not the package's named tuples)."""
        return list(self._state.positions.values())

    @property
    def working_orders(self) -> list[_Order]:
        """Pending orders."""
        return list(self._state.orders.values())

    @property
    def deals(self) -> list[TradeDeal]:
        """Every deal so far."""
        return list(self._state.deals)

    # ------------------------------------------------------------------ connection

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool:
        """Connect to the terminal (and log in when credentials are given)."""
        self._enter("initialize")
        self.initialize_kwargs = {
            "path": path,
            "login": login,
            "password": password,
            "server": server,
            "timeout": timeout,
            "portable": portable,
        }
        if not self.terminal_running:
            self._fail(c.RES_E_INTERNAL_FAIL_INIT, _IPC_TEXT[c.RES_E_INTERNAL_FAIL_INIT])
            return False
        if login is not None and not self._credentials_ok(login, password, server):
            self._fail(c.RES_E_AUTH_FAILED, "Terminal: Authorization failed")
            return False
        self._initialized, self._broken = True, False
        self._ok()
        return True

    def _credentials_ok(self, login: int, password: str | None, server: str | None) -> bool:
        state = self._state
        return (
            login == state.login
            and password == state.password
            and server
            in (
                None,
                state.server,
            )
        )

    def login(
        self,
        login: int,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        """Log in to the trading account."""
        if not self._enter("login"):
            return False
        if not self._credentials_ok(login, password, server):
            self._fail(c.RES_E_AUTH_FAILED, "Terminal: Authorization failed")
            return False
        self._ok()
        return True

    def shutdown(self) -> None:
        """Close the connection to the terminal."""
        self._enter("shutdown")
        self._initialized = False

    def version(self) -> tuple[int, int, str] | None:
        """Terminal version, build and build date."""
        if not self._enter("version") or not self._initialized:
            return None
        return (500, 4755, "20 Nov 2025")

    def last_error(self) -> tuple[int, str]:
        """The code and text of the last error."""
        self._enter("last_error")
        return self._error

    def account_info(self) -> AccountInfo | None:
        """The trading account."""
        if not self._enter("account_info"):
            return None
        s = self._state
        profit = sum(self._profit(p) for p in s.positions.values())
        margin = sum(
            self._margin(s.symbols[p.symbol], p.volume, p.price_open) for p in s.positions.values()
        )
        equity = s.balance + profit
        self._ok()
        return AccountInfo(
            login=s.login,
            trade_mode=s.trade_mode,
            leverage=s.leverage,
            limit_orders=200,
            margin_so_mode=0,
            trade_allowed=self.account_trade_allowed,
            trade_expert=True,
            margin_mode=s.margin_mode,
            currency_digits=2,
            fifo_close=False,
            balance=s.balance,
            credit=0.0,
            profit=profit,
            equity=equity,
            margin=margin,
            margin_free=equity - margin,
            margin_level=(equity / margin * 100) if margin else 0.0,
            margin_so_call=50.0,
            margin_so_so=30.0,
            margin_initial=0.0,
            margin_maintenance=0.0,
            assets=0.0,
            liabilities=0.0,
            commission_blocked=0.0,
            name="Fake Demo",
            server=s.server,
            currency="USD",
            company="Fake Broker Ltd",
        )

    def terminal_info(self) -> TerminalInfo | None:
        """The terminal's state."""
        if not self._enter("terminal_info"):
            return None
        self._ok()
        return TerminalInfo(
            community_account=False,
            community_connection=False,
            connected=self.server_connected,
            dlls_allowed=False,
            trade_allowed=self.algo_trading,
            tradeapi_disabled=False,
            email_enabled=False,
            ftp_enabled=False,
            notifications_enabled=False,
            mqid=False,
            build=4755,
            maxbars=100_000,
            codepage=0,
            ping_last=23_456,
            community_balance=0.0,
            retransmission=0.0,
            company="Fake Broker Ltd",
            name="MetaTrader 5",
            language="English",
            path="C:\\Program Files\\MetaTrader 5",
            data_path="C:\\Users\\trader\\AppData\\Roaming\\MetaQuotes\\Terminal\\FAKE",
            commondata_path="C:\\Users\\trader\\AppData\\Roaming\\MetaQuotes\\Terminal\\Common",
        )

    # ------------------------------------------------------------------ symbols

    def symbols_total(self) -> int:
        """How many symbols the broker offers."""
        return len(self._state.symbols) if self._enter("symbols_total") else 0

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        """Every symbol (``group`` is accepted and ignored)."""
        if not self._enter("symbols_get"):
            return None
        return tuple(self._symbol_record(s) for s in self._state.symbols.values())

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        """Show (or hide) ``symbol`` in Market Watch."""
        if not self._enter("symbol_select"):
            return False
        spec = self._state.symbols.get(symbol)
        if spec is None:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return False
        spec.selected = enable
        self._ok()
        return True

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        """The symbol's specification and quote; None (and -4) when unknown."""
        if not self._enter("symbol_info"):
            return None
        spec = self._state.symbols.get(symbol)
        if spec is None:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return None
        self._ok()
        return self._symbol_record(spec)

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        """The last tick; None for an unknown symbol or one not in Market Watch."""
        if not self._enter("symbol_info_tick"):
            return None
        spec = self._state.symbols.get(symbol)
        if spec is None or not spec.selected:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return None
        now = self._now_msc()
        self._ok()
        return Tick(
            time=now // 1000,
            bid=spec.bid,
            ask=spec.ask,
            last=0.0,
            volume=0,
            time_msc=now,
            flags=6,
            volume_real=0.0,
        )

    def _symbol_record(self, s: SymbolSpec) -> SymbolInfo:
        values: dict[str, Any] = dict.fromkeys(SymbolInfo._fields, 0)
        values.update(
            {
                f: ""
                for f in (
                    "basis",
                    "category",
                    "bank",
                    "exchange",
                    "formula",
                    "isin",
                    "page",
                    "currency_margin",
                )
            }
        )
        values.update(
            custom=False,
            chart_mode=0,
            select=s.selected,
            visible=s.selected,
            time=int(time.time()),
            digits=s.digits,
            spread=round((s.ask - s.bid) / s.point),
            spread_float=True,
            trade_calc_mode=0,
            trade_mode=s.trade_mode,
            trade_stops_level=s.stops_level,
            trade_exemode=s.trade_exemode,
            filling_mode=s.filling_mode,
            order_mode=127,
            order_gtc_mode=0,
            expiration_mode=15,
            bid=s.bid,
            ask=s.ask,
            point=s.point,
            trade_tick_value=s.tick_size * s.contract_size * s.usd_per_quote,
            trade_tick_size=s.tick_size,
            trade_contract_size=s.contract_size,
            volume_min=s.volume_min,
            volume_max=s.volume_max,
            volume_step=s.volume_step,
            volume_limit=0.0,
            currency_base=s.currency_base,
            currency_profit=s.currency_profit,
            currency_margin=s.currency_base,
            description=s.description,
            name=s.name,
            path=s.path,
        )
        return SymbolInfo(**values)

    # ------------------------------------------------------------------ trading

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        """Check ``request`` (funds, volume, prices) without placing it."""
        if not self._enter("order_check"):
            return None
        error = self._bad_arguments(request)
        if error:
            self._fail(c.RES_E_INVALID_PARAMS, error)
            return None
        retcode, margin = self._validate(request, check_only=True)
        info = self.account_info()
        assert info is not None
        self._ok()
        return OrderCheckResult(
            retcode=0 if retcode == c.TRADE_RETCODE_DONE else retcode,
            balance=info.balance,
            equity=info.equity,
            profit=info.profit,
            margin=info.margin + margin,
            margin_free=info.margin_free - margin,
            margin_level=info.margin_level,
            comment="Done" if retcode == c.TRADE_RETCODE_DONE else _RETCODE_TEXT.get(retcode, ""),
            request=self._request_tuple(request),
        )

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        """Send a trade request; None (see last_error) when it could not be processed."""
        if not self._enter("order_send"):
            return None
        self.sent.append(dict(request))
        fault = self._take_fault("order_send")
        if fault is not None and not fault.after_send:
            self._fail(fault.code, _IPC_TEXT.get(fault.code, "IPC error"))
            if fault.code in c.IPC_NOT_SENT:
                self._broken = True
            return None
        error = self._bad_arguments(request)
        if error:
            self._fail(c.RES_E_INVALID_PARAMS, error)
            return None
        result = self._process(request)
        if fault is not None:
            self._fail(fault.code, _IPC_TEXT.get(fault.code, "IPC error"))
            self._broken = True
            return None
        self._ok()
        return result

    def _bad_arguments(self, request: dict[str, Any]) -> str | None:
        unknown = sorted(set(request) - _REQUEST_KEYS)
        if unknown:
            return f'Invalid "{unknown[0]}" argument'
        comment = request.get("comment", "")
        if not isinstance(comment, str) or len(comment) > 31 or not comment.isascii():
            return 'Invalid "comment" argument'
        for key in (
            ("action", "symbol", "volume", "type")
            if request.get("action") in (c.TRADE_ACTION_DEAL, c.TRADE_ACTION_PENDING)
            else ("action",)
        ):
            if key not in request:
                return f'Invalid "{key}" argument'
        return None

    def _request_tuple(self, request: dict[str, Any]) -> TradeRequest:
        values: dict[str, Any] = dict.fromkeys(TradeRequest._fields, 0)
        values.update(symbol="", comment="", price=0.0, stoplimit=0.0, sl=0.0, tp=0.0, volume=0.0)
        values.update(request)
        return TradeRequest(**values)

    def _result(
        self,
        retcode: int,
        request: dict[str, Any],
        *,
        deal: int = 0,
        order: int = 0,
        volume: float = 0.0,
        price: float = 0.0,
    ) -> OrderSendResult:
        spec = self._state.symbols.get(request.get("symbol", ""))
        return OrderSendResult(
            retcode=retcode,
            deal=deal,
            order=order,
            volume=volume,
            price=price,
            bid=spec.bid if spec else 0.0,
            ask=spec.ask if spec else 0.0,
            comment=_RETCODE_TEXT.get(retcode, "Request rejected"),
            request_id=next(self._tickets),
            retcode_external=0,
            request=self._request_tuple(request),
        )

    def _validate(self, request: dict[str, Any], *, check_only: bool = False) -> tuple[int, float]:
        """The retcode a request would get, and the margin it needs."""
        action = request.get("action")
        if not self.server_connected:
            return c.TRADE_RETCODE_CONNECTION, 0.0
        if action == c.TRADE_ACTION_REMOVE:
            known = request.get("order") in self._state.orders
            return (c.TRADE_RETCODE_DONE if known else c.TRADE_RETCODE_INVALID), 0.0
        spec = self._state.symbols.get(request.get("symbol", ""))
        if spec is None or not spec.selected:
            return c.TRADE_RETCODE_INVALID, 0.0
        if not self.algo_trading:
            return c.TRADE_RETCODE_CLIENT_DISABLES_AT, 0.0
        if spec.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED or not self.account_trade_allowed:
            return c.TRADE_RETCODE_TRADE_DISABLED, 0.0
        if not spec.session_open:
            return c.TRADE_RETCODE_MARKET_CLOSED, 0.0
        volume = float(request.get("volume", 0.0))
        steps = (volume - spec.volume_min) / spec.volume_step
        if (
            volume < spec.volume_min - 1e-12
            or volume > spec.volume_max + 1e-12
            or abs(steps - round(steps)) > 1e-7
        ):
            return c.TRADE_RETCODE_INVALID_VOLUME, 0.0
        kind = request.get("type")
        buy = kind in _BUY_TYPES
        if action == c.TRADE_ACTION_DEAL:
            retcode = self._check_deal(spec, request, buy)
            price = spec.ask if buy else spec.bid
        elif action == c.TRADE_ACTION_PENDING:
            retcode = self._check_pending(spec, request, int(kind or 0))
            price = float(request.get("price", 0.0))
        else:
            return c.TRADE_RETCODE_INVALID, 0.0
        if retcode != c.TRADE_RETCODE_DONE:
            return retcode, 0.0
        if not self._stops_ok(spec, request, buy, price):
            return c.TRADE_RETCODE_INVALID_STOPS, 0.0
        closing = action == c.TRADE_ACTION_DEAL and self._reduces(spec.name, buy, request)
        margin = 0.0 if closing else self._margin(spec, volume, price)
        info_free = self._free_margin()
        if margin > info_free:
            return c.TRADE_RETCODE_NO_MONEY, margin
        return c.TRADE_RETCODE_DONE, margin

    def _check_deal(self, spec: SymbolSpec, request: dict[str, Any], buy: bool) -> int:
        filling = request.get("type_filling", c.ORDER_FILLING_FOK)
        allowed = {
            c.ORDER_FILLING_FOK: spec.filling_mode & c.SYMBOL_FILLING_FOK,
            c.ORDER_FILLING_IOC: spec.filling_mode & c.SYMBOL_FILLING_IOC,
            c.ORDER_FILLING_RETURN: spec.trade_exemode == c.SYMBOL_TRADE_EXECUTION_EXCHANGE,
        }
        if not allowed.get(filling):
            return c.TRADE_RETCODE_INVALID_FILL
        if request.get("position"):
            position = self._state.positions.get(request["position"])
            if position is None:
                return c.TRADE_RETCODE_POSITION_CLOSED
            if float(request["volume"]) > position.volume + 1e-12:
                return c.TRADE_RETCODE_INVALID_CLOSE_VOLUME
        if spec.trade_exemode == c.SYMBOL_TRADE_EXECUTION_INSTANT:
            current = spec.ask if buy else spec.bid
            deviation = int(request.get("deviation", 0)) * spec.point
            if abs(float(request.get("price", 0.0)) - current) > deviation + spec.point / 10:
                return c.TRADE_RETCODE_REQUOTE
        return c.TRADE_RETCODE_DONE

    def _check_pending(self, spec: SymbolSpec, request: dict[str, Any], kind: int) -> int:
        price = float(request.get("price", 0.0))
        stoplimit = float(request.get("stoplimit", 0.0))
        if request.get("type_time", c.ORDER_TIME_GTC) not in (c.ORDER_TIME_GTC, c.ORDER_TIME_DAY):
            return c.TRADE_RETCODE_INVALID_EXPIRATION
        valid = {
            c.ORDER_TYPE_BUY_LIMIT: price < spec.ask,
            c.ORDER_TYPE_SELL_LIMIT: price > spec.bid,
            c.ORDER_TYPE_BUY_STOP: price > spec.ask,
            c.ORDER_TYPE_SELL_STOP: price < spec.bid,
            c.ORDER_TYPE_BUY_STOP_LIMIT: price > spec.ask and 0 < stoplimit <= price,
            c.ORDER_TYPE_SELL_STOP_LIMIT: price < spec.bid and stoplimit >= price,
        }
        if (
            not valid.get(kind, False)
            or abs(round(price / spec.tick_size) * spec.tick_size - price) > 1e-9
        ):
            return c.TRADE_RETCODE_INVALID_PRICE
        return c.TRADE_RETCODE_DONE

    def _stops_ok(self, spec: SymbolSpec, request: dict[str, Any], buy: bool, price: float) -> bool:
        gap = spec.stops_level * spec.point
        sl, tp = float(request.get("sl", 0.0)), float(request.get("tp", 0.0))
        if buy:
            return (not sl or sl < price - gap) and (not tp or tp > price + gap)
        return (not sl or sl > price + gap) and (not tp or tp < price - gap)

    def _reduces(self, symbol: str, buy: bool, request: dict[str, Any]) -> bool:
        if request.get("position"):
            return True
        if self._state.margin_mode != c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING:
            return False
        held = next((p for p in self._state.positions.values() if p.symbol == symbol), None)
        return held is not None and (held.type == c.POSITION_TYPE_BUY) != buy

    def _margin(self, spec: SymbolSpec, volume: float, price: float) -> float:
        return volume * spec.contract_size * price * spec.usd_per_quote / self._state.leverage

    def _free_margin(self) -> float:
        info = self.account_info()
        return info.margin_free if info else 0.0

    def _profit(self, p: _Position) -> float:
        spec = self._state.symbols[p.symbol]
        current = spec.bid if p.type == c.POSITION_TYPE_BUY else spec.ask
        sign = 1 if p.type == c.POSITION_TYPE_BUY else -1
        return (current - p.price_open) * sign * p.volume * spec.contract_size * spec.usd_per_quote

    def _process(self, request: dict[str, Any]) -> OrderSendResult:
        action = request.get("action")
        if action == c.TRADE_ACTION_DEAL and self._requotes:
            self._requotes -= 1
            spec = self._state.symbols[request["symbol"]]
            move = 3 * spec.point
            spec.bid, spec.ask = (
                round(spec.bid + move, spec.digits),
                round(spec.ask + move, spec.digits),
            )
            return self._result(c.TRADE_RETCODE_REQUOTE, request)
        retcode, _ = self._validate(request)
        if retcode != c.TRADE_RETCODE_DONE:
            return self._result(retcode, request)
        if action == c.TRADE_ACTION_REMOVE:
            order = self._state.orders.pop(request["order"])
            order.state, order.time_done_msc = c.ORDER_STATE_CANCELED, self._now_msc()
            self._state.history_orders[order.ticket] = order
            return self._result(c.TRADE_RETCODE_DONE, request, order=order.ticket)
        if action == c.TRADE_ACTION_PENDING:
            return self._place_pending(request)
        return self._execute_deal(request)

    def _place_pending(self, request: dict[str, Any]) -> OrderSendResult:
        spec = self._state.symbols[request["symbol"]]
        order = _Order(
            ticket=next(self._tickets),
            symbol=spec.name,
            type=request["type"],
            volume_initial=float(request["volume"]),
            volume_current=float(request["volume"]),
            price_open=float(request["price"]),
            price_stoplimit=float(request.get("stoplimit", 0.0)),
            sl=float(request.get("sl", 0.0)),
            tp=float(request.get("tp", 0.0)),
            type_time=request.get("type_time", c.ORDER_TIME_GTC),
            type_filling=request.get("type_filling", c.ORDER_FILLING_RETURN),
            magic=int(request.get("magic", 0)),
            comment=request.get("comment", ""),
            time_setup_msc=self._now_msc(),
        )
        self._state.orders[order.ticket] = order
        return self._result(
            c.TRADE_RETCODE_PLACED,
            request,
            order=order.ticket,
            volume=order.volume_initial,
            price=order.price_open,
        )

    def _execute_deal(self, request: dict[str, Any]) -> OrderSendResult:
        spec = self._state.symbols[request["symbol"]]
        buy = request["type"] == c.ORDER_TYPE_BUY
        price = spec.ask if buy else spec.bid
        order = _Order(
            ticket=next(self._tickets),
            symbol=spec.name,
            type=request["type"],
            volume_initial=float(request["volume"]),
            volume_current=0.0,
            price_open=price,
            price_stoplimit=0.0,
            sl=float(request.get("sl", 0.0)),
            tp=float(request.get("tp", 0.0)),
            type_time=c.ORDER_TIME_GTC,
            type_filling=request.get("type_filling", 0),
            magic=int(request.get("magic", 0)),
            comment=request.get("comment", ""),
            time_setup_msc=self._now_msc(),
            state=c.ORDER_STATE_FILLED,
        )
        deal = self._fill(order, price, position=request.get("position") or None)
        return self._result(
            c.TRADE_RETCODE_DONE,
            request,
            deal=deal.ticket,
            order=order.ticket,
            volume=deal.volume,
            price=price,
        )

    def _fill(
        self, order: _Order, price: float, *, position: int | None = None, reason: int = 3
    ) -> TradeDeal:
        """Execute ``order`` at ``price``: open, add to, reduce or close a position."""
        state = self._state
        buy = order.type in _BUY_TYPES
        volume = order.volume_initial
        now = self._now_msc()
        target = state.positions.get(position) if position else None
        if target is None and state.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING:
            target = next((p for p in state.positions.values() if p.symbol == order.symbol), None)
        entry = c.DEAL_ENTRY_IN
        profit = 0.0
        if target is None:
            target = _Position(
                ticket=order.ticket,
                symbol=order.symbol,
                type=c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL,
                volume=volume,
                price_open=price,
                sl=order.sl,
                tp=order.tp,
                magic=order.magic,
                comment=order.comment,
                time_msc=now,
            )
            state.positions[target.ticket] = target
        elif (target.type == c.POSITION_TYPE_BUY) == buy:
            total = target.volume + volume
            target.price_open = (target.price_open * target.volume + price * volume) / total
            target.volume = total
        else:
            spec = state.symbols[order.symbol]
            closing = min(volume, target.volume)
            sign = 1 if target.type == c.POSITION_TYPE_BUY else -1
            profit = (
                (price - target.price_open)
                * sign
                * closing
                * spec.contract_size
                * spec.usd_per_quote
            )
            state.balance += profit
            target.volume = round(target.volume - closing, 8)
            entry = c.DEAL_ENTRY_OUT
            if target.volume <= 1e-12:
                del state.positions[target.ticket]
                rest = round(volume - closing, 8)
                if rest > 0:  # netting reversal: the rest opens the other way
                    entry = c.DEAL_ENTRY_INOUT
                    state.positions[order.ticket] = _Position(
                        ticket=order.ticket,
                        symbol=order.symbol,
                        type=c.POSITION_TYPE_BUY if buy else c.POSITION_TYPE_SELL,
                        volume=rest,
                        price_open=price,
                        sl=order.sl,
                        tp=order.tp,
                        magic=order.magic,
                        comment=order.comment,
                        time_msc=now,
                    )
        target.time_update_msc = now
        order.position_id = target.ticket
        order.time_done_msc = now
        order.volume_current = 0.0
        order.state = c.ORDER_STATE_FILLED
        state.history_orders[order.ticket] = order
        deal = TradeDeal(
            ticket=next(self._tickets),
            order=order.ticket,
            time=now // 1000,
            time_msc=now,
            type=c.DEAL_TYPE_BUY if buy else c.DEAL_TYPE_SELL,
            entry=entry,
            magic=order.magic,
            position_id=target.ticket,
            reason=reason,
            volume=volume,
            price=price,
            commission=0.0,
            swap=0.0,
            profit=profit,
            fee=0.0,
            symbol=order.symbol,
            comment=order.comment,
            external_id="",
        )
        state.deals.append(deal)
        return deal

    def _trigger(self, spec: SymbolSpec) -> None:
        state = self._state
        for order in [o for o in state.orders.values() if o.symbol == spec.name]:
            kind, price = order.type, order.price_open
            fire = {
                c.ORDER_TYPE_BUY_LIMIT: spec.ask <= price,
                c.ORDER_TYPE_SELL_LIMIT: spec.bid >= price,
                c.ORDER_TYPE_BUY_STOP: spec.ask >= price,
                c.ORDER_TYPE_SELL_STOP: spec.bid <= price,
                c.ORDER_TYPE_BUY_STOP_LIMIT: spec.ask >= price,
                c.ORDER_TYPE_SELL_STOP_LIMIT: spec.bid <= price,
            }.get(kind, False)
            if not fire:
                continue
            if kind in (c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT):
                # The stop fires: a limit order at the stop-limit price replaces it.
                order.type = (
                    c.ORDER_TYPE_BUY_LIMIT
                    if kind == c.ORDER_TYPE_BUY_STOP_LIMIT
                    else c.ORDER_TYPE_SELL_LIMIT
                )
                order.price_open, order.price_stoplimit = order.price_stoplimit, 0.0
                continue
            del state.orders[order.ticket]
            fill = spec.ask if kind in _BUY_TYPES else spec.bid
            if kind in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT):
                fill = min(fill, price) if kind == c.ORDER_TYPE_BUY_LIMIT else max(fill, price)
            self._fill(order, fill)
        for position in [p for p in state.positions.values() if p.symbol == spec.name]:
            long = position.type == c.POSITION_TYPE_BUY
            exit_price = spec.bid if long else spec.ask
            hit_sl = position.sl and (
                exit_price <= position.sl if long else exit_price >= position.sl
            )
            hit_tp = position.tp and (
                exit_price >= position.tp if long else exit_price <= position.tp
            )
            if hit_sl or hit_tp:
                closer = _Order(
                    ticket=next(self._tickets),
                    symbol=spec.name,
                    type=c.ORDER_TYPE_SELL if long else c.ORDER_TYPE_BUY,
                    volume_initial=position.volume,
                    volume_current=0.0,
                    price_open=exit_price,
                    price_stoplimit=0.0,
                    sl=0.0,
                    tp=0.0,
                    type_time=c.ORDER_TIME_GTC,
                    type_filling=c.ORDER_FILLING_FOK,
                    magic=position.magic,
                    comment=f"[{'sl' if hit_sl else 'tp'} {exit_price}]"[:31],
                    time_setup_msc=self._now_msc(),
                    reason=4 if hit_sl else 5,
                )
                self._fill(closer, exit_price, position=position.ticket, reason=4 if hit_sl else 5)

    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None:
        """Margin in the account currency for ``volume`` lots of ``symbol`` at ``price``."""
        if not self._enter("order_calc_margin"):
            return None
        spec = self._state.symbols.get(symbol)
        if spec is None:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return None
        self._ok()
        return self._margin(spec, volume, price)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        """Profit in the account currency of a deal opened and closed at two prices."""
        if not self._enter("order_calc_profit"):
            return None
        spec = self._state.symbols.get(symbol)
        if spec is None:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return None
        sign = 1 if action == c.ORDER_TYPE_BUY else -1
        self._ok()
        return (price_close - price_open) * sign * volume * spec.contract_size * spec.usd_per_quote

    def market_book_add(self, symbol: str) -> bool:
        """Subscribe to the depth of market of ``symbol``."""
        if not self._enter("market_book_add"):
            return False
        self._ok()
        return symbol in self._state.symbols

    def market_book_get(self, symbol: str) -> tuple[Any, ...] | None:
        """The top of the book as (type, price, volume, volume_dbl) entries."""
        if not self._enter("market_book_get"):
            return None
        spec = self._state.symbols.get(symbol)
        if spec is None:
            self._fail(c.RES_E_NOT_FOUND, "Terminal: Not found")
            return None
        self._ok()
        return (BookInfo(1, spec.ask, 10, 10.0), BookInfo(2, spec.bid, 10, 10.0))

    def market_book_release(self, symbol: str) -> bool:
        """Unsubscribe from the depth of market."""
        return self._enter("market_book_release")

    # ------------------------------------------------------------------ reads

    def orders_total(self) -> int:
        """Working (pending) orders."""
        return len(self._state.orders) if self._enter("orders_total") else 0

    def orders_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        """Working orders, optionally of one symbol or ticket."""
        if not self._enter("orders_get"):
            return None
        self._ok()
        return tuple(
            o.record(self._state.symbols[o.symbol].bid)
            for o in self._state.orders.values()
            if (symbol is None or o.symbol == symbol) and (ticket is None or o.ticket == ticket)
        )

    def positions_total(self) -> int:
        """Open positions."""
        return len(self._state.positions) if self._enter("positions_total") else 0

    def positions_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        """Open positions, optionally of one symbol or ticket."""
        if not self._enter("positions_get"):
            return None
        self._ok()
        out = []
        for p in self._state.positions.values():
            if (symbol is not None and p.symbol != symbol) or (
                ticket is not None and p.ticket != ticket
            ):
                continue
            spec = self._state.symbols[p.symbol]
            out.append(
                TradePosition(
                    ticket=p.ticket,
                    time=p.time_msc // 1000,
                    time_msc=p.time_msc,
                    time_update=p.time_update_msc // 1000,
                    time_update_msc=p.time_update_msc,
                    type=p.type,
                    magic=p.magic,
                    identifier=p.ticket,
                    reason=3,
                    volume=p.volume,
                    price_open=p.price_open,
                    sl=p.sl,
                    tp=p.tp,
                    price_current=spec.bid if p.type == c.POSITION_TYPE_BUY else spec.ask,
                    swap=0.0,
                    profit=self._profit(p),
                    symbol=p.symbol,
                    comment=p.comment,
                    external_id="",
                )
            )
        return tuple(out)

    def history_orders_total(self, date_from: Any, date_to: Any) -> int:
        """Orders in the history between two dates."""
        orders = self.history_orders_get(date_from, date_to)
        return len(orders) if orders is not None else 0

    def history_orders_get(
        self,
        date_from: Any = None,
        date_to: Any = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        """Finished orders by time window, ticket or position."""
        if not self._enter("history_orders_get"):
            return None
        low, high = _msc(date_from, 0), _msc(date_to, 2**62)
        self._ok()
        return tuple(
            o.record(0.0)
            for o in self._state.history_orders.values()
            if (ticket is not None and o.ticket == ticket)
            or (position is not None and o.position_id == position)
            or (ticket is None and position is None and low <= o.time_setup_msc <= high)
        )

    def history_deals_total(self, date_from: Any, date_to: Any) -> int:
        """Deals in the history between two dates."""
        deals = self.history_deals_get(date_from, date_to)
        return len(deals) if deals is not None else 0

    def history_deals_get(
        self,
        date_from: Any = None,
        date_to: Any = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        """Deals by time window, order ticket (``ticket``) or position."""
        if not self._enter("history_deals_get"):
            return None
        low, high = _msc(date_from, 0), _msc(date_to, 2**62)
        self._ok()
        return tuple(
            d
            for d in self._state.deals
            if (ticket is not None and d.order == ticket)
            or (position is not None and d.position_id == position)
            or (ticket is None and position is None and low <= d.time_msc <= high)
        )


def _msc(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    return int(value) * 1000
