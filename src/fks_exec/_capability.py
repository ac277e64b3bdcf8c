"""What a plugin can offer beyond placing orders: :class:`Capability`.

Import it from :mod:`fks_exec.plugin` (or ``fks_exec``).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Capability"]


class Capability(str, Enum):
    """Optional features a plugin declares in :attr:`ExecutionPlugin.capabilities`."""

    CANCEL_ORDER = "cancel_order"
    GET_ORDER = "get_order"
    POSITIONS = "positions"
    CLOSE_POSITION = "close_position"
    STOP_ORDERS = "stop_orders"
    """``stop`` and ``stop_limit`` order types."""
    BRACKET_ORDERS = "bracket_orders"
    """Attached ``stop_loss`` / ``take_profit``."""
    REDUCE_ONLY = "reduce_only"

    def __str__(self) -> str:
        return str(self.value)
