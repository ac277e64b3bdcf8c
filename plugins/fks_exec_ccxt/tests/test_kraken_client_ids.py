"""Kraken takes a ``cl_ord_id`` as a long UUID, a short UUID (32 hex digits) or free text
of at most 18 characters (Kraken AddOrder, ``cl_ord_id``; the reference fake checks
exactly that): every client order id is sent in one of those forms, the same one each
time, and the order is taken."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fks_exec import Order, OrderStatus
from fks_exec_ccxt import CcxtPlugin
from fks_exec_ccxt.client_ids import venue_client_id
from fks_exec_ccxt.testing.kraken import FakeKraken
from fks_exec_ccxt.venues import venue

RULE = venue("kraken").client_id
HEX = "0123456789abcdef"


@given(cid=st.text(alphabet=HEX, min_size=1, max_size=40))
def test_an_id_is_free_text_of_18_or_a_short_uuid(cid: str) -> None:
    sent = venue_client_id(cid, RULE)
    assert len(sent) <= 18 or len(sent) == 32
    assert sent == venue_client_id(cid, RULE)
    if len(cid) <= 18 or len(cid) == 32:
        assert sent == cid  # kept as it is where Kraken takes it


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(cid=st.text(alphabet=HEX, min_size=17, max_size=33))
def test_kraken_takes_every_id_the_plugin_sends(cid: str) -> None:
    async def scenario() -> None:
        venue_ = FakeKraken()
        venue_.set_price("XBTUSD", "60000", "60000.1")
        exchange = venue_.exchange()
        plugin = CcxtPlugin(exchange=exchange)
        plugin.use_env = False
        await plugin.init()
        try:
            order = Order.limit("BTC/USD", "buy", "0.01", "59000", client_order_id=cid)
            result = await plugin.execute_order(order)
            adds = [q for q in exchange.session.requests if q.path.endswith("AddOrder")]
        finally:
            await plugin.close()
        assert result.status is OrderStatus.ACCEPTED, result.error
        assert dict(parse_qsl(adds[-1].body))["cl_ord_id"] == venue_client_id(cid, RULE)

    asyncio.run(scenario())
