"""A fake MetaTrader5 module for testing code that trades through the mt5 plugin.

from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing import FakeMetaTrader5

terminal = FakeMetaTrader5(hedging=False)
plugin = Mt5Plugin(mt5=terminal)
"""

from fks_exec_mt5.testing.terminal import FakeMetaTrader5, SymbolSpec, default_symbols

__all__ = ["FakeMetaTrader5", "SymbolSpec", "default_symbols"]
