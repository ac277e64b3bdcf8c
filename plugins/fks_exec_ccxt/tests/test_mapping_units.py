"""mapping.py's small rules exactly (mutation survivors): the minimum cost counts the
contract size, a result's error text follows its status, requests are immutable."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec.kit import BadBrokerNumber
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.mapping import (
    Denial,
    Request,
    _check_limits,
    build_request,
    to_result,
)
from fks_exec_ccxt.testing.okx import FakeOkx

SWAP = "BTC/USDT:USDT"  # 0.01 BTC per contract on the fake, as on OKX
PRICE = Decimal(60000)


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
    with pytest.raises(AttributeError):  # a named tuple
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


async def test_a_market_buy_by_cost_is_priced_at_the_reference(okx: CcxtPlugin) -> None:
    spot = dataclasses.replace(
        okx.rules_of(await okx.market("BTC/USDT")), market_buy_by_cost=True, min_cost=None
    )
    buy = build_request(okx.exchange, spot, Order.market("BTC/USDT", "buy", "0.01"), PRICE)
    assert isinstance(buy, Request) and buy.price == 60000  # ccxt sends amount x price
    sell = build_request(okx.exchange, spot, Order.market("BTC/USDT", "sell", "0.01"), PRICE)
    assert isinstance(sell, Request) and sell.price is None
    blind = build_request(okx.exchange, spot, Order.market("BTC/USDT", "buy", "0.01"), None)
    assert isinstance(blind, Denial) and "no ask was available" in blind.message


async def test_where_every_market_order_needs_a_price_it_is_the_book_or_the_trigger(
    okx: CcxtPlugin,
) -> None:
    swap = dataclasses.replace(
        okx.rules_of(await okx.market(SWAP)), market_needs_price=True, min_cost=None
    )
    sell = build_request(okx.exchange, swap, Order.market(SWAP, "sell", "1"), PRICE)
    assert isinstance(sell, Request) and sell.price == 60000 and sell.quote_cost is None
    stop = Order.stop(SWAP, "sell", "1", "59000")
    triggered = build_request(okx.exchange, swap, stop, None)
    assert isinstance(triggered, Request) and triggered.price == 59000  # its own trigger
    blind = build_request(okx.exchange, swap, Order.market(SWAP, "sell", "1"), None)
    assert isinstance(blind, Denial)
    assert blind.message.endswith("no bid was available to cap the slippage from")
    plain = dataclasses.replace(swap, market_needs_price=False)
    assert build_request(okx.exchange, plain, stop, None).price is None  # type: ignore[union-attr]


async def test_the_minimum_cost_is_inclusive_and_a_limit_is_valued_at_its_price(
    okx: CcxtPlugin,
) -> None:
    rules = dataclasses.replace(okx.rules_of(await okx.market(SWAP)), min_cost=Decimal(600))
    assert _check_limits(rules, Decimal(1), Decimal(60000)) is None  # exactly the minimum
    costly = dataclasses.replace(rules, min_cost=Decimal(1000))
    limit = Order.limit(SWAP, "buy", "1", "60000")
    denial = build_request(okx.exchange, costly, limit, Decimal(200000))  # a far reference
    assert isinstance(denial, Denial) and "order value" in denial.message


async def test_time_in_force_is_sent_only_for_non_gtc_orders_that_rest(okx: CcxtPlugin) -> None:
    rules = okx.rules_of(await okx.market(SWAP))
    market = build_request(okx.exchange, rules, Order.market(SWAP, "buy", "1"), None)
    gtc = build_request(okx.exchange, rules, Order.limit(SWAP, "buy", "1", "59000"), None)
    ioc = build_request(
        okx.exchange, rules, Order.limit(SWAP, "buy", "1", "59000", time_in_force="ioc"), None
    )
    assert isinstance(market, Request) and isinstance(gtc, Request) and isinstance(ioc, Request)
    assert "timeInForce" not in market.params and "timeInForce" not in gtc.params
    assert ioc.params["timeInForce"] == "IOC"


def test_statuses_from_fills_when_ccxt_gives_none() -> None:
    from fks_exec_ccxt.mapping import _status

    assert _status(None, Decimal(1), Decimal(1)) is OrderStatus.FILLED
    assert _status(None, Decimal(1), Decimal(2)) is OrderStatus.PARTIALLY_FILLED
    assert _status(None, Decimal(1), None) is OrderStatus.PARTIALLY_FILLED
    assert _status(None, Decimal(0), Decimal(0)) is OrderStatus.ACCEPTED
    assert _status("open", Decimal(0), Decimal(1)) is OrderStatus.ACCEPTED


def test_the_symbol_comes_from_ccxt_first_and_closed_without_a_fill_is_canceled() -> None:
    raw = {"id": "7", "status": "closed", "amount": 1, "filled": 0, "side": "buy"}
    assert to_result({**raw, "symbol": "ETH/USDT"}, plugin="ccxt", symbol=SWAP).symbol == (
        "ETH/USDT"
    )
    closed = to_result(raw, plugin="ccxt", symbol=SWAP)
    assert (closed.symbol, closed.status) == (SWAP, OrderStatus.CANCELED)


@pytest.mark.parametrize(
    ("fields", "average"),
    [
        ({"average": 61, "cost": 120, "price": 50}, Decimal(61)),  # ccxt's average first
        ({"average": None, "cost": 120, "price": 50}, Decimal(60)),  # then cost / filled
        ({"average": None, "cost": None, "price": 50}, Decimal(50)),  # then the price
    ],
)
def test_the_average_price_falls_back_to_cost_then_price(
    fields: dict[str, object], average: Decimal
) -> None:
    raw = {"id": "7", "status": "closed", "amount": 2, "filled": 2, "side": "buy", **fields}
    assert to_result(raw, plugin="ccxt", symbol=SWAP).average_price == average


def test_no_fill_has_no_average_and_missing_fields_come_from_the_order() -> None:
    unfilled = to_result(
        {"id": "7", "status": "open", "amount": 1, "filled": 0, "average": 60000, "side": "buy"},
        plugin="ccxt",
        symbol=SWAP,
    )
    assert unfilled.average_price is None
    order = Order.limit(SWAP, "sell", "1", "61000")
    bare = to_result({"id": "8", "status": "open"}, plugin="ccxt", order=order)
    assert (bare.symbol, bare.side, bare.quantity) == (SWAP, order.side, Decimal(1))


async def test_the_maximum_quantity_is_inclusive(okx: CcxtPlugin) -> None:
    rules = dataclasses.replace(okx.rules_of(await okx.market(SWAP)), max_amount=Decimal(5))
    assert _check_limits(rules, Decimal(5), Decimal(60000)) is None
    above = _check_limits(rules, Decimal(6), Decimal(60000))
    assert isinstance(above, Denial) and "above" in above.message


async def test_ccxts_own_precision_refusing_a_value_is_a_denial(
    okx: CcxtPlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fks_exec_ccxt.mapping as mapping

    def refuse(*args: object) -> object:
        raise ValueError("amount must be a number")

    monkeypatch.setattr(mapping, "amount_of", refuse)
    rules = okx.rules_of(await okx.market(SWAP))
    denial = build_request(okx.exchange, rules, Order.limit(SWAP, "buy", "1", "59000"), None)
    assert isinstance(denial, Denial) and "(ccxt) cannot put 1" in denial.message


# ------------------------------------------- a market buy by cost: bounded by what it spent


def test_a_buy_by_cost_may_fill_more_base_than_its_amount_at_a_lower_price() -> None:
    from fks_exec.kit import BadBrokerNumber

    order = Order.market("BTC/USDT", "buy", "0.01")
    raw = {"id": "9", "status": "closed", "amount": 0.01, "filled": 0.0102, "average": 58800}
    cost = Decimal("0.01") * PRICE  # 600 quote sent
    result = to_result(raw, plugin="ccxt", order=order, quote_cost=cost)
    assert result.status is OrderStatus.FILLED
    assert (result.filled_quantity, result.quantity) == (Decimal("0.0102"), Decimal("0.0102"))
    with pytest.raises(BadBrokerNumber, match="above the order's amount"):
        to_result(raw, plugin="ccxt", order=order)  # sent in base: impossible
    dear = {**raw, "filled": 0.0103, "average": 60000}  # 618 spent of 600 (+1% = 606)
    with pytest.raises(BadBrokerNumber, match="spends more than the 600"):
        to_result(dear, plugin="ccxt", order=order, quote_cost=cost)
    edge = {**raw, "filled": 0.0101, "average": 60000}  # 606: exactly the slack, taken
    assert to_result(edge, plugin="ccxt", order=order, quote_cost=cost).filled_quantity == (
        Decimal("0.0101")
    )
    bare = {"id": "9", "status": "closed", "amount": 0.01, "filled": 0.0102}
    with pytest.raises(BadBrokerNumber, match="without a price"):
        to_result(bare, plugin="ccxt", order=order, quote_cost=cost)


async def test_the_plugin_takes_a_cost_buys_larger_fill_and_still_refuses_a_base_ones(
    okx: CcxtPlugin, monkeypatch: pytest.MonkeyPatch
) -> None:
    market = await okx.market("BTC/USDT")
    rules = okx.rules_of(market)
    okx._rules["BTC/USDT"] = dataclasses.replace(rules, market_buy_by_cost=True, min_cost=None)
    okx._tickers.set(("BTC/USDT", "buy"), PRICE)
    sent: list[tuple[object, ...]] = []

    async def create_order(*args: object) -> dict[str, object]:
        sent.append(args)
        return {
            "id": str(len(sent)),
            "status": "closed",
            "symbol": "BTC/USDT",
            "side": "buy",
            "amount": 0.01,
            "filled": 0.0102,
            "average": 58800,
        }

    monkeypatch.setattr(okx.exchange, "create_order", create_order)
    bought = await okx.execute_order(Order.market("BTC/USDT", "buy", "0.01"))
    assert bought.status is OrderStatus.FILLED, bought.error
    assert bought.filled_quantity == Decimal("0.0102")
    assert sent[0][4] == 60000  # ccxt was given amount and price: cost 600
    # A limit buy is sent in base: the same fill above its quantity is impossible.
    limit = await okx.execute_order(Order.limit("BTC/USDT", "buy", "0.01", "60000"))
    assert limit.status is OrderStatus.UNKNOWN


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 1e30, 9.999999999999999e29, -1e-300, 5e-324, 1e29]),
    )
)
def test_reading_a_ccxt_float_agrees_with_broker_decimal(value: float) -> None:
    # to_result reads ccxt's floats on a short path; it must give what broker_decimal
    # gives, and refuse what it refuses (negative, non-finite, 1e30 or more).
    from fks_exec.kit import BadBrokerNumber, broker_decimal
    from fks_exec_ccxt.mapping import _number_of

    try:
        expected = broker_decimal(value, broker="okx", field="filled")
    except BadBrokerNumber:
        with pytest.raises(BadBrokerNumber, match="okx: filled"):
            _number_of(value, "filled", "okx")
        return
    got = _number_of(value, "filled", "okx")
    assert got == expected and got is not None
    assert str(got) == str(expected) or (not got and not expected)


@pytest.mark.parametrize("field", ["filled", "amount", "average"])
@pytest.mark.parametrize("value", [1e30, -1.0, float("inf"), float("nan"), "1e30", True])
def test_a_result_with_an_impossible_number_is_refused(field: str, value: object) -> None:
    from fks_exec.kit import BadBrokerNumber

    raw = {"id": "1", "status": "closed", "amount": 2.0, "filled": 1.0, "average": 10.0}
    raw[field] = value
    with pytest.raises(BadBrokerNumber, match=f"okx: {field}"):
        to_result(raw, plugin="ccxt", venue="okx")


def test_numbers_other_than_floats_are_read_as_broker_decimal_reads_them() -> None:
    raw = {"id": 7, "status": "open", "amount": "3", "filled": 1, "average": Decimal("2.5")}
    result = to_result(raw, plugin="ccxt", symbol=SWAP, venue="okx")
    assert result.quantity == Decimal(3) and result.filled_quantity == Decimal(1)
    assert result.average_price == Decimal("2.5") and result.order_id == "7"
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert to_result({"id": "1", "amount": 0.0}, plugin="p", symbol=SWAP).quantity is None


def test_a_buy_by_cost_filling_less_than_its_amount_keeps_the_amount() -> None:
    # Only a fill above the amount replaces it: a part fill stays partially filled.
    order = Order.market("BTC/USDT", "buy", "0.02")
    raw = {"id": "9", "status": "open", "amount": 0.02, "filled": 0.01, "average": 60000}
    result = to_result(raw, plugin="ccxt", order=order, quote_cost=Decimal(1200))
    assert result.status is OrderStatus.PARTIALLY_FILLED
    assert (result.filled_quantity, result.quantity) == (Decimal("0.01"), Decimal("0.02"))


@pytest.mark.parametrize("kinds", list(itertools.product(("absent", "empty", "given"), repeat=3)))
def test_raw_keeps_the_venues_answer_and_the_fees_present_in_that_order(
    kinds: tuple[str, str, str],
) -> None:
    given_values: dict[str, Any] = {
        "info": {"ordId": "1", "state": "live"},
        "fee": {"cost": 0.1, "currency": "USDT"},
        "fees": [{"cost": 0.1, "currency": "USDT"}],
    }
    empty_values: dict[str, Any] = {"info": {}, "fee": None, "fees": []}
    structure: dict[str, Any] = {"id": "7", "status": "open", "amount": 1.0, "filled": 0.0}
    structure["trades"] = [{"id": "t"}]  # never kept
    for key, kind in zip(("fees", "fee", "info"), reversed(kinds), strict=True):
        if kind != "absent":  # added in the reverse order: the result keeps its own
            structure[key] = (given_values if kind == "given" else empty_values)[key]
    result = to_result(structure, plugin="ccxt", order=None, symbol=SWAP)
    kept = [
        key for key, kind in zip(("info", "fee", "fees"), kinds, strict=True) if kind == "given"
    ]
    assert list(result.raw) == kept
    assert all(result.raw[key] is structure[key] for key in kept)


# OKX's "-1" (a trigger at the market price) is no price only in an answer from okx: a
# fill with neither average nor cost is then a fill without a price, not a negative one.
_MARKET_STOP = {"algoId": "9", "ordPx": "-1", "px": "", "state": "effective"}


def test_okx_s_market_price_marker_is_no_price() -> None:
    raw = {"id": "9", "status": "closed", "amount": 2.0, "filled": 2.0, "price": -1.0}
    with pytest.raises(BadBrokerNumber, match=r"^okx: a fill of 2\.0 without a price$"):
        to_result({**raw, "cost": -2.0, "info": _MARKET_STOP}, plugin="ccxt", venue="okx")


def test_another_venue_s_price_is_read_even_beside_an_ordpx_of_minus_1() -> None:
    raw = {"id": "9", "status": "closed", "amount": 2.0, "filled": 2.0, "price": 60000.0}
    result = to_result({**raw, "info": _MARKET_STOP}, plugin="ccxt", venue="kraken")
    assert (result.status, result.filled_quantity, result.average_price) == (
        OrderStatus.FILLED,
        2,
        60000,
    )
    with pytest.raises(BadBrokerNumber, match=r"^kraken: price "):
        to_result({**raw, "price": -1.0, "info": _MARKET_STOP}, plugin="ccxt", venue="kraken")
