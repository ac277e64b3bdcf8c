"""Every refusal mapped to an ErrorCode, and every transport failure to the right fate."""

from __future__ import annotations

import json

import pytest

from fks_exec import (
    BrokerUnavailable,
    ErrorCode,
    Executor,
    Order,
    OrderStatus,
    PluginRegistry,
)
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit


def binance_error(status: int, code: int, msg: str) -> dict[str, object]:
    return {
        "kind": "http",
        "status": status,
        "body": json.dumps({"code": code, "msg": msg}),
        "path": "/api/v3/order",
    }


def bybit_error(code: int, msg: str) -> dict[str, object]:
    body = {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 1}
    return {"kind": "http", "status": 200, "body": json.dumps(body), "path": "/v5/order/create"}


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (
            binance_error(400, -2010, "Account has insufficient balance for requested action."),
            ErrorCode.INSUFFICIENT_FUNDS,
        ),
        (binance_error(400, -1013, "Filter failure: NOTIONAL"), ErrorCode.INVALID_ORDER),
        (binance_error(400, -1121, "Invalid symbol."), ErrorCode.INVALID_ORDER),
        (binance_error(400, -1013, "Market is closed."), ErrorCode.MARKET_CLOSED),
        (
            binance_error(401, -2015, "Invalid API-key, IP, or permissions for action."),
            ErrorCode.AUTH,
        ),
        (
            binance_error(400, -1021, "Timestamp for this request is outside of the recvWindow."),
            ErrorCode.REJECTED,
        ),
        (binance_error(429, -1003, "Too much request weight used."), ErrorCode.RATE_LIMITED),
        (
            binance_error(418, -1003, "Way too much request weight used; IP banned until 1."),
            ErrorCode.RATE_LIMITED,
        ),
    ],
)
async def test_binance_refusals(
    binance: CcxtPlugin, binance_venue: FakeBinance, fault: dict[str, object], code: ErrorCode
) -> None:
    binance_venue.fail_next(**fault)  # type: ignore[arg-type]
    result = await binance.execute_order(Order.limit("BTC/USDT", "buy", "0.001", "60000"))
    assert (result.status, result.error_code, result.success) == (OrderStatus.REJECTED, code, False)
    assert result.error


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (bybit_error(110007, "ab not enough for new order"), ErrorCode.INSUFFICIENT_FUNDS),
        (bybit_error(10001, "params error"), ErrorCode.INVALID_ORDER),
        (bybit_error(110017, "Reduce-only rule not satisfied"), ErrorCode.INVALID_ORDER),
        (bybit_error(10003, "API key is invalid."), ErrorCode.AUTH),
        (bybit_error(10004, "error sign!"), ErrorCode.AUTH),
        (bybit_error(10006, "Too many visits!"), ErrorCode.RATE_LIMITED),
        (bybit_error(10016, "Server error"), ErrorCode.REJECTED),
    ],
)
async def test_bybit_refusals(
    bybit: CcxtPlugin, bybit_venue: FakeBybit, fault: dict[str, object], code: ErrorCode
) -> None:
    bybit_venue.fail_next(**fault)  # type: ignore[arg-type]
    result = await bybit.execute_order(Order.limit("BTC/USDT:USDT", "buy", "0.01", "60000"))
    assert (result.status, result.error_code) == (OrderStatus.REJECTED, code)


async def test_real_refusals_from_the_venue(binance: CcxtPlugin) -> None:
    poor = await binance.execute_order(Order.market("BTC/USDT", "buy", "5"))  # 325k > 100k
    assert poor.error_code is ErrorCode.INSUFFICIENT_FUNDS
    too_late = await binance.execute_order(
        Order.stop_limit("BTC/USDT", "sell", "0.001", stop_price="66000", price="65900")
    )
    assert too_late.error_code is ErrorCode.INVALID_ORDER  # "Order would immediately trigger."


async def test_unavailable_exchange_sends_nothing(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    binance_venue.fail_next("refused", path="/api/v3/order")
    with pytest.raises(BrokerUnavailable, match="binance"):
        await binance.execute_order(Order.limit("BTC/USDT", "buy", "0.001", "60000"))
    assert binance_venue.requests_to("/api/v3/order", "POST") == []


async def test_markets_that_cannot_load_send_nothing(binance_venue: FakeBinance) -> None:
    from fks_exec_ccxt.testing import fake_exchange

    plugin = CcxtPlugin(exchange=fake_exchange(binance_venue))
    await plugin.init()
    binance_venue.fail_next("refused", path="exchangeInfo")
    with pytest.raises(BrokerUnavailable, match="cannot load markets"):
        await plugin.execute_order(Order.limit("BTC/USDT", "buy", "0.001", "60000"))
    assert binance_venue.requests_to("/api/v3/order") == []
    await plugin.close()


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"kind": "timeout", "after_processing": True}, ErrorCode.TIMEOUT),
        ({"kind": "reset", "after_processing": True}, ErrorCode.NETWORK),
        ({"kind": "http", "status": 503, "body": "Service Unavailable"}, ErrorCode.NETWORK),
        (
            {
                "kind": "http",
                "status": 500,
                "body": json.dumps(
                    {
                        "code": -1001,
                        "msg": "Internal error; unable to process your request. Please try again.",
                    }
                ),
            },
            ErrorCode.UNKNOWN,
        ),
    ],
)
async def test_uncertain_outcomes_are_unknown(
    binance: CcxtPlugin, binance_venue: FakeBinance, fault: dict[str, object], code: ErrorCode
) -> None:
    binance_venue.fail_next(path="/api/v3/order", **fault)  # type: ignore[arg-type]
    result = await binance.execute_order(Order.limit("BTC/USDT", "buy", "0.001", "60000"))
    assert (result.status, result.error_code, result.success) == (OrderStatus.UNKNOWN, code, False)
    assert "do not resend" in (result.error or "")


async def test_timeout_after_the_order_landed_is_reconciled_never_resent(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("ccxt", binance)
    executor = Executor(registry, routes={"*/USDT": "ccxt"}, reconcile_delay_s=0)
    order = Order.limit("BTC/USDT", "buy", "0.001", "60000")
    binance_venue.fail_next("timeout", after_processing=True, path="/api/v3/order")
    result = await executor.execute(order)
    assert result.status is OrderStatus.ACCEPTED  # found by client order id
    assert result.order_id == binance_venue.engine.find(client_id=order.client_order_id).id
    assert (await executor.execute(order)) == result
    assert len(binance_venue.requests_to("/api/v3/order", "POST")) == 1


async def test_timeout_before_the_order_landed_stays_unknown(
    bybit: CcxtPlugin, bybit_venue: FakeBybit
) -> None:
    registry = PluginRegistry(discover=False)
    registry.register("ccxt", bybit)
    executor = Executor(registry, default="ccxt", reconcile_delay_s=0, reconcile_attempts=2)
    order = Order.limit("BTC/USDT:USDT", "buy", "0.01", "60000")
    bybit_venue.fail_next("timeout", path="/v5/order/create")
    result = await executor.execute(order)
    assert result.status is OrderStatus.UNKNOWN  # not found: never assumed, never resent
    assert bybit_venue.requests_to("/v5/order/create") == []
    # two reconciliations, each reading the regular and the trigger (stop) order book
    assert len(bybit_venue.requests_to("/v5/order/realtime")) == 4


async def test_a_reused_client_id_returns_the_order_the_exchange_holds(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    order = Order.limit("BTC/USDT", "buy", "0.001", "60000")
    first = await binance.execute_order(order)
    again = await binance.execute_order(order)  # e.g. after a restart of the strategy
    assert again.order_id == first.order_id
    assert again.status is OrderStatus.ACCEPTED
    assert len(binance_venue.engine.orders) == 1
