"""A close-by's and a cancel's retcode means what it means for an order (the table in
fks_exec_mt5.retcodes, docs/plugins/mt5.md *Return codes*): 10012 is ``unknown``, a
code the terminal answers without reaching the trade server (10027, 10031) is
``sent=False`` (10031 on a cancel raises ``BrokerUnavailable``, as on an order)."""

from __future__ import annotations

import pytest

from fks_exec import BrokerUnavailable, ErrorCode, OrderStatus
from fks_exec_mt5 import constants as c
from fks_exec_mt5.retcodes import RETCODES, retcode_of
from fks_exec_mt5.testing.reference import FakeMetaTrader5

from .scripted import hedged_pair
from .test_plugin_mutants import answer, answers_in_turn, on_recording, working

REFUSALS = sorted(set(RETCODES) - {c.TRADE_RETCODE_DONE} | {10999})
"""Every retcode of MetaQuotes' list but 10009 DONE, and one not in it."""


@pytest.mark.parametrize("retcode", REFUSALS)
async def test_a_close_by_answer_keeps_the_retcodes_status_and_sent(retcode: int) -> None:
    terminal = FakeMetaTrader5.hedging()
    reply = answer(retcode=retcode, comment="Refused")
    plugin, _ = await on_recording(terminal, order_send=answers_in_turn(reply))
    hedged_pair(terminal)
    try:
        (result,) = await plugin.close_position("EURUSD")
    finally:
        await plugin.close()
    meaning = retcode_of(retcode)
    assert f"{retcode} Refused" in (result.error or "")
    if meaning.status is not OrderStatus.REJECTED:  # 10012; 10008, 10010: not confirmed
        assert result.status is OrderStatus.UNKNOWN and result.sent is None, result
        assert result.error_code is (meaning.code or ErrorCode.UNKNOWN)
        assert "reconcile with get_order" in (result.error or "")
        return
    assert result.status is OrderStatus.REJECTED, result
    assert result.sent is meaning.sent, result
    assert result.error_code is (meaning.code or ErrorCode.REJECTED)
    assert ("nothing was sent" in (result.error or "")) is not meaning.sent


def test_the_table_has_codes_of_every_kind() -> None:
    # the parametrizations above cover an unknown code and unsent ones
    assert retcode_of(c.TRADE_RETCODE_TIMEOUT).status is OrderStatus.UNKNOWN
    assert not retcode_of(c.TRADE_RETCODE_CLIENT_DISABLES_AT).sent
    assert not retcode_of(c.TRADE_RETCODE_CONNECTION).sent


@pytest.mark.parametrize("retcode", REFUSALS)
async def test_a_cancel_answer_keeps_the_retcodes_status_and_sent(retcode: int) -> None:
    terminal = FakeMetaTrader5.hedging()
    plugin, recording, ticket = await working(terminal)
    recording.answers["order_send"] = answers_in_turn(answer(retcode=retcode, comment="No"))
    meaning = retcode_of(retcode)
    try:
        if retcode == c.TRADE_RETCODE_CONNECTION:
            with pytest.raises(BrokerUnavailable, match="not connected to the trade server"):
                await plugin.cancel_order(ticket)
            return
        result = await plugin.cancel_order(ticket)
    finally:
        await plugin.close()
    assert f"{retcode} No" in (result.error or "")
    if meaning.status is not OrderStatus.REJECTED:
        assert result.status is OrderStatus.UNKNOWN and result.sent is None, result
        assert result.error_code is (meaning.code or ErrorCode.UNKNOWN)
        assert "check the order with get_order" in (result.error or "")
        return
    assert result.status is OrderStatus.REJECTED, result
    assert result.sent is meaning.sent, result
    assert result.error_code is (meaning.code or ErrorCode.REJECTED)
    assert ("nothing was sent" in (result.error or "")) is not meaning.sent
