"""Building the ccxt exchange object from config, and telling paper from live."""

from __future__ import annotations

import difflib
import logging
from typing import Any

from fks_exec.errors import PluginInitError
from fks_exec.redaction import MaskingFilter
from fks_exec_ccxt.config import CcxtConfig

__all__ = [
    "SECRET_CREDENTIALS",
    "build_exchange",
    "credential_secrets",
    "mask_ccxt_log",
    "says_paper",
]

SECRET_CREDENTIALS = ("apiKey", "secret", "password", "twofa", "privateKey", "token")
"""The credential attributes of a ccxt exchange (its ``requiredCredentials``) that are
secrets: the API key, its secret and passphrase, the 2FA (TOTP) seed, a wallet's private
key and an HTTP auth token. ``uid``, ``accountId``, ``login`` and ``walletAddress``
identify the account (a public address, a short number) and are left visible: masking a
short identifier would mask it inside every unrelated number or text."""


def build_exchange(config: CcxtConfig) -> Any:
    """A ``ccxt.async_support`` exchange from ``config``.

    Raises :class:`PluginInitError` for a missing or unknown exchange id (with close
    matches), and for ``sandbox``/``demo`` on an exchange ccxt has none for.
    """
    import ccxt.async_support as ccxt_async

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
    if config.demo:
        try:  # ccxt's base class has the method; an exchange without demo URLs fails in it
            exchange.enable_demo_trading(True)
        except Exception as exc:
            raise PluginInitError(
                f"{exchange_id} has no demo trading in ccxt ({type(exc).__name__}: {exc}); "
                "unset FKS_EXEC_CCXT_DEMO"
            ) from None
    return exchange


def says_paper(exchange: Any) -> bool:
    """True when ccxt is in sandbox/testnet mode or demo trading, else False (live)."""
    options = exchange.options or {}
    return bool(
        getattr(exchange, "isSandboxModeEnabled", False)
        or options.get("enableDemoTrading")
        or options.get("sandboxMode")
    )


def credential_secrets(exchange: Any) -> tuple[str, ...]:
    """The values of ``exchange``'s :data:`SECRET_CREDENTIALS` that are set."""
    values = (getattr(exchange, name, None) for name in SECRET_CREDENTIALS)
    return tuple(v for v in values if isinstance(v, str) and v)


def mask_ccxt_log(exchange: Any) -> None:
    """Give ccxt's own logger a :class:`~fks_exec.redaction.MaskingFilter` (once).

    ccxt logs every request's headers at DEBUG, and venues carry the key and often the
    passphrase in headers (OKX ``OK-ACCESS-KEY``, ``OK-ACCESS-PASSPHRASE``). The filter
    masks every registered secret, so once the plugin has registered the
    :func:`credential_secrets` (``ExecutionPlugin.mask_also``, also for an exchange object
    handed in) no handler ever sees them. It runs only for records ccxt actually emits.
    """
    logger = getattr(exchange, "logger", None)
    if isinstance(logger, logging.Logger) and not any(
        isinstance(f, MaskingFilter) for f in logger.filters
    ):
        logger.addFilter(MaskingFilter())
