"""On hyperliquid, ccxt posts side requests before an order's own: the plugin still tells
"ccxt refused it before sending the order" (``sent=False``) from "it may have left".

ccxt hyperliquid.py ``create_orders`` (ccxt 4.5.90) runs ``initialize_client()`` first,
which posts ``approveBuilderFee`` and ``setReferrer`` to ``/exchange`` and
``userAbstraction`` to ``/info`` (their failures swallowed), then builds the order's
request in ``create_orders_request`` (ccxt's own checks and the signature), and only
then posts the order. The reference fake (:mod:`fks_exec_ccxt.testing.hyperliquid`)
records what reached the venue, under each of its inferred settings.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import pytest
from markets import ccxt_market

from fks_exec import ErrorCode, Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.testing.hyperliquid import FakeHyperliquid, Rules

SYMBOL = "BTC/USDC:USDC"
MARKET = ccxt_market(SYMBOL, amount=0.00001, price=1.0, id="0", baseId=0, info={"szDecimals": "5"})
SIDE_ACTIONS = ["accepted", "refused"]
SIDE_REQUESTS = [("exchange", "approveBuilderFee"), ("exchange", "setReferrer")]


async def _traded(
    venue: FakeHyperliquid, *orders: Order, **config: Any
) -> tuple[list[Any], CcxtPlugin]:
    exchange = venue.exchange(**config)
    exchange.set_markets([MARKET])
    plugin = CcxtPlugin(exchange=exchange)
    plugin.use_env = False
    await plugin.init({})
    try:
        return [await plugin.execute_order(order) for order in orders], plugin
    finally:
        await plugin.close()


def _seen(venue: FakeHyperliquid) -> list[tuple[str, str]]:
    return [(a.endpoint, a.kind) for a in venue.arrivals()]


def _ccxt_refuses(exchange_class: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # One of ccxt's own checks in building the order (create_order_request, called from
    # create_orders_request), failing as its amount check does: a rule the plugin does
    # not run itself.
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ccxt_async.InvalidOrder(
            "hyperliquid amount of BTC/USDC:USDC must be greater than minimum amount precision"
        )

    monkeypatch.setattr(exchange_class, "create_order_request", refuse)


@pytest.mark.parametrize("side_actions", SIDE_ACTIONS)
async def test_a_ccxt_check_failing_after_side_requests_is_not_sent(
    side_actions: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    venue = FakeHyperliquid(rules=Rules(side_actions=side_actions))  # type: ignore[arg-type]
    _ccxt_refuses(ccxt_async.hyperliquid, monkeypatch)
    (result,), _ = await _traded(venue, Order.limit(SYMBOL, "buy", "0.01", "60000"))
    assert result.status is OrderStatus.REJECTED and result.sent is False, result.error
    assert result.error_code is ErrorCode.INVALID_ORDER
    assert "(ccxt, before sending)" in (result.error or "")
    assert "minimum amount precision" in (result.error or "")
    seen = _seen(venue)
    assert all(request in seen for request in SIDE_REQUESTS), seen  # they did go out
    assert venue.order_arrivals() == []


@pytest.mark.parametrize("side_actions", SIDE_ACTIONS)
async def test_a_key_ccxt_cannot_sign_with_sends_no_order(side_actions: str) -> None:
    venue = FakeHyperliquid(rules=Rules(side_actions=side_actions))  # type: ignore[arg-type]
    (result,), _ = await _traded(
        venue, Order.limit(SYMBOL, "buy", "0.01", "60000"), privateKey="0x" + "zz" * 32
    )
    assert result.status is OrderStatus.REJECTED and result.sent is False, result.error
    assert result.error_code is ErrorCode.REJECTED
    assert "(ccxt, before sending): Error: Non-base16 digit found" in (result.error or "")
    assert "zz" * 8 not in (result.error or "")
    assert venue.order_arrivals() == []


async def test_an_error_in_ccxt_before_any_request_is_not_sent() -> None:
    venue = FakeHyperliquid()
    order = Order.limit(SYMBOL, "buy", "0.01", "60000", params={"vaultAddress": 5})
    (result,), _ = await _traded(venue, order)
    # ccxt's parse_create_edit_order_args calls .startswith on it: an AttributeError
    assert result.status is OrderStatus.REJECTED and result.sent is False, result.error
    assert "(ccxt, before sending): AttributeError" in (result.error or "")
    assert venue.arrivals() == []


@pytest.mark.parametrize("side_actions", SIDE_ACTIONS)
@pytest.mark.parametrize("after_venue_acted", [True, False])
async def test_an_order_lost_on_its_own_request_is_unknown_not_unsent(
    side_actions: str, after_venue_acted: bool
) -> None:
    venue = FakeHyperliquid(rules=Rules(side_actions=side_actions))  # type: ignore[arg-type]
    venue.fail_next_order("reset", after_venue_acted=after_venue_acted)
    (result,), _ = await _traded(venue, Order.limit(SYMBOL, "buy", "0.01", "60000"))
    assert result.status is OrderStatus.UNKNOWN and result.sent is not False, result.error
    assert len(venue.order_arrivals()) == 1


@pytest.mark.parametrize("side_actions", SIDE_ACTIONS)
async def test_an_order_the_venue_refuses_is_rejected_as_sent(side_actions: str) -> None:
    venue = FakeHyperliquid(
        assets={1: "ETH"},  # BTC (asset 0) unknown here: "Invalid asset"
        rules=Rules(side_actions=side_actions),  # type: ignore[arg-type]
    )
    (result,), _ = await _traded(venue, Order.limit(SYMBOL, "buy", "0.01", "60000"))
    assert result.status is OrderStatus.REJECTED and result.sent is True, result.error
    assert "Invalid asset" in (result.error or "")
    assert len(venue.order_arrivals()) == 1


@pytest.mark.parametrize("side_actions", SIDE_ACTIONS)
async def test_orders_after_side_requests_are_placed_once_each(side_actions: str) -> None:
    venue = FakeHyperliquid(rules=Rules(side_actions=side_actions))  # type: ignore[arg-type]
    results, _ = await _traded(
        venue,
        Order.limit(SYMBOL, "buy", "0.01", "60000"),
        Order.limit(SYMBOL, "sell", "0.02", "61000"),
    )
    assert [r.status for r in results] == [OrderStatus.ACCEPTED] * 2, [r.error for r in results]
    assert all(r.sent for r in results)
    assert [o["s"] for o in venue.order_arrivals()] == ["0.01", "0.02"]
    seen = _seen(venue)
    assert seen.index(("exchange", "setReferrer")) < seen.index(("exchange", "order"))


async def test_without_the_builder_watched_a_late_refusal_is_not_claimed_unsent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ccxt whose builder the plugin does not know (renamed, say): the refusal came
    after requests left, and nothing proves the order was not among them."""
    from fks_exec_ccxt import venues

    unwatched = dataclasses.replace(venues.VENUES["hyperliquid"], order_builder="")
    monkeypatch.setitem(venues.VENUES, "hyperliquid", unwatched)
    venue = FakeHyperliquid()
    _ccxt_refuses(ccxt_async.hyperliquid, monkeypatch)
    (result,), _ = await _traded(venue, Order.limit(SYMBOL, "buy", "0.01", "60000"))
    assert result.sent is not False and result.status is not OrderStatus.ACCEPTED
    assert venue.order_arrivals() == []


def test_ccxt_builds_the_order_after_its_side_requests_and_before_sending() -> None:
    """What the venue row relies on, in the pinned ccxt: ``create_order`` goes through
    ``create_orders``, whose builder is synchronous and runs between the side requests
    and the order's own POST."""
    source = inspect.getsource(ccxt_async.hyperliquid.create_orders)
    steps = [
        "await self.initialize_client()",
        "self.create_orders_request(",
        "await self.privatePostExchange(",
    ]
    found = [source.index(step) for step in steps]
    assert found == sorted(found)
    assert "self.create_orders(" in inspect.getsource(ccxt_async.hyperliquid.create_order)
    builder = ccxt_async.hyperliquid.create_orders_request
    assert callable(builder) and not inspect.iscoroutinefunction(builder)


def _fks_imports(path: Path) -> list[str]:
    import ast

    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return [n for n in names if n.startswith("fks_exec")]


def test_the_fake_imports_nothing_of_the_plugin() -> None:
    """Written from Hyperliquid's docs: only the plugin-independent test transport."""
    import fks_exec_ccxt.testing.hyperliquid as fake

    assert _fks_imports(Path(fake.__file__)) == ["fks_exec_ccxt.testing.aiohttp_transport"]
