""":func:`~fks_exec_ccxt.errors.refused_before_sending`: proof that an order never left.

Only two things prove it: no request began during ``create_order`` at all, or ccxt's
builder of the order's own request (the venue row's ``order_builder``) raised the very
exception ccxt ended with and no request began after it. Anything else, whatever its
class, may have come after the order left.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from fks_exec_ccxt.errors import SendProbe, _watch_builder, probing, refused_before_sending, reset


class _Exchange:
    """An object with a builder method, as ccxt's exchanges have."""

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    def build(self, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return (self.outcome, args, kwargs)

    async def build_later(self) -> None:
        raise ValueError("async")

    not_callable = "build"


def test_a_watched_builder_records_what_it_raised_and_the_requests_then() -> None:
    refusal = ccxt_async.InvalidOrder("amount too small")
    exchange = _Exchange(refusal)
    _watch_builder(exchange, "build")
    probe, token = probing()
    probe.requests = 3  # side requests before the builder
    try:
        with pytest.raises(ccxt_async.InvalidOrder) as raised:
            exchange.build("order")
    finally:
        reset(token)
    assert raised.value is refusal
    assert probe.builder_refusal == (refusal, 3)
    assert refused_before_sending(refusal, probe)


def test_a_watched_builder_passes_its_arguments_and_result_through() -> None:
    exchange = _Exchange("request")
    _watch_builder(exchange, "build")
    probe, token = probing()
    try:
        assert exchange.build(1, key=2) == ("request", (1,), {"key": 2})
    finally:
        reset(token)
    assert probe.builder_refusal is None


def test_a_watched_builder_outside_an_order_raises_its_own_error() -> None:
    exchange = _Exchange(KeyError("x"))
    _watch_builder(exchange, "build")
    with pytest.raises(KeyError):
        exchange.build()


@pytest.mark.parametrize("name", ["", "missing", "not_callable", "build_later"])
def test_only_a_synchronous_builder_is_watched(name: str) -> None:
    exchange = _Exchange(ValueError("x"))
    before = dict(vars(exchange))
    _watch_builder(exchange, name)
    assert vars(exchange) == before  # nothing replaced: no proof from it, ever


def test_a_request_begun_after_the_builder_refused_proves_nothing() -> None:
    refusal = ValueError("bad signature")
    probe = SendProbe(requests=2, builder_refusal=(refusal, 1))
    assert not refused_before_sending(refusal, probe)


def test_another_exception_than_the_builder_s_proves_nothing() -> None:
    probe = SendProbe(requests=1, builder_refusal=(ValueError("first"), 1))
    assert not refused_before_sending(ccxt_async.InvalidOrder("later"), probe)


@pytest.mark.parametrize(
    ("exc", "requests", "never_left"),
    [
        (ccxt_async.ArgumentsRequired("price"), 0, True),
        (AttributeError("startswith"), 0, True),
        (ccxt_async.ArgumentsRequired("price"), 1, False),
        (AttributeError("startswith"), 1, False),
        (ccxt_async.NetworkError("down"), 0, False),
        (ccxt_async.RequestTimeout("slow"), 0, False),
        (ConnectionResetError("reset"), 0, False),
        (asyncio.TimeoutError(), 0, False),
    ],
)
def test_without_a_builder_refusal_only_no_request_at_all_proves_it(
    exc: BaseException, requests: int, never_left: bool
) -> None:
    assert refused_before_sending(exc, SendProbe(requests=requests)) is never_left
