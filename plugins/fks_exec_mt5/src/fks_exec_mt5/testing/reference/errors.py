"""``last_error()`` codes and the trade server's result comments, as the fake reports them.

Codes: https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py (RES_S_OK 1 ...
RES_E_AUTO_TRADING_DISABLED -8, RES_E_INTERNAL_FAIL -10000 ... RES_E_INTERNAL_FAIL_TIMEOUT
-10005), values pinned to the 5.0.6231 wheel in :mod:`.constants`.

Message texts: where a real terminal's text was seen in public output it is used
(``(-10004, 'No IPC connection')``: exness-pymt5/metatrader5 issue 2; ``(-10005, 'IPC
timeout')``: lucas-campagna/mt5linux issue 55; ``(1, 'Success')``); the others are
**inferred** from the documented meaning. Code that maps errors should use the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C

__all__ = ["LAST_ERROR_MESSAGES", "RETCODE_COMMENTS", "retcode_comment"]

LAST_ERROR_MESSAGES: Mapping[int, str] = MappingProxyType(
    {
        C.RES_S_OK: "Success",
        C.RES_E_FAIL: "Terminal: Call failed",
        C.RES_E_INVALID_PARAMS: "Terminal: Invalid params",
        C.RES_E_NO_MEMORY: "Terminal: Out of memory",
        C.RES_E_NOT_FOUND: "Terminal: Not found",
        C.RES_E_INVALID_VERSION: "Terminal: Invalid version",
        C.RES_E_AUTH_FAILED: "Terminal: Authorization failed",
        C.RES_E_UNSUPPORTED: "Terminal: Unsupported method",
        C.RES_E_AUTO_TRADING_DISABLED: "Terminal: Algo trading via Python API disabled",
        C.RES_E_INTERNAL_FAIL: "Internal IPC error",
        C.RES_E_INTERNAL_FAIL_SEND: "IPC send failed",
        C.RES_E_INTERNAL_FAIL_RECEIVE: "IPC receive failed",
        C.RES_E_INTERNAL_FAIL_INIT: "IPC initialize failed, MetaTrader 5 x64 not found",
        C.RES_E_INTERNAL_FAIL_CONNECT: "No IPC connection",
        C.RES_E_INTERNAL_FAIL_TIMEOUT: "IPC timeout",
    }
)
"""last_error code to the message the fake pairs it with."""

# Short server comments. 'Request executed' and 'No prices' are seen in public captures
# of real answers (see docs/plugins/mt5-reference-fake.md); the rest follow the
# descriptions of https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes
RETCODE_COMMENTS: Mapping[int, str] = MappingProxyType(
    {
        C.TRADE_RETCODE_REQUOTE: "Requote",
        C.TRADE_RETCODE_REJECT: "Request rejected",
        C.TRADE_RETCODE_CANCEL: "Request canceled by trader",
        C.TRADE_RETCODE_PLACED: "Order placed",
        C.TRADE_RETCODE_DONE: "Request executed",
        C.TRADE_RETCODE_DONE_PARTIAL: "Request executed partially",
        C.TRADE_RETCODE_ERROR: "Request processing error",
        C.TRADE_RETCODE_TIMEOUT: "Request canceled by timeout",
        C.TRADE_RETCODE_INVALID: "Invalid request",
        C.TRADE_RETCODE_INVALID_VOLUME: "Invalid volume",
        C.TRADE_RETCODE_INVALID_PRICE: "Invalid price",
        C.TRADE_RETCODE_INVALID_STOPS: "Invalid stops",
        C.TRADE_RETCODE_TRADE_DISABLED: "Trade disabled",
        C.TRADE_RETCODE_MARKET_CLOSED: "Market closed",
        C.TRADE_RETCODE_NO_MONEY: "No money",
        C.TRADE_RETCODE_PRICE_CHANGED: "Prices changed",
        C.TRADE_RETCODE_PRICE_OFF: "No prices",
        C.TRADE_RETCODE_INVALID_EXPIRATION: "Invalid expiration",
        C.TRADE_RETCODE_ORDER_CHANGED: "Order state changed",
        C.TRADE_RETCODE_TOO_MANY_REQUESTS: "Too frequent requests",
        C.TRADE_RETCODE_NO_CHANGES: "No changes",
        C.TRADE_RETCODE_SERVER_DISABLES_AT: "AutoTrading disabled by server",
        C.TRADE_RETCODE_CLIENT_DISABLES_AT: "AutoTrading disabled by client",
        C.TRADE_RETCODE_LOCKED: "Request locked",
        C.TRADE_RETCODE_FROZEN: "Order or position frozen",
        C.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
        C.TRADE_RETCODE_CONNECTION: "No connection",
        C.TRADE_RETCODE_ONLY_REAL: "Only real accounts",
        C.TRADE_RETCODE_LIMIT_ORDERS: "Pending orders limit reached",
        C.TRADE_RETCODE_LIMIT_VOLUME: "Volume limit reached",
        C.TRADE_RETCODE_INVALID_ORDER: "Invalid or prohibited order type",
        C.TRADE_RETCODE_POSITION_CLOSED: "Position already closed",
        C.TRADE_RETCODE_INVALID_CLOSE_VOLUME: "Close volume exceeds position volume",
        C.TRADE_RETCODE_CLOSE_ORDER_EXIST: "Close order already exists",
        C.TRADE_RETCODE_LIMIT_POSITIONS: "Positions limit reached",
        C.TRADE_RETCODE_REJECT_CANCEL: "Pending order activation rejected",
        C.TRADE_RETCODE_LONG_ONLY: "Only long positions allowed",
        C.TRADE_RETCODE_SHORT_ONLY: "Only short positions allowed",
        C.TRADE_RETCODE_CLOSE_ONLY: "Only position closing allowed",
        C.TRADE_RETCODE_FIFO_CLOSE: "Position closing allowed only by FIFO rule",
    }
)
"""Trade server return code to the ``comment`` the fake puts in the result."""


def retcode_comment(retcode: int) -> str:
    """The result comment for ``retcode`` (``'Done'`` for order_check's 0)."""
    if retcode == 0:
        return "Done"
    return RETCODE_COMMENTS.get(retcode, "Request processing error")
