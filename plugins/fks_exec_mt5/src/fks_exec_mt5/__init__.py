"""fks-exec-mt5: the ``mt5`` plugin, trading through a MetaTrader 5 terminal.

The MetaTrader5 package is imported when the plugin starts (and only on Windows or
through a bridge), never when this package is imported.
"""

from fks_exec_mt5.config import Mt5Config
from fks_exec_mt5.plugin import Mt5Plugin

__all__ = ["Mt5Config", "Mt5Plugin"]
