"""One trading session against the reference server under every combination of the
behaviours the references leave open (``INFERRED_AXES``) that the other tests do not
already sweep: the plugin's answers must not depend on them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fks_exec import Order, OrderStatus
from fks_exec_ninja.mapping import order_id_for
from fks_exec_ninja.testing.reference import ServerSettings, combinations

from .ninja_helpers import ES, running

AXES = (
    "unknown_messages",
    "broadcast",
    "invalid_command",
    "duplicate_order_id",
    "write_per_field",
)


def name(settings: ServerSettings) -> str:
    return "-".join(str(getattr(settings, axis)).split(".")[-1] for axis in AXES)


@pytest.mark.parametrize("server", list(combinations(*AXES)), ids=name)
async def test_a_session_whatever_the_inferred_behaviours(server: ServerSettings) -> None:
    async with running(server, order_timeout_s=1) as (nt, plugin):
        market = Order.market("ES", "buy", 2)
        filled = await plugin.execute_order(market)
        assert (filled.status, filled.filled_quantity) == (OrderStatus.FILLED, 2)
        again = await plugin.execute_order(market)  # the same order once more: not resent
        assert again.status is OrderStatus.FILLED
        resting = await plugin.execute_order(Order.limit("ES", "buy", 1, "5000"))
        assert resting.status is OrderStatus.ACCEPTED
        canceled = await plugin.cancel_order(resting.order_id or "")
        assert canceled.status is OrderStatus.CANCELED
        bad = await plugin.execute_order(Order.market("NOPE 12-25", "buy", 1))
        if server.invalid_command.value == "reject":
            assert bad.status is OrderStatus.REJECTED and bad.sent is True
        else:  # NinjaTrader only writes its log: nothing comes back
            assert bad.status is OrderStatus.UNKNOWN and bad.sent is None
        entry = Order.market("ES", "sell", 2, stop_loss="6100", take_profit="5900")
        assert (await plugin.execute_order(entry)).status is OrderStatus.FILLED
        exits = [order_id_for(entry.client_order_id, s) for s in ("-sl", "-tp")]
        await nt.wait_until(lambda: all(nt.order(i) is not None for i in exits))
        nt.set_last_price(ES, Decimal("5899"))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 2)  # 2 bought, 2 sold, 2 back
        assert sorted(o.state for o in map(nt.order, exits) if o is not None) == [
            "Cancelled",
            "Filled",
        ]
        assert max(nt.order_arrivals().values()) == 1
        assert (await plugin.health_check()).healthy


@pytest.mark.parametrize(
    "server",
    list(combinations("oco_partial_fill", base=ServerSettings(fill_pieces=2))),
    ids=lambda s: s.oco_partial_fill.value,
)
async def test_bracket_exits_never_overfill_whatever_the_oco_rule(server: ServerSettings) -> None:
    async with running(server) as (nt, plugin):
        entry = Order.market("ES", "buy", 2, stop_loss="5900", take_profit="6100")
        answer = await plugin.execute_order(entry)
        # Two fills at one price: the unchanged average is not pushed again (the server
        # pushes what changed), so the answer is unknown rather than a fill at an
        # average that may be stale; the exits follow the fills all the same.
        assert (answer.status, answer.sent) == (OrderStatus.UNKNOWN, True)
        exits = [order_id_for(entry.client_order_id, s) for s in ("-sl", "-tp")]
        await nt.wait_until(lambda: [getattr(nt.order(i), "quantity", 0) for i in exits] == [2, 2])
        nt.set_last_price(ES, Decimal("6101"))
        await nt.wait_until(lambda: nt.position("Sim101", ES) == 0)
        await nt.flushed()
        assert nt.position("Sim101", ES) == 0  # flat: the stop did not add a short
