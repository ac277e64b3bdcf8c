"""Serving a real ccxt exchange object from a fake venue, in-process.

ccxt sends every HTTP request through ``Exchange.fetch(url, method, headers, body)``.
:func:`attach` replaces that one method: the request goes to a :class:`FakeVenue`
instead of the network, and the venue's answer goes through ccxt's own
``handle_errors`` and ``handle_http_status_code``, exactly as a real answer would. So
ccxt's request building, signing, rate limiting, parsing and error mapping all run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeVenue", "Fault", "RecordedRequest", "Response", "attach"]

FaultKind = Literal["refused", "timeout", "reset", "http"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the venue received it."""

    method: str
    path: str
    params: dict[str, str]
    """Query-string and form/JSON body parameters together."""
    headers: dict[str, str]
    body: str | None


@dataclass(frozen=True)
class Response:
    """What the venue answers: status, headers and body text."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        """A JSON answer."""
        return cls(status, json.dumps(payload))


@dataclass(frozen=True)
class Fault:
    """A transport failure injected on a future request.

    ``refused``: the connection fails before anything is sent. ``timeout``/``reset``:
    with ``after_processing`` the venue handles the request (an order is placed) and
    the answer is lost; without, the request is lost on the way. ``http``: the venue
    answers ``status`` with ``body`` instead of handling the request.
    """

    kind: FaultKind
    after_processing: bool = False
    status: int = 503
    body: str = "Service Unavailable"
    path: str | None = None
    """Only requests whose path contains this are affected (None: the next request)."""


class FakeVenue:
    """The server side of an exchange's REST API; subclasses implement :meth:`handle`."""

    exchange_id = "?"

    def __init__(self, api_key: str = "test-key", secret: str = "test-secret") -> None:
        self.api_key = api_key
        self.secret = secret
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self.delay_s = 0.0

    def fail_next(self, kind: FaultKind, **options: Any) -> None:
        """Queue a :class:`Fault` for the next matching request."""
        self._faults.append(Fault(kind, **options))

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path ends with ``path`` (and of ``method``)."""
        return [
            r
            for r in self.requests
            if r.path.endswith(path) and (method is None or r.method == method)
        ]

    def _take_fault(self, path: str) -> Fault | None:
        for fault in list(self._faults):
            if fault.path is None or fault.path in path:
                self._faults.remove(fault)
                return fault
        return None

    def sign(self, payload: str) -> str:
        """HMAC-SHA256 of ``payload`` with the venue's secret, lowercase hex."""
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def handle(self, request: RecordedRequest, raw_query: str) -> Response:
        """Answer one request. Subclasses implement the exchange's endpoints."""
        raise NotImplementedError


def _parse(
    url: str, method: str, headers: dict[str, str] | None, body: str | None
) -> tuple[RecordedRequest, str]:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if body:
        if body.lstrip().startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                params.update(
                    {k: v if isinstance(v, str) else str(v) for k, v in json.loads(body).items()}
                )
        else:
            params.update(parse_qsl(body, keep_blank_values=True))
    request = RecordedRequest(method.upper(), parts.path, params, dict(headers or {}), body)
    return request, parts.query


def attach(exchange: Any, venue: FakeVenue) -> Any:
    """Route ``exchange``'s HTTP requests to ``venue``; returns the exchange.

    Raises, like ccxt's real transport: ``ExchangeNotAvailable`` (chained from a DNS
    error) for a refused connection, ``RequestTimeout`` for a timeout,
    ``ExchangeNotAvailable`` (chained from a dropped connection) for a reset.
    """
    import aiohttp
    import ccxt.async_support as ccxt_async

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request, raw_query = _parse(url, method, headers, body)
        details = f"{exchange.id} {method} {url}"
        fault = venue._take_fault(request.path)
        if fault is not None and fault.kind == "refused":
            raise ccxt_async.ExchangeNotAvailable(details) from socket.gaierror(
                -3, "Temporary failure in name resolution"
            )
        if fault is not None and not fault.after_processing and fault.kind in ("timeout", "reset"):
            return _lost(fault, details, aiohttp, ccxt_async)
        venue.requests.append(request)
        if venue.delay_s:
            await asyncio.sleep(venue.delay_s)
        if fault is not None and fault.kind == "http":
            response = Response(fault.status, fault.body, {"Content-Type": "text/plain"})
        else:
            response = venue.handle(request, raw_query)
        if fault is not None and fault.after_processing:
            return _lost(fault, details, aiohttp, ccxt_async)
        text = response.body
        json_response = exchange.parse_json(text)
        reason = "OK" if response.status < 400 else "Error"
        exchange.last_http_response = text
        exchange.last_json_response = json_response
        exchange.last_response_headers = response.headers
        exchange.handle_errors(
            response.status,
            reason,
            url,
            method,
            response.headers,
            text,
            json_response,
            headers,
            body,
        )
        exchange.handle_http_status_code(response.status, reason, url, method, text)
        return json_response if json_response is not None else text

    exchange.fetch = fetch
    return exchange


def _lost(fault: Fault, details: str, aiohttp: Any, ccxt_async: Any) -> Any:
    if fault.kind == "timeout":
        raise ccxt_async.RequestTimeout(details) from asyncio.TimeoutError()
    raise ccxt_async.ExchangeNotAvailable(details) from aiohttp.ServerDisconnectedError()
