"""A NinjaTrader 8 ATI server written only from public references, for testing clients.

Sources: the public decompilation of NinjaTrader's client DLL (github.com/lightfi7/
NinjaTrader.Client: ``Server/AtiSocket.cs`` for the wire, ``Client/Client.cs`` for the
keys and the command string) and NinjaTrader's help pages. Nothing here comes from the
``fks_exec_ninja`` plugin: it is meant to catch that plugin's wrong assumptions. Every
behaviour the references leave open is a setting (:class:`ServerSettings`), and
:func:`combinations` enumerates them for parametrised tests::

    from fks_exec_ninja.testing.reference import ReferenceAtiServer, ServerSettings

    async with ReferenceAtiServer(ServerSettings(fill_pieces=2)) as nt:
        ...  # connect to ("127.0.0.1", nt.port)

Run it in its own process with ``python -m fks_exec_ninja.testing.reference --port 0``:
it prints the bound port on the first line of standard output.
"""

from __future__ import annotations

from .commands import COMMANDS, AtiCommand, CommandError, parse_command
from .orders import TERMINAL_STATES, Order
from .records import CommandRecord, ConnectionLog, ConnectionRecord
from .server import ReferenceAtiServer
from .settings import (
    INFERRED_AXES,
    AccountSpec,
    AtmTemplateSpec,
    DuplicateOrderId,
    Greeting,
    InstrumentSpec,
    InvalidCommand,
    OcoPartialFill,
    OffTickPrice,
    OrderFate,
    PushOrder,
    Repetition,
    Repush,
    ServerSettings,
    ValueOrder,
    combinations,
    front_month,
)

__all__ = [
    "COMMANDS",
    "INFERRED_AXES",
    "TERMINAL_STATES",
    "AccountSpec",
    "AtiCommand",
    "AtmTemplateSpec",
    "CommandError",
    "CommandRecord",
    "ConnectionLog",
    "ConnectionRecord",
    "DuplicateOrderId",
    "Greeting",
    "InstrumentSpec",
    "InvalidCommand",
    "OcoPartialFill",
    "OffTickPrice",
    "Order",
    "OrderFate",
    "PushOrder",
    "ReferenceAtiServer",
    "Repetition",
    "Repush",
    "ServerSettings",
    "ValueOrder",
    "combinations",
    "front_month",
    "parse_command",
]
