"""Settings of the MetaTrader 5 plugin (``FKS_EXEC_MT5_<FIELD>``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from fks_exec.config import PluginConfig

__all__ = ["Mt5Config"]


class Mt5Config(PluginConfig):
    """How to reach the terminal and how to send orders."""

    path: str | None = None
    """Path of ``terminal64.exe``; None lets the package find a running terminal."""
    login: int | None = None
    """Trading account number; None keeps the account the terminal is logged in to."""
    password: SecretStr | None = None
    """Account password (secret)."""
    server: str | None = None
    """Trade server name, e.g. ``MetaQuotes-Demo``."""
    account: str | None = None
    """The account orders must name when they set ``Order.account`` (default: the
    connected login); an order naming another account is refused before sending."""
    timeout_ms: int = Field(default=60_000, gt=0)
    """How long ``initialize`` may take to connect."""
    deviation_points: int = Field(default=10, ge=0)
    """Largest price slippage accepted on a market order, in points."""
    magic: int | None = Field(default=None, ge=1, lt=2**63)
    """Expert id stamped on every order; this plugin only touches positions and orders
    carrying it. None derives a stable nonzero id from the plugin name and the account
    (manual trades carry 0)."""
    manage_other_positions: bool = False
    """Let reduce_only, exits and close_position act on positions of other programs and
    manual trades (other magics) too."""
    requote_retries: int = Field(default=3, ge=0, le=10)
    """How often a requoted (10004/10020/10021) market order is resent at a fresh price."""
    symbol_cache_s: float = Field(default=60.0, ge=0)
    """How long a symbol's specification (volume step, tick size, filling modes) is
    reused before it is read again; 0 reads it for every order."""
    history_days: int = Field(default=7, gt=0)
    """How far back order lookups search the history."""
    server_utc_offset_minutes: int | None = Field(default=None, ge=-14 * 60, le=14 * 60)
    """The trade server's clock minus UTC; None estimates it from the newest tick."""
    bridge: Literal["auto", "fks"] = "auto"
    """``auto``: the MetaTrader5 package (Windows); ``fks``: this plugin's bridge to a
    terminal under Wine (``python -m fks_exec_mt5.bridge.server`` next to it), at
    ``host``:``port`` with ``bridge_secret``."""
    host: str = "127.0.0.1"
    """Bridge server host."""
    port: int = Field(default=18812, gt=0, lt=65536)
    """Bridge server port."""
    bridge_secret: SecretStr | None = None
    """Shared secret of the bridge (the server's ``FKS_EXEC_MT5_BRIDGE_SECRET``)."""
    bridge_timeout_s: float = Field(default=30.0, gt=0)
    """How long one call through the bridge may take before its fate is unknown."""
