"""Checking OKX's request signature.

As https://www.okx.com/docs-v5/en/#overview-rest-authentication describes it:

Every private request carries ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``,
``OK-ACCESS-TIMESTAMP`` (ISO 8601 UTC with milliseconds, e.g.
``2020-12-08T09:08:57.715Z``) and ``OK-ACCESS-PASSPHRASE``. The sign is
``Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))``, where a GET's
query string is part of ``requestPath`` and the body is omitted when empty. A timestamp
more than 30 seconds away from server time is refused with 50102.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest
from fks_exec_ccxt.testing.okx import errors

__all__ = ["Credentials", "sign", "verify"]


@dataclass(frozen=True)
class Credentials:
    """The API key, secret and passphrase the fake account accepts."""

    api_key: str = "okx-test-key"
    secret: str = "okx-test-secret"
    passphrase: str = "okx-test-passphrase"

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, secret=***, passphrase=***)"


def sign(secret: str, timestamp: str, method: str, request_path: str, body: str) -> str:
    """The ``OK-ACCESS-SIGN`` value for one request."""
    prehash = f"{timestamp}{method.upper()}{request_path}{body}"
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(
    request: HttpRequest, credentials: Credentials, now_ms: int, max_skew_ms: int | None
) -> None:
    """Check a private request's headers; raises :class:`~.errors.OkxError` (HTTP 401).

    Order of checks (inferred: OKX does not document which missing header it reports
    first): key, passphrase, sign, timestamp present; key known; passphrase right;
    timestamp well formed and within ``max_skew_ms`` (None: no clock check); sign right.
    """
    key = request.header("OK-ACCESS-KEY")
    passphrase = request.header("OK-ACCESS-PASSPHRASE")
    signature = request.header("OK-ACCESS-SIGN")
    timestamp = request.header("OK-ACCESS-TIMESTAMP")
    for value, code in ((key, "50103"), (passphrase, "50104"), (signature, "50106")):
        if not value:
            raise errors.auth(code)
    if not timestamp:
        raise errors.auth("50107")
    if key != credentials.api_key:
        raise errors.auth("50111")
    if not hmac.compare_digest(passphrase or "", credentials.passphrase):
        raise errors.auth("50105")
    sent_ms = _parse_timestamp(timestamp)
    if max_skew_ms is not None and abs(now_ms - sent_ms) > max_skew_ms:
        raise errors.auth("50102")
    path = request.path + (f"?{request.raw_query}" if request.raw_query else "")
    expected = sign(credentials.secret, timestamp, request.method, path, request.body or "")
    if not hmac.compare_digest(signature or "", expected):
        raise errors.auth("50113")


def _parse_timestamp(value: str) -> int:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise errors.auth("50112") from exc
    if moment.tzinfo is None:
        raise errors.auth("50112")
    return int(moment.timestamp() * 1000)
