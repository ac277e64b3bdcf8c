"""Trading signals (TradingView alerts, webhooks) into orders, authenticated.

``parse_signal(body)`` turns an alert body into a :class:`Signal`, tolerant of what
TradingView's placeholders produce and of the formats of the service this library
replaces, strict about what matters (a side, a quantity). :class:`WebhookAuth` checks a
sender: a shared passphrase in the body or an HMAC-SHA256 signature of the raw body,
both compared in constant time, plus a timestamp window. ``await
execute_signal(executor, signal)`` (also ``Executor.execute_signal``) turns a signal
into an order and executes it. A signal id is spent once its order was sent: the
executor's journal remembers it (across restarts with a file journal), a replay sends
nothing (the webhook answers 409 with the first result), and a signal whose order was
not sent may be retried under the same id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import SecretStr

from fks_exec.errors import FksExecError
from fks_exec.models import ExecutionResult, Order, OrderSide, OrderType
from fks_exec.redaction import register_secret

if TYPE_CHECKING:
    from fks_exec.models import Position
    from fks_exec.plugin import ExecutionPlugin


class OrderRouter(Protocol):
    """What signals need of an executor: :class:`~fks_exec.Executor` is one.

    Signals sit on top of the executor through this protocol, so neither module
    imports the other.
    """

    def route(self, symbol: str, plugin: str | None = None) -> str:
        """The plugin an order for ``symbol`` goes to."""
        ...

    async def execute(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Send ``order`` (once per client order id)."""
        ...

    async def positions(self, plugin: str | None = None) -> list[Position]:
        """Open positions at ``plugin``."""
        ...

    async def plugin(self, name: str) -> ExecutionPlugin:
        """The named plugin, started."""
        ...

    async def spent_result(self, client_order_id: str) -> ExecutionResult | None:
        """The recorded result of a client order id that was sent, else None."""
        ...


__all__ = [
    "OrderRouter",
    "Signal",
    "SignalError",
    "SignalMapping",
    "SignalSkipped",
    "Unauthorized",
    "WebhookAuth",
    "execute_signal",
    "parse_signal",
    "signature_for",
]

logger = logging.getLogger("fks_exec.signals")

SIGNATURE_HEADER = "X-Webhook-Signature"
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


class SignalError(FksExecError, ValueError):
    """The signal body is malformed or lacks what an order needs; nothing is sent."""


class SignalSkipped(FksExecError):
    """A valid signal that is deliberately not acted on (too weak, nothing to exit)."""


class Unauthorized(FksExecError):
    """The sender could not be authenticated; the reason is for the log only."""


@dataclass(frozen=True)
class Signal:
    """A trading signal, normalised from any of the accepted formats."""

    ticker: str
    """The symbol as the sender named it (``BINANCE:BTCUSDT``, ``EURUSD``, ``ES 12-25``)."""
    action: Literal["buy", "sell", "exit"]
    quantity: Decimal | None
    order_type: OrderType = OrderType.MARKET
    price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    plugin: str | None = None
    confidence: float | None = None
    timestamp: datetime | None = None
    id: str | None = None
    passphrase: SecretStr | None = field(default=None, repr=False)
    """The passphrase the sender put in the body, kept as a ``SecretStr``."""

    @property
    def client_order_id(self) -> str | None:
        """The idempotency key derived from the signal id (None without an id)."""
        if self.id is None:
            return None
        return "sig-" + hashlib.sha256(self.id.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- parsing


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


# --------------------------------------------------------------------------- auth


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


def _secret_text(fields: Mapping[str, Any], name: str) -> SecretStr | None:
    text = _text(fields, name)
    return None if text is None else SecretStr(text)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


# --------------------------------------------------------------------------- execution


@dataclass
class SignalMapping:
    """How signals become orders: a ticker table, and the weakest signal acted on.

    ``symbols`` maps a sender's ticker to ``"plugin:symbol"`` (or just ``"symbol"``),
    e.g. ``{"BINANCE:BTCUSDT": "ccxt:BTC/USDT", "CME_MINI:ES1!": "ninja:ES 12-25"}``.
    A ticker not in the table loses its ``EXCHANGE:`` prefix and goes to the routed
    plugin (or the signal's ``plugin``).
    """

    symbols: dict[str, str] = field(default_factory=dict)
    min_confidence: float | None = None

    def resolve(self, signal: Signal) -> tuple[str, str | None]:
        """``(symbol, plugin or None)`` for ``signal``."""
        target = self.symbols.get(signal.ticker)
        if target is None:
            return signal.ticker.split(":", 1)[-1], signal.plugin
        plugin, sep, symbol = target.partition(":")
        return (symbol, plugin) if sep else (plugin, signal.plugin)


def to_order(
    signal: Signal,
    symbol: str,
    quantity: Decimal | None = None,
    side: OrderSide | None = None,
    reduce_only: bool = False,
) -> Order:
    """The :class:`Order` a buy or sell signal asks for. Raises :class:`SignalError`."""
    fields: dict[str, Any] = {
        "symbol": symbol,
        "side": side or signal.action,
        "type": signal.order_type,
        "quantity": quantity if quantity is not None else signal.quantity,
        "reduce_only": reduce_only,
    }
    if signal.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        fields["price"] = signal.price
    if signal.order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        fields["stop_price"] = signal.price
    if not reduce_only:
        fields.update(stop_loss=signal.stop_loss, take_profit=signal.take_profit)
    if signal.client_order_id:
        fields["client_order_id"] = signal.client_order_id
    try:
        return Order.model_validate(fields)
    except ValueError as exc:
        raise SignalError(f"the signal does not make a valid order: {exc}") from None


async def execute_signal(
    executor: OrderRouter, signal: Signal, mapping: SignalMapping | None = None
) -> ExecutionResult:
    """Execute ``signal`` through ``executor``; a spent signal id sends nothing.

    A signal id is spent when its order was sent (or may have been): a replay returns
    the recorded result, also after a restart when the executor's journal is a file
    (see :meth:`Executor.spent_result`). An id whose order was not sent is sent again.
    ``exit`` closes the position in the symbol with a reduce-only market order (all of
    it, or ``quantity``). Raises :class:`SignalSkipped` for a signal below
    ``min_confidence`` or an exit when flat, :class:`SignalError` for a signal that
    makes no valid order, and what :meth:`Executor.execute` raises.
    """
    mapping = mapping or SignalMapping()
    if (
        mapping.min_confidence is not None
        and signal.confidence is not None
        and signal.confidence < mapping.min_confidence
    ):
        raise SignalSkipped(
            f"confidence {signal.confidence} is below the minimum {mapping.min_confidence}"
        )
    cid = signal.client_order_id
    spent = await executor.spent_result(cid) if cid is not None else None
    if spent is not None:  # an exit's order depends on the position: never rebuild it
        return spent
    symbol, plugin = mapping.resolve(signal)
    if signal.action != "exit":
        return await executor.execute(to_order(signal, symbol), plugin=plugin)
    name = plugin or executor.route(symbol)
    held = next(
        (p.quantity for p in await executor.positions(name) if p.symbol == symbol), Decimal(0)
    )
    if held == 0:
        raise SignalSkipped(f"exit signal for {symbol}: no open position")
    quantity = min(abs(held), signal.quantity) if signal.quantity else abs(held)
    side = OrderSide.SELL if held > 0 else OrderSide.BUY
    from fks_exec.plugin import Capability

    reduce_only = (await executor.plugin(name)).supports(Capability.REDUCE_ONLY)
    order = to_order(signal, symbol, quantity=quantity, side=side, reduce_only=reduce_only)
    return await executor.execute(order, plugin=name)
