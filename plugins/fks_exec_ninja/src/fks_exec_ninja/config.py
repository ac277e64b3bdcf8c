"""Settings of the NinjaTrader 8 plugin (``FKS_EXEC_NINJA_<FIELD>``)."""

from __future__ import annotations

from pydantic import Field

from fks_exec.config import PluginConfig

__all__ = ["NinjaConfig"]


class NinjaConfig(PluginConfig):
    """Where NinjaTrader's AT Interface listens and how orders are placed."""

    host: str = "127.0.0.1"
    """Host of the machine running NinjaTrader 8."""
    port: int = Field(default=36973, gt=0, lt=65536)
    """The AT Interface port (Tools > Options > Automated trading interface)."""
    account: str = "Sim101"
    """Account orders go to (``Sim101`` is NinjaTrader's simulation account)."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    """How long connecting and waiting for ``ATI = True`` may take."""
    order_timeout_s: float = Field(default=5.0, gt=0)
    """How long an order waits for NinjaTrader to report its state."""
    confirm_orders: bool = False
    """Keep NinjaTrader's per-order confirmation dialogs (off: ConfirmOrders 0)."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Symbol map, e.g. ``{"ES": "ES 12-25"}`` (JSON in the variable)."""
    strategy: str = ""
    """ATM strategy template name sent with orders (empty: none)."""
    reconnect_max_s: float = Field(default=5.0, gt=0)
    """Longest pause between reconnection attempts (backoff doubles up to it)."""
