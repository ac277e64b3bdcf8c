"""Health that proves an order could go now: an authenticated read, cached."""

from __future__ import annotations

import time
from typing import Any

from fks_exec.kit import TtlCache
from fks_exec.models import HealthStatus

__all__ = ["HealthCache"]


class HealthCache:
    """Checks the API key with an authenticated read (``fetch_balance``), reused for
    ``cache_ms`` so polling health does not burn the exchange's rate limit.

    No key configured is unhealthy ("no API key"); a refused key is unhealthy with a
    detail starting ``auth:``; a venue that cannot be reached with ``network:``.
    """

    def __init__(self, cache_ms: int) -> None:
        self._cache: TtlCache[str, HealthStatus] = TtlCache(cache_ms / 1000, maxlen=1)

    async def check(self, exchange: Any) -> HealthStatus:
        """The cached status, or a fresh one when the cache is older than ``cache_ms``."""
        cached = self._cache.get("health")
        if cached is not None:
            return cached
        status = await self._fresh(exchange)
        self._cache.set("health", status)
        return status

    async def _fresh(self, exchange: Any) -> HealthStatus:
        import ccxt.async_support as ccxt

        started = time.perf_counter()
        if not exchange.apiKey:
            return HealthStatus(
                healthy=False,
                detail=f"{exchange.id}: no API key configured (set api_key): orders cannot be "
                "signed",
            )
        try:
            await exchange.fetch_balance()
        except ccxt.AuthenticationError as exc:
            return HealthStatus(
                healthy=False, detail=f"auth: {exchange.id} refused the API key: {exc}"
            )
        except ccxt.NetworkError as exc:
            return HealthStatus(healthy=False, detail=f"network: {exchange.id}: {exc}")
        latency = (time.perf_counter() - started) * 1000
        return HealthStatus(
            healthy=True,
            latency_ms=latency,
            detail=f"{exchange.id}: API key accepted by an authenticated read (fetch_balance)",
        )
