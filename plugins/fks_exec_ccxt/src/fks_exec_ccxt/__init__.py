"""fks-exec-ccxt: the ``ccxt`` plugin, trading on any ccxt exchange in-process.

ccxt itself is imported when the plugin starts, not when this package is imported,
so listing plugins stays fast.
"""

from fks_exec_ccxt.config import CcxtConfig
from fks_exec_ccxt.plugin import CcxtPlugin

__all__ = ["CcxtConfig", "CcxtPlugin"]
