"""A fake NinjaTrader 8 for testing code that trades through the ninja plugin.

The fake is the reference ATI server in :mod:`fks_exec_ninja.testing.reference`,
written from NinjaTrader's client DLL and help pages, not from this plugin::

    async with ReferenceAtiServer() as nt:
        plugin = NinjaPlugin()
        await plugin.init({"port": nt.port})

See docs/plugins/ninja-reference-fake.md for its settings.
"""

from fks_exec_ninja.testing.reference import ReferenceAtiServer, ServerSettings, front_month

__all__ = ["ReferenceAtiServer", "ServerSettings", "front_month"]
