"""Signals: the boundaries and branches mutation testing found unchecked (issue 12).

Each test pins behaviour a sender or a trader relies on: which side an exit takes, where
a stop goes for a short, when which timestamps are seconds.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from fks_exec import Executor, OrderSide, OrderStatus, OrderType, PluginRegistry
from fks_exec.mock import MockPlugin
from fks_exec.signals import (
    SignalError,
    SignalMapping,
    SignalSkipped,
    Unauthorized,
    WebhookAuth,
    parse_signal,
    signature_for,
    to_order,
)

SECRET = "whsec-0b1c2d3e4f"
T0 = 1_795_540_000.0  # a fixed "now" (2026-11-24 17:06:40 UTC) for the window tests


def alert(**fields: Any) -> dict[str, Any]:
    return {"ticker": "ES 12-25", "action": "buy", "quantity": 1, **fields}


def freeze_time(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    """Make WebhookAuth read `now` as the current time."""
    monkeypatch.setattr("fks_exec._signal_auth.time", types.SimpleNamespace(time=lambda: now))


def check_signed(auth: WebhookAuth, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    auth.check(raw, {"x-webhook-signature": signature_for(SECRET, raw)}, parse_signal(raw))


# ------------------------------------------------------------------ parsing


def test_points_put_a_shorts_stop_above_and_its_target_below_the_price() -> None:
    short = parse_signal(alert(action="sell", price="5000", sl_points=5, tp_points=10))
    assert (short.stop_loss, short.take_profit) == (Decimal(5005), Decimal(4990))
    long = parse_signal(alert(action="buy", price="5000", sl_points=5, tp_points=10))
    assert (long.stop_loss, long.take_profit) == (Decimal(4995), Decimal(5010))


@pytest.mark.parametrize("quantity", [0, "0", "-0.5"])
def test_a_zero_or_negative_quantity_is_refused(quantity: object) -> None:
    with pytest.raises(SignalError, match="quantity must be positive"):
        parse_signal(alert(quantity=quantity))


@pytest.mark.parametrize("confidence", ["0", "1", "0.5"])
def test_confidence_from_zero_to_one_inclusive_is_accepted(confidence: str) -> None:
    assert parse_signal(alert(confidence=confidence)).confidence == float(confidence)


@pytest.mark.parametrize("confidence", ["-0.5", "-0.01", "1.01"])
def test_confidence_outside_zero_to_one_is_refused(confidence: str) -> None:
    with pytest.raises(SignalError, match="between 0 and 1"):
        parse_signal(alert(confidence=confidence))


def test_a_quantity_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(SignalError, match="must be a number, got 'ten'"):
        parse_signal(alert(quantity="ten"))


@pytest.mark.parametrize("ticker", ["{{oops", "ES}}", "{ {x}}"])
def test_only_a_whole_placeholder_is_taken_for_an_unfilled_one(ticker: str) -> None:
    assert parse_signal(alert(ticker=ticker)).ticker == ticker


def test_an_unfilled_text_placeholder_is_refused() -> None:
    with pytest.raises(SignalError, match="unfilled placeholder"):
        parse_signal(alert(ticker="{{ticker}}"))


def test_a_given_id_is_kept_and_a_missing_one_comes_from_the_raw_body() -> None:
    assert parse_signal(json.dumps(alert(id="alert-7"))).id == "alert-7"
    assert parse_signal(alert()).id is None  # a mapping has no raw bytes to hash
    raw = json.dumps(alert())
    hashed = parse_signal(raw).id
    assert hashed is not None and re.fullmatch(r"body-[0-9a-f]{32}", hashed)
    assert parse_signal(raw).id == hashed != parse_signal(json.dumps(alert(quantity=2))).id


def test_the_idempotency_key_is_sig_and_32_hex_digits_of_the_id() -> None:
    key = parse_signal(alert(id="alert-7")).client_order_id
    assert key is not None and re.fullmatch(r"sig-[0-9a-f]{32}", key)
    assert key != parse_signal(alert(id="alert-8")).client_order_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_795_540_000, datetime(2026, 11, 24, 17, 6, 40, tzinfo=timezone.utc)),
        ("1795540000.5", datetime(2026, 11, 24, 17, 6, 40, 500000, tzinfo=timezone.utc)),
        (1_795_540_000_250, datetime(2026, 11, 24, 17, 6, 40, 250000, tzinfo=timezone.utc)),
        (100_000_000_000, datetime(5138, 11, 16, 9, 46, 40, tzinfo=timezone.utc)),
        (100_000_000_000.5, datetime(1973, 3, 3, 9, 46, 40, 500, tzinfo=timezone.utc)),
        ("2026-11-24T17:06:40", datetime(2026, 11, 24, 17, 6, 40, tzinfo=timezone.utc)),
        ("2026-11-24T19:06:40+02:00", datetime(2026, 11, 24, 17, 6, 40, tzinfo=timezone.utc)),
        ("2026-11-24T17:06:40Z", datetime(2026, 11, 24, 17, 6, 40, tzinfo=timezone.utc)),
    ],
)
def test_timestamps_up_to_1e11_are_seconds_above_milliseconds_and_iso_is_utc(
    value: object, expected: datetime
) -> None:
    stamp = parse_signal(alert(timestamp=value)).timestamp
    assert stamp == expected and stamp.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("value", ["1.2.3", "1e20", 1e20, 1e300, 10**15 * 1000])
def test_timestamps_that_are_no_time_are_refused_with_a_signal_error(value: object) -> None:
    with pytest.raises(SignalError, match="timestamp"):
        parse_signal(alert(timestamp=value))


def test_a_signal_is_immutable_and_never_shows_its_passphrase() -> None:
    signal = parse_signal(alert(passphrase="correct horse"))
    secret = signal.passphrase
    assert (secret if isinstance(secret, str) else secret.get_secret_value()) == "correct horse"
    assert "correct horse" not in repr(signal)
    with pytest.raises(dataclasses.FrozenInstanceError):
        signal.quantity = Decimal(100)  # type: ignore[misc]


# ------------------------------------------------------------------ orders


@pytest.mark.parametrize(
    ("order_type", "price", "stop_price"),
    [
        ("market", None, None),
        ("limit", 5000, None),
        ("stop", None, 5000),
        ("stop_limit", 5000, 5000),
    ],
)
def test_the_signal_price_is_the_limit_or_the_trigger_by_order_type(
    order_type: str, price: int | None, stop_price: int | None
) -> None:
    order = to_order(parse_signal(alert(order_type=order_type, price="5000")), "ES 12-25")
    assert order.type is OrderType(order_type)
    assert (order.price, order.stop_price) == (price, stop_price)


def test_an_entry_carries_the_brackets_and_a_reduce_only_exit_does_not() -> None:
    signal = parse_signal(alert(sl=4990, tp=5020))
    entry = to_order(signal, "ES 12-25")
    assert (entry.stop_loss, entry.take_profit, entry.reduce_only) == (4990, 5020, False)
    exit_ = to_order(signal, "ES 12-25", side=OrderSide.SELL, reduce_only=True)
    assert (exit_.stop_loss, exit_.take_profit, exit_.reduce_only) == (None, None, True)


def test_a_signal_that_makes_no_valid_order_raises_signal_error() -> None:
    with pytest.raises(SignalError, match="does not make a valid order"):
        to_order(parse_signal(alert(order_type="limit")), "ES 12-25")  # a limit needs a price


def test_an_unmapped_ticker_loses_only_its_exchange_prefix() -> None:
    signal = parse_signal(alert(ticker="BYBIT:BTC/USDT:USDT"))
    assert SignalMapping().resolve(signal) == ("BTC/USDT:USDT", None)


# ------------------------------------------------------------------ authentication


def test_the_timestamp_window_includes_its_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = WebhookAuth(secret=SECRET)  # the default window: 300 s
    freeze_time(monkeypatch, T0 + 300)
    check_signed(auth, alert(timestamp=T0, id="edge"))
    freeze_time(monkeypatch, T0 + 300.5)
    with pytest.raises(Unauthorized, match="outside the 300s window"):
        check_signed(auth, alert(timestamp=T0, id="late"))
    freeze_time(monkeypatch, T0 - 300)
    check_signed(auth, alert(timestamp=T0, id="early-edge"))


def test_a_timestamp_is_required_unless_switched_off() -> None:
    with pytest.raises(Unauthorized, match="no timestamp"):
        check_signed(WebhookAuth(secret=SECRET), alert(id="a"))
    check_signed(WebhookAuth(secret=SECRET, require_timestamp=False), alert(id="a"))


# ------------------------------------------------------------------ execution


@pytest.fixture
def executor() -> Executor:
    registry = PluginRegistry(discover=False)
    mock = MockPlugin()
    mock.use_env = False
    mock.broker.set_price("BTC/USDT", bid=65000, ask=65001)
    registry.register("mock", mock)
    return Executor(registry, default="mock", reconcile_delay_s=0)


def held(executor: Executor) -> Decimal:
    mock = executor.registry.get("mock")
    assert isinstance(mock, MockPlugin)
    return mock.broker.position("BTC/USDT")


@pytest.mark.parametrize(("action", "size"), [("buy", "0.5"), ("buy", "3"), ("sell", "0.5")])
async def test_an_exit_closes_a_long_by_selling_and_a_short_by_buying(
    executor: Executor, action: str, size: str
) -> None:
    await executor.execute_signal(
        json.dumps({"ticker": "BTC/USDT", "action": action, "quantity": size})
    )
    closed = await executor.execute_signal(json.dumps({"ticker": "BTC/USDT", "action": "exit"}))
    assert closed.side == ("sell" if action == "buy" else "buy")
    assert (closed.quantity, closed.status) == (Decimal(size), OrderStatus.FILLED)
    assert held(executor) == 0


async def test_an_exit_with_a_quantity_closes_that_much_and_never_more_than_held(
    executor: Executor,
) -> None:
    await executor.execute_signal(
        json.dumps({"ticker": "BTC/USDT", "action": "buy", "quantity": 2})
    )
    part = await executor.execute_signal(
        json.dumps({"ticker": "BTC/USDT", "action": "exit", "quantity": "0.5"})
    )
    assert (part.side, part.quantity) == ("sell", Decimal("0.5")) and held(executor) == Decimal(
        "1.5"
    )
    rest = await executor.execute_signal(
        json.dumps({"ticker": "BTC/USDT", "action": "exit", "quantity": 9, "id": "x"})
    )
    assert rest.quantity == Decimal("1.5") and held(executor) == 0


async def test_a_signal_exactly_at_the_minimum_confidence_is_executed(executor: Executor) -> None:
    mapping = SignalMapping(min_confidence=0.5)
    body = json.dumps({"ticker": "BTC/USDT", "action": "buy", "quantity": 1, "confidence": 0.5})
    assert (await executor.execute_signal(body, mapping)).status is OrderStatus.FILLED
    weaker = json.dumps({"ticker": "BTC/USDT", "action": "buy", "quantity": 1, "confidence": 0.49})
    with pytest.raises(SignalSkipped, match="below the minimum"):
        await executor.execute_signal(weaker, mapping)


async def test_a_replayed_exit_returns_its_recorded_result_and_sends_nothing(
    executor: Executor,
) -> None:
    await executor.execute_signal(
        json.dumps({"ticker": "BTC/USDT", "action": "buy", "quantity": 2})
    )
    exit_body = json.dumps({"ticker": "BTC/USDT", "action": "exit", "id": "close-7"})
    closed = await executor.execute_signal(exit_body)
    assert held(executor) == 0
    # flat now: rebuilding the exit would be skipped; the replay is the recorded close
    assert await executor.execute_signal(exit_body) == closed
    mock = executor.registry.get("mock")
    assert isinstance(mock, MockPlugin) and len(mock.broker.orders) == 2


# ------------------------------------------------------------------ the documented limits
# The limits are written out here (not imported): a test that reads MAX_DEPTH from the
# module follows the module when it changes, and so checks nothing about the number.

PLAIN = b'{"ticker": "X", "action": "buy", "quantity": 1}'


def test_a_body_of_exactly_one_mebibyte_is_read_and_one_byte_more_is_not() -> None:
    at_limit = PLAIN + b" " * (1_048_576 - len(PLAIN))
    assert parse_signal(at_limit).quantity == 1
    with pytest.raises(SignalError, match="larger than 1048576 bytes"):
        parse_signal(at_limit + b" ")


def nested(levels: int, sibling_lists: int = 0) -> bytes:
    """The plain alert with one field nested `levels` deep in all (the object counts)."""
    extra = "[" * (levels - 1) + "]" * (levels - 1)
    siblings = "".join(f', "s{i}": []' for i in range(sibling_lists))
    return PLAIN[:-1] + f', "extra": {extra}{siblings}}}'.encode()


def test_sixteen_levels_of_nesting_are_read_and_seventeen_are_not() -> None:
    assert parse_signal(nested(16)).quantity == 1
    with pytest.raises(SignalError, match="nested deeper than 16 levels"):
        parse_signal(nested(17))


def test_many_shallow_lists_are_not_deep_and_brackets_in_text_do_not_count() -> None:
    assert parse_signal(nested(2, sibling_lists=40)).quantity == 1
    in_text = PLAIN[:-1] + b', "note": "' + b"[{" * 20 + b'\\" [[[[[[[[[[[[[[[[[[[["}'
    assert parse_signal(in_text).quantity == 1


@pytest.mark.parametrize("as_text", [False, True], ids=["json number", "text"])
def test_a_number_of_forty_characters_is_read_and_of_forty_one_is_not(as_text: bool) -> None:
    forty = "1." + "0" * 38
    quote = '"' if as_text else ""

    def body(number: str) -> bytes:
        return f'{{"ticker": "X", "action": "buy", "quantity": {quote}{number}{quote}}}'.encode()

    assert len(forty) == 40 and parse_signal(body(forty)).quantity == 1
    with pytest.raises(SignalError, match="longer than 40 characters"):
        parse_signal(body(forty + "0"))


def test_a_json_number_beyond_what_decimal_holds_is_refused() -> None:
    huge = b'{"ticker": "X", "action": "buy", "quantity": 1e9999999999999999999}'
    with pytest.raises(SignalError, match="out of range"):
        parse_signal(huge)


@pytest.mark.parametrize("ok", ["1e30", "1e-30", "1E+30"])
def test_an_exponent_of_thirty_either_way_is_read(ok: str) -> None:
    assert parse_signal(alert(quantity=ok)).quantity == Decimal(ok)


@pytest.mark.parametrize("beyond", ["1e31", "1e-31"])
def test_an_exponent_beyond_thirty_is_refused(beyond: str) -> None:
    with pytest.raises(SignalError, match=r"out of range \(beyond 1e30\)"):
        parse_signal(alert(quantity=beyond))


def test_an_int_field_of_more_than_160_bits_is_refused_before_it_is_printed() -> None:
    with pytest.raises(SignalError, match="longer than 40 digits"):
        parse_signal(alert(quantity=2**160))
    with pytest.raises(SignalError, match="'quantity' is longer than 40 characters"):
        parse_signal(alert(quantity=2**160 - 1))  # 160 bits: printed, then too long


def test_a_timestamp_of_64_characters_is_read_and_of_65_is_not() -> None:
    at_limit = "1795540000." + "0" * 53
    assert len(at_limit) == 64
    parsed = parse_signal(alert(timestamp=at_limit)).timestamp
    assert parsed == datetime.fromtimestamp(1_795_540_000, tz=timezone.utc)
    with pytest.raises(SignalError, match="longer than 64 characters"):
        parse_signal(alert(timestamp=at_limit + "0"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "timestamp must be a time, not bool"),
        ([1], "timestamp must be a time, not list"),
        ("1.2.3", "'1.2.3' is neither Unix seconds nor ISO 8601"),
        (Decimal("sNaN"), "'sNaN' is not a number of seconds"),
    ],
)
def test_a_timestamp_that_is_no_time_says_why(value: object, message: str) -> None:
    with pytest.raises(SignalError, match=re.escape(message)):
        parse_signal(alert(timestamp=value))


def test_an_unfilled_number_placeholder_is_quoted_to_forty_characters() -> None:
    placeholder = "{{" + "strategy.order.contracts_and_more" + "x" * 30 + "}}"
    with pytest.raises(SignalError) as refused:
        parse_signal(alert(quantity=placeholder))
    assert f"placeholder {placeholder[:40]};" in str(refused.value)


def test_a_closed_list_before_a_deep_one_does_not_hide_its_depth() -> None:
    deep_after_empty = PLAIN[:-1] + b', "a": [], "extra": ' + b"[" * 16 + b"]" * 16 + b"}"
    with pytest.raises(SignalError, match="nested deeper than 16 levels"):
        parse_signal(deep_after_empty)


def test_a_boolean_quantity_is_refused_as_not_a_number() -> None:
    with pytest.raises(SignalError, match="'quantity' must be a number, not bool"):
        parse_signal(alert(quantity=True))
