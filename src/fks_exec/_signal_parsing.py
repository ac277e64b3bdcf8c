"""Alert bodies into :class:`~fks_exec.signals.Signal`: JSON decoding within limits, and
each field read, checked and normalised (:func:`parse_signal`).

Import these from :mod:`fks_exec.signals`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import SecretStr

from fks_exec._signal_model import Signal, SignalError
from fks_exec.models import OrderType

__all__ = ["MAX_BODY_CHARS", "MAX_DEPTH", "MAX_EXPONENT", "MAX_NUMBER_CHARS", "parse_signal"]

MAX_BODY_CHARS = 1_048_576
"""Largest body :func:`parse_signal` reads (the server's own limit is lower)."""
MAX_DEPTH = 16
"""Deepest nesting of JSON arrays and objects accepted (a signal is flat)."""
MAX_NUMBER_CHARS = 40
"""Longest number accepted, as a JSON literal or as text."""
MAX_EXPONENT = 30
"""Largest decimal exponent, either way, of a number: ``1e30`` and ``1e-30`` pass."""
_MAX_TIME_CHARS = 64
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_BRACKET = re.compile(rb"[\[\]{}]")
_ACTIONS = {
    "buy": "buy",
    "long": "buy",
    "sell": "sell",
    "short": "sell",
    "exit": "exit",
    "flat": "exit",
    "close": "exit",
}
_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "stoplimit": OrderType.STOP_LIMIT,
}


def parse_signal(body: bytes | str | Mapping[str, Any]) -> Signal:
    """Parse an alert body (JSON bytes, text or an already decoded mapping).

    Raises :class:`SignalError` saying what is wrong: not JSON, no symbol, no or an
    unknown action, a missing or non-positive quantity for a buy or sell, a number that
    is not one (e.g. an unfilled ``{{close}}`` placeholder), or point offsets without a
    price. A body without an ``id`` gets one from its own hash. Nothing is parsed
    beyond the limits: a body over :data:`MAX_BODY_CHARS`, nested deeper than
    :data:`MAX_DEPTH`, or with a number longer than :data:`MAX_NUMBER_CHARS` or beyond
    :data:`MAX_EXPONENT` is a :class:`SignalError` too.
    """
    raw_bytes: bytes | None = None
    if isinstance(body, (bytes, str)):
        raw_bytes = body.encode(errors="surrogatepass") if isinstance(body, str) else body
        data = _decode_json(raw_bytes)
    elif isinstance(body, Mapping):
        data = dict(body)
    else:
        raise SignalError(f"a signal is JSON text or a mapping, not {type(body).__name__}")
    if not isinstance(data, dict):
        raise SignalError("the body must be a JSON object")
    fields = {str(k).lower(): v for k, v in data.items()}
    ticker = _text(fields, "ticker", "symbol", "instrument")
    if not ticker:
        raise SignalError("the signal names no symbol: give 'ticker', 'symbol' or 'instrument'")
    action_text = _text(fields, "action", "side", "strategy.order.action")
    if not action_text:
        raise SignalError("the signal has no 'action' (buy, sell, long, short, exit, flat)")
    action = _ACTIONS.get(action_text.lower())
    if action is None:
        raise SignalError(
            f"unknown action {action_text!r}: use buy, sell, long, short, exit or flat"
        )
    quantity = _number(fields, "quantity", "contracts", "qty", "size")
    if action != "exit" and quantity is None:
        raise SignalError(f"a {action} signal needs 'quantity' (or 'contracts')")
    if quantity is not None and quantity <= 0:
        raise SignalError(f"quantity must be positive, got {quantity}")
    price = _number(fields, "price")
    kind_text = (_text(fields, "order_type", "type") or "market").lower()
    order_type = _TYPES.get(kind_text)
    if order_type is None:
        raise SignalError(
            f"unknown order_type {kind_text!r}: use market, limit, stop or stop_limit"
        )
    stop_loss = _number(fields, "sl", "stop_loss", "stoploss")
    take_profit = _number(fields, "tp", "take_profit", "takeprofit")
    sl_points, tp_points = _number(fields, "sl_points"), _number(fields, "tp_points")
    if sl_points is not None or tp_points is not None:
        if price is None:
            raise SignalError("sl_points / tp_points are offsets from 'price', which is missing")
        buy = action == "buy"
        if sl_points is not None:
            stop_loss = price - sl_points if buy else price + sl_points
        if tp_points is not None:
            take_profit = price + tp_points if buy else price - tp_points
    confidence = _number(fields, "confidence")
    if confidence is not None and not 0 <= confidence <= 1:
        raise SignalError(f"confidence must be between 0 and 1, got {confidence}")
    signal_id = _text(fields, "id", "signal_id", "alert_id")
    if signal_id is None and raw_bytes is not None:
        signal_id = "body-" + hashlib.sha256(raw_bytes).hexdigest()[:32]
    return Signal(
        ticker=ticker,
        action=action,  # type: ignore[arg-type]
        quantity=quantity,
        order_type=order_type,
        price=price,
        stop_loss=stop_loss,
        take_profit=take_profit,
        plugin=_text(fields, "plugin", "exchange", "broker"),
        confidence=float(confidence) if confidence is not None else None,
        timestamp=_timestamp(fields.get("timestamp", fields.get("time"))),
        id=signal_id,
        passphrase=_secret_text(fields, "passphrase"),
    )


def _decode_json(raw: bytes) -> Any:
    """The JSON value of ``raw``, within the limits. Raises :class:`SignalError`."""
    if len(raw) > MAX_BODY_CHARS:
        raise SignalError(f"the body is larger than {MAX_BODY_CHARS} bytes")
    depth = deepest = 0
    # Escapes first, then whole strings: both linear, so brackets in text never count.
    for bracket in _BRACKET.findall(_STRING.sub(b"", _ESCAPE.sub(b"", raw))):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise SignalError(f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(
            raw, parse_int=_json_number, parse_float=_json_number, parse_constant=_json_constant
        )
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, SignalError):
            raise
        raise SignalError(f"the body is not JSON ({exc.__class__.__name__})") from None


def _json_number(literal: str) -> Decimal:
    # Numbers stay exact (Decimal) and bounded: a 401-digit literal never becomes an int.
    if len(literal) > MAX_NUMBER_CHARS:
        raise SignalError(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    try:
        return Decimal(literal)
    except InvalidOperation:  # an exponent beyond what Decimal holds
        raise SignalError(f"a number in the body is out of range ({literal})") from None


def _json_constant(name: str) -> Decimal:
    raise SignalError(f"{name} is not a number JSON allows")


def _bounded(name: str, number: Decimal, text: str) -> Decimal:
    if not number.is_finite():
        raise SignalError(f"'{name}' must be finite, got {text!r}")
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        raise SignalError(f"'{name}' is out of range (beyond 1e{MAX_EXPONENT}), got {text!r}")
    return number


def _text(fields: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = fields.get(name)
        if value is None:
            continue
        if isinstance(value, (dict, list, tuple, set, bytes)):
            raise SignalError(f"'{name}' must be text, not {type(value).__name__}")
        text = _short_text(value).strip()
        if text.startswith("{{") and text.endswith("}}"):
            raise SignalError(
                f"'{name}' is an unfilled placeholder {text}; check the alert message"
            )
        if text:
            return text
    return None


def _number(fields: Mapping[str, Any], *names: str) -> Decimal | None:
    for name in names:
        value = fields.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, (str, int, float, Decimal)) or isinstance(value, bool):
            raise SignalError(f"'{name}' must be a number, not {type(value).__name__}")
        text = _short_text(value).strip()
        if text.startswith("{{"):
            raise SignalError(
                f"'{name}' is an unfilled placeholder {text[:40]}; check the alert message"
            )
        if len(text) > MAX_NUMBER_CHARS:
            raise SignalError(f"'{name}' is longer than {MAX_NUMBER_CHARS} characters")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise SignalError(f"'{name}' must be a number, got {text!r}") from None
        return _bounded(name, number, text)
    return None


def _short_text(value: Any) -> str:
    # str() of a huge int raises (or takes long); anything that long is not a signal field.
    if isinstance(value, int) and value.bit_length() > 4 * MAX_NUMBER_CHARS:
        raise SignalError(f"a number is longer than {MAX_NUMBER_CHARS} digits")
    return str(value)


def _timestamp(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise SignalError(f"timestamp must be a time, not {type(value).__name__}")
    text = _short_text(value).strip()
    if len(text) > _MAX_TIME_CHARS:
        raise SignalError(f"timestamp is longer than {_MAX_TIME_CHARS} characters")
    if not isinstance(value, str) or text.replace(".", "", 1).isdigit():
        try:
            seconds = float(text)
        except (OverflowError, ValueError):
            raise SignalError(f"timestamp {text!r} is not a number of seconds") from None
        if not math.isfinite(seconds):
            raise SignalError("timestamp must be finite")
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise SignalError(f"timestamp {text!r} is out of range") from None
    text = text.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise SignalError(f"timestamp {text!r} is neither Unix seconds nor ISO 8601") from None
    return (
        parsed.replace(tzinfo=timezone.utc)
        if parsed.tzinfo is None
        else parsed.astimezone(timezone.utc)
    )


def _secret_text(fields: Mapping[str, Any], name: str) -> SecretStr | None:
    text = _text(fields, name)
    return None if text is None else SecretStr(text)
