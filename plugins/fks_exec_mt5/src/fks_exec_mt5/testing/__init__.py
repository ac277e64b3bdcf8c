"""A fake of the MetaTrader5 module for testing code that trades through the mt5 plugin.

It is the reference fake in :mod:`fks_exec_mt5.testing.reference`, written from
MetaQuotes' documentation (not from this plugin), with non-pickling result types like
the real package's::

    from fks_exec_mt5 import Mt5Plugin
    from fks_exec_mt5.testing import FakeMetaTrader5

    terminal = FakeMetaTrader5.netting()   # or .hedging(fifo_close=...)
    plugin = Mt5Plugin(mt5=terminal)

See docs/plugins/mt5-reference-fake.md for what it models and where each rule comes from.
"""

from fks_exec_mt5.testing.reference import FakeMetaTrader5, SymbolSpec, default_symbols

__all__ = ["FakeMetaTrader5", "SymbolSpec", "default_symbols"]
