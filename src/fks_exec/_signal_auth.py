"""Webhook sender authentication: an HMAC-SHA256 signature of the raw body or a shared
passphrase, both compared in constant time, plus a timestamp window (:class:`WebhookAuth`).

Import these from :mod:`fks_exec.signals`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from pydantic import SecretStr

from fks_exec._signal_model import Signal, Unauthorized
from fks_exec.redaction import register_secret

__all__ = ["SIGNATURE_HEADER", "WebhookAuth", "signature_for"]

SIGNATURE_HEADER = "X-Webhook-Signature"


def signature_for(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the exact raw ``body``, lowercase hex (the X-Webhook-Signature)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookAuth:
    """Authenticates webhook senders (replays are refused by the journal, see
    :func:`execute_signal`).

    A request passes with a valid ``X-Webhook-Signature`` (when ``secret`` is set) or
    the right ``passphrase`` in the body (when ``passphrase`` is set). Then its
    timestamp must be within ``window_s`` of now (required unless
    ``require_timestamp=False``).
    Raises ``ValueError`` when neither secret nor passphrase is given.
    """

    def __init__(
        self,
        *,
        secret: SecretStr | str | None = None,
        passphrase: SecretStr | str | None = None,
        window_s: float = 300.0,
        require_timestamp: bool = True,
    ) -> None:
        self._secret = _secret(secret)
        self._passphrase = _secret(passphrase)
        if not self._secret and not self._passphrase:
            raise ValueError(
                "no webhook secret configured: set FKS_EXEC_WEBHOOK_SECRET (HMAC) "
                "or FKS_EXEC_WEBHOOK_PASSPHRASE"
            )
        self.window_s = window_s
        self.require_timestamp = require_timestamp

    def check(self, body: bytes, headers: Mapping[str, str], signal: Signal) -> None:
        """Raise :class:`Unauthorized` (with the reason, for the log) unless the request
        is authentic and fresh."""
        signature = _header(headers, SIGNATURE_HEADER)
        if signature and self._secret:
            expected = signature_for(self._secret.get_secret_value(), body)
            if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
                raise Unauthorized("bad signature")
        elif self._passphrase:
            given = _plain(signal.passphrase).encode()
            if not hmac.compare_digest(given, self._passphrase.get_secret_value().encode()):
                raise Unauthorized("bad or missing passphrase")
        else:
            raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
        now = time.time()
        if signal.timestamp is None:
            if self.require_timestamp:
                raise Unauthorized('no timestamp: add "timestamp": "{{timenow}}" to the alert')
        elif abs(now - signal.timestamp.timestamp()) > self.window_s:
            raise Unauthorized(
                f"timestamp {signal.timestamp.isoformat()} outside the {self.window_s:.0f}s window"
            )


def _secret(value: SecretStr | str | None) -> SecretStr | None:
    # Held as SecretStr so a dump of the object (or of captured locals) shows no secret.
    text = _plain(value)
    if not text:
        return None
    register_secret(text)
    return SecretStr(text)


def _plain(value: SecretStr | str | None) -> str:
    if value is None:
        return ""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
