"""A fake of the MetaTrader5 Python package written from MetaQuotes' public reference.

It stands for ``import MetaTrader5 as mt5`` (the module-level API, its constants and
its non-pickling result types) backed by a fake terminal and trade server that follow
MetaQuotes' documented rules: netting and hedging accounts, SL/TP inheritance, pending
orders answered 10009 with ``deal=0``, fill policy per execution mode, stops and freeze
levels, expiration modes, volume limits, FIFO close, the Algo Trading switches, and
trade server time. Every rule, its source and what is inferred:
docs/plugins/mt5-reference-fake.md.

    from fks_exec_mt5.testing.reference import FakeMetaTrader5

    mt5 = FakeMetaTrader5.netting()
    mt5.initialize()
    mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
                    "type": mt5.ORDER_TYPE_BUY, "type_filling": mt5.ORDER_FILLING_IOC})
    mt5.set_tick("EURUSD", "1.1010", "1.1011")   # the market moves

It never imports the plugin: it knows only what MetaQuotes publishes.
"""

from fks_exec_mt5.testing.reference import records
from fks_exec_mt5.testing.reference.account import AccountSpec, TerminalSpec
from fks_exec_mt5.testing.reference.constants import CONSTANTS, MetaTrader5Constants
from fks_exec_mt5.testing.reference.records import Record
from fks_exec_mt5.testing.reference.symbols import (
    SYMBOL_EXPIRATION_DAY,
    SYMBOL_EXPIRATION_GTC,
    SYMBOL_EXPIRATION_SPECIFIED,
    SYMBOL_EXPIRATION_SPECIFIED_DAY,
    SYMBOL_FILLING_BOC,
    SYMBOL_FILLING_FOK,
    SYMBOL_FILLING_IOC,
    SymbolSpec,
    default_symbols,
)
from fks_exec_mt5.testing.reference.terminal import FakeMetaTrader5
from fks_exec_mt5.testing.reference.world import DEFAULT_QUOTES

__all__ = [
    "CONSTANTS",
    "DEFAULT_QUOTES",
    "SYMBOL_EXPIRATION_DAY",
    "SYMBOL_EXPIRATION_GTC",
    "SYMBOL_EXPIRATION_SPECIFIED",
    "SYMBOL_EXPIRATION_SPECIFIED_DAY",
    "SYMBOL_FILLING_BOC",
    "SYMBOL_FILLING_FOK",
    "SYMBOL_FILLING_IOC",
    "AccountSpec",
    "FakeMetaTrader5",
    "MetaTrader5Constants",
    "Record",
    "SymbolSpec",
    "TerminalSpec",
    "default_symbols",
    "records",
]
