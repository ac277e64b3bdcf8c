"""Hypothesis fuzzing of the signal parser and the webhook in front of it.

Whatever the body (bytes, JSON nested or huge, numbers of any length, placeholders,
wrong types), ``parse_signal`` returns a :class:`Signal` or raises
:class:`SignalError`, and the webhook answers below 500 with one log line per
refusal. ``make test`` runs about a hundred examples each; ``FUZZ_EXAMPLES`` raises that
(``make soak`` runs soak/fuzz_server.py with these strategies against a real server).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from fks_exec import Executor, PluginRegistry
from fks_exec.mock import MockBroker, MockPlugin
from fks_exec.server import WebhookSettings, create_app
from fks_exec.signals import (
    MAX_EXPONENT,
    MAX_NUMBER_CHARS,
    Signal,
    SignalError,
    parse_signal,
    signature_for,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
SECRET = "whsec-fuzz-0a1b2c3d4e"

_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**30, max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1e400", "1e40000000", "-0", "NaN", "Infinity", "0x10", "1_000", " 5 "]),
    st.text(alphabet="0123456789.eE+-", max_size=60),
)
_nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["{{close}}", "{{strategy.order.action}}", "", " ", "buy", "long", "flat"]),
    st.text(alphabet='[]{}"\\:,', max_size=40),
)
_leaves = st.one_of(st.none(), st.booleans(), _numbers, _nasty_text)
json_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_fields = ["ticker", "symbol", "action", "side", "quantity", "contracts", "price", "sl"]
_fields += ["tp", "sl_points", "tp_points", "order_type", "confidence", "timestamp", "id"]
_anything = st.dictionaries(st.sampled_from(_fields), json_values, max_size=8)
# Mostly-valid mappings (a real ticker, action and quantity, then anything on top), so the
# parser's success branch is fuzzed too: random mappings alone almost never parse.
_nearly_valid = st.fixed_dictionaries(
    {
        "ticker": st.sampled_from(["BTC/USDT", "EURUSD", "ES 12-26", "X"]),
        "action": st.sampled_from(["buy", "sell", "long", "short", "flat", "exit"]),
        "quantity": st.one_of(
            st.decimals(min_value="0.0001", max_value=10**6, places=4).map(str), _numbers
        ),
    }
).flatmap(
    lambda base: st.dictionaries(st.sampled_from(_fields[4:]), json_values, max_size=2).map(
        lambda extra: {**base, **extra}
    )
)
signal_like = st.one_of(_anything, _nearly_valid)


def _deep(depth: int, opener: bytes, closer: bytes, leaf: bytes = b"1") -> bytes:
    return opener * depth + leaf + closer * depth


hostile_bodies = st.one_of(
    st.binary(max_size=200),
    signal_like.map(lambda d: json.dumps(d, allow_nan=True).encode()),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.integers(1, 3000).map(lambda n: _deep(n, b"[", b"]")),
    st.integers(1, 3000).map(lambda n: _deep(n, b'{"a":', b"}")),
    st.integers(1, 600).map(
        lambda n: b'{"ticker":"X","action":"buy","quantity":' + b"9" * n + b"}"
    ),
    st.integers(1, 600).map(
        lambda n: b'{"ticker":"X","action":"buy","quantity":1e' + b"9" * n + b"}"
    ),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def _check_signal(signal: Signal) -> None:
    for number in (signal.quantity, signal.price, signal.stop_loss, signal.take_profit):
        if number is not None:
            assert isinstance(number, Decimal) and number.is_finite()
            assert not number or abs(number.adjusted()) <= MAX_EXPONENT + 1


@settings(max_examples=EXAMPLES, deadline=None)
@given(hostile_bodies)
def test_any_body_is_a_signal_or_a_signal_error(body: bytes) -> None:
    try:
        signal = parse_signal(body)
    except SignalError as exc:
        message = str(exc)
    else:
        _check_signal(signal)
        return
    assert len(message) < 500  # a message, not an echo of the body


@settings(max_examples=EXAMPLES, deadline=None)
@given(signal_like)
def test_any_decoded_mapping_is_a_signal_or_a_signal_error(fields: dict[str, Any]) -> None:
    try:
        signal = parse_signal(fields)
    except SignalError:
        return
    _check_signal(signal)


def _parses(fields: dict[str, Any]) -> bool:
    try:
        parse_signal(fields)
    except SignalError:
        return False
    return True


def test_the_mapping_fuzzer_reaches_both_outcomes() -> None:
    """The property above checks parsed signals only if its inputs ever parse."""
    quiet = settings(database=None, max_examples=2000, deadline=None)
    assert _parses(find(signal_like, _parses, settings=quiet))
    assert not _parses(find(signal_like, lambda fields: not _parses(fields), settings=quiet))


def test_numbers_at_the_limits() -> None:
    at_limit = "1" * MAX_NUMBER_CHARS
    over = "1" * (MAX_NUMBER_CHARS + 1)
    body = {"ticker": "X", "action": "buy", "quantity": "1e30", "price": "1e-30"}
    assert parse_signal(json.dumps(body)).quantity == Decimal("1e30")
    for bad in ("1e31", "1e-31", over, int(over)):
        with pytest.raises(SignalError):
            parse_signal(json.dumps({**body, "quantity": bad}))
    assert parse_signal(
        b'{"ticker":"X","action":"buy","quantity":0.' + at_limit[2:].encode() + b"}"
    )
    with pytest.raises(SignalError, match="longer than"):
        parse_signal(b'{"ticker":"X","action":"buy","quantity":' + over.encode() + b"}")


def test_nesting_at_the_limit() -> None:
    from fks_exec.signals import MAX_DEPTH

    inner = json.dumps({"ticker": "X", "action": "buy", "quantity": 1})
    ok = inner[:-1] + ', "extra": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    assert parse_signal(ok).ticker == "X"
    deep = inner[:-1] + ', "extra": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    with pytest.raises(SignalError, match="nested deeper"):
        parse_signal(deep)
    text = inner[:-1] + ', "note": "' + "[" * 5000 + '"}'  # brackets in text do not count
    assert parse_signal(text).ticker == "X"


# ------------------------------------------------------------------ the webhook


def _app() -> tuple[Any, Executor]:
    registry = PluginRegistry(discover=False)
    plugin = MockPlugin(broker=MockBroker())
    plugin.use_env = False
    plugin.broker.set_price("X", bid=100, ask=100.5)
    registry.register("mock", plugin)
    executor = Executor(registry, default="mock", journal="memory")
    settings_ = WebhookSettings(
        secret=SECRET, passphrase="fuzz passphrase", require_timestamp=False
    )
    return create_app(executor, settings_), executor


async def _post_all(bodies: list[tuple[bytes, bool, str]]) -> list[tuple[int, Any]]:
    app, executor = _app()
    async with executor:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            codes: list[tuple[int, Any]] = []
            for body, sign, path in bodies:
                headers = {"X-Webhook-Signature": signature_for(SECRET, body)} if sign else {}
                answer = await client.post(path, content=body, headers=headers)
                codes.append((answer.status_code, answer.json()))
    return codes


@settings(
    max_examples=max(20, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    bodies=st.lists(
        st.tuples(
            hostile_bodies,
            st.booleans(),
            st.sampled_from(["/execute/signal", "/webhook/tradingview"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_webhook_answers_every_body_below_500_with_one_line_per_refusal(
    bodies: list[tuple[bytes, bool, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fks_exec.server"):
        answers = asyncio.run(_post_all(bodies))
    codes = [code for code, _ in answers]
    assert all(code < 500 for code in codes), codes
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused a signal")]
    assert len(refusals) == sum(1 for code, body in answers if code >= 400 and "status" not in body)
    assert all(r.exc_info is None for r in caplog.records)
    unsigned = [
        c
        for (_, sign, path), c in zip(bodies, codes, strict=True)
        if path == "/execute/signal" and not sign
    ]
    assert all(code in (401, 413) for code in unsigned)
