"""The optional webhook server (``pip install fks-exec[server]``, ``fks-exec serve``).

A small Starlette app: ``POST /webhook/tradingview`` and ``POST /execute/signal`` take
signals, ``GET /health`` reports the plugins and ``GET /ready`` says whether the
executor has started. Which credential each signal endpoint accepts is the operator's
setting (:mod:`fks_exec.server_auth`); a signature is checked before the body is
parsed. Bodies are read within a size and a time limit, at most
``max_concurrent_signals`` are handled at once, every refusal is one log line and a
4xx JSON answer, and a sender that fails authentication gets nothing but
``unauthorized`` (the reason goes to the log). :func:`fks_exec.server_http.serve`
runs the app with the connection limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fks_exec.config import settings_from_env
from fks_exec.errors import BrokerUnavailable, ConfigurationError, FksExecError, RoutingError
from fks_exec.executor import Executor
from fks_exec.redaction import known_secrets
from fks_exec.server_auth import EndpointAuth, Mode, ServerAuth
from fks_exec.signals import (
    Signal,
    SignalError,
    SignalMapping,
    SignalSkipped,
    Unauthorized,
    parse_signal,
)

__all__ = ["WebhookSettings", "create_app"]

logger = logging.getLogger("fks_exec.server")

_Seconds = Field(gt=0, le=300, allow_inf_nan=False)


class WebhookSettings(BaseSettings):
    """The server's FKS_EXEC_WEBHOOK_* variables (ranges in docs/configuration.md)."""

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
    tradingview_auth: Mode | None = None
    """What ``/webhook/tradingview`` accepts: ``passphrase``, ``signature`` or ``off``.
    Unset: ``passphrase`` when one is configured, else ``signature``."""
    signal_auth: Mode | None = None
    """What ``/execute/signal`` accepts: ``signature`` or ``off`` (never a passphrase).
    Unset: ``signature`` when a secret is configured, else ``off``."""
    window_s: float = Field(default=300.0, gt=0, le=86_400, allow_inf_nan=False)
    """Signals older (or newer) than this, by their timestamp, are refused."""
    require_timestamp: bool = True
    """Refuse signals without a timestamp."""
    max_body_bytes: int = Field(default=65_536, gt=0, le=1_048_576)
    """Largest request body accepted."""
    min_confidence: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    """Signals with a lower ``confidence`` are skipped."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Ticker table, JSON: ``{"BINANCE:BTCUSDT": "ccxt:BTC/USDT"}``."""
    header_timeout_s: float = Field(default=5.0, gt=0, le=300, allow_inf_nan=False)
    """A request's line and headers must arrive within this, or the connection closes."""
    body_timeout_s: float = Field(default=10.0, gt=0, le=300, allow_inf_nan=False)
    """A request's body must arrive within this after its headers (else 408)."""
    keep_alive_timeout_s: int = Field(default=5, ge=1, le=300)
    """An idle keep-alive connection is closed after this many seconds."""
    max_connections: int = Field(default=1_000, ge=1, le=100_000)
    """Open connections at most (lowered to fit the process's file limit); beyond it
    the oldest connection without a complete request is closed."""
    max_concurrent_signals: int = Field(default=32, ge=1, le=10_000)
    """Signals handled at once; more are answered 503 at once."""
    max_header_bytes: int = Field(default=16_384, ge=1_024, le=1_048_576)
    """Largest request line plus headers."""
    backlog: int = Field(default=64, ge=1, le=4_096)
    """Connections the kernel queues before they are accepted."""
    shutdown_timeout_s: float = Field(default=10.0, gt=0, le=300, allow_inf_nan=False)
    """On shutdown, how long requests in flight are waited for."""

    @classmethod
    def from_env(cls) -> WebhookSettings:
        """Read the variables. Raises :class:`ConfigurationError` naming the bad one."""
        return settings_from_env(cls, "FKS_EXEC_WEBHOOK_")

    def auth(self) -> ServerAuth:
        """Each endpoint's checker. Raises :class:`ConfigurationError` when an endpoint's
        credential is missing, or both endpoints are off (the server must not run open)."""
        has_secret = bool(self.secret and self.secret.get_secret_value())
        has_passphrase = bool(self.passphrase and self.passphrase.get_secret_value())
        if not has_secret and not has_passphrase:
            raise ConfigurationError(
                "no webhook secret configured: set FKS_EXEC_WEBHOOK_SECRET (HMAC) "
                "or FKS_EXEC_WEBHOOK_PASSPHRASE"
            )
        if self.signal_auth == "passphrase":
            raise ConfigurationError(
                "FKS_EXEC_WEBHOOK_SIGNAL_AUTH cannot be passphrase: /execute/signal takes "
                "only a signature (or off); TradingView's passphrase goes to /webhook/tradingview"
            )
        tradingview = self.tradingview_auth or ("passphrase" if has_passphrase else "signature")
        signal = self.signal_auth or ("signature" if has_secret else "off")
        common: dict[str, Any] = {
            "secret": self.secret,
            "passphrase": self.passphrase,
            "window_s": self.window_s,
            "require_timestamp": self.require_timestamp,
        }
        auth = ServerAuth(
            tradingview=EndpointAuth.for_endpoint(
                "/webhook/tradingview",
                tradingview,
                variable="FKS_EXEC_WEBHOOK_TRADINGVIEW_AUTH",
                **common,
            ),
            signal=EndpointAuth.for_endpoint(
                "/execute/signal", signal, variable="FKS_EXEC_WEBHOOK_SIGNAL_AUTH", **common
            ),
        )
        if not auth.tradingview.is_on and not auth.signal.is_on:
            raise ConfigurationError("both signal endpoints are off: nothing to serve")
        return auth

    def mapping(self) -> SignalMapping:
        """How signals become orders."""
        return SignalMapping(symbols=dict(self.symbols), min_confidence=self.min_confidence)


class _Refused(Exception):
    """A request answered with a 4xx/5xx before anything was sent to a broker."""

    def __init__(self, status: int, message: str, *, log: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.log = log or message
        self.extra = extra


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"


def create_app(executor: Executor, settings: WebhookSettings) -> Starlette:
    """The ASGI app around ``executor``. Raises :class:`ConfigurationError` when no
    webhook secret or passphrase is configured (the server must not run open) or an
    endpoint's credential is missing."""
    auth = settings.auth()
    mapping = settings.mapping()
    state = {"ready": False}
    busy = asyncio.Semaphore(settings.max_concurrent_signals)

    async def read_body(request: Request) -> bytes:
        limit = settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared[:20]) > limit:
            raise _Refused(413, f"body larger than {limit} bytes")
        body = bytearray()

        async def receive_all() -> None:
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > limit:
                    raise _Refused(413, f"body larger than {limit} bytes")

        try:
            await asyncio.wait_for(receive_all(), settings.body_timeout_s)
        except asyncio.TimeoutError:
            raise _Refused(408, f"body not received within {settings.body_timeout_s:g}s") from None
        except ClientDisconnect:
            raise _Refused(400, "the client went away before its body arrived") from None
        return bytes(body)

    async def authentic_signal(request: Request, checker: EndpointAuth) -> Signal:
        body = await read_body(request)
        try:
            checker.check_raw(body, request.headers)  # before a byte is parsed
        except Unauthorized as exc:
            raise _Refused(401, "unauthorized", log=str(exc)) from None
        try:
            signal = parse_signal(body)
        except SignalError as exc:
            raise _Refused(422, str(exc)) from None
        except Exception as exc:  # a parser bug must not become a 500 with a traceback
            raise _Refused(400, "the body could not be read", log=f"parser bug: {exc!r}") from None
        try:
            checker.check_signal(signal)
        except Unauthorized as exc:
            raise _Refused(401, "unauthorized", log=str(exc)) from None
        return signal

    def endpoint(checker: EndpointAuth) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def handle(request: Request) -> JSONResponse:
            if not checker.is_on:
                return _refusal(request, _Refused(404, f"{checker.endpoint} is switched off"))
            if busy.locked():
                refused = _Refused(503, "too many signals at once; retry shortly")
                return _refusal(request, refused, headers={"Retry-After": "1"})
            async with busy:
                try:
                    return await execute(await authentic_signal(request, checker))
                except _Refused as refused:
                    return _refusal(request, refused)

        return handle

    async def execute(signal: Signal) -> JSONResponse:
        cid = signal.client_order_id
        spent = await executor.spent_result(cid) if cid is not None else None
        if spent is not None:  # the journal remembers the id, across restarts too
            original = spent.model_dump(mode="json", exclude={"raw"})
            message = (
                f"signal id {signal.id!r} was already used (first result: "
                f"{spent.status.value}); nothing was sent again: fix the cause if it "
                "failed, and send the signal under a new id"
            )
            raise _Refused(409, message, result=original)
        try:
            result = await executor.execute_signal(signal, mapping)
        except SignalSkipped as exc:
            return JSONResponse({"status": "skipped", "reason": str(exc)})
        except (SignalError, RoutingError, ConfigurationError) as exc:
            raise _Refused(422, str(exc)) from None
        except BrokerUnavailable as exc:
            raise _Refused(503, str(exc), sent=False) from None
        except FksExecError as exc:
            raise _Refused(400, str(exc)) from None
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
        logger.info("signal endpoints: %s", auth.describe())
        try:
            yield
        finally:
            state["ready"] = False
            await executor.close()

    return Starlette(
        routes=[
            Route("/webhook/tradingview", endpoint(auth.tradingview), methods=["POST"]),
            Route("/execute/signal", endpoint(auth.signal), methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _refusal(
    request: Request, refused: _Refused, headers: dict[str, str] | None = None
) -> JSONResponse:
    # One line per refusal; never the body, never a traceback. Its texts may quote the
    # body (a parse error names the value it could not read: the passphrase, given in
    # the wrong field), so every registered secret is masked in the log and the answer.
    masked = known_secrets()
    logger.warning(
        "refused a signal from %s on %s: %d %s",
        _peer(request),
        request.url.path,
        refused.status,
        masked.text(refused.log[:200]),
    )
    response = _error(refused.status, masked.text(str(refused)), **masked.value(refused.extra))
    if headers:
        response.headers.update(headers)
    return response
