"""The ``ccxt`` plugin: orders to any ccxt exchange, in-process (``ccxt.async_support``)."""

from __future__ import annotations

import asyncio
import difflib
import time
from collections import OrderedDict
from decimal import Decimal
from typing import Any, ClassVar

from fks_exec.errors import BrokerUnavailable, PluginInitError
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    HealthStatus,
    MarketData,
    Order,
    OrderStatus,
    Position,
)
from fks_exec.plugin import Capability, ExecutionPlugin
from fks_exec_ccxt.config import CcxtConfig

__all__ = ["CcxtPlugin"]

_REMEMBERED_ORDERS = 50_000
_RECENT_ORDERS = 100


class CcxtPlugin(ExecutionPlugin):
    """Trades through one ccxt exchange object (built from config, or handed in).

    ``CcxtPlugin(exchange=ccxt.async_support.binance({...}))`` uses your object as it is
    (rate limiting is forced on); otherwise ``init`` builds one from ``exchange``,
    ``api_key``, ``secret``, ``password``, ``sandbox``, ``options`` and ``timeout_ms``.
    The plugin owns the object: ``close()`` closes it.
    """

    name: ClassVar[str] = "ccxt"
    config_model: ClassVar[type[CcxtConfig]] = CcxtConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self, exchange: Any = None) -> None:
        super().__init__()
        self._given = exchange
        self.exchange: Any = exchange
        self._markets_lock: asyncio.Lock | None = None
        self._symbols: OrderedDict[str, str] = OrderedDict()  # client/broker id -> symbol
        self._tickers: dict[str, tuple[float, Decimal | None]] = {}
        self._rules: dict[str, Any] = {}  # symbol -> MarketRules, derived once
        self._cfg = CcxtConfig()

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self, config: CcxtConfig) -> None:
        import ccxt.async_support as ccxt_async

        self._cfg = config
        if self._given is None:
            self.exchange = self._build(ccxt_async, config)
        self.exchange.enableRateLimit = True  # never hammer an exchange, whatever the caller set
        self._markets_lock = asyncio.Lock()

    def _build(self, ccxt_async: Any, config: CcxtConfig) -> Any:
        if not config.exchange:
            raise PluginInitError(
                "no exchange configured: set FKS_EXEC_CCXT_EXCHANGE (e.g. binance) or pass "
                "CcxtPlugin(exchange=...)"
            )
        exchange_id = config.exchange.strip().lower()
        if exchange_id not in ccxt_async.exchanges:
            close = difflib.get_close_matches(exchange_id, ccxt_async.exchanges, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise PluginInitError(f"ccxt has no exchange {config.exchange!r}.{hint}")
        settings: dict[str, Any] = {
            "enableRateLimit": True,
            "timeout": config.timeout_ms,
            "options": dict(config.options),
        }
        for key, field in (
            ("apiKey", config.api_key),
            ("secret", config.secret),
            ("password", config.password),
        ):
            if field is not None:
                settings[key] = field.get_secret_value()
        exchange = getattr(ccxt_async, exchange_id)(settings)
        if config.sandbox:
            try:
                exchange.set_sandbox_mode(True)
            except Exception as exc:
                raise PluginInitError(
                    f"{exchange_id} has no sandbox in ccxt ({exc}); unset FKS_EXEC_CCXT_SANDBOX"
                ) from None
        return exchange

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
                        self.redact(
                            f"{exchange.id}: cannot load markets: {type(exc).__name__}: {exc}"
                        )
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

    def _remember(self, key: str, symbol: str) -> None:
        self._symbols[key] = symbol
        self._symbols.move_to_end(key)
        while len(self._symbols) > _REMEMBERED_ORDERS:
            self._symbols.popitem(last=False)

    async def _reference_price(self, market: dict[str, Any], order: Order) -> Decimal | None:
        from fks_exec_ccxt.mapping import to_decimal

        if order.price is not None or not ((market.get("limits") or {}).get("cost") or {}).get(
            "min"
        ):
            return None
        symbol = market["symbol"]
        cached = self._tickers.get(symbol)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._cfg.ticker_cache_ms / 1000:
            return cached[1]
        try:
            ticker = await self.exchange.fetch_ticker(symbol)
        except Exception as exc:  # a read: failing it sends nothing
            raise BrokerUnavailable(
                self.redact(f"{self.exchange.id}: no price for {symbol}: {exc}")
            ) from exc
        side_price = ticker.get("ask") if order.side.value == "buy" else ticker.get("bid")
        price = to_decimal(side_price) or to_decimal(ticker.get("last"))
        self._tickers[symbol] = (now, price)
        return price

    # ------------------------------------------------------------------ orders

    async def _execute_order(self, order: Order) -> ExecutionResult:
        import ccxt.async_support as ccxt_async

        from fks_exec_ccxt.mapping import Denial, MarketRules, build_request, classify, to_result

        market = await self.market(order.symbol)
        if market is None:
            return self._denied(
                order,
                ErrorCode.INVALID_ORDER,
                f"{self.exchange.id} has no market {order.symbol!r}; use the unified symbol "
                "(BTC/USDT, BTC/USDT:USDT) or the exchange's own id",
            )
        rules = self._rules.get(market["symbol"])
        if rules is None:
            rules = self._rules[market["symbol"]] = MarketRules.of(self.exchange, market)
        reference = await self._reference_price(market, order)
        request = build_request(self.exchange, rules, order, reference)
        if isinstance(request, Denial):
            return self._denied(order, request.code, request.message)
        self._remember(order.client_order_id, request.symbol)
        try:
            raw = await self.exchange.create_order(
                request.symbol,
                request.type,
                request.side,
                request.amount,
                request.price,
                request.params,
            )
        except ccxt_async.BaseError as exc:
            verdict = classify(exc)
            message = self.redact(f"{type(exc).__name__}: {exc}")
            if verdict.sent is False:
                raise BrokerUnavailable(f"{self.exchange.id}: {message}") from exc
            if verdict.sent is None:
                return self._unknown(order, verdict.code, message)
            if isinstance(exc, ccxt_async.InvalidOrder):
                # Exchanges answer a reused client id with a plain InvalidOrder ("Duplicate
                # order sent."). If they already hold this very order, that is the answer.
                existing = await self._find(order.client_order_id, request.symbol)
                if existing is not None:
                    return existing
            return ExecutionResult.for_order(
                order,
                plugin=self.name,
                status=OrderStatus.REJECTED,
                error=message,
                error_code=verdict.code,
            )
        if not isinstance(raw, dict) or raw.get("id") is None:
            # No order id, no confirmation (a truncated or garbled answer): the order
            # may exist; it is reconciled by its client order id, never resent.
            return self._unknown(
                order, ErrorCode.UNKNOWN, f"{self.exchange.id} answered without an order id"
            )
        result = to_result(raw, plugin=self.name, order=order, symbol=request.symbol)
        if result.order_id:
            self._remember(result.order_id, request.symbol)
        if raw.get("status") is None:
            # Only acknowledged (e.g. bybit answers with ids): read the order's real state.
            try:
                found = await self._find(order.client_order_id, request.symbol)
            except Exception:
                found = None
            if found is not None:
                return found
        return result

    async def _cancel_order(self, order_id: str, symbol: str | None) -> ExecutionResult:
        import ccxt.async_support as ccxt_async

        from fks_exec_ccxt.mapping import classify, to_result

        symbol = symbol or self._symbols.get(order_id)
        if symbol is None:
            raise ValueError(
                f"cancel_order({order_id!r}) on ccxt needs symbol=: this plugin did not place it"
            )
        market = await self.market(symbol)
        unified = market["symbol"] if market else symbol
        try:
            raw = await self.exchange.cancel_order(order_id, unified)
        except ccxt_async.BaseError as exc:
            verdict = classify(exc)
            message = self.redact(f"{type(exc).__name__}: {exc}")
            if verdict.sent is False:
                raise BrokerUnavailable(f"{self.exchange.id}: {message}") from exc
            status = OrderStatus.UNKNOWN if verdict.sent is None else OrderStatus.REJECTED
            return ExecutionResult.for_cancel(
                plugin=self.name,
                status=status,
                order_id=order_id,
                symbol=unified,
                error=message,
                error_code=verdict.code,
            )
        result = to_result(
            {**raw, "id": raw.get("id") or order_id}, plugin=self.name, symbol=unified
        )
        if result.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            # Many exchanges acknowledge a cancel without a final status.
            result = ExecutionResult.model_validate(
                {**result.model_dump(), "status": OrderStatus.CANCELED, "success": True}
            )
        return result

    async def _get_order(self, client_order_id: str) -> ExecutionResult | None:
        symbol = self._symbols.get(client_order_id)
        return await self._find(client_order_id, symbol)

    async def _find(self, client_order_id: str, symbol: str | None) -> ExecutionResult | None:
        """Search open, then recent closed orders for ``client_order_id`` (reads only)."""
        import ccxt.async_support as ccxt_async

        exchange = self.exchange
        has = exchange.has
        if symbol is None:
            # Not placed by this plugin instance: only open orders can be searched without
            # a symbol, and some exchanges refuse even that. Not found is the honest answer.
            if not has.get("fetchOpenOrders"):
                return None
            try:
                return self._match(await exchange.fetch_open_orders(), client_order_id, None)
            except (ccxt_async.ExchangeError, ccxt_async.NotSupported):
                return None
        methods = ["fetch_open_orders"]
        if has.get("fetchCanceledAndClosedOrders"):
            methods.append("fetch_canceled_and_closed_orders")
        elif has.get("fetchOrders"):
            methods.append("fetch_orders")
        else:
            methods += [
                m
                for m, key in (
                    ("fetch_closed_orders", "fetchClosedOrders"),
                    ("fetch_canceled_orders", "fetchCanceledOrders"),
                )
                if has.get(key)
            ]
        for method in methods:
            found = self._match(
                await getattr(exchange, method)(symbol, None, _RECENT_ORDERS),
                client_order_id,
                symbol,
            )
            if found is not None:
                return found
        return None

    def _match(
        self, orders: list[dict[str, Any]], client_order_id: str, symbol: str | None
    ) -> ExecutionResult | None:
        from fks_exec_ccxt.mapping import to_result

        for raw in orders:
            if raw.get("clientOrderId") == client_order_id:
                return to_result(raw, plugin=self.name, symbol=raw.get("symbol") or symbol)
        return None

    # ------------------------------------------------------------------ reads

    async def _fetch_data(self, symbol: str) -> MarketData:
        from fks_exec_ccxt.mapping import to_decimal

        market = await self.market(symbol)
        unified = market["symbol"] if market else symbol
        ticker = await self.exchange.fetch_ticker(unified)

        def price(key: str) -> Decimal | None:
            value = to_decimal(ticker.get(key))
            return value if value is not None and value > 0 else None

        volume = to_decimal(ticker.get("baseVolume"))
        stamp = ticker.get("timestamp")
        extra: dict[str, Any] = {}
        if isinstance(stamp, (int, float)) and stamp > 0:
            from datetime import datetime, timezone

            extra["timestamp"] = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc)
        return MarketData(
            symbol=unified,
            bid=price("bid"),
            ask=price("ask"),
            last=price("last"),
            volume=volume if volume is not None and volume >= 0 else None,
            **extra,
        )

    async def _health_check(self) -> HealthStatus:
        exchange = self.exchange
        started = time.perf_counter()
        if exchange.has.get("fetchTime"):
            await exchange.fetch_time()
            detail = f"{exchange.id}: server time ok"
        else:
            status = await exchange.fetch_status()
            if status.get("status") not in (None, "ok"):
                return HealthStatus(healthy=False, detail=f"{exchange.id}: status {status}")
            detail = f"{exchange.id}: status ok"
        return HealthStatus(
            healthy=True, latency_ms=(time.perf_counter() - started) * 1000, detail=detail
        )

    async def _positions(self) -> list[Position]:
        from fks_exec_ccxt.mapping import to_decimal

        exchange = self.exchange
        source = self._cfg.positions_from
        if source == "auto":
            default = str(exchange.options.get("defaultType", "spot"))
            source = (
                "balances"
                if default == "spot" or not exchange.has.get("fetchPositions")
                else "positions"
            )
        result = []
        if source == "positions":
            for raw in await exchange.fetch_positions():
                contracts = to_decimal(raw.get("contracts")) or Decimal(0)
                if contracts == 0:
                    continue
                size = contracts * (to_decimal(raw.get("contractSize")) or Decimal(1))
                signed = -size if raw.get("side") == "short" else size
                entry = to_decimal(raw.get("entryPrice"))
                result.append(
                    Position(
                        symbol=raw["symbol"],
                        quantity=signed,
                        average_price=entry if entry and entry > 0 else None,
                        unrealized_pnl=to_decimal(raw.get("unrealizedPnl")),
                    )
                )
            return result
        balance = await exchange.fetch_balance()
        for currency, total in sorted((balance.get("total") or {}).items()):
            amount = to_decimal(total)
            if amount:
                result.append(Position(symbol=currency, quantity=amount))
        return result
