"""What the trade server's retcodes and the package's ``last_error()`` codes mean.

Reviewed against MetaQuotes' lists: "Trade Server Return Codes"
(https://www.mql5.com/en/docs/constants/errorswarnings/enum_trade_return_codes) and the
``last_error`` table of the Python integration
(https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py). Each code says
whether the order reached the trade server (``sent``), and what the caller gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fks_exec.models import ErrorCode, OrderStatus
from fks_exec_mt5 import constants as c

__all__ = [
    "HINTS",
    "LAST_ERRORS",
    "RETCODES",
    "RETRY_WITH_FRESH_PRICE",
    "TRADE_RETCODE_HEDGE_PROHIBITED",
    "Fate",
    "LastError",
    "Retcode",
    "last_error_of",
    "retcode_of",
]

TRADE_RETCODE_HEDGE_PROHIBITED = 10046
"""In MetaQuotes' list ("Position hedging prohibited" rule); not a constant of 5.0.6231."""


@dataclass(frozen=True)
class Retcode:
    """How one retcode is reported: status, error code, and whether the server got it."""

    status: OrderStatus
    code: ErrorCode | None = None
    sent: bool = True


_R = OrderStatus.REJECTED
_REJECTED = Retcode(_R, ErrorCode.REJECTED)
_INVALID = Retcode(_R, ErrorCode.INVALID_ORDER)

RETCODES: dict[int, Retcode] = {
    c.TRADE_RETCODE_DONE: Retcode(OrderStatus.FILLED),  # pending: deal=0 -> accepted
    c.TRADE_RETCODE_PLACED: Retcode(OrderStatus.ACCEPTED),
    c.TRADE_RETCODE_DONE_PARTIAL: Retcode(OrderStatus.PARTIALLY_FILLED),
    # "Request canceled by timeout": canceled as far as the server says, but an answer
    # that came late is exactly when a fill can hide; reconciled through the history.
    c.TRADE_RETCODE_TIMEOUT: Retcode(OrderStatus.UNKNOWN, ErrorCode.TIMEOUT, sent=True),
    c.TRADE_RETCODE_REQUOTE: _REJECTED,
    c.TRADE_RETCODE_PRICE_CHANGED: _REJECTED,
    c.TRADE_RETCODE_PRICE_OFF: _REJECTED,
    c.TRADE_RETCODE_REJECT: _REJECTED,
    c.TRADE_RETCODE_CANCEL: _REJECTED,
    c.TRADE_RETCODE_ERROR: _REJECTED,
    c.TRADE_RETCODE_INVALID: _INVALID,
    c.TRADE_RETCODE_INVALID_VOLUME: _INVALID,
    c.TRADE_RETCODE_INVALID_PRICE: _INVALID,
    c.TRADE_RETCODE_INVALID_STOPS: _INVALID,
    c.TRADE_RETCODE_TRADE_DISABLED: _REJECTED,
    c.TRADE_RETCODE_MARKET_CLOSED: Retcode(_R, ErrorCode.MARKET_CLOSED),
    c.TRADE_RETCODE_NO_MONEY: Retcode(_R, ErrorCode.INSUFFICIENT_FUNDS),
    c.TRADE_RETCODE_INVALID_EXPIRATION: _INVALID,
    c.TRADE_RETCODE_ORDER_CHANGED: _REJECTED,
    c.TRADE_RETCODE_TOO_MANY_REQUESTS: Retcode(_R, ErrorCode.RATE_LIMITED),
    c.TRADE_RETCODE_NO_CHANGES: _REJECTED,
    c.TRADE_RETCODE_SERVER_DISABLES_AT: Retcode(_R, ErrorCode.AUTH),
    # The terminal refused it itself (Algo Trading button off): nothing left the PC.
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: Retcode(_R, ErrorCode.AUTH, sent=False),
    c.TRADE_RETCODE_LOCKED: _REJECTED,
    c.TRADE_RETCODE_FROZEN: _REJECTED,
    c.TRADE_RETCODE_INVALID_FILL: _INVALID,
    # No connection with the trade server: raised as BrokerUnavailable by the plugin.
    c.TRADE_RETCODE_CONNECTION: Retcode(_R, ErrorCode.NETWORK, sent=False),
    c.TRADE_RETCODE_ONLY_REAL: Retcode(_R, ErrorCode.NOT_SUPPORTED),
    c.TRADE_RETCODE_LIMIT_ORDERS: _REJECTED,
    c.TRADE_RETCODE_LIMIT_VOLUME: _REJECTED,
    c.TRADE_RETCODE_INVALID_ORDER: _INVALID,
    c.TRADE_RETCODE_POSITION_CLOSED: _REJECTED,
    c.TRADE_RETCODE_INVALID_CLOSE_VOLUME: _INVALID,
    c.TRADE_RETCODE_CLOSE_ORDER_EXIST: _REJECTED,
    c.TRADE_RETCODE_LIMIT_POSITIONS: _REJECTED,
    c.TRADE_RETCODE_REJECT_CANCEL: _REJECTED,
    c.TRADE_RETCODE_LONG_ONLY: _REJECTED,
    c.TRADE_RETCODE_SHORT_ONLY: _REJECTED,
    c.TRADE_RETCODE_CLOSE_ONLY: _REJECTED,
    c.TRADE_RETCODE_FIFO_CLOSE: _REJECTED,
    TRADE_RETCODE_HEDGE_PROHIBITED: _REJECTED,
}
"""Every retcode of MetaQuotes' list. A code not in it is a rejection (``rejected``)."""

RETRY_WITH_FRESH_PRICE = frozenset(
    {c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_OFF, c.TRADE_RETCODE_PRICE_CHANGED}
)
"""The server refused the price, not the order: a resend at a fresh price is safe."""

HINTS = {
    c.TRADE_RETCODE_REQUOTE: "resent at fresh prices up to requote_retries times, never "
    "more than deviation_points from the first price",
    c.TRADE_RETCODE_CLIENT_DISABLES_AT: "press 'Algo Trading' in the terminal's toolbar",
    c.TRADE_RETCODE_SERVER_DISABLES_AT: "the broker has disabled algorithmic trading",
    c.TRADE_RETCODE_CONNECTION: "the terminal is not connected to the trade server",
    c.TRADE_RETCODE_FIFO_CLOSE: "this account closes positions oldest first (FIFO)",
    c.TRADE_RETCODE_INVALID_FILL: "the symbol does not take this filling policy (a market "
    "order goes with Return only when the symbol's filling_mode flags neither FOK nor IOC: "
    "this server then takes none, nothing was filled; ask the broker which policy it takes)",
    c.TRADE_RETCODE_FROZEN: "the order or position is within the symbol's freeze level",
    c.TRADE_RETCODE_LIMIT_VOLUME: "the symbol's volume_limit for one direction is reached",
}


def retcode_of(value: int) -> Retcode:
    """The :class:`Retcode` of ``value`` (an unknown code is a plain rejection)."""
    return RETCODES.get(int(value), _REJECTED)


class Fate(str, Enum):
    """What a failed call (None from the package) says about the request."""

    UNAVAILABLE = "unavailable"
    """Nothing left this process and the link is the cause: BrokerUnavailable."""
    DENIED = "denied"
    """Nothing was sent, for a reason a retry will not fix by itself: rejected, sent=False."""
    MAYBE_SENT = "maybe_sent"
    """The request may have reached the terminal: unknown, reconcile."""


@dataclass(frozen=True)
class LastError:
    """How one ``last_error()`` code after a failed ``order_send`` is reported."""

    fate: Fate
    code: ErrorCode
    hint: str


LAST_ERRORS: dict[int, LastError] = {
    # MetaQuotes' last_error page gives each code a few words and nothing on whether the
    # request got through, so only a code whose meaning is a refusal to act (the package's
    # or the terminal's, before the request can be acted on) or a link that was never up
    # says "not sent". Anything that can happen once the terminal has the request is
    # MAYBE_SENT: the caller gets ``unknown`` and reconciles; a wrong "not sent" would let
    # the same order go twice.
    c.RES_E_FAIL: LastError(
        Fate.MAYBE_SENT,
        ErrorCode.UNKNOWN,
        "generic failure: the package does not say whether the request reached the terminal",
    ),
    c.RES_E_INVALID_PARAMS: LastError(
        Fate.DENIED, ErrorCode.INVALID_ORDER, "the package refused the request's fields"
    ),
    c.RES_E_NO_MEMORY: LastError(
        Fate.MAYBE_SENT,
        ErrorCode.UNKNOWN,
        "the package ran out of memory, which may have been after the terminal had the request",
    ),
    c.RES_E_NOT_FOUND: LastError(
        Fate.MAYBE_SENT,
        ErrorCode.UNKNOWN,
        "'no history' is no answer to order_send: it does not say whether it was sent",
    ),
    c.RES_E_INVALID_VERSION: LastError(
        Fate.MAYBE_SENT,
        ErrorCode.UNKNOWN,
        "the terminal and the package versions do not match (the answer may be the part "
        "not understood)",
    ),
    c.RES_E_AUTH_FAILED: LastError(Fate.DENIED, ErrorCode.AUTH, "authorization failed"),
    c.RES_E_UNSUPPORTED: LastError(
        Fate.DENIED, ErrorCode.NOT_SUPPORTED, "the terminal does not support this call"
    ),
    c.RES_E_AUTO_TRADING_DISABLED: LastError(
        Fate.DENIED,
        ErrorCode.AUTH,
        "Auto-Trading through the Python API is disabled: untick 'Disable automatic "
        "trading via external Python API' in Tools > Options > Expert Advisors",
    ),
    # The IPC link to the terminal: before or after the request was handed over.
    c.RES_E_INTERNAL_FAIL_SEND: LastError(Fate.UNAVAILABLE, ErrorCode.NETWORK, "IPC send failed"),
    c.RES_E_INTERNAL_FAIL_INIT: LastError(
        Fate.UNAVAILABLE, ErrorCode.NETWORK, "IPC initialization failed"
    ),
    c.RES_E_INTERNAL_FAIL_CONNECT: LastError(
        Fate.UNAVAILABLE, ErrorCode.NETWORK, "no IPC connection to the terminal"
    ),
    c.RES_E_INTERNAL_FAIL: LastError(Fate.MAYBE_SENT, ErrorCode.NETWORK, "IPC internal failure"),
    c.RES_E_INTERNAL_FAIL_RECEIVE: LastError(
        Fate.MAYBE_SENT, ErrorCode.NETWORK, "IPC receive failed"
    ),
    c.RES_E_INTERNAL_FAIL_TIMEOUT: LastError(Fate.MAYBE_SENT, ErrorCode.TIMEOUT, "IPC timed out"),
}
"""Every failure code of ``last_error()``; a code not listed (or RES_S_OK beside a None)
is ``MAYBE_SENT``. Reviewed against https://www.mql5.com/en/docs/python_metatrader5/mt5lasterror_py
(whose table gives RES_E_INTERNAL_FAIL_CONNECT as -10003 beside RES_E_INTERNAL_FAIL_INIT;
the package's own constant, in the 5.0.6231 wheel, is -10004)."""


def last_error_of(value: int) -> LastError:
    """The :class:`LastError` of ``value``; an unlisted code may have been sent."""
    return LAST_ERRORS.get(
        int(value), LastError(Fate.MAYBE_SENT, ErrorCode.UNKNOWN, "unlisted error code")
    )
