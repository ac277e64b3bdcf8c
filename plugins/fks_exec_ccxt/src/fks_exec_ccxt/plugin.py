"""The ``ccxt`` plugin: orders to any ccxt exchange, in-process (``ccxt.async_support``)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from fks_exec.errors import BrokerUnavailable, OrderDenied
from fks_exec.kit import TtlCache
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec_ccxt.config import CcxtConfig
from fks_exec_ccxt.connection import (
    build_exchange,
    credential_secrets,
    mask_ccxt_log,
    says_paper,
)
from fks_exec_ccxt.health import HealthCache

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fks_exec_ccxt.mapping import Denial, Request

__all__ = ["CcxtPlugin"]

_REMEMBERED_ORDERS = 50_000


@cache
def _order_steps() -> tuple[
    Callable[..., Request | Denial],
    Callable[[CcxtPlugin, Order, Request], Awaitable[ExecutionResult]],
    type[Denial],
]:
    # build_request, send and Denial, imported on the first order (they import ccxt), then
    # kept: an import statement in the order path cost ~1-2 us per order.
    from fks_exec_ccxt.mapping import Denial, build_request
    from fks_exec_ccxt.orders import send

    return build_request, send, Denial


class CcxtPlugin(ExecutionPlugin[CcxtConfig]):
    """Trades through one ccxt exchange object (built from config, or handed in).

    ``CcxtPlugin(exchange=ccxt.async_support.binance({...}))`` uses your object as it is
    (rate limiting is forced on); otherwise ``init`` builds one from the config. The
    plugin owns the object: ``close()`` closes it. After ``init`` the instance declares
    the capabilities ccxt reports for that exchange (``has`` and ``features``).
    """

    name: ClassVar[str] = "ccxt"
    config_model: ClassVar[type[CcxtConfig]] = CcxtConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)
    """Every capability ccxt can offer; ``init`` narrows it to the exchange's own."""

    def __init__(self, exchange: Any = None) -> None:
        super().__init__()
        self._given = exchange
        self.exchange: Any = exchange
        self._markets_lock: asyncio.Lock | None = None
        # client id and broker id -> symbol, the newest ``_remembered`` kept: an
        # OrderedDict used directly (C-speed; a BoundedDict's Python __setitem__ cost
        # ~1 us per order)
        self._symbols: OrderedDict[str, str] = OrderedDict()
        self._remembered = _REMEMBERED_ORDERS
        self._stops: set[str] = set()  # broker ids of trigger orders we placed
        # symbol -> a recent price on the order's side, for minimum-cost checks
        self._tickers: TtlCache[tuple[str, str], Decimal | None] = TtlCache(0)
        self._rules: dict[str, Any] = {}  # symbol -> MarketRules, derived once
        self._read_flags: dict[tuple[str, bool], dict[str, Any]] = {}  # fetch_order params
        self._health = HealthCache(0)

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self, config: CcxtConfig) -> None:
        from fks_exec_ccxt.errors import instrument
        from fks_exec_ccxt.rules import capabilities

        if self._given is None:
            self.exchange = build_exchange(config)
        self.exchange.enableRateLimit = True  # never hammer an exchange, whatever the caller set
        # The base class masks the config's secrets; an exchange handed in carries its
        # own credentials, masked the same way in results, health, exceptions and logs.
        self.mask_also(credential_secrets(self.exchange))
        mask_ccxt_log(self.exchange)
        self._markets_lock = asyncio.Lock()
        self._health = HealthCache(config.health_cache_ms)
        self._tickers = TtlCache(config.ticker_cache_ms / 1000, maxlen=1_000)
        instrument(self.exchange)
        # Per instance (issue 14): the exchange decides what this instance can do.
        self.set_capabilities(capabilities(self.exchange))

    def _broker_says_paper(self) -> bool | None:
        return says_paper(self.exchange)

    async def _close(self) -> None:
        if self.exchange is not None:
            await self.exchange.close()

    # ------------------------------------------------------------------ markets

    async def _markets(self) -> dict[str, Any]:
        exchange = self.exchange
        if exchange.markets:
            return exchange.markets  # type: ignore[no-any-return]
        assert self._markets_lock is not None
        async with self._markets_lock:
            if not exchange.markets:
                try:
                    await exchange.load_markets()
                except Exception as exc:
                    raise BrokerUnavailable(
                        f"{exchange.id}: cannot load markets: {type(exc).__name__}: {exc}"
                    ) from exc
        return exchange.markets  # type: ignore[no-any-return]

    async def market(self, symbol: str) -> dict[str, Any] | None:
        """The ccxt market for a unified symbol (``BTC/USDT``) or an exchange id (``BTCUSDT``).

        An exchange id shared by several markets (spot and swap ``BTCUSDT`` on binance)
        resolves to the one of the exchange's ``defaultType``. Returns None when unknown;
        raises :class:`BrokerUnavailable` when markets cannot be loaded.
        """
        markets = await self._markets()
        if symbol in markets:
            return markets[symbol]  # type: ignore[no-any-return]
        candidates = (self.exchange.markets_by_id or {}).get(symbol) or []
        if isinstance(candidates, dict):
            candidates = [candidates]
        if not candidates:
            return None
        default = str(self.exchange.options.get("defaultType", "spot"))
        for market in candidates:
            if market.get("type") == default or (default == "future" and market.get("swap")):
                return market  # type: ignore[no-any-return]
        return candidates[0]  # type: ignore[no-any-return]

    def rules_of(self, market: dict[str, Any]) -> Any:
        """The :class:`~fks_exec_ccxt.rules.MarketRules` of a ccxt market, derived once."""
        from fks_exec_ccxt.rules import market_rules

        rules = self._rules.get(market["symbol"])
        if rules is None:
            rules = self._rules[market["symbol"]] = market_rules(self.exchange, market)
        return rules

    def _remember(self, key: str, symbol: str) -> None:
        symbols = self._symbols
        if key in symbols:
            symbols.move_to_end(key)  # a refreshed id is the newest again
        symbols[key] = symbol
        if len(symbols) > self._remembered:
            symbols.popitem(last=False)  # bounded: the oldest are forgotten first

    @staticmethod
    def _wants_reference_price(rules: Any, order: Order) -> bool:
        # Only an order with no price of its own is valued against the minimum cost or,
        # as a market buy where ccxt prices those in the quote currency, converted.
        if order.price is not None or order.stop_price is not None:
            return False
        return (
            rules.min_cost is not None
            or rules.market_needs_price
            or (rules.market_buy_by_cost and order.side is OrderSide.BUY)
        )

    async def _reference_price(self, rules: Any, order: Order) -> Decimal | None:
        from fks_exec_ccxt.ticker import ticker_price

        if not self._wants_reference_price(rules, order):
            return None
        return await ticker_price(
            self.exchange, rules.symbol, order.side, fresh=False, cache=self._tickers
        )

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        build_request, send, denial_type = _order_steps()
        if order.account is not None:
            self._check_account(order.account)
        markets = self.exchange.markets
        market = markets.get(order.symbol) if markets else None  # the usual case, no await
        try:
            if market is None:
                market = await self.market(order.symbol)
        except BrokerUnavailable as exc:
            from fks_exec_ccxt.errors import classify

            if exc.__cause__ is not None and classify(exc.__cause__).code is ErrorCode.AUTH:
                # A refused key is no reason to fall back to another broker.
                raise OrderDenied(f"{exc}: the API key was refused", ErrorCode.AUTH.value) from exc
            raise
        if market is None:
            raise OrderDenied(
                f"{self.exchange.id} has no market {order.symbol!r}; use the unified symbol "
                "(BTC/USDT, BTC/USDT:USDT) or the exchange's own id"
            )
        rules = self._rules.get(market["symbol"]) or self.rules_of(market)
        reference = (
            await self._reference_price(rules, order)
            if self._wants_reference_price(rules, order)
            else None
        )
        _check_client_id(str(self.exchange.id), rules.client_id.param, order)
        built = build_request(self.exchange, rules, order, reference)
        if isinstance(built, denial_type):
            raise OrderDenied(built.message, built.code.value)
        # Not narrowed by mypy (the type is in a variable); no cast() call on this path.
        request: Request = built  # type: ignore[assignment]
        if order.stop_price is not None and rules.stop.from_market:
            from fks_exec_ccxt.stop_side import check_stop_side

            await check_stop_side(self.exchange, rules.symbol, order)
        symbol = request.symbol
        self._remember(order.client_order_id, symbol)
        result = await send(self, order, request)
        order_id = result.order_id
        if order_id:
            self._remember(order_id, symbol)
            if order.stop_price is not None:
                self._stops.add(order_id)
        return result

    def _fill_bounded_by_quantity(self, order: Order) -> bool:
        """A market buy sent as a quote cost may fill more base than ``order.quantity``
        when the price moves down; its fill is checked against the cost instead
        (:func:`~fks_exec_ccxt.mapping.to_result`)."""
        symbol = self._symbols.get(order.client_order_id)
        rules = self._rules.get(symbol) if symbol is not None else None
        return not (
            rules is not None
            and rules.market_buy_by_cost
            and order.type is OrderType.MARKET
            and order.side is OrderSide.BUY
        )

    def _check_account(self, account: str | None) -> None:
        configured = self.config.account
        if account is not None and account != configured:
            said = f"the configured account {configured!r}" if configured else "no account name"
            raise OrderDenied(
                f"order names account {account!r} but this {self.exchange.id} instance trades "
                f"{said} (set account= in its config, or route the order to the right instance)"
            )

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        from fks_exec_ccxt.orders import cancel

        symbol = symbol or self._symbols.get(order_id)
        market = await self.market(symbol) if symbol else None
        return await cancel(self, order_id, market, symbol, order_id in self._stops)

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        return await self._find_order(client_order_id, {})

    async def _find_order(
        self, client_order_id: str, hints: Mapping[str, str]
    ) -> ExecutionResult | None:
        from fks_exec_ccxt.lookup import find_by_client_id, make_finder_result

        symbol = self._symbols.get(client_order_id) or hints.get("symbol")
        market = await self.market(symbol) if symbol else None
        rules = self.rules_of(market) if market else None
        build = make_finder_result(self.name, client_order_id, str(self.exchange.id))
        return await find_by_client_id(self.exchange, market, rules, client_order_id, build)

    def _lookup_hints(self, order: Order, result: ExecutionResult | None) -> Mapping[str, str]:
        from fks_exec_ccxt.client_ids import venue_client_id

        symbol = self._symbols.get(order.client_order_id)
        hints = {"exchange": str(self.exchange.id)}
        rules = self._rules.get(symbol) if symbol else None
        if symbol and rules is not None:
            hints["symbol"] = symbol
            hints["venue_client_id"] = venue_client_id(order.client_order_id, rules.client_id)
        if result is not None and result.order_id:
            hints["order_id"] = result.order_id
        return hints

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        from fks_exec_ccxt.positions import to_market_data

        market = await self.market(symbol)
        unified = market["symbol"] if market else symbol
        return to_market_data(unified, await self.exchange.fetch_ticker(unified))

    async def _health_check(self) -> HealthStatus:
        return await self._health.check(self.exchange)

    async def _positions(self) -> list[Position]:
        from fks_exec_ccxt.positions import read_positions

        return await read_positions(self, self.config.positions_from)

    async def _close_position(self, symbol: str, quantity: Decimal | None) -> list[ExecutionResult]:
        from fks_exec_ccxt.positions import close_orders

        market = await self.market(symbol)
        if market is None:
            raise ValueError(f"{self.exchange.id} has no market {symbol!r}")
        results = []
        for order in await close_orders(self, market, quantity):
            results.append(await self.execute_order(order))
        if any(r.status is OrderStatus.UNKNOWN for r in results):
            from fks_exec.errors import OutcomeUnknown

            raise OutcomeUnknown(
                f"{self.exchange.id}: a closing order on {symbol} got no answer; check "
                "positions() before trying again"
            )
        return results


def _check_client_id(exchange_id: str, param: str, order: Order) -> None:
    """Raise :class:`OrderDenied` (nothing sent) where no client id can reach
    ``exchange_id``, or where ``order.params`` would set the venue's client id field."""
    from fks_exec_ccxt.venues import venue

    unsent = venue(exchange_id).client_id_unsent
    if unsent:
        raise OrderDenied(
            f"{exchange_id} refused before sending: a client order id cannot reach this "
            f"venue through ccxt ({unsent}), so a lost answer could never be matched to "
            "its order and idempotency cannot be kept; trade it elsewhere",
            ErrorCode.NOT_SUPPORTED.value,
        )
    if order.params and param in order.params:
        raise OrderDenied(
            f"Order.params may not set {param}: the plugin sends client_order_id as "
            f"{exchange_id}'s {param}",
            ErrorCode.INVALID_ORDER.value,
        )
