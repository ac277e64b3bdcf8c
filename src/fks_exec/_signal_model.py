"""What a trading signal is once parsed (:class:`Signal`), and the three ways one fails.

Import these from :mod:`fks_exec.signals`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import SecretStr

from fks_exec.errors import FksExecError
from fks_exec.models import OrderType

__all__ = ["Signal", "SignalError", "SignalSkipped", "Unauthorized"]

_PUBLIC_MODULE = "fks_exec.signals"
"""Where the errors are imported from, and so the name logs and masked errors give them."""


class SignalError(FksExecError, ValueError):
    """The signal body is malformed or lacks what an order needs; nothing is sent."""

    __module__ = _PUBLIC_MODULE


class SignalSkipped(FksExecError):
    """A valid signal that is deliberately not acted on (too weak, nothing to exit)."""

    __module__ = _PUBLIC_MODULE


class Unauthorized(FksExecError):
    """The sender could not be authenticated; the reason is for the log only."""

    __module__ = _PUBLIC_MODULE


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
