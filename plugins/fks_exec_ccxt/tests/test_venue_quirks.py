"""What the per-venue table fixes, on exchanges the static cases do not cover: the
request ccxt builds from the plugin's params carries the client id where the venue
reads it, a stop's direction the way it fires, and what ccxt would misexpress is
refused before sending."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from exchange_table import minimal_market

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.aiohttp_transport import HttpRequest, TransportFault, attach_session


async def sent_by(
    exchange_id: str, order: Order, kind: str = "swap", sub: str = "linear", **settings: Any
) -> tuple[list[HttpRequest], Any]:
    """The requests that left for ``order``, and its result (the answer is lost)."""
    import ccxt.async_support as ccxt_async

    exchange = getattr(ccxt_async, exchange_id)(
        {"apiKey": "quirk-key-0123", "secret": "quirk-secret-0123", **settings}
    )
    exchange.set_markets([minimal_market(kind, sub, exchange.precisionMode)])
    wire: list[HttpRequest] = []

    async def lost(request: HttpRequest) -> Any:
        wire.append(request)
        raise TransportFault("reset")

    attach_session(exchange, lost)
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({"ticker_cache_ms": 3_600_000})
    symbol = exchange.symbols[0]
    for side in ("buy", "sell"):  # the price the harness quotes
        plugin._tickers.set((symbol, side), Decimal(100))
    try:
        result = await plugin.execute_order(order)
    finally:
        await plugin.close()
    return wire, result


def fields(request: HttpRequest) -> dict[str, Any]:
    if request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return dict(request.query)
        return body if isinstance(body, dict) else {"list": body}
    return dict(request.query)


async def test_deribit_sends_the_client_id_as_its_label_and_stops_as_stop_market() -> None:
    order = Order.stop("BTC/USDT:USDT", "sell", "1", "90")
    wire, result = await sent_by("deribit", order)
    (request,) = wire
    sent = fields(request)
    assert sent["label"] == order.client_order_id
    assert sent["type"] == "stop_market" and float(sent["trigger_price"]) == 90
    assert result.status is OrderStatus.UNKNOWN


async def test_htx_contracts_get_an_integer_client_id() -> None:
    order = Order.limit("BTC/USDT:USDT", "buy", "1", "100")
    wire, _ = await sent_by("htx", order)
    sent = fields(wire[-1])
    assert isinstance(sent["client_order_id"], int) and 0 < sent["client_order_id"] < 2**63


async def test_htx_inverse_stops_say_which_way_they_fire() -> None:
    opening = {"offset": "open"}  # htx inverse contracts need it: Order.params passes it on
    sell = Order.stop("BTC/USD:BTC", "sell", "1", "90", params=opening)
    wire, _ = await sent_by("htx", sell, sub="inverse")
    assert fields(wire[-1])["trigger_type"] == "le"  # a sell stop fires on a fall
    buy = Order.stop("BTC/USD:BTC", "buy", "1", "110", params=opening)
    wire, _ = await sent_by("htx", buy, sub="inverse")
    assert fields(wire[-1])["trigger_type"] == "ge"


async def test_what_ccxt_refuses_itself_is_refused_unsent() -> None:
    wire, result = await sent_by("htx", Order.stop("BTC/USD:BTC", "sell", "1", "90"), sub="inverse")
    assert wire == [] and result.sent is False and "offset" in (result.error or "")


async def test_htx_linear_stops_are_refused_without_a_direction() -> None:
    wire, result = await sent_by("htx", Order.stop("BTC/USDT:USDT", "sell", "1", "90"))
    assert wire == [] and result.sent is False and "direction" in (result.error or "")


async def test_coinbase_reduce_only_is_refused_instead_of_closing_everything() -> None:
    order = Order.market("BTC/USDT:USDT", "sell", "1", reduce_only=True)
    wire, result = await sent_by("coinbase", order)
    assert wire == [] and result.sent is False
    assert result.error_code is ErrorCode.NOT_SUPPORTED


async def test_kucoin_contract_stops_carry_their_direction() -> None:
    order = Order.stop("BTC/USDT:USDT", "buy", "1", "110")
    wire, _ = await sent_by("kucoin", order, password="p", options={"uta": True})
    assert any(fields(r).get("triggerDirection") == "UP" for r in wire), [r.path for r in wire]


async def test_gate_ids_fit_its_28_characters_and_come_back_the_same() -> None:
    order = Order.limit("BTC/USDT:USDT", "buy", "1", "100")  # a 32-character id
    wire, _ = await sent_by("gate", order, options={"unifiedAccount": False})
    text = fields(wire[-1])["text"]
    assert re.fullmatch("t-[0-9a-f]{26}", text)


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_mexc_swap_stops_fire_the_way_of_their_side(side: str) -> None:
    trigger = "110" if side == "buy" else "90"
    wire, _ = await sent_by("mexc", Order.stop_limit("BTC/USDT:USDT", side, "1", trigger, "100"))
    assert fields(wire[-1])["triggerType"] == (1 if side == "buy" else 2)


async def test_coinbase_market_buys_go_as_the_quote_cost_of_the_quantity() -> None:
    from static_harness import ec_private_key

    order = Order.market("BTC/USDT", "buy", "0.5")
    key = "organizations/fks/apiKeys/fks"
    wire, _ = await sent_by("coinbase", order, kind="spot", apiKey=key, secret=ec_private_key())
    sent = fields(wire[-1])
    assert sent["order_configuration"]["market_market_ioc"] == {"quote_size": "50"}  # 0.5 x 100
    assert sent["client_order_id"] == order.client_order_id
