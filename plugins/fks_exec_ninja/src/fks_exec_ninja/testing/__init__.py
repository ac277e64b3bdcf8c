"""A fake NinjaTrader 8 for testing code that trades through the ninja plugin.

async with FakeNinjaTrader() as nt:
    plugin = NinjaPlugin()
    await plugin.init({"port": nt.port})
"""

from fks_exec_ninja.testing.server import FakeNinjaTrader, NtOrder

__all__ = ["FakeNinjaTrader", "NtOrder"]
