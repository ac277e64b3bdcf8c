"""Settings of the NinjaTrader 8 plugin (``FKS_EXEC_NINJA_<FIELD>``)."""

from __future__ import annotations

from pydantic import Field, field_validator

from fks_exec.config import PluginConfig

__all__ = ["NinjaConfig"]


class NinjaConfig(PluginConfig):
    """Where NinjaTrader's AT Interface listens and how orders are placed."""

    host: str = "127.0.0.1"
    """Host of the machine running NinjaTrader 8."""
    port: int = Field(default=36973, gt=0, lt=65536)
    """The AT Interface port (Tools > Options > Automated trading interface)."""
    account: str = "Sim101"
    """Account orders go to when an order names none (``Sim101``: NinjaTrader's simulation
    account)."""
    connect_timeout_s: float = Field(default=10.0, gt=0)
    """How long connecting and waiting for ``ATI = True`` may take (the DLL waits 10 s)."""
    order_timeout_s: float = Field(default=5.0, gt=0)
    """How long an order waits for NinjaTrader to report its state."""
    fill_agreement_s: float = Field(default=0.25, ge=0)
    """How long an order's pushed values may take to agree before anything is decided
    from them: a final state waits this long for its fill values (status ``Filled``
    before ``Filled|<id>`` says the whole quantity), and a later fill for an average
    price pushed after it, before the answer is ``unknown`` (an average NinjaTrader does
    not push again, unchanged or late, cannot be told from a stale one: never a definite
    fill at it); a bracket waits this long before ending on a final state with nothing
    filled, or sizing an exit whose fill number has not been pushed (a fill read after
    the state still counts)."""
    confirm_orders: bool | None = None
    """None (default): leave NinjaTrader's order confirmation setting alone. True/False:
    send ConfirmOrders 1/0 after each connect -- a global NinjaTrader setting that also
    governs the confirmation dialogs of manual trading."""
    symbols: dict[str, str] = Field(default_factory=dict)
    """Symbol map, e.g. ``{"ES": "ES 03-27"}`` (JSON in the variable)."""
    strategy: str = ""
    """ATM strategy template name sent with entry orders (empty: none). Printable ASCII
    without ``;`` or ``|``, as every ATI field."""
    require_order_list: bool = True
    """Send no order until NinjaTrader has pushed ``Orders|<account>`` since connecting,
    so an order id it already has is never placed again."""
    order_list_wait_s: float = Field(default=2.0, ge=0)
    """How long an order may wait for that list after a connect."""
    reconnect_min_s: float = Field(default=0.1, gt=0)
    """Shortest pause before a reconnection attempt (it doubles, with jitter, up to
    ``reconnect_max_s``; a larger value is taken as ``reconnect_max_s``)."""
    reconnect_max_s: float = Field(default=5.0, gt=0)
    """Longest pause between reconnection attempts."""
    max_tracked_orders: int = Field(default=10_000, ge=100)
    """How many orders placed by this process are remembered (oldest forgotten first)."""

    @field_validator("strategy")
    @classmethod
    def _strategy_fits_the_wire(cls, value: str) -> str:
        # Checked here, once, so no order can reach the socket with a name the wire
        # cannot carry (it would fail at send time and leave the order's fate unknown).
        bad = sorted({c for c in value if c in ";|" or not c.isascii() or not c.isprintable()})
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            raise ValueError(
                f"strategy {value!r} cannot be sent over the AT Interface (it contains "
                f"{shown}); use the ATM template's name as printable ASCII without ';' or '|'"
            )
        return value
