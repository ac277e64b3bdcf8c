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

The code lives in modules of one job (:mod:`fks_exec._signal_model`,
:mod:`fks_exec._signal_parsing`, :mod:`fks_exec._signal_auth`,
:mod:`fks_exec._signal_orders`); import it from here.
"""

from __future__ import annotations

import logging

from fks_exec._signal_auth import SIGNATURE_HEADER, WebhookAuth, signature_for
from fks_exec._signal_model import Signal, SignalError, SignalSkipped, Unauthorized
from fks_exec._signal_orders import OrderRouter, SignalMapping, execute_signal, to_order
from fks_exec._signal_parsing import (
    MAX_BODY_CHARS,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_NUMBER_CHARS,
    parse_signal,
)

# The limits, the header name and to_order were public names of this module before it
# was split; listing them keeps them in the API reference.
__all__ = [
    "MAX_BODY_CHARS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_NUMBER_CHARS",
    "SIGNATURE_HEADER",
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
    "to_order",
]

logger = logging.getLogger("fks_exec.signals")
