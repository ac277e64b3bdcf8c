"""Checking Kraken's private-request signature and nonce.

As https://docs.kraken.com/api/docs/guides/spot-rest-auth describes it: a private
request carries the public key in ``API-Key`` and, in ``API-Sign``, the base64 of
``HMAC-SHA512(base64decode(secret), URI path + SHA256(nonce + POST data))``, where the URI
path is the part starting ``/0/private`` and ``nonce`` is a payload parameter, an
"always increasing, unsigned 64-bit integer". The payload is form-encoded, or JSON for
the endpoints that take JSON (ccxt sends JSON for ``AddOrderBatch``,
``CancelOrderBatch`` and orders with a percentage price).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest
from fks_exec_ccxt.testing.kraken import errors
from fks_exec_ccxt.testing.kraken.errors import KrakenError

__all__ = ["Credentials", "NonceGuard", "sign", "verify"]

_DEFAULT_SECRET = base64.b64encode(b"kraken-fake-secret-" + bytes(range(45))).decode()


@dataclass(frozen=True)
class Credentials:
    """The API key and (base64) private key the fake account accepts."""

    api_key: str = "kraken-test-key"
    secret: str = _DEFAULT_SECRET

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, secret=***)"


@dataclass
class NonceGuard:
    """The last nonce seen for the key; a nonce must exceed it (less ``window``)."""

    window: int = 0
    last: int | None = field(default=None)

    def admit(self, nonce: int) -> None:
        """Accept ``nonce`` or raise ``EAPI:Invalid nonce`` (the last one is kept)."""
        if self.last is not None and nonce <= self.last - self.window:
            raise KrakenError(errors.INVALID_NONCE)
        self.last = nonce if self.last is None else max(self.last, nonce)


def sign(secret: str, uri_path: str, nonce: str, post_data: str) -> str:
    """The ``API-Sign`` value for one request."""
    digest = hashlib.sha256((nonce + post_data).encode()).digest()
    mac = hmac.new(base64.b64decode(secret), uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def verify(
    request: HttpRequest, payload: Mapping[str, Any], credentials: Credentials, nonces: NonceGuard
) -> None:
    """Check a private request; raises :class:`~.errors.KrakenError`.

    Order of checks (inferred: the docs do not say which failure wins): key present and
    known (``EAPI:Invalid key``), nonce present and an unsigned integer
    (``EAPI:Invalid nonce``), signature right (``EAPI:Invalid signature``), nonce
    increasing (``EAPI:Invalid nonce``). A request with a bad signature does not move
    the nonce.
    """
    key = request.header("API-Key")
    if not key or not hmac.compare_digest(key, credentials.api_key):
        raise KrakenError(errors.INVALID_KEY)
    raw_nonce = payload.get("nonce")
    nonce_text = str(raw_nonce) if raw_nonce is not None else ""
    if not nonce_text.isdigit() or int(nonce_text) >= 2**64:
        raise KrakenError(errors.INVALID_NONCE)
    expected = sign(credentials.secret, request.path, nonce_text, request.body or "")
    if not hmac.compare_digest(request.header("API-Sign") or "", expected):
        raise KrakenError(errors.INVALID_SIGNATURE)
    nonces.admit(int(nonce_text))
