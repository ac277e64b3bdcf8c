"""fks-exec-ninja: the ``ninja`` plugin, NinjaTrader 8 over its AT Interface socket."""

from fks_exec_ninja.config import NinjaConfig
from fks_exec_ninja.plugin import NinjaPlugin

__all__ = ["NinjaConfig", "NinjaPlugin"]
