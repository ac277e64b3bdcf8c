from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing.reference import FakeMetaTrader5

MAGIC = 424242

ACCOUNTS: dict[str, Callable[[], FakeMetaTrader5]] = {
    "hedging": lambda: FakeMetaTrader5.hedging(),
    "hedging-fifo": lambda: FakeMetaTrader5.hedging(fifo_close=True),
    "hedging-fifo-direction": lambda: FakeMetaTrader5.hedging(
        fifo_close=True, account_options={"fifo_scope": "symbol_and_direction"}
    ),
    "hedging-pending-10008": lambda: FakeMetaTrader5.hedging(
        account_options={"pending_answer_retcode": 10008}
    ),
    "netting": lambda: FakeMetaTrader5.netting(),
    "netting-pending-10008-no-freeze-close": lambda: FakeMetaTrader5.netting(
        account_options={"pending_answer_retcode": 10008, "freeze_blocks_close": False},
        reconnect_requires_initialize=False,
    ),
    "netting-magic-follows": lambda: FakeMetaTrader5.netting(
        account_options={"netting_magic_follows_last_order": True}
    ),
}
"""Every account mode and every inferred setting of the reference fake that changes
what the plugin may do (docs/plugins/mt5-reference-fake.md)."""


async def started(terminal: FakeMetaTrader5, **config: Any) -> Mt5Plugin:
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    await plugin.init({"magic": MAGIC, **config})
    return plugin


@pytest.fixture(params=sorted(ACCOUNTS))
def terminal(request: pytest.FixtureRequest) -> FakeMetaTrader5:
    return ACCOUNTS[request.param]()


@pytest.fixture
def hedging() -> FakeMetaTrader5:
    return FakeMetaTrader5.hedging()


@pytest.fixture
def netting() -> FakeMetaTrader5:
    return FakeMetaTrader5.netting()


@pytest.fixture
async def mt5(terminal: FakeMetaTrader5) -> AsyncIterator[Mt5Plugin]:
    plugin = await started(terminal)
    yield plugin
    await plugin.close()


@pytest.fixture
async def hedged(hedging: FakeMetaTrader5) -> AsyncIterator[tuple[Mt5Plugin, Any]]:
    """A plugin on a hedging fake whose calls go through a :class:`~.scripted.Scripted`."""
    from .scripted import Scripted

    plugin = await started(hedging)
    scripted = Scripted(hedging)
    plugin.session.mt5 = scripted
    yield plugin, scripted
    await plugin.close()


@pytest.fixture
async def netted(netting: FakeMetaTrader5) -> AsyncIterator[tuple[Mt5Plugin, Any]]:
    """The same on a netting fake."""
    from .scripted import Scripted

    plugin = await started(netting)
    scripted = Scripted(netting)
    plugin.session.mt5 = scripted
    yield plugin, scripted
    await plugin.close()
