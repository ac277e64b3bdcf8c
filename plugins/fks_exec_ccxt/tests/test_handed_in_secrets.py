"""The credentials of an exchange object handed in are masked wherever the plugin masks.

``CcxtPlugin(exchange=ccxt.okx({...}))`` has no secret in its config: the plugin masks
the exchange's own credentials (``connection.SECRET_CREDENTIALS``) in ccxt's DEBUG log,
in results, in health details and along the chain of an exception it raises. Each test
uses fresh values: the process-wide registry would otherwise carry them over.
"""

from __future__ import annotations

import io
import logging
import traceback
import uuid

import pytest
from fake_venues import quoted_okx, started

from fks_exec import Order
from fks_exec.errors import BrokerUnavailable
from fks_exec_ccxt.connection import SECRET_CREDENTIALS, credential_secrets
from fks_exec_ccxt.testing.aiohttp_transport import HttpResponse
from fks_exec_ccxt.testing.okx import Credentials

LINEAR = "BTC/USDT:USDT"


def _fresh() -> Credentials:
    tag = uuid.uuid4().hex
    return Credentials(api_key=f"AK{tag}", secret=f"SE{tag}", passphrase=f"PP{tag}")


def test_every_ccxt_secret_credential_is_listed() -> None:
    import ccxt

    assert set(SECRET_CREDENTIALS) <= set(ccxt.Exchange.requiredCredentials)
    exchange = ccxt.okx({name: f"v-{name}" for name in ccxt.Exchange.requiredCredentials})
    assert set(credential_secrets(exchange)) == {f"v-{name}" for name in SECRET_CREDENTIALS}


async def test_the_api_key_never_reaches_ccxts_debug_log() -> None:
    creds = _fresh()
    venue = quoted_okx(credentials=creds)
    exchange = venue.exchange()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = exchange.logger
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        plugin = await started(exchange)
        await plugin.execute_order(Order.limit(LINEAR, "buy", "1", "59000"))
        await plugin.close()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    logged = buffer.getvalue()
    assert "OK-ACCESS-KEY" in logged  # ccxt did log the headers
    for value in (creds.api_key, creds.secret, creds.passphrase):
        assert value not in logged


@pytest.mark.parametrize("extra", ["twofa", "privateKey", "token"])
async def test_echoed_credentials_are_masked_in_results_health_and_exceptions(
    extra: str,
) -> None:
    creds = _fresh()
    venue = quoted_okx(credentials=creds)
    exchange = venue.exchange()
    extra_value = f"X{uuid.uuid4().hex}"
    setattr(exchange, extra, extra_value)
    secrets = (creds.api_key, creds.secret, creds.passphrase, extra_value)
    page = "<html>bad gateway; headers: " + " ".join(secrets) + "</html>"

    def leaks(text: str) -> list[str]:
        return [s for s in secrets if s in text]

    plugin = await started(exchange)
    try:
        for status in (400, 502):
            venue.fail_next_request(HttpResponse.text(page, status, "text/html"), path="order")
            result = await plugin.execute_order(
                Order.limit(LINEAR, "buy", "1", "59000", client_order_id=f"c{status}")
            )
            assert result.error and leaks(result.error) == []
            assert leaks(repr(result.raw)) == []
        venue.fail_next_request(HttpResponse.text(page, 400, "text/html"))
        health = await plugin.health_check()
        assert leaks(str(health)) == []
        venue.fail_next_request(HttpResponse.text(page, 502, "text/html"))
        with pytest.raises(BrokerUnavailable) as caught:
            await plugin.positions()
        assert leaks("".join(traceback.format_exception(caught.value))) == []
    finally:
        await plugin.close()
