""":class:`FakeKraken`: the fake Kraken venue, its test controls and its fault injection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from fks_exec_ccxt.testing.aiohttp_transport import (
    FakeClientSession,
    HttpRequest,
    HttpResponse,
    attach_session,
)
from fks_exec_ccxt.testing.kraken import errors, signing
from fks_exec_ccxt.testing.kraken.account import Account, Position
from fks_exec_ccxt.testing.kraken.endpoints import ORDER_PLACEMENT, PRIVATE, PUBLIC
from fks_exec_ccxt.testing.kraken.errors import KrakenError
from fks_exec_ccxt.testing.kraken.orders import Order, Quote, Trade
from fks_exec_ccxt.testing.kraken.pairs import DEFAULT_PAIRS, Pair
from fks_exec_ccxt.testing.kraken.rules import Rules
from fks_exec_ccxt.testing.kraken.signing import Credentials, NonceGuard
from fks_exec_ccxt.testing.kraken.trading import Trading
from fks_exec_ccxt.testing.loopback import LoopbackServer, point_exchange_at
from fks_exec_ccxt.testing.venue_faults import HttpFaultPlan

__all__ = ["DEFAULT_BALANCES", "FakeKraken"]

DEFAULT_BALANCES = {"ZUSD": "100000", "USDT": "100000", "XXBT": "10", "XETH": "100"}
"""Cash per Kraken asset id (``XXBT`` is bitcoin, ``ZUSD`` US dollars)."""


class FakeKraken(HttpFaultPlan):
    """The server side of Kraken's spot REST API (with margin), for a real ccxt ``kraken``.

    Attach a ccxt exchange with :meth:`exchange` (or :meth:`attach`), move the market
    with :meth:`set_price`, read the outcome with :meth:`balance`, :meth:`positions`,
    :meth:`orders`, :meth:`trades` and :meth:`order_arrivals`. Implements
    :class:`fks_exec.testing.faults.FaultInjection`; "order requests" are ``AddOrder``
    calls. Behind a :class:`~fks_exec_ccxt.testing.loopback.LoopbackServer` (the same
    :meth:`handle`), ``refuse_next``/``disconnect`` become a dropped connection; use
    ``loopback.refusing_url()`` / ``loopback.blackhole()`` for a real refused connect.
    """

    def __init__(
        self,
        *,
        balances: Mapping[str, str | Decimal] | None = None,
        pairs: Iterable[Pair] = DEFAULT_PAIRS,
        credentials: Credentials | None = None,
        rules: Rules | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.rules = rules = rules or Rules()
        self.clock = clock or time.time
        source = DEFAULT_BALANCES if balances is None else balances
        cash = {k: Decimal(v) for k, v in source.items()}
        self.trading = Trading({p.pair_id: p for p in pairs}, Account(cash), rules, self.clock)
        self.nonces = NonceGuard(window=rules.nonce_window_ms)
        super().__init__()

    # ------------------------------------------------------------------ wiring
    def attach(self, exchange: Any) -> FakeClientSession:
        """Serve ``exchange`` (a ``ccxt.async_support.kraken``) from this venue, in-process."""
        return attach_session(exchange, self.handle)

    def exchange(self, **config: Any) -> Any:
        """A new ``ccxt.async_support.kraken`` with this venue's credentials, attached.

        ccxt's rate limiter is kept at a 1 ms pace; ``config`` is merged into the
        constructor settings (``options`` merged too).
        """
        import ccxt.async_support as ccxt_async

        settings = {
            "apiKey": self.credentials.api_key,
            "secret": self.credentials.secret,
            "enableRateLimit": True,
            "rateLimit": 1,
            **config,
        }
        exchange = ccxt_async.kraken(settings)
        self.attach(exchange)
        return exchange

    def serve(self) -> LoopbackServer:
        """A real HTTP server on 127.0.0.1 for this venue: ``async with venue.serve() as s:``."""
        return LoopbackServer(self.handle)

    def exchange_at(self, url: str, **config: Any) -> Any:
        """A ``ccxt.async_support.kraken`` with its own real aiohttp session, sending to ``url``.

        For transport faults on real sockets (``url`` from :meth:`serve`, or
        ``loopback.refusing_url()`` / ``loopback.blackhole()``). ``config`` as in
        :meth:`exchange`; set ``timeout`` (ms) short.
        """
        import ccxt.async_support as ccxt_async

        settings = {"apiKey": self.credentials.api_key, "secret": self.credentials.secret, **config}
        return point_exchange_at(ccxt_async.kraken(settings), url)

    # ------------------------------------------------------------------ market and state
    def set_price(
        self,
        pair: str,
        bid: str | Decimal,
        ask: str | Decimal,
        last: str | Decimal | None = None,
        *,
        index: str | Decimal | None = None,
        bid_size: str | Decimal | None = None,
        ask_size: str | Decimal | None = None,
    ) -> None:
        """Quote ``pair`` (id, altname or wsname): resting limits it crosses fill, triggers fire.

        ``bid_size``/``ask_size`` (base volume) bound what this quote fills before the
        next one; None is unlimited. ``last`` defaults to the mid price and ``index`` to
        ``last``; they are the two reference prices a trigger may follow.
        """
        b, a = Decimal(bid), Decimal(ask)
        last_price = Decimal(last) if last is not None else (b + a) / 2
        quote = Quote(
            b,
            a,
            last_price,
            Decimal(index) if index is not None else last_price,
            None if bid_size is None else Decimal(bid_size),
            None if ask_size is None else Decimal(ask_size),
        )
        self.trading.set_price(pair, quote)

    def balance(self, asset: str) -> Decimal:
        """Cash of a Kraken asset id (``ZUSD``, ``XXBT``...), before what orders hold."""
        return self.trading.account.cash.get(asset, Decimal(0))

    def positions(self, pair: str | None = None) -> list[Position]:
        """Open margin positions (of ``pair`` if given), oldest first."""
        found = self.trading.account.positions
        return [p for p in found if pair is None or pair in p.pair.names()]

    def position(self, pair: str) -> Decimal:
        """Net open margin volume of ``pair``: long positive, short negative."""
        signed = [p.open_vol if p.side == "buy" else -p.open_vol for p in self.positions(pair)]
        return sum(signed, Decimal(0))

    def orders(self) -> list[Order]:
        """Every order the venue accepted, oldest first."""
        return list(self.trading.orders.values())

    def trades(self) -> list[Trade]:
        """Every fill, oldest first."""
        return list(self.trading.trades.values())

    def set_pair_status(self, pair: str, status: str) -> None:
        """Set a pair's ``status``: ``online``, ``cancel_only``, ``post_only``, ``maintenance``."""
        found = self.trading.pair(pair)
        self.trading.pairs[found.pair_id] = replace(found, status=status)

    # ------------------------------------------------------------------ faults
    # fail_next_request, refuse_next, lose_next_answer, disconnect, reconnect and
    # set_latency come from HttpFaultPlan; "order requests" are AddOrder calls.
    def fail_next_with_error(self, message: str, *, path: str | None = None) -> None:
        """Answer the next request with a Kraken error, e.g. ``EService:Unavailable``."""
        payload = errors.body(KrakenError(message))
        self.fail_next_request(HttpResponse.json(payload), path=path)

    def order_arrivals(self) -> Mapping[str, int]:
        """Times each ``cl_ord_id`` (else ``userref``, else txid) reached the book."""
        return dict(self.trading.arrivals)

    # ------------------------------------------------------------------ HTTP
    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one HTTP request (the handler both transports call)."""
        placement = request.path in ORDER_PLACEMENT
        return await self.serve_with_faults(request, is_order=placement, answer=self._answer)

    def _answer(self, request: HttpRequest) -> HttpResponse:
        public, private = PUBLIC.get(request.path), PRIVATE.get(request.path)
        try:
            if public is not None and request.method == "GET":
                return HttpResponse.json(
                    {"error": [], "result": public(self.trading, request.query)}
                )
            if private is None or request.method != "POST":
                raise KrakenError("EGeneral:Unknown method")  # inferred text
            payload = _payload(request)
            signing.verify(request, payload, self.credentials, self.nonces)
            return HttpResponse.json({"error": [], "result": private(self.trading, payload)})
        except KrakenError as refusal:
            return HttpResponse.json(errors.body(refusal), refusal.http_status)


def _payload(request: HttpRequest) -> dict[str, Any]:
    """The POST data: form-encoded, or JSON when the Content-Type says so."""
    body = request.body or ""
    if "json" in (request.header("Content-Type") or ""):
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise errors.invalid_argument("body") from exc
        if not isinstance(parsed, dict):
            raise errors.invalid_argument("body")
        return parsed
    return dict(parse_qsl(body, keep_blank_values=True))
