"""A fake venue behind ccxt's own HTTP client, at the aiohttp session level.

ccxt's async ``Exchange.fetch`` builds the request, logs it, sends it through
``self.session`` (an ``aiohttp.ClientSession``), reads ``response.text()``, and then runs
the exchange's ``handle_errors`` and ``handle_http_status_code``; aiohttp's exceptions
are mapped to ccxt's there (``ccxt/async_support/base/exchange.py``, ``fetch``)::

    socket.gaierror                 -> ExchangeNotAvailable
    asyncio.TimeoutError            -> RequestTimeout
    aiohttp.ClientConnectionError   -> ExchangeNotAvailable
    aiohttp.ClientError (any other) -> ExchangeError

:func:`attach_session` swaps only that session for a :class:`FakeClientSession`, so all
of ccxt's request code, its request log and its error mapping run for real. A venue is
any async function from :class:`HttpRequest` to :class:`HttpResponse`; it raises
:class:`TransportFault` to make the connection fail the way aiohttp would.

What each fault raises here mirrors real aiohttp 3.x under ccxt's timeouts (ccxt sets
``total == sock_connect == sock_read``, so the *total* timer fires first and every timeout
surfaces as a bare ``TimeoutError`` — checked against a real socket in the loopback tests).
"""

from __future__ import annotations

import asyncio
import errno
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "FakeClientSession",
    "FaultKind",
    "Handler",
    "HttpRequest",
    "HttpResponse",
    "TransportFault",
    "attach_session",
    "parse_request",
]

_SECRET_HEADER = re.compile(r"sign|passphrase|key|secret|auth|token|cookie", re.IGNORECASE)
FaultKind = Literal["refused", "connect_timeout", "reset", "read_timeout", "cut_body"]


@dataclass(frozen=True, repr=False)
class HttpRequest:
    """One HTTP request as the venue receives it."""

    method: str
    path: str
    query: dict[str, str]
    """The decoded query string (last value wins for repeated keys)."""
    raw_query: str
    """The query string exactly as sent (what a signature covers)."""
    headers: dict[str, str]
    body: str | None

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` if it is not JSON."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body)

    def __repr__(self) -> str:
        shown = {k: "***" if _SECRET_HEADER.search(k) else v for k, v in self.headers.items()}
        return f"HttpRequest({self.method} {self.path}?{self.raw_query}, headers={shown})"

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name, or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class HttpResponse:
    """What the venue answers: status, body text and headers."""

    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> HttpResponse:
        """A JSON answer."""
        return cls(status, json.dumps(payload), {"Content-Type": "application/json"})

    @classmethod
    def text(cls, body: str, status: int, content_type: str = "text/plain") -> HttpResponse:
        """A non-JSON answer, such as a CDN's HTML error page."""
        return cls(status, body, {"Content-Type": content_type})


class TransportFault(Exception):
    """Raised by a venue handler to make the connection fail instead of answering.

    ``refused``: the connection is refused, nothing was sent. ``connect_timeout``: the
    connection never opens, nothing was sent. ``reset``: the server drops the
    connection without an answer. ``read_timeout``: no answer arrives in time.
    ``cut_body``: the answer ``response`` starts but its body stops half way. Whether
    the venue acted before the failure is the handler's business.
    """

    def __init__(self, kind: FaultKind, response: HttpResponse | None = None) -> None:
        super().__init__(kind)
        self.kind: FaultKind = kind
        self.response = response


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


def parse_request(
    method: str, url: str, headers: Mapping[str, str], body: str | None
) -> HttpRequest:
    """Build an :class:`HttpRequest` from what an HTTP client sends."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return HttpRequest(method.upper(), parts.path, query, parts.query, dict(headers), body)


class _FakeResponse:
    """The part of ``aiohttp.ClientResponse`` that ccxt's ``fetch`` reads."""

    def __init__(self, response: HttpResponse, url: str, *, cut: bool) -> None:
        from multidict import CIMultiDict, CIMultiDictProxy

        self.status = response.status
        self.reason = _reason(response.status)
        self.headers = CIMultiDictProxy(CIMultiDict(response.headers))
        self.url = url
        self._body = response.body
        self._cut = cut

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body; raises ``ClientPayloadError`` when the body was cut off."""
        import aiohttp

        if self._cut:
            raise aiohttp.ClientPayloadError(
                "Response payload is not completed: <ContentLengthError: 400, "
                "message='Not enough data to satisfy content length header.'>"
            )
        return self._body

    @property
    def content(self) -> bytes:
        """The raw body (ccxt returns it for non-text answers)."""
        return self._body.encode()


class _RequestContext:
    """``async with session.get(...) as response`` for the fake session."""

    def __init__(self, session: FakeClientSession, method: str, url: Any, kwargs: Any) -> None:
        self._session = session
        self._method = method
        self._url = str(url)
        self._kwargs = kwargs

    async def __aenter__(self) -> _FakeResponse:
        return await self._session._send(self._method, self._url, self._kwargs)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class FakeClientSession:
    """Stands in for the ``aiohttp.ClientSession`` ccxt holds; answers from ``handler``.

    ``requests`` records every request that left the client (faults included), in order.
    The ``timeout`` ccxt passes is honoured: an answer slower than ``timeout.total``
    raises ``TimeoutError`` after the venue acted, as a real slow server would.
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[HttpRequest] = []
        self.headers: dict[str, str] = {}
        """Default headers, as ``aiohttp.ClientSession.headers`` (ccxt merges them in)."""
        self.closed = False

    def request(self, method: str, url: Any, **kwargs: Any) -> _RequestContext:
        """Any method; ccxt calls ``get``/``post``/... which land here."""
        return _RequestContext(self, method.upper(), url, kwargs)

    def get(self, url: Any, **kwargs: Any) -> _RequestContext:
        """GET ``url``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: Any, **kwargs: Any) -> _RequestContext:
        """POST ``url``."""
        return self.request("POST", url, **kwargs)

    def put(self, url: Any, **kwargs: Any) -> _RequestContext:
        """PUT ``url``."""
        return self.request("PUT", url, **kwargs)

    def delete(self, url: Any, **kwargs: Any) -> _RequestContext:
        """DELETE ``url``."""
        return self.request("DELETE", url, **kwargs)

    def patch(self, url: Any, **kwargs: Any) -> _RequestContext:
        """PATCH ``url``."""
        return self.request("PATCH", url, **kwargs)

    async def close(self) -> None:
        """Mark the session closed (there is nothing to release)."""
        self.closed = True

    async def _send(self, method: str, url: str, kwargs: Any) -> _FakeResponse:
        data = kwargs.get("data")
        body = data.decode() if isinstance(data, bytes) else data
        request = parse_request(method, url, kwargs.get("headers") or {}, body)
        self.requests.append(request)
        timeout = kwargs.get("timeout")
        total = getattr(timeout, "total", None)
        try:
            if total:
                response = await asyncio.wait_for(self._handler(request), total)
            else:
                response = await self._handler(request)
        except TransportFault as fault:
            return _raise_fault(fault, url)
        return _FakeResponse(response, url, cut=False)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _raise_fault(fault: TransportFault, url: str) -> _FakeResponse:
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    host = urlsplit(url).hostname or "localhost"
    if fault.kind == "refused":
        key = ConnectionKey(host, 443, True, True, None, None, None, None)
        refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")
        raise aiohttp.ClientConnectorError(key, refused)
    if fault.kind in ("connect_timeout", "read_timeout"):
        raise asyncio.TimeoutError()
    if fault.kind == "reset":
        raise aiohttp.ServerDisconnectedError()
    if fault.response is None:
        raise ValueError("a cut_body fault needs the response to cut")
    return _FakeResponse(fault.response, url, cut=True)


def attach_session(exchange: Any, handler: Handler) -> FakeClientSession:
    """Make ``exchange`` (a ``ccxt.async_support`` object) send its HTTP to ``handler``.

    Replaces the aiohttp session ccxt would open and tells ccxt it does not own it, so
    ``await exchange.close()`` leaves it alone. Returns the fake session (its
    ``requests`` list is the wire log).
    """
    session = FakeClientSession(handler)
    exchange.session = session
    exchange.own_session = False
    exchange.timeout_on_exit = 0  # ccxt pauses on close to let real TLS sockets drain
    return session
