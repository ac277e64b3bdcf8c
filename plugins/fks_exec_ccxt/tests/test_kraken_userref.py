"""On Kraken our client id travels as ``cl_ord_id``; another order's ``userref`` is not it.

ccxt's kraken ``parse_order`` reports ``userref`` as the ``clientOrderId`` of an order
that has no ``cl_ord_id`` (and Kraken shows ``userref`` 0 when none was set), so a
match on ccxt's ``clientOrderId`` would take a foreign order (tagged by another tool
on the same account) for ours. Only ``info.cl_ord_id`` is matched.
"""

from __future__ import annotations

from fake_venues import quoted_kraken, started

from fks_exec import Order, OrderStatus
from fks_exec_ccxt.testing.kraken import Rules


async def test_a_foreign_userref_is_not_our_client_id() -> None:
    venue = quoted_kraken(rules=Rules(max_open_orders=1))
    other = venue.exchange()  # another tool on the same account tags with userref
    await other.load_markets()
    foreign = await other.create_order("BTC/USD", "limit", "buy", 0.02, 50000, {"userref": 42})
    await other.close()
    plugin = await started(venue.exchange())
    try:
        assert await plugin.find_order("42", {"symbol": "BTC/USD"}) is None
        # Ours, refused by the venue (its open-order limit): rejected, not the foreign one.
        result = await plugin.execute_order(
            Order.limit("BTC/USD", "sell", "0.05", "70000", client_order_id="42")
        )
    finally:
        await plugin.close()
    assert result.status is OrderStatus.REJECTED
    assert result.order_id != foreign["id"]
    assert "Orders limit" in (result.error or "")


async def test_an_unset_userref_zero_is_not_client_id_zero() -> None:
    venue = quoted_kraken(rules=Rules(unset_userref=0))
    other = venue.exchange()
    await other.load_markets()
    await other.create_order("BTC/USD", "limit", "buy", 0.02, 50000)  # no id of any kind
    await other.close()
    plugin = await started(venue.exchange())
    try:
        assert await plugin.find_order("0", {"symbol": "BTC/USD"}) is None
        placed = await plugin.execute_order(
            Order.limit("BTC/USD", "buy", "0.01", "50000", client_order_id="0")
        )
        found = await plugin.find_order("0", {"symbol": "BTC/USD"})
    finally:
        await plugin.close()
    assert found is not None and found.order_id == placed.order_id
