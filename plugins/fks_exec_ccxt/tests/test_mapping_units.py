"""mapping.py's small rules exactly (mutation survivors): the minimum cost counts the
contract size, a result's error text follows its status, requests are immutable."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.mapping import Denial, Request, _check_limits, build_request, to_result
from fks_exec_ccxt.testing.okx import FakeOkx

SWAP = "BTC/USDT:USDT"  # 0.01 BTC per contract on the fake, as on OKX


@pytest.fixture
async def okx() -> AsyncIterator[CcxtPlugin]:
    venue = FakeOkx()
    venue.set_price("BTC-USDT-SWAP", "60000", "60000.1")
    plugin = CcxtPlugin(exchange=venue.exchange())
    plugin.use_env = False
    await plugin.init()
    await plugin.market(SWAP)
    yield plugin
    await plugin.close()


async def test_the_minimum_cost_is_counted_in_contracts_times_their_size(okx: CcxtPlugin) -> None:
    rules = okx.rules_of(await okx.market(SWAP))
    assert rules.contract_size == Decimal("0.01")
    costly = dataclasses.replace(rules, min_cost=Decimal(1000))
    # 1 contract of 0.01 BTC at 60000 is worth 600, below 1000: refused.
    denial = _check_limits(costly, Decimal(1), Decimal(60000))
    assert isinstance(denial, Denial) and denial.code is ErrorCode.INVALID_ORDER
    assert "order value 600.00 is below" in denial.message
    assert _check_limits(costly, Decimal(2), Decimal(60000)) is None  # 1200


async def test_requests_and_denials_are_immutable(okx: CcxtPlugin) -> None:
    rules = okx.rules_of(await okx.market(SWAP))
    request = build_request(okx.exchange, rules, Order.limit(SWAP, "buy", "1", "59000"), None)
    assert isinstance(request, Request)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.amount = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Denial(ErrorCode.INVALID_ORDER, "x").message = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("rejected", "rejected by the exchange"),
        ("open", None),
        ("canceled", None),
        ("expired", None),
    ],
)
def test_only_a_rejection_carries_the_rejection_text(status: str, error: str | None) -> None:
    raw = {"id": "7", "status": status, "amount": 1, "filled": 0, "side": "buy"}
    result = to_result(raw, plugin="ccxt", symbol=SWAP)
    assert result.error == error
    assert (result.error_code is ErrorCode.REJECTED) is (status == "rejected")
    assert result.status is not OrderStatus.UNKNOWN
