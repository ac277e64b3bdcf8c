"""Which credential each webhook endpoint accepts, and the checks themselves.

Two endpoints, two rules, set by the operator (see docs/signals.md):

========================  ==========================================================
``/webhook/tradingview``  ``passphrase`` (TradingView cannot sign: the passphrase in
                          the body), ``signature`` (a signing proxy in front) or
                          ``off``
``/execute/signal``       ``signature`` or ``off``; never a passphrase alone
========================  ==========================================================

A signature is HMAC-SHA256 of the exact raw body under the secret, in the
``X-Webhook-Signature`` header; it is checked before the body is parsed, so an
unsigned body is never parsed at all. Both credentials are compared in constant time.
Then the signal's timestamp must lie within the window.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from fks_exec.errors import ConfigurationError
from fks_exec.redaction import register_secret
from fks_exec.signals import SIGNATURE_HEADER, Signal, Unauthorized, signature_for

__all__ = ["EndpointAuth", "Mode", "ServerAuth"]

Mode = Literal["passphrase", "signature", "off"]


@dataclass(frozen=True)
class EndpointAuth:
    """The credential one endpoint accepts, with what it needs to check it.

    Build it with :meth:`for_endpoint`; call :meth:`check_raw` on the raw body before
    parsing and :meth:`check_signal` on the parsed signal.
    """

    endpoint: str
    mode: Mode
    secret: SecretStr | None
    passphrase: SecretStr | None
    window_s: float
    require_timestamp: bool

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        mode: Mode,
        *,
        variable: str,
        secret: SecretStr | None,
        passphrase: SecretStr | None,
        window_s: float,
        require_timestamp: bool,
    ) -> EndpointAuth:
        """The checker of ``endpoint`` in ``mode``. Raises :class:`ConfigurationError`
        when the mode's credential is not configured (``variable`` names the setting)."""
        secret = secret if secret is not None and secret.get_secret_value() else None
        passphrase = (
            passphrase if passphrase is not None and passphrase.get_secret_value() else None
        )
        if mode == "signature" and secret is None:
            raise ConfigurationError(
                f"{variable}=signature needs FKS_EXEC_WEBHOOK_SECRET; set it, or set {variable}=off"
            )
        if mode == "passphrase" and passphrase is None:
            raise ConfigurationError(
                f"{variable}=passphrase needs FKS_EXEC_WEBHOOK_PASSPHRASE; set it, or set "
                f"{variable}=off"
            )
        for credential in (secret, passphrase):
            if credential is not None:  # masked in every log record and refusal
                register_secret(credential.get_secret_value())
        return cls(endpoint, mode, secret, passphrase, window_s, require_timestamp)

    @property
    def is_on(self) -> bool:
        """False when the endpoint is switched off (it answers 404)."""
        return self.mode != "off"

    def check_raw(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Before parsing: in ``signature`` mode the header must sign ``body``.

        Raises :class:`Unauthorized` with the reason (for the log, not the sender).
        """
        if self.mode != "signature":
            return
        assert self.secret is not None
        given = _header(headers, SIGNATURE_HEADER)
        if not given:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        expected = signature_for(self.secret.get_secret_value(), body)
        if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("latin-1")):
            raise Unauthorized("bad signature")

    def check_signal(self, signal: Signal, now: float | None = None) -> None:
        """After parsing: the passphrase (``passphrase`` mode) and the timestamp window.

        Raises :class:`Unauthorized` with the reason.
        """
        if self.mode == "passphrase":
            assert self.passphrase is not None
            given = signal.passphrase.get_secret_value() if signal.passphrase else ""
            expected = self.passphrase.get_secret_value()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                raise Unauthorized("bad or missing passphrase")
        if signal.timestamp is None:
            if self.require_timestamp:
                raise Unauthorized('no timestamp: add "timestamp": "{{timenow}}" to the alert')
            return
        now = time.time() if now is None else now
        if abs(now - signal.timestamp.timestamp()) > self.window_s:
            raise Unauthorized(
                f"timestamp {signal.timestamp.isoformat()} outside the {self.window_s:.0f}s window"
            )

    def __repr__(self) -> str:
        return f"<EndpointAuth {self.endpoint} accepts {self.mode}>"


@dataclass(frozen=True)
class ServerAuth:
    """The checkers of both endpoints."""

    tradingview: EndpointAuth
    """``POST /webhook/tradingview``."""
    signal: EndpointAuth
    """``POST /execute/signal``."""

    def describe(self) -> str:
        """One line for the start-up log: which endpoint accepts what."""
        return "; ".join(
            f"{a.endpoint} accepts {a.mode}" if a.mode != "off" else f"{a.endpoint} is off (404)"
            for a in (self.tradingview, self.signal)
        )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
