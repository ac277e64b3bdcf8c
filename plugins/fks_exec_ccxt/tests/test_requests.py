"""The exact requests ccxt sends for each kind of order, and what is never sent."""

from __future__ import annotations

import pytest

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing import FakeBinance, FakeBybit


def sent(venue: FakeBinance | FakeBybit, path: str) -> list[dict[str, str]]:
    return [r.params for r in venue.requests_to(path, "POST")]


# ------------------------------------------------------------------ binance spot


async def test_binance_market_order(binance: CcxtPlugin, binance_venue: FakeBinance) -> None:
    order = Order.market("BTC/USDT", "buy", "0.0012345")  # truncated to the 0.00001 step
    result = await binance.execute_order(order)
    (params,) = sent(binance_venue, "/api/v3/order")
    assert {k: params[k] for k in ("symbol", "side", "type", "quantity", "newClientOrderId")} == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.00123",
        "newClientOrderId": order.client_order_id,
    }
    assert "price" not in params
    assert result.status is OrderStatus.FILLED
    assert str(result.filled_quantity) == "0.00123"
    assert result.average_price == 65001
    assert result.raw["info"]["fills"][0]["commissionAsset"] == "USDT"  # fees kept in raw


async def test_binance_limit_order_with_time_in_force(
    binance: CcxtPlugin, binance_venue: FakeBinance
) -> None:
    order = Order.limit("BTCUSDT", "buy", "0.002", "60000.129", time_in_force="ioc")
    result = await binance.execute_order(order)
    (params,) = sent(binance_venue, "/api/v3/order")
    assert (params["type"], params["price"], params["quantity"], params["timeInForce"]) == (
        "LIMIT",
        "60000.13",
        "0.002",
        "IOC",
    )
    assert result.status is OrderStatus.EXPIRED  # IOC, not marketable: Binance expires it
    assert result.filled_quantity == 0


async def test_binance_stop_limit_order(binance: CcxtPlugin, binance_venue: FakeBinance) -> None:
    order = Order.stop_limit("BTC/USDT", "sell", "0.001", stop_price="60000", price="59900")
    result = await binance.execute_order(order)
    (params,) = sent(binance_venue, "/api/v3/order")
    assert (params["type"], params["stopPrice"], params["price"]) == (
        "STOP_LOSS_LIMIT",
        "60000",
        "59900",
    )
    assert result.status is OrderStatus.ACCEPTED


@pytest.mark.parametrize(
    ("order", "code", "fragment"),
    [
        (
            Order.stop("BTC/USDT", "sell", "0.001", "60000"),
            ErrorCode.INVALID_ORDER,
            "not allowed for BTC/USDT market orders",
        ),
        (
            Order.market("BTC/USDT", "buy", "0.001", stop_loss="60000"),
            ErrorCode.NOT_SUPPORTED,
            "attached stop_loss/take_profit",
        ),
        (
            Order.limit("BTC/USDT", "buy", "0.001", "60000", time_in_force="day"),
            ErrorCode.NOT_SUPPORTED,
            "day orders",
        ),
        (
            Order.market("BTC/USDT", "sell", "0.001", reduce_only=True),
            ErrorCode.NOT_SUPPORTED,
            "reduce_only",
        ),
        (Order.market("BTC/USDT", "buy", "0.000001"), ErrorCode.INVALID_ORDER, "amount step"),
        (
            Order.limit("BTC/USDT", "buy", "0.00005", "60000"),
            ErrorCode.INVALID_ORDER,
            "below BTC/USDT's minimum 5",
        ),
        (Order.market("BTC/USDT", "buy", "0.00005"), ErrorCode.INVALID_ORDER, "order value"),
        (Order.market("DOGE/EUR", "buy", "1"), ErrorCode.INVALID_ORDER, "no market"),
    ],
)
async def test_binance_orders_refused_before_sending(
    binance: CcxtPlugin, binance_venue: FakeBinance, order: Order, code: ErrorCode, fragment: str
) -> None:
    result = await binance.execute_order(order)
    assert result.status is OrderStatus.REJECTED
    assert result.error_code is code
    assert fragment in (result.error or "")
    assert sent(binance_venue, "/api/v3/order") == []


# ------------------------------------------------------------------ bybit linear


async def test_bybit_limit_with_attached_stop_loss_and_take_profit(
    bybit: CcxtPlugin, bybit_venue: FakeBybit
) -> None:
    order = Order.limit(
        "BTC/USDT:USDT", "buy", "0.0157", "60000.04", stop_loss="55000", take_profit="70000"
    )
    result = await bybit.execute_order(order)
    (params,) = sent(bybit_venue, "/v5/order/create")
    assert {
        k: params.get(k)
        for k in (
            "category",
            "symbol",
            "side",
            "orderType",
            "qty",
            "price",
            "orderLinkId",
            "stopLoss",
            "takeProfit",
            "timeInForce",
        )
    } == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.015",
        "price": "60000",
        "orderLinkId": order.client_order_id,
        "stopLoss": "55000",
        "takeProfit": "70000",
        "timeInForce": None,  # GTC is every venue's default: not sent
    }
    # Bybit answers only with ids; the plugin reads the order back for its state.
    assert result.status is OrderStatus.ACCEPTED
    assert result.order_id == bybit_venue.engine.find(client_id=order.client_order_id).id


async def test_bybit_market_order_is_read_back_as_filled(
    bybit: CcxtPlugin, bybit_venue: FakeBybit
) -> None:
    result = await bybit.execute_order(Order.market("BTCUSDT", "sell", "0.01"))
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.FILLED,
        1 * __import__("decimal").Decimal("0.01"),
        65000,
    )
    (params,) = sent(bybit_venue, "/v5/order/create")
    assert (params["orderType"], params["side"]) == ("Market", "Sell")


@pytest.mark.parametrize(("side", "direction"), [("buy", "1"), ("sell", "2")])
async def test_bybit_stop_orders_carry_trigger_and_direction(
    bybit: CcxtPlugin, bybit_venue: FakeBybit, side: str, direction: str
) -> None:
    trigger = "70000" if side == "buy" else "60000"
    await bybit.execute_order(Order.stop("BTC/USDT:USDT", side, "0.01", trigger))
    await bybit.execute_order(
        Order.stop_limit("BTC/USDT:USDT", side, "0.01", stop_price=trigger, price=trigger)
    )
    market, limit = sent(bybit_venue, "/v5/order/create")
    assert (market["orderType"], market["triggerPrice"], market["triggerDirection"]) == (
        "Market",
        trigger,
        direction,
    )
    assert (limit["orderType"], limit["price"], limit["triggerPrice"]) == (
        "Limit",
        trigger,
        trigger,
    )


async def test_bybit_reduce_only(bybit: CcxtPlugin, bybit_venue: FakeBybit) -> None:
    await bybit.execute_order(Order.market("BTC/USDT:USDT", "buy", "0.02"))
    result = await bybit.execute_order(
        Order.market("BTC/USDT:USDT", "sell", "0.01", reduce_only=True)
    )
    assert sent(bybit_venue, "/v5/order/create")[-1]["reduceOnly"] == "True"
    assert result.status is OrderStatus.FILLED
    refused = await bybit.execute_order(
        Order.market("ETH/USDT:USDT", "sell", "0.1", reduce_only=True)
    )
    assert refused.error_code is ErrorCode.INVALID_ORDER  # Bybit: reduce-only rule not satisfied
