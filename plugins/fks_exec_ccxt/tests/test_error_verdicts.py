"""classify() exactly: each ccxt exception's ErrorCode and whether the request may have
left, the HTTP-status refusals, and the send probe's arithmetic (fast, no venue needed
except where ccxt's own hooks are exercised)."""

from __future__ import annotations

import dataclasses

import ccxt.async_support as ccxt
import pytest

from fks_exec import ErrorCode
from fks_exec_ccxt.errors import SendProbe, Verdict, classify, probing, reset
from fks_exec_ccxt.raw_body import UnsafeNumber
from fks_exec_ccxt.testing.okx import FakeOkx


@pytest.mark.parametrize(
    ("exc", "code", "sent"),
    [
        (ccxt.RateLimitExceeded("x"), ErrorCode.RATE_LIMITED, True),
        (ccxt.DDoSProtection("x"), ErrorCode.RATE_LIMITED, True),
        (ccxt.InvalidNonce("x"), ErrorCode.REJECTED, True),
        (ccxt.RequestTimeout("x"), ErrorCode.TIMEOUT, None),
        (ccxt.NetworkError("x"), ErrorCode.NETWORK, None),
        (ccxt.ExchangeNotAvailable("x"), ErrorCode.NETWORK, None),
        (ccxt.BadResponse("x"), ErrorCode.UNKNOWN, None),
        (UnsafeNumber("okx", "body.px", "1e400", "an exponent of 400"), ErrorCode.UNKNOWN, None),
        (ccxt.InsufficientFunds("x"), ErrorCode.INSUFFICIENT_FUNDS, True),
        (ccxt.AuthenticationError("x"), ErrorCode.AUTH, False),
        (ccxt.PermissionDenied("x"), ErrorCode.AUTH, False),
        (ccxt.AccountSuspended("x"), ErrorCode.AUTH, False),
        (ccxt.MarketClosed("x"), ErrorCode.MARKET_CLOSED, True),
        (ccxt.OnMaintenance("x"), ErrorCode.MARKET_CLOSED, False),
        (ccxt.NotSupported("x"), ErrorCode.NOT_SUPPORTED, True),
        (ccxt.InvalidOrder("x"), ErrorCode.INVALID_ORDER, True),
        (ccxt.OrderNotFound("x"), ErrorCode.INVALID_ORDER, True),
        (ccxt.BadRequest("x"), ErrorCode.INVALID_ORDER, True),
        (ccxt.BadSymbol("x"), ErrorCode.INVALID_ORDER, True),
        (ccxt.ArgumentsRequired("x"), ErrorCode.INVALID_ORDER, True),
        (ccxt.ExchangeError("x"), ErrorCode.REJECTED, True),
        (ccxt.BaseError("x"), ErrorCode.UNKNOWN, None),
        (ValueError("x"), ErrorCode.UNKNOWN, None),
    ],
)
def test_every_ccxt_exception_has_its_verdict(
    exc: Exception, code: ErrorCode, sent: object
) -> None:
    verdict = classify(exc)
    assert (verdict.code, verdict.sent) == (code, sent)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ErrorCode.INVALID_ORDER),
        (401, ErrorCode.AUTH),
        (403, ErrorCode.AUTH),
        (404, ErrorCode.NOT_SUPPORTED),
        (405, ErrorCode.NOT_SUPPORTED),
        (429, ErrorCode.RATE_LIMITED),
    ],
)
def test_a_non_json_refusal_is_what_its_status_says(status: int, code: ErrorCode) -> None:
    # ccxt turns every such answer into ExchangeNotAvailable "<id> <method> <url> <code> ..."
    exc = ccxt.ExchangeNotAvailable(f"okx POST https://x/api {status} Reason <html>")
    verdict = classify(exc)
    assert (verdict.code, verdict.sent) == (code, True)
    assert str(status) in verdict.why
    # The probe's last status (the failing request's) wins over the message's.
    probe = SendProbe(statuses=[200, status])
    assert classify(ccxt.ExchangeNotAvailable("okx 503 down"), probe).code is code
    earlier = SendProbe(statuses=[status, 503])
    assert classify(ccxt.ExchangeNotAvailable("okx down"), earlier).code is ErrorCode.NETWORK


@pytest.mark.parametrize("status", [402, 406, 500, 503])
def test_other_statuses_stay_network_unknowns(status: int) -> None:
    verdict = classify(ccxt.ExchangeNotAvailable(f"okx GET https://x {status} Reason"))
    assert (verdict.code, verdict.sent) == (ErrorCode.NETWORK, None)


def test_the_status_table_applies_only_to_ccxts_unavailable_mapping() -> None:
    verdict = classify(ccxt.InsufficientFunds("okx POST https://x 400 Bad Request"))
    assert (verdict.code, verdict.sent) == (ErrorCode.INSUFFICIENT_FUNDS, True)


def test_the_send_probe_knows_when_the_last_request_never_left() -> None:
    fresh = SendProbe()
    assert (fresh.requests, fresh.started, fresh.headers_sent, fresh.statuses) == (0, 0, 0, [])
    assert fresh.traced is False and fresh.last_body is None
    assert SendProbe(traced=True).last_request_never_left is False
    assert SendProbe(traced=True, started=2, headers_sent=1).last_request_never_left is True
    assert SendProbe(traced=True, started=1, headers_sent=1).last_request_never_left is False
    assert SendProbe(traced=False, started=2, headers_sent=1).last_request_never_left is False
    timeout = ccxt.RequestTimeout("okx POST https://x")
    never_left = SendProbe(traced=True, started=1, headers_sent=0)
    assert classify(timeout, never_left) == Verdict(
        ErrorCode.TIMEOUT, False, "the connection timed out before sending"
    )
    assert classify(timeout, SendProbe(traced=True, started=1, headers_sent=1)).sent is None


@pytest.mark.parametrize(
    "message",
    [
        'binance {"code":-1006,"msg":"An unexpected response was received from the message '
        'bus. Execution status unknown."}',
        'binance {"code":-1007,"msg":"Timeout waiting for response from backend server. '
        'Send status unknown; execution status unknown."}',
    ],
)
@pytest.mark.parametrize("kind", [ccxt.ExchangeError, ccxt.InvalidOrder, ccxt.BadRequest])
def test_a_venue_that_says_the_status_is_unknown_is_believed(
    kind: type[Exception], message: str
) -> None:
    # ccxt binance.py maps -1006/-1007 to ExchangeError on options: never a definite "no".
    verdict = classify(kind(message))
    assert (verdict.code, verdict.sent) == (ErrorCode.UNKNOWN, None)
    assert verdict.why == "the exchange says its status is unknown"


def test_a_verdict_is_immutable() -> None:
    verdict = classify(ccxt.InvalidOrder("x"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.sent = None  # type: ignore[misc]


async def test_the_probe_sees_each_status_and_body_of_a_call() -> None:
    from fks_exec_ccxt.errors import instrument

    venue = FakeOkx()
    exchange = venue.exchange()
    instrument(exchange)
    probe, token = probing()
    try:
        await exchange.fetch_time()
    finally:
        reset(token)
        await exchange.close()
    assert probe.requests == 1 and probe.statuses == [200]
    assert probe.last_body is not None and '"ts"' in probe.last_body
    outside, token = probing()
    reset(token)
    assert outside.requests == 0  # a reset probe sees nothing more


async def test_the_counted_fetch_hands_back_ccxts_own_coroutine() -> None:
    # No coroutine of the plugin's between ccxt's request and its fetch (each resume of a
    # request passed through it): the hook counts at the call and returns ccxt's own.
    import inspect

    from fks_exec_ccxt.errors import instrument

    venue = FakeOkx()
    exchange = venue.exchange()
    own_fetch = exchange.fetch
    instrument(exchange)
    assert not inspect.iscoroutinefunction(exchange.fetch)
    probe, token = probing()
    try:
        pending = exchange.fetch("https://www.okx.com/api/v5/public/time", "GET")
        assert probe.requests == 1  # counted when ccxt calls it, before it is awaited
        assert inspect.iscoroutine(pending) and pending.cr_code is own_fetch.__code__
        assert (await pending)["data"][0]["ts"]
    finally:
        reset(token)
        await exchange.close()


async def test_the_trace_hooks_count_one_each() -> None:
    from fks_exec_ccxt.errors import _on_headers_sent, _on_start

    probe, token = probing()
    try:
        await _on_start(None, None, None)
        await _on_headers_sent(None, None, None)
        await _on_start(None, None, None)
    finally:
        reset(token)
    assert (probe.traced, probe.started, probe.headers_sent) == (True, 2, 1)
    assert probe.last_request_never_left is True
    await _on_start(None, None, None)  # outside a probe: nothing to count, no error


async def test_instrument_opens_only_a_session_ccxt_owns() -> None:
    from fks_exec_ccxt.errors import instrument

    exchange = FakeOkx().exchange()
    exchange.session = None  # neither ccxt's nor an injected one
    exchange.own_session = False
    instrument(exchange)
    assert exchange.session is None
    await exchange.close()
