from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fks_exec_mt5 import Mt5Plugin
from fks_exec_mt5.testing import FakeMetaTrader5


@pytest.fixture
def terminal() -> FakeMetaTrader5:
    return FakeMetaTrader5(hedging=True)


@pytest.fixture
async def mt5(terminal: FakeMetaTrader5) -> AsyncIterator[Mt5Plugin]:
    plugin = Mt5Plugin(mt5=terminal)
    plugin.use_env = False
    await plugin.init({"deviation_points": 20, "magic": 424242})
    yield plugin
    await plugin.close()
    assert terminal.thread_violations == 0
