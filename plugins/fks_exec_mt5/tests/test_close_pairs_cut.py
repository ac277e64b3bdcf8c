"""A ``close_position`` whose tickets cannot be read again after it traded says what it
did (outside review, 2026-12-04): before, a failed ``positions_get`` after the net close
and a close-by raised ``BrokerUnavailable(... nothing was sent)`` and both results were
lost. Now: ``OutcomeUnknown`` carrying every result known, the pairs left untried."""

from __future__ import annotations

from typing import Any

import pytest

from fks_exec import BrokerUnavailable, OrderStatus, OutcomeUnknown
from fks_exec_mt5 import constants as c
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .conftest import MAGIC, started
from .scripted import opened


class _FailsAfterCloseBy:
    """The fake, whose first ``positions_get`` after the ``after``-th CLOSE_BY (0: after
    the first order of any kind) fails with an IPC timeout (MQL5 positions_get: None
    "in case of an error", last_error -10005 RES_E_INTERNAL_FAIL_TIMEOUT)."""

    def __init__(self, terminal: FakeMetaTrader5, after: int) -> None:
        self.terminal, self.after = terminal, after
        self.sent: list[dict[str, Any]] = []
        self.armed = self.failing = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.terminal, name)

    def order_send(self, request: dict[str, Any]) -> Any:
        self.sent.append(request)
        close_bys = sum(1 for r in self.sent if r["action"] == c.TRADE_ACTION_CLOSE_BY)
        if (self.after == 0 and len(self.sent) == 1) or (self.after and close_bys == self.after):
            self.armed = True
        return self.terminal.order_send(request)

    def positions_get(self, **kwargs: Any) -> Any:
        if self.armed:
            self.armed, self.failing = False, True
            return None
        return self.terminal.positions_get(**kwargs)

    def last_error(self) -> Any:
        if self.failing:
            self.failing = False
            return (c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout")
        return self.terminal.last_error()


async def _hedged(terminal: FakeMetaTrader5) -> Any:
    plugin = await started(terminal)
    for kind, volume in [("b", 0.3), ("s", 0.1), ("b", 0.1), ("s", 0.1)]:
        opened(terminal, c.ORDER_TYPE_BUY if kind == "b" else c.ORDER_TYPE_SELL, volume)
    return plugin


async def test_a_read_that_fails_after_a_close_by_gives_every_known_result() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _hedged(terminal)
    plugin.session.mt5 = failing = _FailsAfterCloseBy(terminal, after=1)
    try:
        with pytest.raises(OutcomeUnknown, match="pairs left, if any, were not closed") as caught:
            await plugin.close_position("EURUSD")
    finally:
        await plugin.close()
    results = caught.value.results
    assert [r.status for r in results] == [OrderStatus.FILLED, OrderStatus.FILLED], results
    assert "nothing was sent" not in str(caught.value)
    actions = [r["action"] for r in failing.sent]
    assert actions == [c.TRADE_ACTION_DEAL, c.TRADE_ACTION_CLOSE_BY]  # then it stopped
    assert terminal.net_volume("EURUSD", MAGIC) == 0  # the net close went through


async def test_a_read_that_fails_right_after_the_net_close_keeps_its_result() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _hedged(terminal)
    plugin.session.mt5 = _FailsAfterCloseBy(terminal, after=0)
    try:
        with pytest.raises(OutcomeUnknown, match="the net position was closed") as caught:
            await plugin.close_position("EURUSD")
    finally:
        await plugin.close()
    assert [r.status for r in caught.value.results] == [OrderStatus.FILLED]


async def test_a_read_that_fails_before_anything_was_sent_still_says_so() -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin = await _hedged(terminal)
    failing = _FailsAfterCloseBy(terminal, after=0)
    failing.armed = True  # the very first read fails
    plugin.session.mt5 = failing
    try:
        with pytest.raises(BrokerUnavailable, match="nothing was sent"):
            await plugin.close_position("EURUSD")
    finally:
        await plugin.close()
    assert failing.sent == []
