""":class:`FakeOkx`: the fake OKX venue, its test controls and its fault injection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from fks_exec_ccxt.testing.aiohttp_transport import (
    FakeClientSession,
    HttpRequest,
    HttpResponse,
    attach_session,
)
from fks_exec_ccxt.testing.okx import errors, signing
from fks_exec_ccxt.testing.okx.account import Account, PosMode
from fks_exec_ccxt.testing.okx.algo import AlgoOrder
from fks_exec_ccxt.testing.okx.book import Order, Quote
from fks_exec_ccxt.testing.okx.endpoints import ORDER_PLACEMENT, PRIVATE_PREFIXES, ROUTES
from fks_exec_ccxt.testing.okx.errors import OkxError
from fks_exec_ccxt.testing.okx.markets import DEFAULT_INSTRUMENTS, Instrument
from fks_exec_ccxt.testing.okx.rules import Rules
from fks_exec_ccxt.testing.okx.signing import Credentials
from fks_exec_ccxt.testing.okx.trading import Trading
from fks_exec_ccxt.testing.venue_faults import HttpFaultPlan

__all__ = ["FakeOkx"]

DEFAULT_BALANCES = {"USDT": "100000", "BTC": "10"}


class FakeOkx(HttpFaultPlan):
    """The server side of OKX's v5 REST API, in memory, for a real ccxt ``okx`` object.

    Attach a ccxt exchange with :meth:`exchange` (or :meth:`attach`), move the market
    with :meth:`set_price`, read the outcome with :meth:`position`, :meth:`balance`,
    :meth:`orders`, :meth:`algo_orders` and :meth:`order_arrivals`. Implements
    :class:`fks_exec.testing.faults.FaultInjection`; "order requests" are the three
    placement endpoints (``trade/order``, ``trade/batch-orders``, ``trade/order-algo``).

    In-process (:meth:`attach`) every fault is exact. Behind a
    :class:`~fks_exec_ccxt.testing.loopback.LoopbackServer` the connection is already
    open when the venue sees a request, so ``refuse_next``/``disconnect`` become a
    dropped connection there; use ``loopback.refusing_url()`` / ``loopback.blackhole()``
    for a real refused or hanging connect.
    """

    def __init__(
        self,
        *,
        balances: Mapping[str, str | Decimal] | None = None,
        pos_mode: PosMode = "net_mode",
        instruments: Iterable[Instrument] = DEFAULT_INSTRUMENTS,
        credentials: Credentials | None = None,
        rules: Rules | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.rules = rules = rules or Rules()
        self.clock = clock or (lambda: int(time.time() * 1000))
        cash = {
            k: Decimal(v) for k, v in (DEFAULT_BALANCES if balances is None else balances).items()
        }
        self.trading = Trading(
            {i.inst_id: i for i in instruments}, Account(cash, pos_mode), rules, self.clock
        )
        super().__init__()

    # ------------------------------------------------------------------ wiring
    def attach(self, exchange: Any) -> FakeClientSession:
        """Serve ``exchange`` (a ``ccxt.async_support.okx``) from this venue, in-process."""
        return attach_session(exchange, self.handle)

    def exchange(self, **config: Any) -> Any:
        """A new ``ccxt.async_support.okx`` with this venue's credentials, attached.

        It loads spot and swap markets only, and keeps ccxt's rate limiter at a 1 ms
        pace. ``config`` is merged into the constructor settings (``options`` merged too).
        """
        import ccxt.async_support as ccxt_async

        options = {"fetchMarkets": {"types": ["spot", "swap"]}, **config.pop("options", {})}
        settings = {
            "apiKey": self.credentials.api_key,
            "secret": self.credentials.secret,
            "password": self.credentials.passphrase,
            "enableRateLimit": True,
            "rateLimit": 1,
            "options": options,
            **config,
        }
        exchange = ccxt_async.okx(settings)
        self.attach(exchange)
        return exchange

    # ------------------------------------------------------------------ market and state
    def set_price(
        self,
        inst_id: str,
        bid: str | Decimal,
        ask: str | Decimal,
        last: str | Decimal | None = None,
        *,
        bid_size: str | Decimal | None = None,
        ask_size: str | Decimal | None = None,
    ) -> None:
        """Quote ``inst_id``: resting limits it crosses fill, then stops it reaches fire.

        ``bid_size``/``ask_size`` (contracts for derivatives, base for spot) bound what
        this quote can fill before the next one; None is unlimited. ``last`` defaults to
        the mid price; it is the price triggers compare.
        """
        b, a = Decimal(bid), Decimal(ask)
        quote = Quote(
            b,
            a,
            Decimal(last) if last is not None else (b + a) / 2,
            None if bid_size is None else Decimal(bid_size),
            None if ask_size is None else Decimal(ask_size),
        )
        self.trading.set_price(inst_id, quote)

    def position(self, inst_id: str, pos_side: str = "net") -> Decimal:
        """Contracts held (signed in net mode, positive for ``long``/``short``)."""
        return self.trading.account.held(self.trading.instrument(inst_id), pos_side)

    def balance(self, ccy: str) -> Decimal:
        """Cash balance of ``ccy`` (before what orders and positions hold)."""
        return self.trading.account.cash.get(ccy, Decimal(0))

    def orders(self) -> list[Order]:
        """Every regular order the venue accepted, oldest first."""
        return list(self.trading.book.orders.values())

    def algo_orders(self) -> list[AlgoOrder]:
        """Every algo order the venue accepted, oldest first."""
        return list(self.trading.desk.algos.values())

    @property
    def pos_mode(self) -> PosMode:
        """``net_mode`` or ``long_short_mode``; settable while nothing is open."""
        return self.trading.account.pos_mode

    @pos_mode.setter
    def pos_mode(self, mode: PosMode) -> None:
        self.trading.account.pos_mode = mode

    # ------------------------------------------------------------------ faults
    # fail_next_request, refuse_next, lose_next_answer, disconnect, reconnect and
    # set_latency come from HttpFaultPlan; "order requests" are ORDER_PLACEMENT.
    def fail_next_with_okx_error(self, error: OkxError, *, path: str | None = None) -> None:
        """Answer the next request with an OKX request-level error (e.g. maintenance)."""
        payload = errors.request_failure_body(error)
        self.fail_next_request(HttpResponse.json(payload, error.http_status), path=path)

    def order_arrivals(self) -> Mapping[str, int]:
        """Times each ``clOrdId`` / ``algoClOrdId`` reached the book (``ordId`` if none)."""
        return dict(self.trading.arrivals)

    # ------------------------------------------------------------------ HTTP
    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one HTTP request (the handler both transports call)."""
        placement = (request.method, request.path) in ORDER_PLACEMENT
        return await self.serve_with_faults(request, is_order=placement, answer=self._answer)

    def _answer(self, request: HttpRequest) -> HttpResponse:
        route = ROUTES.get((request.method, request.path))
        if route is None:
            return HttpResponse.text("Not Found", 404)  # inferred: the gateway's 404
        try:
            if request.path.startswith(PRIVATE_PREFIXES):
                max_skew = self.rules.max_clock_skew_ms
                signing.verify(request, self.credentials, int(time.time() * 1000), max_skew)
            payload = request.query if request.method == "GET" else _body(request)
            return HttpResponse.json(route(self.trading, payload))
        except OkxError as refusal:
            return HttpResponse.json(errors.request_failure_body(refusal), refusal.http_status)


def _body(request: HttpRequest) -> Any:
    if not request.body:
        raise OkxError("50000", "Body for POST request cannot be empty.", 400)
    try:
        return json.loads(request.body)
    except ValueError as exc:
        raise OkxError("50002", "JSON syntax error", 400) from exc
