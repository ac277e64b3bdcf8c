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
    timeout_ms: int = Field(default=60_000, gt=0)
    """How long ``initialize`` may take to connect."""
    deviation_points: int = Field(default=10, ge=0)
    """Largest price slippage accepted on a market order, in points."""
    magic: int = Field(default=0, ge=0)
    """Expert id stamped on every order, to tell this program's orders apart."""
    requote_retries: int = Field(default=3, ge=0, le=10)
    """How often a requoted (10004/10021) market order is resent at a fresh price."""
    symbol_cache_s: float = Field(default=60.0, ge=0)
    """How long a symbol's specification (volume step, tick size, filling modes) is
    reused before it is read again; 0 reads it for every order."""
    history_days: int = Field(default=7, gt=0)
    """How far back order lookups search the history."""
    bridge: Literal["auto", "mt5linux"] = "auto"
    """``auto``: the MetaTrader5 package (Windows); ``mt5linux``: its bridge to a terminal
    under Wine (``pip install fks-exec-mt5[linux]``), at ``host``:``port``."""
    host: str = "localhost"
    """mt5linux server host."""
    port: int = Field(default=18812, gt=0, lt=65536)
    """mt5linux server port."""
