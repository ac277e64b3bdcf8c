"""Fakes of the MetaTrader5 module for testing code that trades through the mt5 plugin.

Prefer :mod:`fks_exec_mt5.testing.reference` (``FakeMetaTrader5.hedging()`` /
``.netting()``): written from MetaQuotes' documentation, with non-pickling result
types like the real package's. The older fake exported here shares the plugin's own
earlier assumptions and is kept for the soak and reliability tests that drive it:

from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing import FakeMetaTrader5

terminal = FakeMetaTrader5(hedging=False)
plugin = Mt5Plugin(mt5=terminal)
"""

from fks_exec_mt5.testing.terminal import FakeMetaTrader5, SymbolSpec, default_symbols

__all__ = ["FakeMetaTrader5", "SymbolSpec", "default_symbols"]
