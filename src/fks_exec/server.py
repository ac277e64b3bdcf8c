"""The optional webhook server (``pip install fks-exec[server]``, ``fks-exec serve``).

A small Starlette app: ``POST /webhook/tradingview`` and ``POST /execute/signal`` take
signals, ``GET /health`` reports the plugins and ``GET /ready`` says whether the
executor has started. Bodies are limited in size, errors are JSON, and a sender that
fails authentication gets nothing but ``unauthorized`` (the reason goes to the log).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fks_exec.config import settings_from_env
from fks_exec.errors import BrokerUnavailable, ConfigurationError, FksExecError, RoutingError
from fks_exec.executor import Executor
from fks_exec.signals import (
    SignalError,
    SignalMapping,
    SignalSkipped,
    Unauthorized,
    WebhookAuth,
    parse_signal,
)

__all__ = ["WebhookSettings", "create_app"]

logger = logging.getLogger("fks_exec.server")


class WebhookSettings(BaseSettings):
    """The server's FKS_EXEC_WEBHOOK_* variables."""

    model_config = SettingsConfigDict(
        env_prefix="FKS_EXEC_WEBHOOK_",
        case_sensitive=False,
        extra="ignore",
        hide_input_in_errors=True,
    )

    secret: SecretStr | None = None
    """HMAC-SHA256 key for the X-Webhook-Signature header."""
    passphrase: SecretStr | None = None
    """Shared passphrase expected in the body (what TradingView can send)."""
    window_s: float = Field(default=300.0, gt=0)
    """Signals older (or newer) than this, by their timestamp, are refused."""
    require_timestamp: bool = True
    """Refuse signals without a timestamp."""
    max_body_bytes: int = Field(default=65_536, gt=0)
    """Largest request body accepted."""
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    """Signals with a lower ``confidence`` are skipped."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Ticker table, JSON: ``{"BINANCE:BTCUSDT": "ccxt:BTC/USDT"}``."""

    @classmethod
    def from_env(cls) -> WebhookSettings:
        """Read the variables. Raises :class:`ConfigurationError` naming the bad one."""
        return settings_from_env(cls, "FKS_EXEC_WEBHOOK_")

    def auth(self) -> WebhookAuth:
        """The authenticator. Raises :class:`ConfigurationError` without any secret."""
        try:
            return WebhookAuth(
                secret=self.secret,
                passphrase=self.passphrase,
                window_s=self.window_s,
                require_timestamp=self.require_timestamp,
            )
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None

    def mapping(self) -> SignalMapping:
        """How signals become orders."""
        return SignalMapping(symbols=dict(self.symbols), min_confidence=self.min_confidence)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_app(executor: Executor, settings: WebhookSettings) -> Starlette:
    """The ASGI app around ``executor``. Raises :class:`ConfigurationError` when no
    webhook secret or passphrase is configured (the server must not run open)."""
    auth = settings.auth()
    mapping = settings.mapping()
    state = {"ready": False}

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise _TooLarge
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_body_bytes:
                raise _TooLarge
        return bytes(body)

    async def signal_endpoint(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
        except _TooLarge:
            return _error(413, f"body larger than {settings.max_body_bytes} bytes")
        try:
            signal = parse_signal(body)
        except SignalError as exc:
            return _error(422, str(exc))
        try:
            auth.check(body, request.headers, signal)
        except Unauthorized as exc:
            logger.warning(
                "refused a signal from %s: %s", request.client.host if request.client else "?", exc
            )
            return _error(401, "unauthorized")
        cid = signal.client_order_id
        spent = await executor.spent_result(cid) if cid is not None else None
        if spent is not None:  # the journal remembers the id, across restarts too
            original = spent.model_dump(mode="json", exclude={"raw"})
            return _error(409, f"signal id {signal.id!r} was already executed", result=original)
        try:
            result = await executor.execute_signal(signal, mapping)
        except SignalSkipped as exc:
            return JSONResponse({"status": "skipped", "reason": str(exc)})
        except SignalError as exc:
            return _error(422, str(exc))
        except (RoutingError, ConfigurationError) as exc:
            return _error(422, str(exc))
        except BrokerUnavailable as exc:
            return _error(503, str(exc), sent=False)
        except FksExecError as exc:
            return _error(400, str(exc))
        status = 200 if result.success else 422 if result.status.value == "rejected" else 202
        return JSONResponse(result.model_dump(mode="json", exclude={"raw"}), status_code=status)

    async def health(request: Request) -> JSONResponse:
        report = {n: h.model_dump() for n, h in (await executor.health()).items()}
        healthy = bool(report) and all(h["healthy"] for h in report.values())
        return JSONResponse(
            {"healthy": healthy, "plugins": report}, status_code=200 if healthy else 503
        )

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"ready": state["ready"]}, status_code=200 if state["ready"] else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await executor.start()
        state["ready"] = True
        try:
            yield
        finally:
            state["ready"] = False
            await executor.close()

    return Starlette(
        routes=[
            Route("/webhook/tradingview", signal_endpoint, methods=["POST"]),
            Route("/execute/signal", signal_endpoint, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


class _TooLarge(Exception):
    pass
