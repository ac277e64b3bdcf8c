"""What a ccxt exception means for a request: an ``ErrorCode`` and whether it was sent.

ccxt maps transport failures and HTTP codes coarsely (every 400/403/404 without a
parseable body becomes ``ExchangeNotAvailable``, a body cut off after the headers an
``ExchangeError``, any timeout ``RequestTimeout``), so :func:`classify` looks at the
chained aiohttp error, the HTTP status ccxt saw, and, on ccxt's own aiohttp session,
whether the failing request's headers ever left (:class:`SendProbe`).
:func:`refused_before_sending` tells an order ccxt refused itself, before the order's
own request, from one that may have left (where ccxt sends other requests first, by
what ccxt's builder of the order's request raised).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import socket
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import ccxt.async_support as ccxt

from fks_exec.models import ErrorCode
from fks_exec_ccxt.raw_body import UnsafeNumber, check_body
from fks_exec_ccxt.unknown_answers import outcome_unknown
from fks_exec_ccxt.venues import venue as venue_row

__all__ = [
    "SendProbe",
    "UnsafeNumber",
    "Verdict",
    "classify",
    "instrument",
    "probing",
    "refused_before_sending",
    "reset",
]


@dataclass(frozen=True)
class Verdict:
    """What a ccxt exception means for an order request."""

    code: ErrorCode
    sent: bool | None
    """False: certainly not sent (or certainly not taken); True: the exchange answered
    and refused; None: it may have been sent and taken."""
    why: str = ""


@dataclass
class SendProbe:
    """What left during one call: filled by aiohttp trace hooks and ccxt's response hook."""

    requests: int = 0
    """Requests ccxt began (its ``fetch`` called) during the call."""
    traced: bool = False
    """True when the session reports when headers leave (ccxt's own aiohttp session)."""
    started: int = 0
    headers_sent: int = 0
    statuses: list[int] = field(default_factory=list)
    last_body: str | None = None
    """The text of the last answer (what ccxt parsed), for :func:`order_evidence`."""
    builder_refusal: tuple[BaseException, int] | None = None
    """What ccxt's builder of the order's request raised (the venue's ``order_builder``),
    and :attr:`requests` then (none began after it while the two are equal)."""

    @property
    def last_request_never_left(self) -> bool:
        """True when the last request started was never written to the wire."""
        return self.traced and self.started > self.headers_sent


_PROBE: ContextVar[SendProbe | None] = ContextVar("fks_exec_ccxt_probe", default=None)


def probing() -> tuple[SendProbe, Any]:
    """A fresh probe made current for this task; reset with ``_PROBE.reset(token)``."""
    probe = SendProbe()
    return probe, _PROBE.set(probe)


def reset(token: Any) -> None:
    """Undo :func:`probing`."""
    _PROBE.reset(token)


async def _on_start(session: Any, ctx: Any, params: Any) -> None:
    probe = _PROBE.get()
    if probe is not None:
        probe.traced = True
        probe.started += 1


async def _on_headers_sent(session: Any, ctx: Any, params: Any) -> None:
    probe = _PROBE.get()
    if probe is not None:
        probe.headers_sent += 1


def instrument(exchange: Any) -> None:
    """Hook ``exchange`` so a :class:`SendProbe` sees every request, HTTP status and
    answer, and so every answer's numbers are bounded before ccxt parses them
    (:func:`~fks_exec_ccxt.raw_body.check_body` raises :class:`UnsafeNumber`).

    Opens ccxt's own aiohttp session (as ccxt would on first use) and adds a trace
    config to it; an injected session (a test transport) only gets the status hook.
    """
    import aiohttp

    original = exchange.on_rest_response

    venue = str(exchange.id)

    def on_rest_response(code: Any, reason: Any, url: Any, method: Any, *rest: Any) -> Any:
        body = original(code, reason, url, method, *rest)
        probe = _PROBE.get()
        if probe is not None:
            if isinstance(code, int):
                probe.statuses.append(code)
            probe.last_body = body if isinstance(body, str) else None
        if isinstance(body, str):
            check_body(venue, body)  # before ccxt parses a single number of it
        return body

    exchange.on_rest_response = on_rest_response
    fetch = exchange.fetch

    def counted_fetch(*args: Any, **kwargs: Any) -> Any:
        # A plain function handing back ccxt's own coroutine (ccxt awaits it at once): no
        # coroutine of ours in between, which every resume of a request passed through.
        probe = _PROBE.get()
        if probe is not None:
            probe.requests += 1
        return fetch(*args, **kwargs)

    exchange.fetch = counted_fetch
    _watch_builder(exchange, venue_row(venue).order_builder)
    if exchange.own_session and exchange.session is None:
        exchange.open()
    session = exchange.session
    if isinstance(session, aiohttp.ClientSession):
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(_on_start)
        trace.on_request_headers_sent.append(_on_headers_sent)
        trace.freeze()
        # aiohttp takes trace configs only at construction; ccxt builds the session.
        session._trace_configs.append(trace)


def _watch_builder(exchange: Any, name: str) -> None:
    # ccxt's builder of the order's request (synchronous: the request is sent right after
    # it returns): what it raises is kept on the probe. A ccxt without it (or with an
    # async one) is left alone: then nothing proves a refusal came before the order.
    build = getattr(exchange, name, None)  # none for "": no builder named
    if not callable(build) or inspect.iscoroutinefunction(build):
        return

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            return build(*args, **kwargs)
        except Exception as exc:
            probe = _PROBE.get()
            if probe is not None:
                probe.builder_refusal = (exc, probe.requests)
            raise

    setattr(exchange, name, watched)


def refused_before_sending(exc: BaseException, probe: SendProbe) -> bool:
    """True when ``exc`` certainly came before the order's own request left: ccxt's
    builder of that request raised it and no request began after (those before it, such
    as hyperliquid's builder-fee approval, were not the order), or no request began at
    all and it is no network error. Never True for an error after the order's request."""
    refusal = probe.builder_refusal
    if refusal is not None and refusal[0] is exc and refusal[1] == probe.requests:
        return True
    return probe.requests == 0 and not isinstance(exc, _TRANSPORT)


# Failures of a connection: never taken as proof that nothing was sent.
_TRANSPORT = (ccxt.NetworkError, OSError, asyncio.TimeoutError)


_HTTP_CODE = re.compile(r" (\d{3}) ")
_TABLE: list[tuple[type[BaseException], ErrorCode, bool | None]] = [
    (ccxt.RateLimitExceeded, ErrorCode.RATE_LIMITED, True),
    (ccxt.DDoSProtection, ErrorCode.RATE_LIMITED, True),
    (ccxt.InvalidNonce, ErrorCode.REJECTED, True),
    (ccxt.RequestTimeout, ErrorCode.TIMEOUT, None),
    (ccxt.NetworkError, ErrorCode.NETWORK, None),  # incl. ExchangeNotAvailable (503)
    (ccxt.BadResponse, ErrorCode.UNKNOWN, None),
    (ccxt.InsufficientFunds, ErrorCode.INSUFFICIENT_FUNDS, True),
    (ccxt.AuthenticationError, ErrorCode.AUTH, False),  # incl. PermissionDenied, AccountSuspended
    (ccxt.MarketClosed, ErrorCode.MARKET_CLOSED, True),
    (ccxt.NotSupported, ErrorCode.NOT_SUPPORTED, True),
    (ccxt.InvalidOrder, ErrorCode.INVALID_ORDER, True),
    (ccxt.BadRequest, ErrorCode.INVALID_ORDER, True),  # incl. BadSymbol
    (ccxt.ArgumentsRequired, ErrorCode.INVALID_ORDER, True),
    (ccxt.ExchangeError, ErrorCode.REJECTED, True),
]
_STATUS_REFUSALS = {
    400: (ErrorCode.INVALID_ORDER, "the exchange answered 400 Bad Request"),
    401: (ErrorCode.AUTH, "the exchange answered 401 Unauthorized"),
    403: (ErrorCode.AUTH, "the exchange answered 403 Forbidden (key, IP or region)"),
    404: (ErrorCode.NOT_SUPPORTED, "the exchange answered 404 Not Found for ccxt's endpoint"),
    405: (ErrorCode.NOT_SUPPORTED, "the exchange answered 405 Method Not Allowed"),
    429: (ErrorCode.RATE_LIMITED, "the exchange answered 429 Too Many Requests, unprocessed"),
}


def classify(exc: BaseException, probe: SendProbe | None = None, venue: str = "") -> Verdict:
    """Map a ccxt exception to an ``ErrorCode`` and whether the request may have left.

    ``sent=False`` with ``AUTH`` means the key was refused: the venue took nothing. An
    answer in which ``venue`` says it does not know the outcome (an HTTP 5xx, a "server
    timeout" code: :func:`~fks_exec_ccxt.unknown_answers.outcome_unknown`) is ``UNKNOWN``
    with ``sent=None``, whatever class ccxt gave it. Never raises.
    """
    import aiohttp

    cause = exc.__cause__
    if isinstance(exc, ccxt.OnMaintenance):
        return Verdict(ErrorCode.MARKET_CLOSED, False, "the exchange is under maintenance")
    if isinstance(exc, ccxt.NetworkError) and isinstance(
        cause, (socket.gaierror, aiohttp.ClientConnectorError)
    ):
        return Verdict(ErrorCode.NETWORK, False, "the connection could not be opened")
    if isinstance(exc, ccxt.RequestTimeout) and probe and probe.last_request_never_left:
        return Verdict(ErrorCode.TIMEOUT, False, "the connection timed out before sending")
    if isinstance(cause, aiohttp.ClientPayloadError):
        return Verdict(ErrorCode.NETWORK, None, "the answer was cut off after the headers")
    if "status unknown" in str(exc).lower():
        # The venue's own words, whatever class ccxt gives them: binance (and its family)
        # -1006 "Execution status unknown", -1007 "Send status unknown; execution status
        # unknown" (ccxt maps them to ExchangeError on some markets, e.g. options).
        return Verdict(ErrorCode.UNKNOWN, None, "the exchange says its status is unknown")
    status = _status(exc, probe)
    if status in _STATUS_REFUSALS and isinstance(exc, ccxt.ExchangeNotAvailable):
        code, why = _STATUS_REFUSALS[status]
        return Verdict(code, True, why)
    for kind, code, sent in _TABLE:
        if isinstance(exc, kind):
            if sent is not None:
                unknown = outcome_unknown(venue, status, probe.last_body if probe else None)
                if unknown is not None:  # the venue's backend failed: no refusal
                    return Verdict(ErrorCode.UNKNOWN, None, unknown)
            return Verdict(code, sent)
    return Verdict(ErrorCode.UNKNOWN, None)


def _status(exc: BaseException, probe: SendProbe | None) -> int | None:
    if probe is not None and probe.statuses:
        return probe.statuses[-1]
    found = _HTTP_CODE.search(str(exc))
    return int(found.group(1)) if found else None
